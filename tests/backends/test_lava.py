"""backends/lava.py against the native engine, against Lava's own models, and under failure.

Every Lava run here is small (tens of neurons, <= 300 steps, ~1-3 s each: Lava
starts one OS process per Lava process). Runs that test hangs and Ctrl-C happen in
a subprocess whose timeout is only a hang guard.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from backends import get_backend
from backends import lava as bl
from hwmodels import loihi
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.network import (CurrentSource, FixedProbability, FromIndices, Network, OneToOne, PoissonSource,
                               SpikeSource, StateMonitor, Uniform)
from spikecore.units import mV

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mixed_net(refractory=True, seed=7):
    """Two LIF groups (different tau_mem), spike + Poisson sources, recurrent and feed-forward
    projections with delays of 1..4 steps and mixed signs, a current step, state monitors."""
    net = Network("mixed", seed=seed, dt="0.1 ms")
    net.population("a", 24, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV", "t_refrac": "0.5 ms" if refractory else "0 ms",
                                         "tau_syn": {"exc": "5 ms", "inh": "5 ms"}},
                   initial={"v": np.linspace(-60, -50.5, 24) * mV})
    net.population("b", 16, "lif_cuba", {"tau_mem": "10 ms", "v_leak": "-56 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-65 mV", "tau_syn": {"exc": "3 ms"}})
    net.add(SpikeSource(spike_times=[["1 ms", "2 ms", "2.1 ms"], ["1.5 ms", "6 ms"], ["3.3 ms"]], name="stim"))
    net.add(PoissonSource(12, "800 Hz", name="noise"))
    net.project("stim", "b", FixedProbability(0.8), weight="6 mV", delay="0.2 ms", name="stim_b")
    net.project("noise", "b", FixedProbability(0.4), weight="2.5 mV", delay="0.1 ms", name="noise_b")
    net.project("a", "b", FixedProbability(0.3), weight="1.5 mV", delay=Uniform("0.1 ms", "0.4 ms"), name="a_b")
    net.project("a", "a", FixedProbability(0.2), weight="-2 mV", delay="0.1 ms", receptor="inh", name="a_a")
    net.project("b", "a", FixedProbability(0.3), weight="3 mV", delay="0.4 ms", receptor="exc", name="b_a")
    net.add(CurrentSource("b", steps=[("0 ms", "0 pA"), ("8 ms", "60 pA"), ("14 ms", "0 pA")], neurons=[0, 1, 2],
                          name="step"))
    net.add(StateMonitor("b", ("v", "syn_exc"), neurons=[0, 5], name="vb"))
    net.add(StateMonitor("a", ("v",), neurons=[3], interval="0.3 ms", name="va"))
    return net


def as_events(result, pop, dt=1e-4):
    t, i = result.spikes[pop]
    return sorted(zip(np.rint(t / dt).astype(int).tolist(), i.tolist()))


@pytest.fixture(scope="module")
def mixed_runs():
    g = mixed_net().to_ir()
    native = get_backend("native").compile(g).run(0.02)
    flt = get_backend("lava").compile(g, format="float").run(0.02)
    return g, native, flt


def test_float_agrees_with_native_spike_for_spike(mixed_runs):
    g, native, flt = mixed_runs
    assert native.spikes["a"][0].size > 10 and native.spikes["b"][0].size > 10
    for pop in ("a", "b"):
        assert as_events(flt, pop) == as_events(native, pop)
    assert flt.approximations == []
    assert flt.extra["format"] == "float"
    procs = flt.extra["lava"]["processes"]
    assert procs["LIFRefractory"] == 1 and procs["LIF"] == 1      # two groups: tau_mem differs
    assert procs["RingBuffer"] == 2


def test_float_traces_agree_with_native(mixed_runs):
    g, native, flt = mixed_runs
    for mon in ("vb", "va"):
        n, f = native.traces[mon], flt.traces[mon]
        np.testing.assert_allclose(f["times"], n["times"])
        for var, block in n["variables"].items():
            assert f["variables"][var].shape == block.shape
            np.testing.assert_allclose(f["variables"][var], block, rtol=0, atol=1e-12)


def test_fixed_is_bit_exact_with_the_quantized_ir_reference():
    g = mixed_net(refractory=False).to_ir()
    res = get_backend("lava").compile(g, format="fixed").run(0.02)
    ref = loihi.reference_run(loihi.quantize(g), 200)
    for pop in ("a", "b"):
        t, i = ref["spikes"][pop]
        assert as_events(res, pop) == sorted(zip(t.tolist(), i.tolist()))
    assert res.spikes["b"][0].size > 10
    q = res.extra["quantization"]
    assert set(q["projections"]) == set(g.projections)
    # and statistically close to the float network (12-bit decays, 8-bit weights)
    native = get_backend("native").compile(g).run(0.02)
    for pop in ("a", "b"):
        n_f, n_n = res.spikes[pop][0].size, native.spikes[pop][0].size
        assert abs(n_f - n_n) <= 0.25 * n_n + 3, (pop, n_f, n_n)


def test_delta_synapses_and_the_documented_reset_difference():
    """lif_delta: exact while no jump lands in a spike step; when one does, Loihi keeps it."""
    net = Network("d", dt="0.1 ms")
    net.population("a", 2, "lif_delta", {"tau_mem": "10 ms", "v_leak": "-45 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV"}, initial={"v": np.array([-51.0, -55.0]) * mV})
    net.add(SpikeSource(spike_times=[["0.3 ms"], []], name="s"))
    net.project("s", "a", FromIndices(np.array([0]), np.array([1])), weight="2 mV", delay="0.1 ms")
    net.add(StateMonitor("a", ("v",), name="v"))
    g = net.to_ir()
    native = get_backend("native").compile(g).run(0.01)
    flt = get_backend("lava").compile(g, format="float").run(0.01)
    assert as_events(flt, "a") == as_events(native, "a")
    np.testing.assert_allclose(flt.traces["v"]["variables"]["v"], native.traces["v"]["variables"]["v"], atol=1e-12)
    # now let a jump arrive in neuron 0's first spike step: the IR discards it, Loihi adds it after the reset
    first = as_events(native, "a")[0]
    assert first[1] == 0
    net2 = Network("d2", dt="0.1 ms")
    net2.population("a", 1, "lif_delta", {"tau_mem": "10 ms", "v_leak": "-45 mV", "v_threshold": "-50 mV",
                                          "v_reset": "-60 mV"}, initial={"v": np.array([-51.0]) * mV})
    net2.add(SpikeSource(spike_times=[[f"{(first[0] - 1) * 0.1:.1f} ms"]], name="s"))
    net2.project("s", "a", OneToOne(), weight="5 mV", delay="0.1 ms")
    g2 = net2.to_ir()
    n2 = as_events(get_backend("native").compile(g2).run(0.02), "a")
    f2 = as_events(get_backend("lava").compile(g2, format="float").run(0.02), "a")
    assert n2[0] == f2[0] == (first[0], 0)
    assert f2[1][0] < n2[1][0]      # the kept jump makes Loihi's next spike come earlier


def test_strict_refuses_and_approximate_lists():
    net = Network("c", dt="0.1 ms")
    net.population("a", 4, "lif_coba", {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV", "tau_syn": {"exc": "5 ms"}, "e_rev": {"exc": "0 mV"}})
    net.add(PoissonSource(4, "2 kHz", name="p"))
    net.project("p", "a", OneToOne(), weight="6 nS", delay="8 ms")
    g = net.to_ir()
    be = get_backend("lava")
    with pytest.raises(UnsupportedFeature, match="conductance synapses"):
        be.compile(g)
    exe = be.compile(g, policy="approximate", format="fixed")
    joined = " | ".join(exe.plan.approximations)
    assert "conductance synapses" in joined and "delay over 63 steps" in joined
    with pytest.raises(ValidationError, match="format"):
        be.compile(g, format="double")
    with pytest.raises(ValidationError, match="headroom"):
        be.compile(g, policy="approximate", headroom="x")
    with pytest.raises(ValidationError, match="option 'dt'"):
        be.compile(g, dt=1)


def test_runs_once_and_reports_approximations_in_the_result():
    g = mixed_net().to_ir()
    exe = get_backend("lava").compile(g, format="fixed", policy="approximate")
    res = exe.run(0.002)
    assert any("refractory" in a for a in res.approximations)
    assert res.summary()["approximations"] == res.approximations
    with pytest.raises(UnsupportedFeature, match="continuing"):
        exe.run(0.001)


def test_cached_delay_models_equal_lavas_own():
    """Our DelaySparse/DelayDense models cache the stacked matrix; same arithmetic as upstream."""
    net = Network("dl", seed=2, dt="0.1 ms")
    net.population("a", 200, "lif_cuba", {"tau_mem": "10 ms", "v_leak": "-45 mV", "v_threshold": "-50 mV",
                                          "v_reset": "-60 mV", "tau_syn": {"exc": "2 ms"}},
                   initial={"v": np.linspace(-60, -50.5, 200) * mV})
    net.population("b", 6, "lif_cuba", {"tau_mem": "12 ms", "v_leak": "-52 mV", "v_threshold": "-50 mV",
                                        "v_reset": "-60 mV", "tau_syn": {"exc": "2 ms"}})
    net.project("a", "a", FixedProbability(0.02), weight="-1 mV", delay=Uniform("0.1 ms", "0.6 ms"), name="aa")
    net.project("a", "b", FixedProbability(0.1), weight="2 mV", delay="0.2 ms", name="ab")
    g = net.to_ir()
    kinds = set()
    for fmt in ("float", "fixed"):
        p = bl.plan(g, fmt)
        kinds.update(c.process for c in p.conns)
        spikes = []
        for cached in (True, False):
            spikes.append(_run_plan(p, 150, cached))
        assert spikes[0] == spikes[1] and len(spikes[0]) > 20
    assert kinds == {"DelaySparse", "DelayDense"}


def _run_plan(p, n_steps, cached):
    import tempfile
    models = bl.import_lava()
    from lava.magma.core.run_configs import Loihi2SimCfg
    with tempfile.TemporaryDirectory() as wd:
        graph = bl.build(p, n_steps, wd)
        rt = bl._Runtime(graph)
        cfg = Loihi2SimCfg(exception_proc_model_map=models.model_map(graph.processes, p.fixed, cached))
        try:
            exe = graph.anchor.compile(cfg)
            graph.anchor.create_runtime(executable=exe)
            rt.runtime = graph.anchor.runtime
            rt.step(n_steps)
        finally:
            rt.stop()
        out = []
        for gname, path in graph.spike_paths.items():
            t, i = models.read_spike_file(path)
            out += [(gname, int(a), int(b)) for a, b in zip(t, i)]
        return sorted(out)


def test_dense_or_sparse_by_size_and_density():
    c = bl.ConnPlan("x", [], "p", "q", (4000, 4000), np.zeros(320000, int), np.zeros(320000, int),
                    np.zeros(320000), np.zeros(320000, int), False)
    assert bl._process_kind(c) == "Sparse"
    c.shape = (100, 100)
    assert bl._process_kind(c) == "Dense"
    c.delays = np.ones(320000, int)
    assert bl._process_kind(c) == "DelayDense"
    c.shape = (1000, 1000)
    assert bl._process_kind(c) == "DelaySparse"
    assert bl._layers(np.array([0, 0, 1, 0]), np.array([2, 2, 2, 2]), 5).tolist() == [0, 1, 0, 2]


# ----------------------------------------------------------------------------- failure: no hang, no leak
CRASH_OR_INTERRUPT = textwrap.dedent("""\
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
    import numpy as np
    from spikecore.network import Network, FixedProbability
    from backends import get_backend
    import backends.lava as bl
    net = Network("s", seed=3, dt="0.1 ms")
    net.population("a", 30, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV", "tau_syn": {"exc": "5 ms"}})
    net.project("a", "a", FixedProbability(0.1), weight="1 mV", delay="0.1 ms")
    if sys.argv[1] == "crash":
        models = bl.import_lava()
        from lava.proc.lif.models import PyLifModelFloat
        from lava.proc.lif.process import LIF
        class Boom(PyLifModelFloat):
            def run_spk(self):
                if self.time_step == 30:
                    raise RuntimeError("boom at step 30")
                super().run_spk()
        table = models.model_table
        models.model_table = lambda fixed, cached_delays=True: {**table(fixed, cached_delays), LIF: Boom}
    step = bl._Runtime.step
    def announce(self, n):
        print("stepping", flush=True)
        step(self, n)
    bl._Runtime.step = announce
    get_backend("lava").compile(net.to_ir()).run(0.01 if sys.argv[1] == "crash" else 60.0)
""")


def _shm():
    """/dev/shm's entries, less joblib/loky's semaphores: another process's worker pool makes and
    drops those whenever it likes, and Lava never does."""
    names = os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []
    return {n for n in names if not n.startswith("sem.loky-")}


def _assert_no_leftovers(before, marker):
    # other Lava users on this machine may hold segments for a while: ours must go, theirs will too
    deadline = time.time() + 60
    while True:
        new = _shm() - before
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        orphans = [line for line in ps.splitlines() if marker in line]
        if not new and not orphans:
            return
        if time.time() > deadline:
            raise AssertionError(f"left behind: shared memory {sorted(new)}, processes {orphans}")
        time.sleep(0.5)


def _start(mode, marker):
    return subprocess.Popen([sys.executable, "-c", CRASH_OR_INTERRUPT, mode, marker], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_crashing_lava_process_raises_instead_of_hanging():
    before, marker = _shm(), f"spikecore-crash-{os.getpid()}"
    proc = _start("crash", marker)
    out, err = proc.communicate(timeout=300)      # hang guard only
    assert proc.returncode != 0
    assert "LavaRunError" in err and "boom at step 30" in err
    _assert_no_leftovers(before, marker)


def test_ctrl_c_stops_every_lava_process():
    before, marker = _shm(), f"spikecore-sigint-{os.getpid()}"
    proc = _start("interrupt", marker)
    ready, _, _ = select.select([proc.stdout], [], [], 300)      # hang guard only
    if not ready:
        proc.kill()
    assert ready and proc.stdout.readline().strip() == "stepping"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)      # hang guard only
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    _assert_no_leftovers(before, marker)
