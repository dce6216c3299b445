"""Run control on the Brian2 runtime device where the generated code holds the values
(docs/run_control.md): a constant of a group several populations share, one weight per
synapse on a projection compiled with one weight, refractory periods, equation-defined
models, injected currents and Poisson inputs drawn with their weights are changed by
rebuilding the Brian2 objects with the state carried over; plastic projections' weights are
written into their Synapses. Each against the native engine doing the same: identical spikes."""
import copy
import sys
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.errors import UnsupportedFeature
from spikecore.models.equations import Equations
from spikecore.network import CurrentSource, FromIndices, SpikeSource

pytest.importorskip("brian2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "plasticity"))
from test_brian2_run_control import two_groups  # noqa: E402
from scenarios import pairs_network, stdp  # noqa: E402


def spikes_of(res):
    return {k: (np.asarray(t), np.asarray(i)) for k, (t, i) in res.spikes.items()}


def compile_both(net, **brian2_options):
    ir = net.to_ir()
    return (get_backend("native").compile(ir),
            get_backend("brian2").compile(ir, **{"target": "numpy", **brian2_options}))


def same_runs(exes, steps):
    """Run both executables through ``steps`` (a duration, or a function of the executable
    called between runs); the Results of each run are identical spike for spike."""
    out = [[], []]
    for step in steps:
        for k, exe in enumerate(exes):
            if callable(step):
                step(exe)
            else:
                out[k].append(spikes_of(exe.run(step)))
    for a, b in zip(*out):
        assert a.keys() == b.keys()
        for pop in a:
            np.testing.assert_array_equal(a[pop][0], b[pop][0], err_msg=pop)
            np.testing.assert_array_equal(a[pop][1], b[pop][1], err_msg=pop)
    return out[0]


def test_shared_group_constants_refractory_periods_and_per_synapse_weights():
    exes = compile_both(two_groups())
    names = list(exes[0].ir.projections)
    n0 = exes[0].ir.projections[names[0]].n_synapses

    def first(exe):
        exe.set_parameters("inh", v_threshold=-0.051)         # inh and twin share one Brian2 group
        exe.set_parameters("exc", t_refrac=0.002)             # compiled into the group
        exe.set_weights(names[0], np.linspace(0.001, 0.002, n0))   # compiled as one constant

    def second(exe):
        exe.set_parameters("inh", t_refrac=0.003)             # the refractory end of a spike is kept
        exe.set_parameters("twin", v_threshold=-0.045)
        exe.set_parameters("inh", v_threshold=-0.050)         # now a per-neuron variable: in place
    runs = same_runs(exes, [0.02, first, 0.02, lambda e: e.store(), 0.01, second, 0.01,
                            lambda e: e.restore(), 0.01])
    assert all(sum(t.size for t, _ in r.values()) for r in runs)
    np.testing.assert_array_equal(runs[2]["inh"][0], runs[4]["inh"][0])       # restore went back
    assert exes[1].plan.pops[exes[1].plan.where["inh"]].refractory == "t_ref_grid"


def test_equation_defined_model_parameters():
    net = sc.Network("eqs_rc", seed=1, dt="0.1 ms")
    eq = Equations("dv/dt = (v_rest - v + R*I)/tau : volt (unless refractory)\nI : amp (constant)",
                   threshold="v > v_th", reset="v = v_r", refractory="2 ms", method="exact", targets=["v"])
    net.population("p", 4, eq, {"tau": "10 ms", "v_rest": "-65 mV", "R": "100 Mohm", "v_th": "-50 mV",
                                "v_r": "-70 mV"},
                   initial={"v": "-65 mV", "I": ["0.2 nA", "0.3 nA", "0.16 nA", "0.25 nA"]})
    net.add(sc.SpikeMonitor("p"))
    runs = same_runs(compile_both(net), [0.05, lambda e: e.set_parameters("p", tau=0.005, v_th=-0.052), 0.05])
    assert runs[1]["p"][0].size > runs[0]["p"][0].size > 0


def with_currents(ir, amplitudes, times=(0.0, 0.02)):
    """``ir`` with its current 'step' given other amplitudes (a new IR: run control's input)."""
    new = copy.copy(ir)
    new.currents = {k: copy.copy(c) for k, c in ir.currents.items()}
    new.currents["step"].times = np.asarray(times, dtype=float)
    new.currents["step"].amplitudes = np.asarray(amplitudes, dtype=float)
    return new


def test_injected_current_changes():
    net = two_groups()
    net.add(CurrentSource("exc", steps=[("0 ms", "0 pA"), ("20 ms", "5 pA")], neurons=list(range(0, 80, 3)),
                          name="step"))
    exes = compile_both(net)
    ir = exes[0].ir
    runs = same_runs(exes, [0.03, lambda e: e.replace_network(with_currents(ir, [0.0, 2e-11], (0.0, 0.04))), 0.03])
    assert runs[1]["exc"][0].size > 0


def test_drawn_poisson_input_weights():
    net = sc.Network("draw_rc", seed=2, dt="0.1 ms")
    net.population("p", 10, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-65 mV", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms"}})
    net.add(sc.PoissonSource(10, "900 Hz", name="noise"))
    net.project("noise", "p", sc.OneToOne(), weight="3 mV", delay="0.1 ms", receptor="exc", name="in")
    net.add(sc.SpikeMonitor("p"))
    exe = get_backend("brian2").compile(net.to_ir(), target="numpy", poisson="draw")
    before = exe.run(0.05).spikes["p"][0].size
    exe.set_weights("in", 0.0)                                   # drawn with the weight compiled in
    assert before > 0 and exe.run(0.05).spikes["p"][0].size == 0


def test_plastic_projection_weights_set_and_read_back():
    net = pairs_network(stdp())
    net.add(sc.SpikeMonitor("post"))
    exes = compile_both(net)
    n = exes[0].ir.projections["plastic"].n_synapses
    new = np.linspace(0.0005, 0.0028, n)
    runs = same_runs(exes, [0.05, lambda e: e.set_weights("plastic", new), 0.1])
    assert runs[1]["post"][0].size > 0
    # as tests/plasticity/test_brian2_identity.py: the learnt weights to 1e-12 relative
    np.testing.assert_allclose(exes[1].weights("plastic"), exes[0].weights("plastic"), rtol=1e-12, atol=0)
    assert not np.array_equal(exes[1].weights("plastic"), new)        # learnt on from the set weights


def test_a_change_that_splits_a_shared_groups_equations_is_refused_in_one_line():
    exe = get_backend("brian2").compile(two_groups().to_ir(), target="numpy")
    exe.run(0.005)
    with pytest.raises(UnsupportedFeature, match=r"inh\.t_refrac would give inh, twin different equations") as err:
        exe.set_parameters("inh", t_refrac=0.0)           # no refractoriness: inh's equations lose the flag
    assert "\n" not in str(err.value)
    exe.set_parameters("twin", v_threshold=-0.049)        # the executable is unchanged by the refusal
    assert exe.run(0.005).duration == pytest.approx(0.005)


def in_flight_network(weight="1 mV"):
    """One spike at 1 ms through a 1 ms delay onto each of two lif_cuba targets (no threshold
    reached); ``weight``: one value (a constant in Brian2) or one per synapse."""
    net = sc.Network("flight", seed=1, dt="0.1 ms")
    net.population("post", 2, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV",
                                            "v_reset": "-65 mV", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms"}},
                   initial={"v": "-65 mV"})
    net.add(SpikeSource(spike_times=[["1 ms"]], name="src"))
    w = weight if isinstance(weight, str) else [f"{x * 1e3} mV" for x in weight]
    net.project("src", "post", FromIndices([0, 0], [0, 1]), weight=w, delay="1 ms", receptor="exc", name="in")
    return net


@pytest.mark.parametrize("change_at", [0.0015, 0.0025])
@pytest.mark.parametrize("weight", ["1 mV", [0.001, 0.0012]])
def test_a_spike_in_flight_at_a_weight_change_brings_the_weight_it_was_sent_with(change_at, weight):
    """Issue 22 (g): PyNN's set(tau_m=...) between runs moved spikes on Brian2 against native.
    An IF_curr_exp weight is nA x r with r = tau_m/cm, so tau_m changes the weights, and a spike
    already sent and not yet arrived was delivered by the native engine with the weight it was
    sent with (its delay ring holds summed input) and by Brian2 with the weight at arrival (its
    SpikeQueue holds synapse indices; on_pre reads w when it delivers). Brian2's runtime now
    writes a new weight into each synapse when the spikes sent before the change have arrived.
    Sent at 1 ms, arriving at 2 ms, the weight doubled at 1.5 ms (in flight) or 2.5 ms."""
    got = {}
    for exe in compile_both(in_flight_network(weight)):
        exe.run(change_at)
        exe.set_weights("in", 2 * exe.weights("in"))
        exe.run(0.003 - change_at)
        got[exe.backend] = exe.get("post", "syn_exc")
        if exe.backend == "native":
            alone = get_backend("native").compile(in_flight_network(weight).to_ir())
            alone.run(0.003)
            # in flight or delivered before the change: the spike brought the old weight
            np.testing.assert_array_equal(got["native"], alone.get("post", "syn_exc"))
    # state variables agree to ~1e-12 relative, not bit for bit (backends/brian2.py)
    np.testing.assert_allclose(got["brian2"], got["native"], rtol=1e-12)


def test_three_factor_weights_are_refused_in_one_line():
    from scenarios import DOPA, three_factor
    exe = get_backend("brian2").compile(pairs_network(three_factor(), modulator=DOPA).to_ir(), target="numpy")
    exe.run(0.01)
    with pytest.raises(UnsupportedFeature, match=r"weights of plastic \(three_factor.*eligibility") as err:
        exe.set_weights("plastic", 0.001)
    assert "\n" not in str(err.value)


def test_store_while_weight_writes_wait_and_restore():
    """A snapshot taken right after a weight change (its writes still waiting for the spikes in
    flight) and a rebuild between store and restore: restore gives native's spikes again."""
    exes = compile_both(two_groups())
    names = list(exes[0].ir.projections)

    def change(exe):
        exe.set_weights(names[2], exe.weights(names[2]) * 1.5)
        exe.set_weights(names[0], 0.0025)
        exe.store()

    def rebuild(exe):
        exe.set_parameters("twin", t_refrac=0.004)
    runs = same_runs(exes, [0.02, change, 0.01, rebuild, 0.01, lambda e: e.restore(), 0.01])
    for pop in runs[1]:
        np.testing.assert_array_equal(runs[1][pop][0], runs[3][pop][0])


def test_a_rebuild_carries_a_monitor_sampling_on_its_own_clock():
    """A state monitor sampling every 1 ms runs on a clock Brian2 names afresh at the rebuild."""
    net, got = two_groups(), []
    net.add(sc.StateMonitor("exc", ["v"], neurons=[0, 1], interval="1 ms", name="m"))
    for exe in compile_both(net):
        exe.run(0.0105)
        exe.set_parameters("exc", t_refrac=0.003)            # a rebuild
        got.append(exe.run(0.0105).traces["m"])
    np.testing.assert_array_equal(got[0]["times"], got[1]["times"])
    assert got[0]["times"].size == 10
    np.testing.assert_allclose(got[1]["variables"]["v"], got[0]["variables"]["v"], rtol=1e-12)
