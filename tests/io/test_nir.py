"""spikecore.io.nir: NIR graphs built with the nir package run on our engine and match
each node's closed-form response; network -> NIR -> network preserves the IR; what
cannot be mapped is refused by name; bad .nir files give one clear error."""
from __future__ import annotations

import math

import h5py
import nir
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikecore as sc
from spikecore import ir as _ir
from spikecore.errors import ModelFileError, UnsupportedFeature, ValidationError
from spikecore.io import load_network
from spikecore.io.nir import NO_LEAK_TAU, NO_THRESHOLD, from_nir, load_nir, read_nir_graph, save_nir, to_nir

DT = 1e-4        # s, our grid in these tests
T0 = 1e-3        # s, time of the stimulus spike
LATENCY = 2 * DT  # a source spike at t0 through NIR delay tau is felt from t0 + tau + 2 dt on


def arr(*x):
    return np.array(x, dtype=float)


def graph(*nodes, edges=None):
    """A graph the way exporters build one: named nodes in a chain Input -> ... -> Output."""
    if edges is None:
        return nir.NIRGraph.from_list(*nodes)
    return nir.NIRGraph(nodes=dict(nodes), edges=edges)


def one_spike(*times):
    return sc.SpikeSource(spike_times=[[f"{t * 1e3!r} ms" for t in times]])


def simulate(g, pop, duration, inputs=None, **kw):
    net = from_nir(g, "0.1 ms", inputs=inputs, **kw)
    syn = tuple(f"syn_{r}" for r in net.populations[pop].receptors) if net.populations[pop].model == "lif_cuba" else ()
    net.add(sc.StateMonitor(pop, ("v",) + syn, name="probe"))
    res = net.run(duration)
    tr = res.traces["probe"]
    return net, res, tr["times"], tr["variables"]


# ----------------------------------------------------------------------------- single neurons
def test_lif_impulse_snntorch_style_matches_closed_form():
    # snn.Leaky(beta) exports tau = dt/(1-beta), r = tau/dt (snntorch/export_nir.py) and means a
    # spike to be 1 for one of its steps: spike_area = its dt.
    dt_snn, beta, w = 1e-4, 0.95, 0.3
    tau = dt_snn / (1 - beta)
    g = graph(nir.Affine(np.array([[w]]), arr(0.0)),
              nir.LIF(tau=arr(tau), r=arr(tau / dt_snn), v_leak=arr(0.0), v_threshold=arr(1.0)))
    _, res, t, var = simulate(g, "lif", "5 ms", {"input": one_spike(T0)}, spike_area=dt_snn)
    t_eff = T0 + LATENCY
    expected = np.where(t >= t_eff - 1e-12, w * np.exp(-(t - t_eff) / tau), 0.0)
    np.testing.assert_allclose(var["v"][:, 0], expected, rtol=1e-12, atol=1e-15)
    assert res.spikes["lif"][0].size == 0


def test_lif_impulse_dirac_reading_and_threshold():
    # Norse-style (r = 1); a Dirac of weight W moves v by r*W/tau.
    tau, w = 0.01, 0.004
    g = graph(nir.Linear(np.array([[w], [2.5 * w]])),
              nir.LIF(tau=arr(tau, tau), r=arr(1.0, 1.0), v_leak=arr(0.0, 0.0), v_threshold=arr(0.5, 0.5),
                      v_reset=arr(-0.1, -0.1)))
    _, res, t, var = simulate(g, "lif", "4 ms", {"input": one_spike(T0)})
    t_eff = T0 + LATENCY
    expected = np.where(t >= t_eff - 1e-12, w / tau * np.exp(-(t - t_eff) / tau), 0.0)
    np.testing.assert_allclose(var["v"][:, 0], expected, rtol=1e-12, atol=1e-15)
    # neuron 1 jumps to 1.0 > 0.5: it fires at the sample where the jump shows, then resets
    times, idx = res.spikes["lif"]
    assert idx.tolist() == [1] and times[0] == pytest.approx(t_eff)
    k = int(round(t_eff / DT))
    assert var["v"][k + 1, 1] == -0.1            # reset at the end of the spiking step
    assert var["v"][k + 2, 1] == pytest.approx(-0.1 * math.exp(-DT / tau), rel=1e-12)


def test_lif_step_response_from_affine_bias():
    tau, r, b, vth, vreset = 0.02, 2.0, 1.5, 2.0, 0.5      # r*b = 3 > vth: it fires periodically
    g = graph(nir.Affine(np.zeros((1, 1)), arr(b)),
              nir.LIF(tau=arr(tau), r=arr(r), v_leak=arr(0.0), v_threshold=arr(vth), v_reset=arr(vreset)))
    _, res, t, var = simulate(g, "lif", "100 ms")
    t_star = tau * math.log(r * b / (r * b - vth))
    first = math.floor(t_star / DT)   # recorded at the start of the step in which v crosses
    before = t <= first * DT + 1e-12
    np.testing.assert_allclose(var["v"][before, 0], r * b * (1 - np.exp(-t[before] / tau)), rtol=1e-12)
    period = tau * math.log((r * b - vreset) / (r * b - vth))
    steps = np.rint(res.spikes["lif"][0] / DT).astype(int)
    assert steps[0] == first
    expected = [first]
    while expected[-1] + 1 + math.floor(period / DT) < len(t):
        expected.append(expected[-1] + 1 + math.floor(period / DT))
    assert steps.tolist() == expected


def test_cubalif_impulse_matches_closed_form():
    dt_snn, alpha, beta, w = 1e-4, 0.8, 0.95, 0.05     # snn.Synaptic export: w_in = tau_syn/dt, r = tau_mem/dt
    tau_syn, tau_mem = dt_snn / (1 - alpha), dt_snn / (1 - beta)
    g = graph(nir.Linear(np.array([[w]])),
              nir.CubaLIF(tau_syn=arr(tau_syn), tau_mem=arr(tau_mem), r=arr(tau_mem / dt_snn), v_leak=arr(0.0),
                          v_threshold=arr(1.0), w_in=arr(tau_syn / dt_snn)))
    _, _, t, var = simulate(g, "cubalif", "10 ms", {"input": one_spike(T0)}, spike_area=dt_snn)
    # syn (= r*I, volts) jumps by r*w_in*W*area/tau_syn, then v follows the two-exponential kernel
    jump = (tau_mem / dt_snn) * (tau_syn / dt_snn) * w * dt_snn / tau_syn
    s = t - (T0 + LATENCY)
    on = s >= -1e-12
    kernel = tau_syn / (tau_syn - tau_mem) * (np.exp(-s / tau_syn) - np.exp(-s / tau_mem))
    np.testing.assert_allclose(var["v"][:, 0], np.where(on, jump * kernel, 0.0), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(var["syn_syn"][:, 0], np.where(on, jump * np.exp(-s / tau_syn), 0.0), rtol=1e-12,
                               atol=1e-15)


def test_cubalif_step_response_from_bias_passes_the_synaptic_filter():
    tau_syn, tau_mem, r, w_in, b, vl = 0.005, 0.02, 1.5, 0.8, 0.5, -0.2
    g = graph(nir.Affine(np.zeros((1, 1)), arr(b)),
              nir.CubaLIF(tau_syn=arr(tau_syn), tau_mem=arr(tau_mem), r=arr(r), v_leak=arr(vl),
                          v_threshold=arr(5.0), w_in=arr(w_in)))
    _, res, t, var = simulate(g, "cubalif", "60 ms")
    a = r * w_in * b       # NIR: tau_syn I' = -I + w_in*b from I(0)=0, drive r*I
    expected = vl + a * (1 - np.exp(-t / tau_mem)
                         - tau_syn / (tau_syn - tau_mem) * (np.exp(-t / tau_syn) - np.exp(-t / tau_mem)))
    np.testing.assert_allclose(var["v"][:, 0], expected, rtol=1e-12, atol=1e-14)
    assert res.spikes["cubalif"][0].size == 0


def test_cubalif_written_out_as_li_filters_and_lif_membrane():
    # NIR defines CubaLIF as LI; Linear; LIF. Two synaptic filters (LI, v_leak 0) feeding one
    # LIF are two receptors of one lif_cuba population, each with the CubaLIF kernel.
    tau_e, tau_i, tau_m, r = 0.005, 0.01, 0.02, 2.0
    g = graph(("input", nir.Input(np.array([2]))),
              ("w_e", nir.Linear(np.array([[0.01, 0.0]]))), ("w_i", nir.Linear(np.array([[0.0, -0.02]]))),
              ("syn_e", nir.LI(tau=arr(tau_e), r=arr(1.0), v_leak=arr(0.0))),
              ("syn_i", nir.LI(tau=arr(tau_i), r=arr(1.0), v_leak=arr(0.0))),
              ("mem", nir.LIF(tau=arr(tau_m), r=arr(r), v_leak=arr(0.0), v_threshold=arr(1.0))),
              ("out", nir.Output(np.array([1]))),
              edges=[("input", "w_e"), ("input", "w_i"), ("w_e", "syn_e"), ("w_i", "syn_i"), ("syn_e", "mem"),
                     ("syn_i", "mem"), ("mem", "out")])
    stim = sc.SpikeSource(spike_times=[["1 ms"], ["3 ms"]])
    net, _, t, var = simulate(g, "mem", "15 ms", {"input": stim})
    assert net.populations["mem"].receptors == ["syn_e", "syn_i"]
    expected = np.zeros_like(t)
    for t0, w, tau in ((1e-3, 0.01, tau_e), (3e-3, -0.02, tau_i)):
        s = t - (t0 + LATENCY)
        kernel = tau / (tau - tau_m) * (np.exp(-s / tau) - np.exp(-s / tau_m))
        expected += np.where(s >= -1e-12, r * w / tau * kernel, 0.0)
    np.testing.assert_allclose(var["v"][:, 0], expected, rtol=1e-10, atol=1e-14)


def test_if_integrates_without_leak_and_resets():
    r, w = 2.0, 0.2            # each spike adds r*w = 0.4; threshold 1 is crossed by the third
    g = graph(nir.Linear(np.array([[w]])), nir.IF(r=arr(r), v_threshold=arr(1.0), v_reset=arr(-0.25)))
    net, res, t, var = simulate(g, "if", "10 ms", {"input": one_spike(1e-3, 3e-3, 5e-3)})
    assert net.populations["if"].si_params["tau_mem"] == NO_LEAK_TAU
    v = var["v"][:, 0]
    k1, k2, k3 = (int(round((t0 + LATENCY) / DT)) for t0 in (1e-3, 3e-3, 5e-3))
    assert np.all(v[:k1] == 0.0)
    assert np.all(v[k1:k2] == v[k1]) and v[k1] == pytest.approx(0.4)     # exactly flat: no leak
    assert np.all(v[k2:k3] == v[k2]) and v[k2] == pytest.approx(0.8)
    assert v[k3] == pytest.approx(1.2)
    assert np.rint(res.spikes["if"][0] / DT).astype(int).tolist() == [k3]
    assert np.all(v[k3 + 1:] == -0.25)


def test_li_and_integrator_never_fire_and_are_recorded():
    g = graph(("input", nir.Input(np.array([1]))),
              ("w1", nir.Linear(np.array([[5.0]]))), ("w2", nir.Linear(np.array([[5.0]]))),
              ("li", nir.LI(tau=arr(0.01), r=arr(1.0), v_leak=arr(0.0))),
              ("integ", nir.I(r=arr(3.0))),
              ("out1", nir.Output(np.array([1]))), ("out2", nir.Output(np.array([1]))),
              edges=[("input", "w1"), ("w1", "li"), ("input", "w2"), ("w2", "integ"), ("li", "out1"),
                     ("integ", "out2")])
    net = from_nir(g, "0.1 ms", inputs={"input": one_spike(1e-3, 2e-3)})
    assert net.populations["li"].si_params["v_threshold"] == NO_THRESHOLD
    assert set(net.monitors) == {"li_v", "integ_v"}       # an Output after a non-spiking node reads v
    res = net.run("5 ms")
    assert all(t.size == 0 for t, _ in res.spikes.values())
    t = res.traces["li_v"]["times"]
    v_li = res.traces["li_v"]["variables"]["v"][:, 0]
    s1, s2 = t - (1e-3 + LATENCY), t - (2e-3 + LATENCY)
    expected = 500.0 * (np.where(s1 >= -1e-12, np.exp(-s1 / 0.01), 0) + np.where(s2 >= -1e-12, np.exp(-s2 / 0.01), 0))
    np.testing.assert_allclose(v_li, expected, rtol=1e-12, atol=1e-12)
    v_i = res.traces["integ_v"]["variables"]["v"][:, 0]
    assert v_i[-1] == 30.0 and v_i[int(round((1e-3 + LATENCY) / DT))] == 15.0


def test_delay_node_adds_its_delay():
    tau = 0.01
    g = graph(nir.Delay(arr(0.5e-3)), nir.Linear(np.array([[0.001]])),
              nir.LIF(tau=arr(tau), r=arr(1.0), v_leak=arr(0.0), v_threshold=arr(1.0)))
    net, _, t, var = simulate(g, "lif", "4 ms", {"input": one_spike(T0)})
    (e,) = net.to_ir().projections.values()
    assert _ir.delay_steps(e.delay, DT).tolist() == [6]        # 5 steps of NIR delay + the grid's one
    t_eff = T0 + 0.5e-3 + LATENCY
    expected = np.where(t >= t_eff - 1e-12, 0.1 * np.exp(-(t - t_eff) / tau), 0.0)
    np.testing.assert_allclose(var["v"][:, 0], expected, rtol=1e-12, atol=1e-15)


def test_delay_off_the_grid_is_refused_by_node_name():
    g = graph(nir.Delay(arr(0.25e-4)), nir.Linear(np.array([[1.0]])),
              nir.LIF(tau=arr(0.01), r=arr(1.0), v_leak=arr(0.0), v_threshold=arr(1.0)))
    with pytest.raises(ValidationError, match=r"nodes\.delay\.delay.*multiples of dt"):
        from_nir(g, "0.1 ms")


def test_scale_linear_affine_compose_into_synapses():
    rng = np.random.default_rng(3)
    w1, w2, s = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), arr(2.0, -1.0, 0.5)
    tau, r = arr(0.01, 0.02), arr(1.0, 3.0)
    g = graph(nir.Scale(s), nir.Linear(w1), nir.Linear(w2),
              nir.LIF(tau=tau, r=r, v_leak=arr(0, 0), v_threshold=arr(1, 1), v_reset=arr(0, 0)))
    net = from_nir(g, "0.1 ms")
    gir = net.to_ir()
    dense = {}
    for e in gir.projections.values():   # tau and r differ: two populations, lif_0 and lif_1
        post = int(e.post.rsplit("_", 1)[1])
        for i, j, w in zip(e.i, e.j, e.weight):
            dense[(int(i), post)] = w
    total = w2 @ w1 @ np.diag(s)
    for (i, j), w in dense.items():
        assert w == pytest.approx(r[j] / tau[j] * total[j, i], rel=1e-12)
    assert len(dense) == 6


def test_dense_zeros_and_scipy_sparse_weights_are_no_synapse():
    w = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    lif = dict(tau=arr(0.01, 0.01), r=arr(1, 1), v_leak=arr(0, 0), v_threshold=arr(1, 1))
    for weight in (w, sp.csr_matrix(w)):
        g = graph(nir.Input(np.array([3])), nir.Linear(w), nir.LIF(**lif))
        g.nodes["linear"].weight = weight
        (e,) = from_nir(g, "0.1 ms").to_ir().projections.values()
        assert sorted(zip(e.i.tolist(), e.j.tolist())) == [(0, 1), (1, 0)]
        assert e.weight.tolist() == [100.0, 200.0] or sorted(e.weight.tolist()) == [100.0, 200.0]


def test_heterogeneous_parameters_split_into_populations():
    g = graph(nir.Linear(np.eye(4)),
              nir.LIF(tau=arr(0.01, 0.02, 0.01, 0.02), r=arr(1, 1, 1, 1), v_leak=arr(0, 0, 0, 0),
                      v_threshold=arr(1, 1, 1, 1)))
    net = from_nir(g, "0.1 ms")
    assert {k: p.size for k, p in net.populations.items()} == {"lif_0": 2, "lif_1": 2}
    assert {k: p.si_params["tau_mem"] for k, p in net.populations.items()} == {"lif_0": 0.01, "lif_1": 0.02}
    gir = net.to_ir()
    assert sum(e.n_synapses for e in gir.projections.values()) == 4
    for e in gir.projections.values():
        assert e.i.tolist() == [0, 2] if e.post == "lif_0" else [1, 3]


def test_snntorch_recurrent_subgraph_is_flattened():
    # snnTorch RSynaptic exports a subgraph input -> lif -> output with lif -> w_rec -> lif
    n = 3
    w_rec = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)
    lif = nir.CubaLIF(tau_syn=np.full(n, 5e-3), tau_mem=np.full(n, 1e-2), r=np.ones(n), v_leak=np.zeros(n),
                      v_threshold=np.ones(n), w_in=np.ones(n))
    sub = nir.NIRGraph(nodes={"input": nir.Input(np.array([n])), "lif": lif, "w_rec": nir.Linear(w_rec),
                              "output": nir.Output(np.array([n]))},
                       edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    g = nir.NIRGraph(nodes={"input": nir.Input(np.array([n])), "fc": nir.Linear(np.eye(n)), "rsyn": sub,
                            "output": nir.Output(np.array([n]))},
                     edges=[("input", "fc"), ("fc", "rsyn"), ("rsyn", "output")])
    gir = from_nir(g, "0.1 ms").to_ir()
    assert list(gir.populations) == ["rsyn_lif"]
    assert {(e.pre, e.post, e.n_synapses) for e in gir.projections.values()} == {
        ("input", "rsyn_lif", 3), ("rsyn_lif", "rsyn_lif", 3)}


def test_bias_shifts_rest_and_splits_populations():
    g = graph(nir.Affine(np.zeros((2, 1)), arr(0.0, 0.5)),
              nir.LIF(tau=arr(0.01, 0.01), r=arr(2.0, 2.0), v_leak=arr(-1.0, -1.0), v_threshold=arr(5, 5)))
    net = from_nir(g, "0.1 ms")
    leaks = sorted(p.si_params["v_leak"] for p in net.populations.values())
    assert leaks == [-1.0, 0.0]
    for p in net.to_ir().populations.values():
        assert np.all(p.initial["v"] == -1.0)        # v(0) = the node's v_leak, not the shifted rest


# ----------------------------------------------------------------------------- refused
@pytest.mark.parametrize("node,kind", [
    (nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 2, 2)), stride=1, padding=0, dilation=1, groups=1,
                bias=np.zeros(1)), "Conv2d"),
    (nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])), "SumPool2d"),
    (nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])), "AvgPool2d"),
    (nir.Threshold(threshold=arr(1.0)), "Threshold"),
])
def test_unmappable_nodes_are_refused_by_name(node, kind):
    g = nir.NIRGraph(nodes={"input": nir.Input(np.array([1])), "odd": node, "output": nir.Output(np.array([1]))},
                     edges=[("input", "odd"), ("odd", "output")], type_check=False)
    with pytest.raises(UnsupportedFeature, match=f"node 'odd' of type {kind}"):
        from_nir(g, "0.1 ms")


def test_continuous_coupling_bias_ramps_and_weighted_readouts_are_refused():
    li = nir.LI(tau=arr(0.01), r=arr(1.0), v_leak=arr(0.0))
    lif = nir.LIF(tau=arr(0.01), r=arr(1.0), v_leak=arr(0.0), v_threshold=arr(1.0))
    with pytest.raises(UnsupportedFeature, match="'li' \\(LI\\) has no threshold"):
        from_nir(graph(li, nir.Linear(np.eye(1)), lif), "0.1 ms")
    with pytest.raises(UnsupportedFeature, match="leak-free integrator"):
        from_nir(graph(nir.Affine(np.eye(1), arr(1.0)), nir.IF(r=arr(1.0), v_threshold=arr(1.0))), "0.1 ms")
    with pytest.raises(UnsupportedFeature, match="Output 'output' reading 'linear'"):
        from_nir(graph(lif, nir.Linear(np.eye(1))), "0.1 ms")


def _net(**pop_kw):
    net = sc.Network("e", dt="0.1 ms")
    net.population("p", 2, pop_kw.pop("model", "lif_delta"),
                   {"v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", **pop_kw})
    return net


def test_export_refuses_what_nir_cannot_hold():
    coba = _net(model="lif_coba", c_m="200 pF", g_l="10 nS", tau_syn={"e": "5 ms"}, e_rev={"e": "0 mV"})
    with pytest.raises(UnsupportedFeature, match="population 'p': model lif_coba"):
        to_nir(coba)
    ref = _net(tau_mem="20 ms", t_refrac="2 ms")
    with pytest.raises(UnsupportedFeature, match="t_refrac = 0.002 s.*keep_refractory"):
        to_nir(ref)
    back = from_nir(to_nir(ref, keep_refractory=True))
    assert back.populations["p"].si_params["t_refrac"] == 0.002


# ----------------------------------------------------------------------------- round trip
def _compare_ir(a: _ir.IRGraph, b: _ir.IRGraph):
    assert (a.name, a.seed, a.dt) == (b.name, b.seed, b.dt)
    assert list(a.populations) == list(b.populations)
    for name, p in a.populations.items():
        q = b.populations[name]
        assert (p.size, p.model, p.params, p.receptors) == (q.size, q.model, q.params, q.receptors), name
        assert p.initial.keys() == q.initial.keys()
        for var in p.initial:
            np.testing.assert_array_equal(p.initial[var], q.initial[var])
    assert list(a.projections) == list(b.projections)
    for name, e in a.projections.items():
        f = b.projections[name]
        assert (e.pre, e.post, e.receptor, e.synapse) == (f.pre, f.post, f.receptor, f.synapse)
        ka = np.lexsort((_ir.delay_steps(e.delay, a.dt), e.j, e.i))
        kb = np.lexsort((_ir.delay_steps(f.delay, b.dt), f.j, f.i))
        np.testing.assert_array_equal(e.i[ka], f.i[kb])
        np.testing.assert_array_equal(e.j[ka], f.j[kb])
        np.testing.assert_array_equal(_ir.delay_steps(e.delay, a.dt)[ka], _ir.delay_steps(f.delay, b.dt)[kb])
        # w -> w/s -> s*(w/s): within one rounding
        np.testing.assert_allclose(f.weight[kb], e.weight[ka], rtol=2.3e-16, atol=0)
    for table in ("spike_sources", "poisson_sources", "currents", "spike_monitors", "state_monitors"):
        ta, tb = getattr(a, table), getattr(b, table)
        assert list(ta) == sorted(ta) and sorted(ta) == sorted(tb) or list(ta) == list(tb), table
        for k in ta:
            for fld, va in vars(ta[k]).items():
                vb = getattr(tb[k], fld)
                if isinstance(va, np.ndarray):
                    np.testing.assert_array_equal(va, vb)
                else:
                    assert va == vb, (table, k, fld)


@st.composite
def networks(draw):
    net = sc.Network(draw(st.sampled_from(["rt", "other"])), seed=draw(st.integers(0, 2**31)), dt="0.1 ms",
                     duration="20 ms")
    volts = st.floats(-80, -40, allow_nan=False)
    n_pops = draw(st.integers(1, 3))
    for k in range(n_pops):
        size = draw(st.integers(1, 6))
        kind = draw(st.sampled_from(["lif", "cuba", "if", "li"]))
        vl = draw(volts)
        vth = vl + draw(st.floats(1, 30))
        params = {"tau_mem": f"{draw(st.floats(1, 50))!r} ms", "v_leak": f"{vl!r} mV",
                  "v_threshold": f"{vth!r} mV", "v_reset": f"{vl - draw(st.floats(0, 10))!r} mV",
                  "r": f"{draw(st.floats(1, 500))!r} Mohm"}
        model = "lif_delta"
        if kind == "cuba":
            model = "lif_cuba"
            names = draw(st.lists(st.sampled_from(["exc", "inh", "syn", "ampa"]), min_size=1, max_size=3, unique=True))
            params["tau_syn"] = {r: f"{draw(st.floats(0.5, 20))!r} ms" for r in names}
        elif kind == "if":
            params.update(tau_mem=f"{NO_LEAK_TAU!r} s", v_leak="0 V", v_threshold="0.01 V", v_reset="-0.005 V")
        elif kind == "li":
            params.update(v_threshold=f"{NO_THRESHOLD!r} V", v_reset=params["v_leak"])
        init = draw(st.sampled_from([None, "uniform"]))
        initial = {"v": sc.Uniform(f"{vl - 5!r} mV", f"{vl!r} mV")} if init else {}
        net.population(f"pop{k}", size, model, params, initial)
    net.add(sc.SpikeSource(spike_times=[[f"{t!r} ms" for t in draw(st.lists(st.floats(0, 19), max_size=3))]
                                        for _ in range(draw(st.integers(1, 3)))], name="stim"))
    if draw(st.booleans()):
        net.add(sc.PoissonSource(draw(st.integers(1, 4)), f"{draw(st.floats(0, 100))!r} Hz", name="noise"))
    pres = list(net.populations) + list(net.sources)
    for k in range(draw(st.integers(0, 4))):
        pre, post = draw(st.sampled_from(pres)), draw(st.sampled_from(list(net.populations)))
        n_pre = net.sources[pre].n if pre == "stim" else (net.sources[pre].size if pre in net.sources
                                                           else net.populations[pre].size)
        n_post = net.populations[post].size
        pairs = draw(st.lists(st.tuples(st.integers(0, n_pre - 1), st.integers(0, n_post - 1)),
                              min_size=1, max_size=12, unique=True))
        i, j = np.array(pairs).T
        w = draw(st.lists(st.floats(0.01, 5) | st.floats(-5, -0.01), min_size=len(pairs), max_size=len(pairs)))
        d = draw(st.lists(st.integers(1, 6), min_size=len(pairs), max_size=len(pairs)))
        receptor = draw(st.sampled_from(net.populations[post].receptors)) \
            if net.populations[post].model == "lif_cuba" else None
        net.project(pre, post, sc.FromIndices(i, j), receptor=receptor, weight=sc.units.Quantity(np.array(w) * 1e-3, sc.units.VOLTAGE),
                    delay=sc.units.Quantity(np.array(d) * 1e-4, sc.units.TIME), name=f"proj{k}")
    if draw(st.booleans()):
        net.add(sc.SpikeMonitor("pop0", name="spk"))
    if draw(st.booleans()):
        net.add(sc.StateMonitor("pop0", ("v",), neurons=[0], interval="0.2 ms", name="vm"))
    if draw(st.booleans()):
        net.add(sc.CurrentSource("pop0", steps=[("0 ms", "10 pA"), ("5 ms", "-3 pA")], neurons=[0], name="step"))
    return net


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks())
def test_round_trip_through_a_nir_file_preserves_the_ir(net, tmp_path_factory):
    path = tmp_path_factory.mktemp("nir") / "net.nir"
    save_nir(net, path)
    g = nir.read(str(path))          # the nir package reads what we write, type checks included
    assert isinstance(g, nir.NIRGraph)
    back = from_nir(g)
    _compare_ir(net.to_ir(), back.to_ir())
    assert back.duration == net.duration


def test_round_trip_runs_spike_for_spike(tmp_path):
    net = sc.Network("rec", seed=4, dt="0.1 ms", duration="80 ms")
    net.population("exc", 30, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV",
                                           "v_reset": "-60 mV", "tau_syn": {"exc": "5 ms"}},
                   initial={"v": sc.Uniform("-60 mV", "-50 mV")})
    net.population("out", 4, "lif_delta", {"tau_mem": "10 ms", "v_leak": "0 mV", "v_threshold": "10 mV",
                                           "v_reset": "0 mV"})
    net.add(sc.PoissonSource(10, "200 Hz", name="noise"))
    net.project("noise", "exc", sc.FixedProbability(0.3), weight="1 mV")
    net.project("exc", "exc", sc.FixedProbability(0.2), weight=sc.Uniform("-1 mV", "1.5 mV"),
                delay=sc.Uniform("0.1 ms", "1.5 ms"), name="ee")
    net.project("exc", "out", sc.AllToAll(), weight="3 mV", delay="0.5 ms", name="readout")
    net.add(sc.StateMonitor("exc", ("v",), neurons=[0, 1], name="vm"))
    net.save(tmp_path / "rec.nir")
    back = load_network(tmp_path / "rec.nir")
    _compare_ir(net.to_ir(), back.to_ir())
    a, b = net.run(), back.run()
    assert a.spikes.keys() == b.spikes.keys()
    assert sum(t.size for t, _ in a.spikes.values()) > 50
    for k in a.spikes:
        np.testing.assert_array_equal(a.spikes[k][0], b.spikes[k][0])
        np.testing.assert_array_equal(a.spikes[k][1], b.spikes[k][1])
    np.testing.assert_allclose(a.traces["vm"]["variables"]["v"], b.traces["vm"]["variables"]["v"], rtol=1e-13)


def test_network_without_inputs_still_reads_back(tmp_path):
    net = _net(tau_mem="20 ms")
    net.project("p", "p", sc.AllToAll(), weight="1 mV")
    net.add(sc.CurrentSource("p", amplitude="300 pA"))
    save_nir(net, tmp_path / "x.nir")
    g = nir.read(str(tmp_path / "x.nir"))          # needs an Input for NIR's type inference
    _compare_ir(net.to_ir(), from_nir(g).to_ir())


# ----------------------------------------------------------------------------- files
def test_malformed_nir_files_give_one_clear_error(tmp_path):
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"this is not HDF5 at all")
    with pytest.raises(ModelFileError, match="not a NIR file \\(NIR files are HDF5\\)"):
        load_network(junk)
    empty = tmp_path / "empty.nir"
    with h5py.File(empty, "w") as f:
        f.create_dataset("version", data="1.0")
    with pytest.raises(ModelFileError, match="malformed NIR file: missing entry"):
        load_nir(empty)
    odd = tmp_path / "odd.nir"
    with h5py.File(odd, "w") as f:
        node = f.create_group("node")
        node.create_dataset("type", data="NIRGraph")
        nodes = node.create_group("nodes")
        bad = nodes.create_group("x")
        bad.create_dataset("type", data="Hodgkin")
        node.create_dataset("edges", data=np.zeros((0, 2), dtype="S1"))
    with pytest.raises(ModelFileError, match="malformed NIR file"):
        read_nir_graph(odd)
    with pytest.raises(ModelFileError, match="no such file"):
        load_network(tmp_path / "missing.nir")
