"""backends/native.py with format="loihi": one float model, quantized once, run natively and in Lava.

The native Loihi mode must give, bit for bit, what hwmodels.loihi.reference_run (the
executable statement of the quantized IR) and the Lava backend with format="fixed"
give -- spikes, and the traces the Lava backend converts back to volts. The engine
itself is checked against raw Lava processes in tests/engine/test_loihi_bitacc.py.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backends import get_backend
from hwmodels import loihi
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.network import (CurrentSource, FixedProbability, Network, PoissonSource, SpikeSource, StateMonitor,
                               Uniform)
from spikecore.units import mV

ROOT = Path(__file__).resolve().parents[2]


def float_net(seed=3, delays=("0.1 ms", "0.4 ms"), model="lif_cuba"):
    """Two LIF groups, spike + Poisson sources, recurrent and feed-forward projections with
    mixed signs and delays, a current step, state monitors: every input path of the IR."""
    net = Network("loihi_mode", seed=seed, dt="0.1 ms")
    syn = {"tau_syn": {"exc": "5 ms", "inh": "5 ms"}} if model == "lif_cuba" else {}
    net.population("a", 20, model, {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV",
                                     "v_reset": "-60 mV", **syn},
                   initial={"v": np.linspace(-60, -50.5, 20) * mV})
    syn_b = {"tau_syn": {"exc": "3 ms"}} if model == "lif_cuba" else {}
    net.population("b", 12, model, {"tau_mem": "10 ms", "v_leak": "-56 mV", "v_threshold": "-50 mV",
                                     "v_reset": "-65 mV", **syn_b})
    rec = {"receptor": "exc"} if model == "lif_cuba" else {}
    inh = {"receptor": "inh"} if model == "lif_cuba" else {}
    net.add(SpikeSource(spike_times=[["1 ms", "2 ms", "2.1 ms"], ["1.5 ms", "6 ms"], ["3.3 ms"]], name="stim"))
    net.add(PoissonSource(10, "900 Hz", name="noise"))
    net.project("stim", "b", FixedProbability(0.8), weight="6 mV", delay="0.2 ms", name="stim_b", **rec)
    net.project("noise", "b", FixedProbability(0.4), weight="2.5 mV", delay="0.1 ms", name="noise_b", **rec)
    net.project("a", "b", FixedProbability(0.3), weight="1.5 mV", delay=Uniform(*delays), name="a_b", **rec)
    net.project("a", "a", FixedProbability(0.2), weight="-2 mV", delay="0.1 ms", name="a_a", **inh)
    net.project("b", "a", FixedProbability(0.3), weight="3 mV", delay=delays[1], name="b_a", **rec)
    net.add(CurrentSource("b", steps=[("0 ms", "0 pA"), ("8 ms", "60 pA"), ("14 ms", "0 pA")], neurons=[0, 1, 2],
                          name="step"))
    monitored = ("v", "syn_exc") if model == "lif_cuba" else ("v",)
    net.add(StateMonitor("b", monitored, neurons=[0, 5], name="vb"))
    net.add(StateMonitor("a", ("v",), neurons=[3], interval="0.3 ms", name="va"))
    return net


def events(result, pop):
    t, i = result.spikes[pop]
    return sorted(zip(np.rint(t / result.dt).astype(int).tolist(), i.tolist()))


@pytest.mark.parametrize("seed,delays,model", [(3, ("0.1 ms", "0.4 ms"), "lif_cuba"),
                                              (4, ("0.1 ms", "6.3 ms"), "lif_cuba"),     # up to 63 steps
                                              (5, ("0.1 ms", "0.5 ms"), "lif_delta")])
def test_native_loihi_is_the_quantized_reference(seed, delays, model):
    g = float_net(seed, delays, model).to_ir()
    res = get_backend("native").compile(g, format="loihi").run(0.03)
    ref = loihi.reference_run(loihi.quantize(g), 300)
    for pop in ("a", "b"):
        t, i = ref["spikes"][pop]
        assert events(res, pop) == sorted(zip(t.tolist(), i.tolist()))
    assert res.spikes["a"][0].size > 5 and res.spikes["b"][0].size > 5
    assert set(res.extra["quantization"]["projections"]) == set(g.projections)


@pytest.mark.parametrize("model", ["lif_cuba", "lif_delta"])
def test_native_loihi_equals_lava_fixed_spikes_and_traces(model):
    """The same float IR, one flag apart: identical spikes, and identical traces in volts."""
    g = float_net(model=model).to_ir()
    native = get_backend("native").compile(g, format="fixed").run(0.02)
    lava = get_backend("lava").compile(g, format="fixed").run(0.02)
    for pop in ("a", "b"):
        assert events(native, pop) == events(lava, pop)
    assert native.spikes["b"][0].size > 10
    for mon in ("vb", "va"):
        n, f = native.traces[mon], lava.traces[mon]
        np.testing.assert_array_equal(n["times"], f["times"])
        for var, block in f["variables"].items():
            np.testing.assert_array_equal(n["variables"][var], block, err_msg=f"{mon}.{var}")
    assert native.approximations == lava.approximations


def test_quantized_ir_runs_as_given_and_options_are_checked():
    g = float_net().to_ir()
    q = loihi.quantize(g)
    a = get_backend("native").compile(g, format="loihi").run(0.01)
    b = get_backend("native").compile(q, format="loihi").run(0.01)
    for pop in ("a", "b"):
        assert events(a, pop) == events(b, pop)
    with pytest.raises(ValidationError, match="format"):
        get_backend("native").compile(g, format="double")
    with pytest.raises(ValidationError, match="policy"):
        get_backend("native").compile(g, policy="approximate")      # only for format=loihi
    with pytest.raises(UnsupportedFeature, match="timing=precise"):
        get_backend("native").compile(g, format="loihi", timing="precise")
    refr = Network("refr", seed=1, dt="0.1 ms")
    refr.population("p", 4, "lif_delta", {"tau_mem": "10 ms", "v_leak": "-40 mV", "v_threshold": "-50 mV",
                                          "v_reset": "-60 mV", "t_refrac": "2 ms"})
    with pytest.raises(UnsupportedFeature, match="refractory"):
        get_backend("native").compile(refr.to_ir(), format="loihi")
    res = get_backend("native").compile(refr.to_ir(), format="loihi", policy="approximate").run(0.01)
    assert any("refractory" in a for a in res.approximations)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "spikecore", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_format_loihi(tmp_path):
    model = str(ROOT / "examples" / "cuba.yaml")
    p = _cli("run", model, "--format", "loihi", "--duration", "20ms", "--no-plot", "--out", str(tmp_path))
    assert p.returncode == 2 and "refractory" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = _cli("run", model, "--format", "loihi", "--policy", "approximate", "--duration", "20ms", "--no-plot",
             "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "summary.json").exists() and (tmp_path / "spikes.npz").exists()
    p = _cli("run", model, "--backend", "lava", "--format", "loihi", "--duration", "1ms", "--no-plot",
             "--out", str(tmp_path))
    assert p.returncode == 2 and "format" in p.stderr
