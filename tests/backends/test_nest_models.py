"""The NEST backend's mapping of the models beyond LIF (backends/_nest_models.py, docs/nest.md):
izhikevich -> NEST izhikevich (spike for spike with integrator euler; close with izhikevich2003),
adex / adex_cond -> aeif_psc_exp / aeif_cond_exp (within tolerance: NEST's adaptive RKF45),
per-neuron parameters -> per-node parameters, and the refusals (rk4, the class1 quadratic,
a refractory izhikevich, alif). Every network is small: each NEST run takes about a second.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nest")

import nest  # noqa: E402

import spikecore as sc  # noqa: E402
from backends import get_backend  # noqa: E402
from spikecore import units as u  # noqa: E402
from spikecore.cli import main as cli_main  # noqa: E402
from spikecore.errors import UnsupportedFeature  # noqa: E402

NATIVE = get_backend("native")
NEST = get_backend("nest")


def spikes_of(result, pop):
    t, i = result.spikes[pop]
    return sorted(zip(np.rint(t / result.dt).astype(int).tolist(), i.tolist()))


def izhikevich_network(integrator: str, n: int = 40) -> sc.Network:
    """Bias-driven RS/FS-like neurons (per-neuron a, d and bias) coupled by jumps of +-0.5 mV."""
    net = sc.Network("izh", seed=5, dt="0.1 ms")
    rng = np.random.default_rng(1)
    net.population("p", n, "izhikevich", {
        "preset": "RS", "integrator": integrator,
        "a": list(np.linspace(0.02, 0.1, n)), "d": list(np.linspace(2, 8, n)),
        "bias": u.Quantity(rng.uniform(4e-12, 15e-12, n), u.CURRENT)})
    net.project("p", "p", sc.FixedProbability(0.1), weight="0.5 mV", delay="1 ms", name="exc")
    net.project("p", "p", sc.FixedProbability(0.05), weight="-0.5 mV", delay="2 ms", name="inh")
    net.add(sc.StateMonitor("p", ["v", "u"], neurons=[0, 13, 39], name="m"))
    return net


# ----------------------------------------------------------------------------- izhikevich
def test_izhikevich_euler_gives_the_native_spikes_and_traces():
    """integrator euler = NEST's consistent_integration=True: the same forward Euler step, the
    jump entering where the IR's next update sees it: spike for spike, per-neuron parameters too,
    until rounding (volts against mV) or a jump that itself crosses V_th (NEST fires a step
    earlier) moves one spike by a step."""
    g = izhikevich_network("euler").to_ir()
    # the IR adds a jump in volts, NEST in mV: after ~300 ms here a crossing moves by a step
    ours, theirs = NATIVE.compile(g).run(0.25), NEST.compile(g).run(0.25)
    assert len(spikes_of(ours, "p")) > 300
    assert spikes_of(theirs, "p") == spikes_of(ours, "p")
    for var in ("v", "u"):
        np.testing.assert_allclose(theirs.traces["m"]["variables"][var], ours.traces["m"]["variables"][var],
                                   rtol=1e-9, atol=1e-12)


def test_izhikevich_published_scheme_agrees_within_a_step_or_two():
    """izhikevich2003 = consistent_integration=False, where NEST adds a weight as a current to both
    half-steps of v (the IR: a jump before the step): bias-driven neurons without input agree spike
    for spike, coupled ones closely."""
    net = izhikevich_network("izhikevich2003")
    g = net.to_ir()
    ours, theirs = NATIVE.compile(g).run(0.5), NEST.compile(g).run(0.5)
    a, b = spikes_of(ours, "p"), spikes_of(theirs, "p")
    assert abs(len(a) - len(b)) <= 0.03 * len(a)
    # spikes before any synaptic input arrives (the first at step 23, delays >= 1 ms): identical
    assert a[0][0] > 20 and [x for x in a if x[0] < a[0][0] + 10] == [x for x in b if x[0] < a[0][0] + 10]
    for k in (0, 13, 39):
        mine = np.array([s for s, i in a if i == k])
        nest_k = np.array([s for s, i in b if i == k])
        m = min(mine.size, nest_k.size, 5)
        assert m >= 3 and np.max(np.abs(mine[:m] - nest_k[:m])) <= 20       # within 2 ms over 5 spikes


def test_izhikevich_weights_are_jumps_and_nest_gets_the_published_schemes_current():
    g = izhikevich_network("izhikevich2003").to_ir()
    exe = NEST.compile(g)
    conns = nest.GetConnections(source=exe.nodes["p"], target=exe.nodes["p"])
    assert sorted(set(np.round(conns.weight, 9))) == [-5.0, 5.0]      # 0.5 mV / 0.1 ms
    assert sorted(set(np.round(conns.delay, 9))) == [1.1, 2.1]        # one step more
    g = izhikevich_network("euler").to_ir()
    exe = NEST.compile(g)
    conns = nest.GetConnections(source=exe.nodes["p"], target=exe.nodes["p"])
    assert sorted(set(np.round(conns.weight, 9))) == [-0.5, 0.5] and sorted(set(np.round(conns.delay, 9))) == [1, 2]
    status = exe.nodes["p"].get(["a", "d", "I_e", "consistent_integration", "U_m"])
    assert status["a"][0] == 0.02 and status["a"][-1] == pytest.approx(0.1) and all(status["consistent_integration"])
    pr = g.populations["p"].params
    assert np.array_equal(status["I_e"], pr["bias"] / pr["c_m"])    # I in mV/ms: bias / c_m (1 pF: pA)


def test_izhikevich_current_input_is_scaled_by_c_m():
    """A current of x A is Izhikevich's I = x / c_m (mV/ms): with c_m = 2 pF, 20 pA acts as 10."""
    def run(c_m, amplitude, backend):
        net = sc.Network(dt="0.1 ms")
        net.population("p", 1, "izhikevich", {"preset": "RS", "integrator": "euler", "c_m": c_m})
        net.add(sc.CurrentSource("p", steps=[("0 ms", "0 pA"), ("20 ms", amplitude)], name="i"))
        return spikes_of(get_backend(backend).compile(net.to_ir()).run(0.2), "p")
    assert run("2 pF", "20 pA", "nest") == run("1 pF", "10 pA", "nest") == run("2 pF", "20 pA", "native")
    assert len(run("2 pF", "20 pA", "nest")) > 3


@pytest.mark.parametrize("params, says", [
    ({"preset": "RS"}, r"integrator rk4.*integrator: euler \(consistent_integration True\) or izhikevich2003"),
    ({"preset": "class1", "integrator": "euler"}, r"quadratic k2, k1, k0 = \[0.04\], \[4.1\], \[108.0\].*class1"),
    ({"preset": "RS", "integrator": "euler", "t_refrac": "1 ms"}, r"t_refrac > 0.*no refractory period"),
])
def test_izhikevich_without_a_nest_twin_is_refused_naming_what(params, says):
    net = sc.Network(dt="0.1 ms")
    net.population("p", 2, "izhikevich", params)
    with pytest.raises(UnsupportedFeature, match=says):
        NEST.compile(net.to_ir())


def test_cli_compare_izhikevich_native_nest_exact(tmp_path, capsys):
    """(At 300 ms a crossing of this network moves by a step: the jump's rounding, volts against mV.)"""
    model = tmp_path / "izh.yaml"
    model.write_text(IZHIKEVICH_FILE)
    code = cli_main(["compare", str(model), "--backends", "native,nest", "--exact", "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "native, nest: agree" in out


IZHIKEVICH_FILE = """\
spikecore: 1
name: izh_small
seed: 2
dt: 0.1 ms
duration: 250 ms
populations:
  exc:
    size: 40
    model: izhikevich
    params: {preset: RS, integrator: euler, bias: {distribution: uniform, low: 4 pA, high: 12 pA}}
  inh:
    size: 10
    model: izhikevich
    params: {preset: FS, integrator: euler, bias: {distribution: uniform, low: 4 pA, high: 12 pA}}
projections:
  ee: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.1}, weight: 0.5 mV, delay: 1 ms}
  ei: {pre: exc, post: inh, connector: {type: fixed_probability, p: 0.1}, weight: 0.5 mV, delay: 1 ms}
  ie: {pre: inh, post: exc, connector: {type: fixed_probability, p: 0.1}, weight: -1 mV, delay: 1 ms}
"""


# ----------------------------------------------------------------------------- adex
def adex_driven(model: str, dt: str = "0.01 ms") -> sc.Network:
    """NEST's default AdEx with t_ref = 2 ms, one neuron per constant current 1000 ... 2500 pA."""
    net = sc.Network(dt=dt)
    params = {"t_refrac": "2 ms", "bias": u.Quantity(np.linspace(1000e-12, 2500e-12, 4), u.CURRENT),
              "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
    if model == "adex_cond":
        params["e_rev"] = {"exc": "0 mV", "inh": "-80 mV"}
    net.population("p", 4, model, params)
    return net


@pytest.mark.parametrize("model, nest_model", [("adex", "aeif_psc_exp"), ("adex_cond", "aeif_cond_exp")])
def test_adex_first_spike_times_within_a_quarter_millisecond_of_nest(model, nest_model):
    g = adex_driven(model).to_ir()
    exe = NEST.compile(g)
    assert exe.plans["p"].nest_model == nest_model
    assert exe.nodes["p"].get("t_ref") == (2.0,) * 4 and exe.nodes["p"].get("V_peak") == (0.0,) * 4
    theirs, ours = exe.run(1.0), NATIVE.compile(g).run(1.0)
    for k in range(4):
        a = ours.spikes["p"][0][ours.spikes["p"][1] == k][:20]
        b = theirs.spikes["p"][0][theirs.spikes["p"][1] == k][:20]
        assert a.size == b.size == 20
        assert np.max(np.abs(a - b)) < 0.25e-3


def test_adex_network_rates_agree_with_nest():
    """A Poisson-driven AdEx network (replayed trains, conductances, per-neuron b): rates within 3 %."""
    from spikecore.io.model_files import load_network
    from pathlib import Path
    net = load_network(Path(__file__).parents[2] / "examples" / "adex_network.yaml")
    g = net.to_ir()
    ours, theirs = NATIVE.compile(g).run(0.3), NEST.compile(g).run(0.3)
    for pop in ("exc", "inh"):
        a, b = ours.spikes[pop][0].size, theirs.spikes[pop][0].size
        assert a > 500 and abs(a - b) <= 0.03 * a


def test_cli_compare_adex_network_native_nest(capsys, tmp_path):
    """spikecore compare on the AdEx example: statistical agreement (rates, CV, histograms)."""
    from pathlib import Path
    example = Path(__file__).parents[2] / "examples" / "adex_network.yaml"
    code = cli_main(["compare", str(example), "--backends", "native,nest", "--duration", "300ms",
                     "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0 and "native, nest: agree" in out, out


def test_adex_receptors_route_by_sign_and_conductances_by_reversal_potential():
    net = sc.Network(dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[["2 ms"], ["4 ms"]], name="s"))
    net.population("c", 1, "adex", {"tau_syn": {"exc": "5 ms", "inh": "10 ms"}})
    net.population("g", 1, "adex_cond", {"tau_syn": {"exc": "5 ms", "inh": "10 ms"},
                                          "e_rev": {"exc": "0 mV", "inh": "-80 mV"}})
    for post, (we, wi) in (("c", ("200 pA", "-300 pA")), ("g", ("5 nS", "7 nS"))):
        net.project("s", post, sc.FromIndices([0], [0]), weight=we, receptor="exc", name=f"{post}e")
        net.project("s", post, sc.FromIndices([1], [0]), weight=wi, receptor="inh", name=f"{post}i")
        net.add(sc.StateMonitor(post, ["v", "w", "syn_exc" if post == "c" else "g_exc",
                                       "syn_inh" if post == "c" else "g_inh"], name=f"m{post}"))
    g = net.to_ir()
    exe = NEST.compile(g)
    assert exe.plans["c"].routes == {"exc": "ex", "inh": "in"} and exe.plans["g"].routes == {"exc": "ex", "inh": "in"}
    weights = {p: sorted(nest.GetConnections(source=exe.nodes["s"], target=exe.nodes[p]).weight) for p in "cg"}
    assert weights["c"] == pytest.approx([-300, 200]) and weights["g"] == pytest.approx([-7, 5])
    theirs, ours = exe.run(0.03), NATIVE.compile(g).run(0.03)
    for mon in ("mc", "mg"):
        for var, a in ours.traces[mon]["variables"].items():
            b = theirs.traces[mon]["variables"][var]
            # the synaptic variables decay exactly in both; v and w by different integrators
            np.testing.assert_allclose(b, a, rtol=2e-3, atol=2e-3 * np.max(np.abs(a)), err_msg=f"{mon} {var}")


def test_adex_receptors_weight_signs_cannot_tell_apart_are_refused():
    net = sc.Network(dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[["2 ms"]], name="s"))
    net.population("c", 1, "adex", {"tau_syn": {"a": "5 ms", "b": "10 ms"}})
    net.project("s", "c", sc.OneToOne(), weight="200 pA", receptor="a", name="e1")
    net.project("s", "c", sc.OneToOne(), weight="100 pA", receptor="b", name="e2")
    with pytest.raises(UnsupportedFeature, match=r"adex receptors that weight signs cannot tell apart.*a, b"):
        NEST.compile(net.to_ir())


# ----------------------------------------------------------------------------- per-neuron parameters
def test_per_neuron_lif_parameters_become_per_node_parameters():
    """lif_cuba with per-neuron tau_mem, r, threshold, refractory period and bias: NEST's nodes get
    them (weights through each target's own r), and the spikes are the native engine's."""
    net = sc.Network("pn", seed=4, dt="0.1 ms")
    n = 30
    net.population("p", n, "lif_cuba", {
        "tau_mem": u.Quantity(np.linspace(10e-3, 30e-3, n), u.TIME), "v_leak": "0 mV",
        "r": u.Quantity(np.linspace(50e6, 150e6, n), u.RESISTANCE),
        "v_threshold": u.Quantity(np.linspace(15e-3, 20e-3, n), u.VOLTAGE), "v_reset": "5 mV",
        "t_refrac": u.Quantity(np.linspace(1e-3, 4e-3, n), u.TIME), "tau_syn": {"exc": "5 ms", "inh": "10 ms"},
        "bias": u.Quantity(np.linspace(0.16e-9, 0.24e-9, n), u.CURRENT)})
    net.project("p", "p", sc.FixedProbability(0.1), weight="50 pA", delay="1 ms", receptor="exc", name="e")
    net.project("p", "p", sc.FixedProbability(0.1), weight="-0.5 mV", delay="2 ms", receptor="inh", name="i")
    net.add(sc.StateMonitor("p", ["v", "syn_exc", "syn_inh"], neurons=[0, 29], name="m"))
    g = net.to_ir()
    exe = NEST.compile(g)
    status = exe.nodes["p"].get(["tau_m", "C_m", "V_th", "t_ref"])
    assert status["tau_m"][0] == pytest.approx(10.0) and status["tau_m"][-1] == pytest.approx(30.0)
    assert status["C_m"][0] == pytest.approx(200.0) and status["C_m"][-1] == pytest.approx(200.0)
    assert status["V_th"][-1] == pytest.approx(20.0) and status["t_ref"][-1] == pytest.approx(3.9)
    ours, theirs = NATIVE.compile(g).run(0.3), exe.run(0.3)
    assert len(spikes_of(ours, "p")) > 100 and spikes_of(theirs, "p") == spikes_of(ours, "p")
    for var, a in ours.traces["m"]["variables"].items():
        np.testing.assert_allclose(theirs.traces["m"]["variables"][var], a, rtol=1e-9, atol=1e-9 * np.max(np.abs(a)))


def test_alif_forms_are_refused_in_one_line_naming_the_model(capsys):
    from pathlib import Path
    example = Path(__file__).parents[2] / "examples" / "alif.yaml"      # an alif and an alif_current population
    assert cli_main(["run", str(example), "--backend", "nest", "--out", "unused"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model 'alif' (population exc)" in err[0] and "adaptive threshold" in err[0]
