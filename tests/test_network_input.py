"""The description layer refuses and reports user mistakes, and follows later edits.

Edits after ``add`` take effect on the next to_ir/run/save without touching the
caller's dicts; misspelt keywords name the nearest valid one; connector errors name
their projection; values the engines would count past 2^31 steps are refused.
(Truncated distributions and drawn delays: tests/test_distributions.py.)
"""
import math

import numpy as np
import pytest
import yaml

import spikecore as sc
from spikecore.errors import ValidationError
from spikecore.units import mV, ms, pA

CUBA = dict(tau_mem=20 * ms, v_leak=-49 * mV, v_threshold=-50 * mV, v_reset=-60 * mV, t_refrac=5 * ms,
            tau_syn={"exc": 5 * ms, "inh": 10 * ms})
DELTA = dict(tau_mem=20 * ms, v_leak=0 * mV, v_threshold=20 * mV, v_reset=10 * mV)


def n_spikes(result):
    return sum(t.size for t, _ in result.spikes.values())


def delay_net(delay, seed=1):
    net = sc.Network("d", seed=seed)
    net.add(sc.Population(30, "lif_delta", DELTA, name="a"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(0.5), weight=1 * mV, delay=delay, name="p"))
    return net


# ----------------------------------------------------------------------------- edits after add
def test_param_edited_after_add_changes_the_run_and_the_saved_file(tmp_path):
    params = dict(CUBA)
    net = sc.Network("t", seed=1)
    a = net.add(sc.Population(20, "lif_cuba", params, name="a"))
    assert n_spikes(net.run(50 * ms)) > 0           # v_leak above threshold: it fires
    a.params["v_leak"] = -60 * mV
    assert n_spikes(net.run(50 * ms)) == 0          # the edit is what runs
    assert net.to_ir().populations["a"].params["v_leak"] == pytest.approx(-0.06)
    net.save(tmp_path / "m.yaml")
    saved = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert saved["populations"]["a"]["params"]["v_leak"] == "-0.06 V"
    assert params["v_leak"] == -49 * mV             # the caller's dict is untouched


def test_callers_dicts_are_never_mutated():
    params = {k: (dict(v) if isinstance(v, dict) else v) for k, v in CUBA.items()}
    initial = {"v": -55 * mV}
    net = sc.Network()
    a = net.add(sc.Population(5, "lif_cuba", params, initial, name="a"))
    b = net.population("b", 5, "lif_cuba", params, initial)
    a.params["tau_syn"]["exc"] = 1 * ms
    b.params["tau_mem"] = 1 * ms
    a.initial["v"] = -70 * mV
    assert params["tau_syn"]["exc"] == 5 * ms and params["tau_mem"] == 20 * ms and initial["v"] == -55 * mV
    g = net.to_ir()
    assert g.populations["a"].receptors["exc"]["tau_syn"] == pytest.approx(1e-3)
    assert g.populations["b"].params["tau_mem"] == pytest.approx(1e-3)
    assert g.populations["a"].initial["v"] == pytest.approx(np.full(5, -0.07))
    assert g.populations["b"].initial["v"] == pytest.approx(np.full(5, -0.055))


def test_edits_to_sources_currents_and_sizes_take_effect():
    net = sc.Network(seed=2)
    a = net.add(sc.Population(4, "lif_delta", DELTA, name="a"))
    c = net.add(sc.CurrentSource("a", amplitude=100 * pA, name="c"))
    s = net.add(sc.SpikeSource(spike_times=[[1 * ms]], name="s"))
    c.amplitude = 300 * pA
    s.spike_times.append([2 * ms, 3 * ms])
    a.size = 6
    g = net.to_ir()
    assert g.currents["c"].amplitudes[0] == pytest.approx(3e-10)
    assert g.spike_sources["s"].size == 2 and g.spike_sources["s"].times.size == 3
    assert g.populations["a"].size == 6 and g.currents["c"].neurons.size == 6


def test_an_invalid_edit_is_refused_at_to_ir_naming_the_field():
    net = sc.Network()
    a = net.add(sc.Population(5, "lif_delta", DELTA, name="a"))
    a.params["v_leak"] = "abc"
    with pytest.raises(ValidationError, match=r"populations\.a\.params\.v_leak"):
        net.to_ir()
    a.params["v_leak"] = 0 * mV
    a.params["tau_mme"] = 3 * ms
    with pytest.raises(ValidationError, match=r"populations\.a\.params\.tau_mme.*did you mean 'tau_mem'"):
        net.save("unused.yaml")


# ----------------------------------------------------------------------------- field errors
@pytest.mark.parametrize("make,match", [
    (lambda: sc.Population(5, "lif_delta", "abc", name="a"), r"populations\.a\.params: got 'abc'"),
    (lambda: sc.Population(5, "lif_delta", DELTA, [1], name="a"), r"populations\.a\.initial: got \[1\]"),
    (lambda: sc.Population(5, "lif_cuba", {**CUBA, "tau_syn": {"exc": 5 * ms, 1: 5 * ms}}, name="a"),
     r"populations\.a\.params\.tau_syn\.1"),
    (lambda: sc.Population(5, ["lif_delta"], DELTA, name="a"), r"populations\.a\.model"),
    (lambda: sc.Population(5, "lif_detla", DELTA, name="a"), r"did you mean 'lif_delta'"),
    (lambda: sc.Population(5, "lif_delta", DELTA, {"vv": 0 * mV}, name="a"), r"initial\.vv.*did you mean 'v'"),
])
def test_population_field_errors_name_the_field(make, match):
    with pytest.raises(ValidationError, match=match):
        make()


@pytest.mark.parametrize("connector,match", [
    (lambda: sc.FixedProbability(1.5), r"projections\.p\.connector\.p: got 1\.5"),
    (lambda: sc.FixedProbability("0.5"), r"projections\.p\.connector\.p"),
    (lambda: sc.FixedIndegree(50), r"projections\.p\.connector\.k: got 50"),
    (lambda: sc.AllToAll(allow_self="no"), r"projections\.p\.connector\.allow_self"),
    (lambda: sc.OneToOne(), r"projections\.p\.connector: got 'one_to_one'"),
    (lambda: sc.FromIndices([0, 1], [0]), r"projections\.p\.connector\.j"),
    (lambda: sc.FromIndices([0, 9], [0, 1]), r"projections\.p\.connector\.i"),
])
def test_connector_errors_name_their_projection(connector, match):
    net = sc.Network()
    net.add(sc.Population(5, "lif_delta", DELTA, name="a"), sc.Population(3, "lif_delta", DELTA, name="b"))
    with pytest.raises(ValidationError, match=match):
        net.add(sc.Projection("a", "b", connector(), weight=1 * mV, name="p"))
        net.to_ir()


@pytest.mark.parametrize("make,match", [
    (lambda: sc.Projection(["a"], "a", sc.OneToOne(), weight=1 * mV, name="p"), r"projections\.p\.pre: got \['a'\]"),
    (lambda: sc.Projection("a", "a", sc.OneToOne(), weight=1 * mV, receptor=["x"], name="p"),
     r"projections\.p\.receptor"),
    (lambda: sc.StateMonitor("a", variables=[["v"]], name="m"), r"monitors\.m\.variables"),
    (lambda: sc.StateMonitor("a", variables=["vv"], name="m"), r"monitors\.m\.variables.*did you mean 'v'"),
    (lambda: sc.SpikeMonitor({"a": 1}, name="m"), r"monitors\.m\.target"),
    (lambda: sc.Population(5, "lif_delta", DELTA, name="1a"), r"^populations\.1a: got '1a'"),
])
def test_element_field_errors_name_the_field(make, match):
    net = sc.Network()
    net.add(sc.Population(5, "lif_delta", DELTA, name="a"))
    with pytest.raises(ValidationError, match=match):
        net.add(make())


@pytest.mark.parametrize("make,match", [
    (lambda: sc.Population(5, "lif_delta", parms=DELTA), r"Population\(parms=\.\.\.\).*did you mean 'params'"),
    (lambda: sc.Normal(1 * mV, 1 * mV, lo=0 * mV), r"did you mean 'low'"),
    (lambda: sc.FixedProbability(p=0.1, allow_selff=False), r"did you mean 'allow_self'"),
    (lambda: sc.StateMonitor("a", variable=["v"]), r"did you mean 'variables'"),
    (lambda: sc.Network("n", sead=3), r"Network\(sead=\.\.\.\).*did you mean 'seed'"),
])
def test_misspelt_keywords_suggest_the_nearest(make, match):
    with pytest.raises(ValidationError, match=match):
        make()


def test_misspelt_backend_option_suggests_the_nearest():
    net = sc.Network()
    net.add(sc.Population(5, "lif_delta", DELTA, name="a"))
    with pytest.raises(ValidationError, match="did you mean 'threads'"):
        net.run(1 * ms, threds=2)


def test_infinite_duration_and_dt_are_refused_up_front():
    with pytest.raises(ValidationError, match="duration"):
        sc.Network(duration="inf s")
    with pytest.raises(ValidationError, match="dt"):
        sc.Network(dt="inf s")


def test_poisson_rate_distribution_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match=r"sources\.n\.rate"):
        sc.PoissonSource(3, sc.Uniform("1 Hz", "2 Hz"), name="n")


@pytest.mark.parametrize("timing", ["grid", "precise"])
def test_delays_and_intervals_beyond_the_step_counter_are_refused(timing):
    net = delay_net("1e20 ms")
    with pytest.raises(ValidationError, match=r"projections\.p\.delay: .*at most 2147483647 steps"):
        net.to_ir(timing=timing)
    net = delay_net("1 ms")
    net.add(sc.StateMonitor("a", interval="2e29 ms", name="vm"))
    with pytest.raises(ValidationError, match=r"monitors\.vm\.interval: got '2e29 ms'"):
        net.to_ir(timing=timing)


def test_a_weight_of_the_wrong_dimension_names_the_distribution_field():
    net = delay_net("1 ms")
    net.projections["p"].weight = sc.Normal("-1 ms", "1 mV")
    with pytest.raises(ValidationError, match=r"projections\.p\.weight\.mean: got '-1 ms', expected a weight in V"):
        net.to_ir()


def test_a_refractory_period_beyond_the_step_counter_is_refused():
    net = sc.Network()
    net.add(sc.Population(3, "lif_delta", {**DELTA, "t_refrac": "2e30 ms"}, name="a"))
    with pytest.raises(ValidationError, match=r"populations\.a\.params\.t_refrac: got '2e30 ms'"):
        net.to_ir()


def test_a_poisson_window_beyond_the_step_counter_is_refused_and_no_stop_is_fine():
    net = sc.Network()
    net.add(sc.Population(3, "lif_delta", DELTA, name="a"))
    src = net.add(sc.PoissonSource(3, "10 Hz", stop="1.5e30 ms", name="n"))
    with pytest.raises(ValidationError, match=r"sources\.n\.stop: got '1\.5e30 ms'"):
        net.to_ir()
    src.stop = None
    assert net.to_ir().poisson_sources["n"].stop == math.inf


@pytest.mark.parametrize("options", [{}, {"format": "loihi", "policy": "approximate"}])
def test_a_poisson_rate_beyond_the_count_tables_is_refused_on_every_mode(options):
    net = sc.Network()
    net.add(sc.Population(3, "lif_delta", DELTA, name="a"))
    net.add(sc.PoissonSource(3, "1e14 Hz", name="n"))
    net.add(sc.Projection("n", "a", sc.OneToOne(), weight=1 * mV, name="p"))
    with pytest.raises(ValidationError, match=r"sources\.n\.rate: got '1e\+14 Hz', expected a rate of at most 7e\+06 Hz"):
        net.run(1 * ms, **options)


def test_spike_and_step_times_beyond_the_step_counter_are_refused_far_ones_are_fine():
    net = sc.Network()
    net.add(sc.Population(3, "lif_delta", DELTA, name="a"))
    net.add(sc.SpikeSource(spike_times=[["1e6 s"]], name="s"))   # far beyond any run: fine
    net.to_ir()
    net.sources["s"].spike_times = [["1e30 s"]]
    with pytest.raises(ValidationError, match=r"sources\.s\.times: got '1e\+30 s'"):
        net.to_ir()
    del net.sources["s"]
    net.add(sc.CurrentSource("a", steps=[("0 ms", "1 pA"), ("1e30 s", "2 pA")], name="c"))
    with pytest.raises(ValidationError, match=r"currents\.c\.steps: got '1e\+30 s'"):
        net.to_ir()
