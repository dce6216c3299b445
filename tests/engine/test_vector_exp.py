"""The grid engine's exp over arrays (spikecore/engine/_vexp.h) against the C library's exp, bit for bit.

The conductance-based updates (lif_coba, adex euler) evaluate exp for a block of neurons at once;
their spikes may not change, so every value must equal what exp() returns in this process."""
import ctypes
import ctypes.util
import os
import platform
import struct

import numpy as np
import pytest

from spikecore.engine._core import exp_values, vector_exp_enabled

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libm.exp.restype = ctypes.c_double
_libm.exp.argtypes = [ctypes.c_double]
_libm.expf.restype = ctypes.c_float
_libm.expf.argtypes = [ctypes.c_float]


def libm_exp(x):
    return np.array([_libm.exp(float(v)) for v in x])


def libm_expf(x):
    return np.array([_libm.expf(float(v)) for v in np.asarray(x, dtype=np.float32)], dtype=np.float32)


def inputs():
    rng = np.random.default_rng(17)
    k = np.arange(-128 * 40, 128 * 40)
    parts = [
        (k + 0.5) * np.log(2) / 128,                    # every table entry, both signs
        rng.uniform(-20, 5, 60000),                     # what the neuron models evaluate
        rng.uniform(-800, 800, 20000),                  # the whole range, past both ends of the main path
        rng.uniform(-745.2, -708, 5000),                # subnormal and zero results
        rng.uniform(709, 710, 1000),                    # the largest finite results and overflow
        np.ldexp(rng.uniform(-1, 1, 2000), rng.integers(-70, -40, 2000)),   # around 2^-54
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 512.0, -512.0, 2.0 ** -54, -(2.0 ** -54), 1.0, -1.0]),
    ]
    return np.concatenate(parts)


def test_exp_values_equal_the_c_library_bit_for_bit():
    x = inputs()
    got = exp_values(x)
    want = libm_exp(x)
    same = got.view(np.uint64) == want.view(np.uint64)
    assert same.all(), f"{(~same).sum()} differ, first at x = {x[~same][0]!r}"


def test_expf_values_equal_the_c_library_bit_for_bit():
    rng = np.random.default_rng(18)
    x = np.concatenate([inputs() / 8, rng.uniform(-110, 110, 20000), rng.uniform(-104, -87, 5000),
                        np.ldexp(rng.uniform(-1, 1, 2000), rng.integers(-30, 8, 2000))]).astype(np.float32)
    got = exp_values(x, "float32")
    want = libm_expf(x)
    same = got.view(np.uint32) == want.view(np.uint32)
    assert got.dtype == np.float32
    assert same.all(), f"{(~same).sum()} differ, first at x = {x[~same][0]!r}"


def test_exp_values_any_length_and_alignment():
    # blocks of any size: the vector loop's remainder and unaligned starts
    x = np.random.default_rng(3).uniform(-10, 1, 1037)
    want = libm_exp(x)
    for start in range(5):
        for n in (0, 1, 3, 4, 5, 255, 256, 257, 1000):
            got = exp_values(x[start:start + n])
            assert got.view(np.uint64).tolist() == want[start:start + n].view(np.uint64).tolist()


def _glibc_with_fma_exp() -> bool:
    name, version = platform.libc_ver()
    if platform.machine() != "x86_64" or name != "glibc" or not version:
        return False
    if tuple(int(p) for p in version.split(".")[:2]) < (2, 28):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return "avx2" in flags and "fma" in flags and not os.environ.get("SPIKECORE_SCALAR_EXP")


@pytest.mark.skipif(not _glibc_with_fma_exp(), reason="the vector exp replicates glibc >= 2.28 on x86-64 CPUs with AVX2 and FMA")
def test_vector_path_is_taken_where_it_replicates_the_library():
    # glibc >= 2.28 on an AVX2+FMA CPU runs the exp and expf the vector paths copy: they must pass the check
    assert vector_exp_enabled("float64")
    assert vector_exp_enabled("float32")


SCRIPT = """
import hashlib, sys
import numpy as np
import spikecore as sc
from backends import get_backend
from spikecore.engine._core import vector_exp_enabled
net = sc.Network("x", seed=5, dt="0.1 ms")
coba = dict(c_m="200 pF", g_l="10 nS", v_leak="-60 mV", v_threshold="-50 mV", v_reset="-60 mV", t_refrac="5 ms",
            tau_syn={"exc": "5 ms", "inh": "10 ms"}, e_rev={"exc": "0 mV", "inh": "-80 mV"})
adex = dict(c_m="200 pF", g_l="10 nS", v_leak="-60 mV", v_t="-50 mV", delta_t="2 mV", v_threshold="-40 mV",
            v_reset="-60 mV", t_refrac="5 ms", a="2 nS", b="20 pA", tau_w="144 ms", integrator="euler",
            tau_syn={"exc": "5 ms", "inh": "10 ms"}, e_rev={"exc": "0 mV", "inh": "-80 mV"})
init = {"v": sc.Uniform("-60 mV", "-50 mV")}
net.add(sc.Population(301, "lif_coba", coba, init, name="c"))       # not a multiple of the blocks
net.add(sc.Population(263, "adex_cond", adex, init, name="a"))
net.add(sc.PoissonSource(50, "40 Hz", name="p"))
for post in ("c", "a"):
    net.add(sc.Projection("p", post, sc.FixedProbability(0.3), weight="8 nS", delay="0.1 ms", receptor="exc",
                          name="p_" + post))
    for pre, w, rec in (("c", "4 nS", "exc"), ("a", "20 nS", "inh")):
        net.add(sc.Projection(pre, post, sc.FixedProbability(0.05), weight=w, delay="0.2 ms", receptor=rec,
                              name=pre + "_" + post))
for prec in ("float64", "float32"):
    res = get_backend("native").compile(net.to_ir(), precision=prec).run(0.3)
    h = hashlib.sha256()
    for k in sorted(res.spikes):
        t, i = res.spikes[k]
        h.update(np.asarray(t).tobytes() + np.asarray(i).tobytes())
    print(prec, sum(t.size for t, _ in res.spikes.values()), h.hexdigest())
print("vector", vector_exp_enabled("float64"), vector_exp_enabled("float32"))
"""


def _run(scalar: bool) -> list:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("SPIKECORE_SCALAR_EXP", None)
    if scalar:
        env["SPIKECORE_SCALAR_EXP"] = "1"
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=root, env=env,
                         check=True).stdout.split("\n")
    return [ln for ln in out if ln]


def test_scalar_and_vector_exp_give_the_same_spikes():
    vec, scal = _run(False), _run(True)
    assert scal[-1] == "vector False False"
    assert vec[:-1] == scal[:-1]
    assert all(int(ln.split()[1]) > 100 for ln in vec[:-1])     # the networks fire
