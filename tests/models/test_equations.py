"""Equation-defined models (spikecore/models/equations.py, spikecore/engine/equations.py): the
native engine compiles Brian2's own state updaters with numba and gives Brian2's spikes and
traces bit for bit (Brian2's numpy target: no -ffast-math); unsupported constructs are refused
naming them; other modes refuse the model."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backends import get_backend
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.io import load_network
from spikecore.models.equations import Equations
from spikecore.network import CurrentSource, FromIndices, Network, SpikeSource, StateMonitor

ROOT = Path(__file__).resolve().parents[2]
DT = 1e-4

LIF = """dv/dt = (v_rest - v + R*I + R*ge)/tau : volt (unless refractory)
dge/dt = -ge/tau_e : amp
I : amp (constant)"""
LIF_PARAMS = {"tau": "10 ms", "v_rest": "-65 mV", "R": "100 Mohm", "v_th": "-50 mV", "v_r": "-70 mV",
              "tau_e": "5 ms"}
# adaptation: a threshold on two variables and a reset of two statements
ADAPTIVE = """dv/dt = (v_rest - v + R*I - a)/tau : volt (unless refractory)
da/dt = -a/tau_a : volt
I : amp (constant)"""
ADAPTIVE_PARAMS = {"tau": "10 ms", "v_rest": "-65 mV", "R": "100 Mohm", "v_th": "-50 mV", "v_r": "-68 mV",
                   "tau_a": "50 ms", "b": "3 mV"}


def lif_network(method: str, refractory="2 ms") -> Network:
    """Constant drives (a per-neuron parameter) and spike-source input to v (jumps, also while
    refractory: they are discarded) and to ge (a current that decays)."""
    net = Network("eqs", seed=1, dt="0.1 ms")
    eq = Equations(LIF, threshold="v > v_th", reset="v = v_r", refractory=refractory, method=method,
                   targets=["v", "ge"])
    net.population("p", 4, eq, LIF_PARAMS,
                   initial={"v": "-65 mV", "I": ["0 nA", "0.2 nA", "0.3 nA", "0.16 nA"]})
    net.add(SpikeSource(spike_times=[["5 ms", "5.5 ms", "20 ms", "31.4 ms"], ["7 ms", "7.1 ms", "30 ms"]], name="src"))
    net.project("src", "p", FromIndices([0, 0, 0], [0, 3, 2]), weight="20 mV", delay="1 ms", receptor="v")
    net.project("src", "p", FromIndices([1, 1], [0, 3]), weight="0.3 nA", delay="1 ms", receptor="ge")
    net.add(StateMonitor("p", ["v", "ge", "I"], name="mon"))
    return net


def adaptive_network(method: str) -> Network:
    net = Network("adaptive", seed=1, dt="0.1 ms")
    eq = Equations(ADAPTIVE, threshold="v > v_th + 0.2*a", reset="v = v_r\na += b", refractory="1 ms",
                   method=method)
    net.population("p", 3, eq, ADAPTIVE_PARAMS, initial={"v": "-65 mV", "I": ["0.2 nA", "0.3 nA", "0.5 nA"]})
    net.add(StateMonitor("p", ["v", "a"], name="mon"))
    return net


def _both(net, duration="100 ms"):
    native = net.run(duration, backend="native")
    brian2 = net.run(duration, backend="brian2", target="numpy")
    return native, brian2


def _assert_identical(native, brian2, pop="p"):
    (t1, i1), (t2, i2) = native.spikes[pop], brian2.spikes[pop]
    assert t1.size > 3, "the scenario must spike"
    np.testing.assert_array_equal(np.rint(t1 / DT), np.rint(t2 / DT))
    np.testing.assert_array_equal(i1, i2)
    for mon, tr in brian2.traces.items():
        for var, block in tr["variables"].items():
            np.testing.assert_array_equal(native.traces[mon]["variables"][var], block, err_msg=f"{mon}.{var}")


@pytest.mark.parametrize("method", ["exact", "euler", "rk2", "rk4"])
def test_native_gives_brian2s_spikes_and_traces(method):
    native, brian2 = _both(lif_network(method))
    _assert_identical(native, brian2)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_general_threshold_and_multi_statement_reset(method):
    native, brian2 = _both(adaptive_network(method))
    _assert_identical(native, brian2)
    a = native.traces["mon"]["variables"]["a"]
    assert a.max() > 0.002, "the reset's a += b must act"


def test_inputs_while_refractory_are_discarded_for_unless_refractory_targets():
    """A 20 mV jump onto v 0.5 ms after a spike (refractory 2 ms) is lost; with no refractory
    period it is kept: the traces differ by it."""
    with_ref = lif_network("euler").run("12 ms", backend="native")
    v = with_ref.traces["mon"]["variables"]["v"][:, 0]
    t_spike = with_ref.spikes["p"][0][with_ref.spikes["p"][1] == 0][0]
    assert np.rint(t_spike / DT) == 61           # the first jump (step 60) fires it at step 61
    assert v[66] == pytest.approx(-0.07)         # the second jump (step 65) did not lift the clamped v


def test_float32_runs_close_to_float64():
    net = lif_network("euler")
    a = net.run("100 ms", backend="native")
    b = net.run("100 ms", backend="native", precision="float32")
    assert a.spikes["p"][0].size == b.spikes["p"][0].size
    np.testing.assert_allclose(a.spikes["p"][0], b.spikes["p"][0], atol=3 * DT)


def test_threads_give_the_same_spikes():
    net = lif_network("exact")
    a = net.run("100 ms", backend="native")
    b = net.run("100 ms", backend="native", threads=2)
    np.testing.assert_array_equal(a.spikes["p"][0], b.spikes["p"][0])


def test_no_threshold_never_spikes_and_state_is_reported():
    net = Network("quiet", dt="0.1 ms")
    net.population("p", 2, Equations("dx/dt = (1 - x)/tau : 1", method="exact"), {"tau": "10 ms"})
    net.add(StateMonitor("p", ["x"], name="mon"))
    r = net.run("10 ms", backend="native")
    assert r.spikes["p"][0].size == 0
    x = r.traces["mon"]["variables"]["x"][:, 0]
    assert x[-1] == pytest.approx(1 - np.exp(-(x.size - 1) * DT / 0.01), rel=1e-9)


def test_model_file_round_trip(tmp_path):
    net = lif_network("rk2")
    net.save(tmp_path / "m.yaml")
    back = Network.load(tmp_path / "m.yaml")
    a, b = net.run("50 ms", backend="native"), back.run("50 ms", backend="native")
    np.testing.assert_array_equal(a.spikes["p"][0], b.spikes["p"][0])


def test_example_runs_and_fires_like_cuba():
    net = load_network(ROOT / "examples" / "equations_lif.yaml")
    r = net.run("300 ms", backend="native")
    n = sum(r.spikes[p][0].size for p in ("exc", "inh"))
    rate = n / 4000 / 0.3
    assert 3 < rate < 9, rate


# ----------------------------------------------------------------------------- refusals
def _population(equations, params=None, **kw):
    net = Network("bad", dt="0.1 ms")
    net.population("p", 2, Equations(equations, **kw), params or {})
    return net


@pytest.mark.parametrize("equations, params, kw, error, named", [
    ("dv/dt = -v/tau + sigma*xi/sqrt(tau) : 1", {"tau": "10 ms", "sigma": 0.1}, {}, UnsupportedFeature, "xi"),
    ("dv/dt = -v/tau + rand()/tau : 1", {"tau": "10 ms"}, {"method": "euler"}, UnsupportedFeature, "rand"),
    ("dv/dt = -v/tau + bogus/tau : 1", {"tau": "10 ms"}, {}, ValidationError, "bogus"),
    ("dv/dt = -v/tau : volt", {"tau": "10 mV"}, {}, ValidationError, "populations.p"),
    ("dv/dt = -v/tau : 1\nw : 1 (linked)", {"tau": "10 ms"}, {}, UnsupportedFeature, "linked"),
    ("dv/dt = -v/tau : 1\ns : 1 (summed)", {"tau": "10 ms"}, {}, UnsupportedFeature, "summed"),
    ("dv/dt = -v/tau : 1\nw : 1 (shared)", {"tau": "10 ms"}, {}, UnsupportedFeature, "shared"),
    ("dv/dt = -v/tau : 1", {"tau": "10 ms"}, {"threshold": "v > 1 and lastspike < t"}, UnsupportedFeature, "lastspike"),
    ("dv/dt = -v/tau : 1", {"tau": "10 ms"}, {"method": "milstein"}, ValidationError, "milstein"),
    ("dv/dt = -v**2/tau : 1", {"tau": "10 ms"}, {"method": "exact"}, ValidationError, "method"),
    ("dv/dt = -v/tau : 1", {"tau": "10 ms"}, {"refractory": "v > 2"}, UnsupportedFeature, "refractory"),
])
def test_unsupported_constructs_are_refused_naming_them(equations, params, kw, error, named):
    with pytest.raises(error, match=named) as e:
        _population(equations, params, **kw)
    assert "\n" not in str(e.value)


def test_unknown_definition_key_and_target():
    with pytest.raises(ValidationError, match="model.on_pre"):
        Network("x").population("p", 1, {"equations": "dv/dt = -v/tau : 1", "on_pre": "v += w"}, {"tau": "1 ms"})
    with pytest.raises(ValidationError, match="targets"):
        _population("dv/dt = -v/tau : 1", {"tau": "10 ms"}, targets=["u"])


def test_weight_units_follow_the_target():
    net = lif_network("euler")
    with pytest.raises(ValidationError, match="weight"):
        net.project("src", "p", FromIndices([0], [0]), weight="1 nA", delay="1 ms", receptor="v", name="bad")
        net.to_ir()


def test_injected_currents_are_refused_on_both_engines():
    net = lif_network("euler")
    net.add(CurrentSource("p", amplitude="1 nA", name="inj"))
    for backend, opts in (("native", {}), ("brian2", {"target": "numpy"})):
        with pytest.raises(UnsupportedFeature, match="injected current"):
            net.run("1 ms", backend=backend, **opts)


@pytest.mark.parametrize("backend, options", [("native", {"timing": "precise"}), ("native", {"format": "loihi"}),
                                              ("lava", {}), ("nest", {})])
def test_other_modes_refuse_equation_models(backend, options):
    from spikecore.errors import BackendUnavailable
    try:
        be = get_backend(backend)
    except BackendUnavailable:
        pytest.skip(f"{backend} is not installed")
    net = lif_network("euler")
    with pytest.raises(UnsupportedFeature, match="equations"):
        be.compile(net.to_ir(timing=options.get("timing", "grid")), **options).run(0.001)


def test_nir_export_refuses_and_lint_reports_an_error():
    from hwmodels.lint import lint
    from spikecore.io.nir import to_nir
    g = lif_network("euler").to_ir()
    with pytest.raises(UnsupportedFeature, match="equations"):
        to_nir(g)
    findings = lint(g)
    assert any(f.severity == "error" and f.element == "population p" and f.rule == "unknown model" for f in findings)


def test_cli_refusal_is_one_line_exit_2(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("""
name: noisy
populations:
  p:
    size: 2
    model: {equations: "dv/dt = -v/tau + xi/sqrt(tau) : 1", threshold: "v > 1"}
    params: {tau: 10 ms}
""")
    p = subprocess.run([sys.executable, "-m", "spikecore", "run", str(model), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 2, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "xi" in lines[0], p.stderr
