"""alif and alif_current (spikecore/models/alif.py, grid update spikecore/engine/updates/alif.h):
spike steps and membrane traces against an independent exact solution (the matrix exponential
of the whole linear system, scipy.linalg.expm, stepped with the IR's threshold, reset and
refractory rules), per-neuron parameters against single neurons, the per-neuron threshold of
the common threshold step, float32 and threads, and the modes that refuse it (bad input:
test_bad_params.py; native against Brian2: tests/conformance/test_model_scenarios.py)."""
import numpy as np
import pytest
from scipy.linalg import expm

import spikecore as sc
from backends import get_backend
from hwmodels.lint import lint
from spikecore import units as u
from spikecore.errors import BackendUnavailable, UnsupportedFeature
from spikecore.models import get_model

DT = 1e-4
BASE = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
        "tau_syn": {"exc": "5 ms"}}
INPUT_STEPS = (300, 900, 905, 1500)         # spike-source spikes (steps), delay 3 steps, weight 4 mV


def network(model, params, n=1, monitor=True, current=None):
    net = sc.Network(dt=f"{DT * 1e3} ms", seed=5)
    net.population("p", n, model, {**BASE, **params})
    net.add(sc.SpikeSource(times=u.Quantity(np.array(INPUT_STEPS) * DT, u.TIME), indices=[0] * 4,
                           name="s"))
    net.add(sc.Projection("s", "p", sc.AllToAll(), weight="4 mV", delay=f"{3 * DT * 1e3} ms", receptor="exc",
                          name="in"))
    if current is not None:
        net.add(sc.CurrentSource("p", amplitude=current, neurons=[0], name="i"))
    if monitor:
        net.add(sc.StateMonitor("p", ["v"], name="m"))
    return net


def reference(form, tau_mem=0.02, tau_syn=0.005, tau_x=0.1, jump=2e-3, bias=400e-12, r=1e8, t_refrac=0.0,
              v_leak=-0.07, v_th=-0.05, v_reset=-0.065, steps=3000):
    """The exact solution on the grid: X = (v, syn, x, 1) with x the threshold adaptation a (form "a")
    or the adaptation current (form "i"), X <- expm(A dt) X per step, v clamped while refractory,
    spike when v > v_th (+ a), then v = v_reset, x += jump; inputs due at step n added after it.
    Returns (spike steps, v at the start of every step)."""
    drive = v_leak + r * bias
    A = np.zeros((4, 4))
    A[0] = [-1 / tau_mem, 1 / tau_mem, -r / tau_mem if form == "i" else 0.0, drive / tau_mem]
    A[1, 1], A[2, 2] = -1 / tau_syn, -1 / tau_x
    P = expm(A * DT)
    ref_steps = int(round(t_refrac / DT))
    X = np.array([v_leak, 0.0, 0.0, 1.0])
    free_at, spikes, vs = -1, [], []
    due = {s + 3: 4e-3 for s in INPUT_STEPS}
    for n in range(steps):
        vs.append(X[0])
        v_old = X[0]
        X = P @ X
        if free_at > n:
            X[0] = v_old
        threshold = v_th + (X[2] if form == "a" else 0.0)
        if X[0] > threshold and free_at <= n:
            spikes.append(n)
            X[0] = v_reset
            X[2] += jump
            free_at = n + ref_steps
        X[1] += due.get(n, 0.0)
    return np.array(spikes), np.array(vs)


def run_steps(net, steps=3000, **options):
    res = net.run(f"{steps * DT * 1e3} ms", backend="native", **options)
    t, i = res.spikes["p"]
    return res, np.rint(t / DT).astype(int), i


@pytest.mark.parametrize("t_refrac", [0.0, 2e-3])
@pytest.mark.parametrize("tau_adapt", [0.1, 0.02])
def test_adaptive_threshold_matches_the_exact_solution(t_refrac, tau_adapt):
    net = network("alif", {"tau_adapt": f"{tau_adapt * 1e3} ms", "delta_threshold": "2 mV", "bias": "400 pA",
                           "t_refrac": f"{t_refrac * 1e3} ms"})
    res, steps, _ = run_steps(net)
    want, v = reference("a", tau_x=tau_adapt, t_refrac=t_refrac)
    assert want.size > 10
    np.testing.assert_array_equal(steps, want)
    np.testing.assert_allclose(res.traces["m"]["variables"]["v"][:, 0], v, rtol=1e-10, atol=0)


@pytest.mark.parametrize("tau_w", [0.1, 0.02, 0.005])     # 0.02 = tau_mem, 0.005 = tau_syn: the degenerate limits
def test_adaptation_current_matches_the_exact_solution(tau_w):
    net = network("alif_current", {"tau_w": f"{tau_w * 1e3} ms", "b": "30 pA", "bias": "500 pA",
                                   "t_refrac": "2 ms"})
    res, steps, _ = run_steps(net)
    want, v = reference("i", tau_x=tau_w, jump=30e-12, bias=500e-12, t_refrac=2e-3)
    assert want.size > 10
    np.testing.assert_array_equal(steps, want)
    np.testing.assert_allclose(res.traces["m"]["variables"]["v"][:, 0], v, rtol=1e-10, atol=0)


@pytest.mark.parametrize("model,params", [("alif", {"delta_threshold": "0 mV"}), ("alif_current", {"b": "0 pA"})])
def test_without_adaptation_it_is_lif_cuba(model, params):
    """Adaptation lengthens the inter-spike intervals; without it the spikes are lif_cuba's, step for step."""
    lif = run_steps(network("lif_cuba", {"bias": "300 pA", "t_refrac": "1 ms"}))[1]
    flat = run_steps(network(model, {**params, "bias": "300 pA", "t_refrac": "1 ms"}))[1]
    np.testing.assert_array_equal(flat, lif)
    adapted = run_steps(network(model, {"bias": "300 pA", "t_refrac": "1 ms"}))[1]
    isi = np.diff(adapted)
    assert adapted.size < lif.size and isi[-1] > isi[0]


PER_NEURON = {
    "alif": {"tau_mem": ["20 ms", "10 ms", "30 ms"], "v_leak": ["-70 mV", "-68 mV", "-72 mV"],
             "v_threshold": ["-50 mV", "-52 mV", "-49 mV"], "r": ["100 Mohm", "150 Mohm", "80 Mohm"],
             "bias": ["400 pA", "350 pA", "600 pA"], "tau_adapt": ["100 ms", "50 ms", "200 ms"],
             "delta_threshold": ["2 mV", "1 mV", "4 mV"]},
    "alif_current": {"tau_mem": ["20 ms", "10 ms", "30 ms"], "v_leak": ["-70 mV", "-68 mV", "-72 mV"],
                     "v_threshold": ["-50 mV", "-52 mV", "-49 mV"], "r": ["100 Mohm", "150 Mohm", "80 Mohm"],
                     "bias": ["400 pA", "350 pA", "600 pA"], "tau_w": ["100 ms", "10 ms", "200 ms"],
                     "b": ["20 pA", "10 pA", "40 pA"]},
}


@pytest.mark.parametrize("model", ["alif", "alif_current"])
def test_per_neuron_parameters_match_single_neurons(model):
    """Every per-neuron parameter (the per-neuron threshold included), and a current through a per-neuron r."""
    arrays = PER_NEURON[model]
    res, steps, idx = run_steps(network(model, dict(arrays, t_refrac="1 ms"), n=3, current="50 pA"))
    for k in range(3):
        alone = {key: vals[k] for key, vals in arrays.items()}
        r1, s1, _ = run_steps(network(model, dict(alone, t_refrac="1 ms"), current="50 pA" if k == 0 else None))
        assert s1.size > 5
        np.testing.assert_array_equal(steps[idx == k], s1, err_msg=f"neuron {k}")
        np.testing.assert_allclose(res.traces["m"]["variables"]["v"][:, k], r1.traces["m"]["variables"]["v"][:, 0],
                                   rtol=1e-13, atol=0, err_msg=f"neuron {k}")


def test_seeded_distributions_are_drawn_per_neuron():
    net = sc.Network(dt="0.1 ms", seed=4)
    net.population("p", 40, "alif", {**BASE, "tau_adapt": sc.Uniform("50 ms", "300 ms"),
                                      "v_threshold": sc.Normal("-50 mV", "1 mV"), "bias": "300 pA"})
    ir = net.to_ir()
    ta = ir.populations["p"].params["tau_adapt"]
    assert ta.shape == (40,) and 0.05 <= ta.min() < ta.max() <= 0.3
    np.testing.assert_array_equal(ta, net.to_ir().populations["p"].params["tau_adapt"])
    t, i = net.run("200 ms").spikes["p"]
    assert np.unique(i).size == 40 and len({int((i == k).sum()) for k in range(40)}) > 1


@pytest.mark.parametrize("model", ["alif", "alif_current"])
def test_threads_are_bit_identical_and_float32_close(model):
    params = dict(PER_NEURON[model], t_refrac="1 ms")
    params = {k: (v * 40)[:100] for k, v in params.items() if isinstance(v, list)} | {"t_refrac": "1 ms"}
    one = run_steps(network(model, params, n=100, monitor=False), 3000)
    two = run_steps(network(model, params, n=100, monitor=False), 3000, threads=2)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[2], two[2])
    single = run_steps(network(model, params, n=100, monitor=False), 3000, precision="float32")
    assert abs(single[1].size - one[1].size) <= 0.01 * one[1].size


def test_the_threshold_is_strict_and_per_neuron():
    """A neuron landing exactly on v_threshold + a does not fire (the common threshold's strict test)."""
    net = sc.Network(dt="0.1 ms")
    # v_leak above the threshold, no adaptation yet: a neuron starting exactly at threshold with
    # v_leak == v_threshold stays there and never fires; one a hair above fires at step 0
    net.population("p", 2, "alif", {**BASE, "v_leak": "-50 mV", "v_threshold": ["-50 mV", "-50.000001 mV"]},
                   {"v": u.Quantity(np.array([-0.05, -0.05]), u.VOLTAGE)})
    t, i = net.run("5 ms").spikes["p"]
    assert list(i) == [1] and t[0] == 0.0


@pytest.mark.parametrize("backend,options", [("native", {"timing": "precise"}), ("native", {"format": "loihi"}),
                                             ("lava", {}), ("nest", {})],
                         ids=["precise", "loihi", "lava", "nest"])
@pytest.mark.parametrize("model", ["alif", "alif_current"])
def test_modes_without_it_refuse_it_by_name(backend, options, model):
    try:
        be = get_backend(backend)
    except BackendUnavailable:
        pytest.skip(f"{backend} is not installed")
    net = network(model, {}, monitor=False)
    with pytest.raises(UnsupportedFeature, match=model) as err:
        be.compile(net.to_ir(timing=options.get("timing", "grid")), **options).run(0.001)
    if model == "alif" and (backend == "lava" or "format" in options):
        assert "ATRLIF" in str(err.value) and "reset" in str(err.value)


def test_nir_export_refuses_it(tmp_path):
    with pytest.raises(UnsupportedFeature, match="alif"):
        network("alif", {}, monitor=False).save(tmp_path / "m.nir")


def test_lint_reports_why_loihi_cannot_run_it():
    findings = lint(network("alif", {}, monitor=False).to_ir())
    errors = [f for f in findings if f.severity == "error" and "alif" in str(f)]
    assert errors and any("ATRLIF" in str(f) for f in errors)


def test_the_models_declare_their_state_and_threshold():
    a, c = get_model("alif", describable=True), get_model("alif_current", describable=True)
    assert a.modes == c.modes == frozenset({"grid", "brian2"})
    assert a.extra_state == ["a", "theta"] and c.extra_state == ["i_adapt", "theta"]
    assert a.threshold_state == c.threshold_state == "theta"
    assert get_model("lif_cuba").threshold_state is None
    assert "v_reset" not in a.per_neuron_params and "tau_adapt" in a.per_neuron_params
