"""Every parameter of lif_delta, lif_cuba, lif_coba, izhikevich, adex and adex_cond may be
a per-neuron array: a population whose neuron k has value x_k behaves exactly as
populations of one neuron with the scalar x_k (grid engine; the scalar path is the
reference), and Brian2 gives the same spikes. Precise timing, Loihi and Lava refuse what
they hold once per population, naming it, and hwmodels.lint reports it."""
from __future__ import annotations

import numpy as np
import pytest

from backends import available_backends
from spikecore import units as u
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import get_model
from spikecore.network import AllToAll, CurrentSource, Network, SpikeSource, StateMonitor

MS, MV, PA = 1e-3, 1e-3, 1e-12

# model -> (base parameters, injected current (A), input weight, receptor, {param: (3 values, unit)})
CASES = {
    "lif_delta": ({"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV", "v_reset": "10 mV",
                   "t_refrac": "2 ms"}, 250 * PA, "5 mV", None,
                  {"tau_mem": ([10, 20, 30], "ms"), "v_leak": ([0, 2, -2], "mV"), "v_threshold": ([18, 20, 22], "mV"),
                   "v_reset": ([5, 10, 12], "mV"), "t_refrac": ([0, 2, 3.3], "ms"), "bias": ([0, 10, 30], "pA"),
                   "r": ([0.9e8, 1e8, 1.2e8], "ohm")}),
    "lif_cuba": ({"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-70 mV",
                  "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}, 300 * PA, "0.5 V", "exc",
                 # tau_mem never equal to a tau_syn (5, 10 ms): Brian2 refuses that per neuron
                 {"tau_mem": ([12, 20, 30], "ms"), "v_leak": ([-70, -68, -72], "mV"),
                  "v_threshold": ([-52, -50, -48], "mV"), "v_reset": ([-70, -65, -60], "mV"),
                  "t_refrac": ([0, 2, 3.3], "ms"), "bias": ([0, 10, 30], "pA"), "r": ([0.9e8, 1e8, 1.2e8], "ohm")}),
    "lif_coba": ({"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
                  "t_refrac": "5 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"},
                  "e_rev": {"exc": "0 mV", "inh": "-80 mV"}}, 150 * PA, "5 nS", "exc",
                 {"c_m": ([150, 200, 250], "pF"), "g_l": ([8, 10, 12], "nS"), "v_leak": ([-60, -58, -62], "mV"),
                  "v_threshold": ([-52, -50, -48], "mV"), "v_reset": ([-60, -57, -55], "mV"),
                  "t_refrac": ([0, 2, 5.2], "ms"), "bias": ([0, 10, 30], "pA")}),
    "izhikevich": ({"preset": "RS", "integrator": "euler"}, 10 * PA, "10 mV", None,
                   {"a": ([0.02, 0.03, 0.1], ""), "b": ([0.2, 0.25, 0.22], ""), "d": ([8, 4, 2], ""),
                    "k2": ([0.04, 0.041, 0.039], ""), "k1": ([5, 5.1, 4.9], ""), "k0": ([140, 141, 139], ""),
                    "c_m": ([1, 1.2, 0.8], "pF"), "v_threshold": ([30, 25, 35], "mV"),
                    "v_reset": ([-65, -55, -50], "mV"), "v_leak": ([-65, -60, -70], "mV"),
                    "t_refrac": ([0, 1, 2], "ms"), "bias": ([0, 2, 5], "pA")}),
    "adex": ({"integrator": "euler", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms"}}, 800 * PA, "500 pA", "exc",
             {"c_m": ([250, 281, 300], "pF"), "g_l": ([25, 30, 35], "nS"), "v_leak": ([-70.6, -68, -72], "mV"),
              "delta_t": ([1.5, 2, 2.5], "mV"), "v_t": ([-52, -50.4, -49], "mV"), "tau_w": ([100, 144, 200], "ms"),
              "a": ([0, 4, 8], "nS"), "b": ([40, 80.5, 120], "pA"), "v_reset": ([-60, -58, -55], "mV"),
              "v_threshold": ([0, -30, -47], "mV"), "t_refrac": ([0, 2, 3], "ms"), "bias": ([0, 50, 100], "pA")}),
    "adex_cond": ({"integrator": "euler", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms"}, "e_rev": {"exc": "0 mV"}},
                  800 * PA, "20 nS", "exc",
                  {"c_m": ([250, 281, 300], "pF"), "tau_w": ([100, 144, 200], "ms"), "b": ([40, 80.5, 120], "pA"),
                   "v_threshold": ([0, -30, -47], "mV"), "v_reset": ([-60, -58, -55], "mV"),
                   "t_refrac": ([0, 2, 3], "ms"), "bias": ([0, 50, 100], "pA")}),
}
SCALE = {"ms": 1e-3, "mV": 1e-3, "pA": 1e-12, "pF": 1e-12, "nS": 1e-9, "ohm": 1.0, "": 1.0}


def _value(model, param, x, unit):
    dim = get_model(model).params[param].dim
    return u.Quantity(np.asarray(x, dtype=float) * SCALE[unit], dim)


def network(model, integrator=None) -> Network:
    """Per parameter: population P (3 neurons, per-neuron values) and P_0, P_1, P_2 (one neuron each,
    the scalar value), with the same current and the same input spikes."""
    base, current, weight, receptor, variations = CASES[model]
    net = Network(f"per_neuron_{model}", seed=5, dt="0.1 ms", duration="150 ms")
    net.add(SpikeSource(spike_times=[["20 ms", "20.3 ms", "70 ms", "71 ms", "71.5 ms"]], name="src"))
    for param, (values, unit) in variations.items():
        prm = dict(base)
        if integrator is not None:
            prm["integrator"] = integrator
        pops = {param: dict(prm, **{param: _value(model, param, values, unit)})}
        for k, x in enumerate(values):
            pops[f"{param}_{k}"] = dict(prm, **{param: _value(model, param, x, unit)})
        for name, params in pops.items():
            size = 3 if name == param else 1
            net.population(name, size, model, params)
            net.add(CurrentSource(name, steps=[("0 ms", "0 pA"), ("10 ms", f"{current / PA} pA"),
                                               ("100 ms", "0 pA")], name=f"cur_{name}"))
            net.project("src", name, AllToAll(), weight=weight, delay="0.5 ms", receptor=receptor,
                        name=f"in_{name}")
            net.add(StateMonitor(name, ["v"], name=f"mon_{name}"))
    return net


_RUNS: dict = {}


def run(model, backend, integrator=None, **options):
    key = (model, backend, integrator, tuple(sorted(options.items())))
    if key not in _RUNS:
        _RUNS[key] = network(model, integrator).run(backend=backend, **options)
    return _RUNS[key]


PAIRS = [(m, p) for m, case in CASES.items() for p in case[4]]


@pytest.mark.parametrize("model, param", PAIRS, ids=[f"{m}-{p}" for m, p in PAIRS])
def test_per_neuron_values_behave_as_scalar_populations(model, param):
    r = run(model, "native")
    t, i = r.spikes[param]
    fired = 0
    for k in range(3):
        ts, _ = r.spikes[f"{param}_{k}"]
        np.testing.assert_array_equal(t[i == k], ts, err_msg=f"{model}.{param} neuron {k}")
        np.testing.assert_allclose(r.traces[f"mon_{param}"]["variables"]["v"][:, k],
                                   r.traces[f"mon_{param}_{k}"]["variables"]["v"][:, 0], rtol=1e-12, atol=1e-15)
        fired += ts.size > 0
    assert fired == 3, f"{model}.{param}: every neuron must fire in the scenario"
    # the values matter: not every neuron fires the same train
    trains = [tuple(r.spikes[f"{param}_{k}"][0]) for k in range(3)]
    assert len(set(trains)) > 1, f"{model}.{param}: the values should change the spikes"


@pytest.mark.parametrize("model", ["izhikevich", "adex", "adex_cond"])
def test_per_neuron_values_with_the_event_located_rk4(model):
    """The default integrators (rk4 with the spike located inside the step) read them per neuron too."""
    r = run(model, "native", integrator="rk4")
    for param in CASES[model][4]:
        t, i = r.spikes[param]
        for k in range(3):
            np.testing.assert_array_equal(t[i == k], r.spikes[f"{param}_{k}"][0], err_msg=f"{model}.{param} {k}")


# Brian2's numpy target runs each of these populations as a group of its own (tens of
# groups per network): seconds per network, so only two in the fast suite
BRIAN2_FAST = {"lif_delta", "izhikevich"}


@pytest.mark.skipif("brian2" not in available_backends(), reason="Brian2 is not installed")
@pytest.mark.parametrize("model", [pytest.param(m, marks=[] if m in BRIAN2_FAST else [pytest.mark.slow])
                                   for m in CASES])
def test_brian2_gives_the_native_spikes_with_per_neuron_values(model):
    want = run(model, "native")
    got = run(model, "brian2", target="numpy")
    for pop, (t, i) in want.spikes.items():
        tg, ig = got.spikes[pop]
        assert np.array_equal(np.rint(tg / 1e-4), np.rint(t / 1e-4)) and np.array_equal(ig, i), \
            f"{model}/{pop}: native {t.size} spikes, brian2 {tg.size}"


@pytest.mark.skipif("brian2" not in available_backends(), reason="Brian2 is not installed")
def test_brian2_refuses_a_per_neuron_tau_mem_equal_to_a_tau_syn():
    from backends import get_backend
    net = _one("lif_cuba", "tau_mem", [4, 5, 6], "ms")
    with pytest.raises(UnsupportedFeature, match=r"per-neuron tau_mem equal to a tau_syn \(population p\)"):
        get_backend("brian2").compile(net.to_ir(), target="numpy")
    assert net.run(backend="native").spikes is not None     # the grid engine takes it (its own limit)


def _one(model, param, values, unit, **extra):
    base = dict(CASES[model][0], **extra)
    net = Network("one", seed=1, dt="0.1 ms", duration="20 ms")
    net.population("p", 3, model, dict(base, **{param: _value(model, param, values, unit)}))
    return net


def test_relations_are_checked_per_neuron():
    with pytest.raises(ValidationError, match="v_reset"):
        _one("lif_delta", "v_reset", [5, 10, 25], "mV").to_ir()
    with pytest.raises(ValidationError, match="v_threshold"):
        _one("adex", "v_threshold", [0, -10, -55], "mV").to_ir()
    with pytest.raises(ValidationError, match="length 3"):
        _one("lif_cuba", "tau_mem", [10, 20], "ms")


def test_integrator_is_one_per_population():
    with pytest.raises(ValidationError, match="integrator"):
        _one("izhikevich", "integrator", [0, 1, 1], "")


def test_precise_timing_refuses_per_neuron_time_constants_naming_them():
    with pytest.raises(UnsupportedFeature, match=r"per-neuron tau_mem \(population p\)"):
        _one("lif_cuba", "tau_mem", [10, 20, 30], "ms").run(backend="native", timing="precise")
    with pytest.raises(UnsupportedFeature, match=r"per-neuron r \(population p\)"):
        _one("lif_cuba", "r", [0.9e8, 1e8, 1.1e8], "ohm").run(backend="native", timing="precise")
    # its drive may differ per neuron: v_leak, as the bias
    net = _one("lif_cuba", "v_leak", [-70, -60, -55], "mV")
    net.add(CurrentSource("p", amplitude="150 pA", name="c"))
    counts = np.bincount(net.run("200 ms", backend="native", timing="precise").spikes["p"][1], minlength=3)
    assert counts[0] < counts[1] < counts[2]


def test_loihi_and_lava_refuse_per_neuron_thresholds_and_lint_reports_them():
    from hwmodels.lint import lint
    net = _one("lif_cuba", "v_threshold", [-52, -50, -48], "mV")
    findings = [f for f in lint(net.to_ir()) if f.rule == "per-neuron v_threshold"]
    assert findings and findings[0].severity == "error" and "once per population" in findings[0].hardware
    with pytest.raises(UnsupportedFeature, match="per-neuron v_threshold"):
        net.run(backend="native", format="loihi")
    if "lava" in available_backends():
        with pytest.raises(UnsupportedFeature, match="per-neuron v_threshold"):
            net.run(backend="lava")
    # one finding per parameter, each named (the bias has its own rule, hwmodels.loihi._resting_drive)
    two = _one("lif_cuba", "tau_mem", [10, 20, 30], "ms", v_reset=_value("lif_cuba", "v_reset", [-70, -65, -60], "mV"))
    rules = sorted(f.rule for f in lint(two.to_ir()) if f.rule.startswith("per-neuron"))
    assert rules == ["per-neuron tau_mem", "per-neuron v_reset"]


def test_nest_backend_sets_per_neuron_values_per_node():
    """(tests/backends/test_nest_models.py runs a per-neuron network on NEST against the native engine.)"""
    if "nest" not in available_backends():
        pytest.skip("NEST is not installed")
    from backends import get_backend
    net = _one("lif_delta", "tau_mem", [10, 20, 30], "ms")
    exe = get_backend("nest").compile(net.to_ir())
    assert exe.nodes["p"].get("tau_m") == pytest.approx((10.0, 20.0, 30.0))


def test_nir_export_refuses_per_neuron_values_naming_them(tmp_path):
    pytest.importorskip("nir")
    net = _one("lif_cuba", "tau_mem", [10, 20, 30], "ms")
    with pytest.raises(UnsupportedFeature, match=r"per-neuron tau_mem"):
        net.save(tmp_path / "m.nir")
