"""The native engine against closed-form single-neuron solutions and the step semantics of spikecore.ir."""
import math

import numpy as np
import pytest

import spikecore as sc
from spikecore.units import mV, ms, nA, pA

DT = 1e-4


def run(net, duration):
    return net.run(duration * 1e3 * ms, backend="native")


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
@pytest.mark.parametrize("t_ref_ms,current_na", [(0.0, 0.3), (2.0, 0.3), (5.0, 1.0), (0.05, 0.25)])
def test_constant_current_interspike_interval(model, t_ref_ms, current_na):
    tau, vl, vth, vr, r = 0.02, -0.07, -0.05, -0.065, 1e8
    params = dict(tau_mem=tau * 1e3 * ms, v_leak=vl * 1e3 * mV, v_threshold=vth * 1e3 * mV,
                  v_reset=vr * 1e3 * mV, t_refrac=t_ref_ms * ms, r="100 Mohm")
    if model == "lif_cuba":
        params["tau_syn"] = {"exc": 5 * ms}
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.Population(1, model, params, {"v": vr * 1e3 * mV}, name="n"))
    net.add(sc.CurrentSource("n", amplitude=current_na * nA, name="i"))
    res = run(net, 0.5)
    t = res.spikes["n"][0]
    v_inf = vl + r * current_na * 1e-9
    expected = t_ref_ms * 1e-3 + tau * math.log((v_inf - vr) / (v_inf - vth))
    isi = np.diff(t)
    assert isi.size >= 5
    assert np.all(np.abs(isi - expected) <= DT + 1e-12)
    # the first spike from v_reset has no refractory period before it
    assert abs(t[0] - (expected - t_ref_ms * 1e-3)) <= DT + 1e-12


def test_psp_of_exponential_current_synapse_matches_closed_form():
    tau_m, tau_s, w, d = 0.02, 0.005, 0.002, 0.0015
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.SpikeSource(spike_times=[["10 ms"]], name="src"))
    net.add(sc.Population(1, "lif_cuba", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="100 mV",
                                              v_reset="0 mV", tau_syn={"exc": "5 ms"}), name="n"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=w * 1e3 * mV, delay=d * 1e3 * ms, name="p"))
    net.add(sc.StateMonitor("n", ("v", "syn_exc"), name="vm"))
    res = run(net, 0.1)
    tr = res.traces["vm"]
    t, v, syn = tr["times"], tr["variables"]["v"][:, 0], tr["variables"]["syn_exc"][:, 0]
    # delivery happens in the step of t_spike + d; it is first seen at the next sample
    onset = 0.010 + d + DT
    assert syn[t < onset - DT / 2].max() == 0.0
    assert syn[np.isclose(t, onset)][0] == pytest.approx(w, rel=1e-12)
    s = t - onset
    analytic = np.where(s >= 0, w * tau_s / (tau_s - tau_m) * (np.exp(-s / tau_s) - np.exp(-s / tau_m)), 0.0)
    # exact integration: the sampled trajectory is the analytic one to rounding error
    assert np.max(np.abs(v - analytic)) < 1e-15
    t_peak = tau_m * tau_s * math.log(tau_s / tau_m) / (tau_s - tau_m)
    v_peak = w * tau_s / (tau_s - tau_m) * (math.exp(-t_peak / tau_s) - math.exp(-t_peak / tau_m))
    assert abs(t[np.argmax(v)] - onset - t_peak) <= DT
    assert v.max() == pytest.approx(v_peak, rel=1e-3)


@pytest.mark.parametrize("delay_ms", [0.1, 0.5, 1.5, 7.3, 25.0])
def test_delay_delivers_exactly_d_later(delay_ms):
    """A suprathreshold delta input makes the target spike one step after delivery."""
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.SpikeSource(spike_times=[["2 ms", "40 ms"]], name="src"))
    net.add(sc.Population(1, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="10 mV",
                                               v_reset="0 mV"), name="n"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=15 * mV, delay=delay_ms * ms, name="p"))
    res = run(net, 0.1)
    out = res.spikes["n"][0]
    np.testing.assert_allclose(out, np.array([0.002, 0.040]) + delay_ms * 1e-3 + DT, atol=1e-12)


def test_delta_input_during_refractory_is_discarded_and_reset_wins():
    net = sc.Network(dt=0.1 * ms)
    # spike at 1 ms (v jumps to 15 mV > 10), then inputs at 1.5 ms (refractory, discarded) and 5 ms
    net.add(sc.SpikeSource(spike_times=[["1 ms", "1.5 ms", "5 ms"]], name="src"))
    net.add(sc.Population(1, "lif_delta", dict(tau_mem="1000 ms", v_leak="0 mV", v_threshold="10 mV",
                                               v_reset="0 mV", t_refrac="2 ms"), name="n"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=15 * mV, delay=0.1 * ms, name="p"))
    res = run(net, 0.01)
    np.testing.assert_allclose(res.spikes["n"][0], [0.0012, 0.0052], atol=1e-12)


def test_refractory_clamps_v_but_not_synapses():
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.SpikeSource(spike_times=[["1 ms"]], name="src"))
    net.add(sc.Population(1, "lif_cuba", dict(tau_mem="10 ms", v_leak="20 mV", v_threshold="10 mV",
                                              v_reset="0 mV", t_refrac="3 ms", tau_syn={"e": "5 ms"}),
                          {"v": 0 * mV}, name="n"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=1 * mV, delay=0.1 * ms, name="p"))
    net.add(sc.StateMonitor("n", ("v", "syn_e"), name="m"))
    res = run(net, 0.02)
    t, v = res.traces["m"]["times"], res.traces["m"]["variables"]["v"][:, 0]
    spikes = res.spikes["n"][0]
    assert spikes.size >= 2
    s0 = spikes[0]
    ref_steps = 30
    # after the spike at step k, v stays at reset for the samples of steps k+1 .. k+ref_steps
    k = int(round(s0 / DT))
    assert np.all(v[k + 1:k + ref_steps + 1] == 0.0)
    assert v[k + ref_steps + 1] > 0.0
    syn = res.traces["m"]["variables"]["syn_e"][:, 0]
    assert syn[12] == pytest.approx(1e-3) and 0 < syn[20] < syn[12]


def test_piecewise_current_steps_and_neuron_subset():
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.Population(2, "lif_delta", dict(tau_mem="10 ms", v_leak="0 mV", v_threshold="1000 mV",
                                               v_reset="0 mV", r="100 Mohm"), name="n"))
    net.add(sc.CurrentSource("n", steps=[("5 ms", 100 * pA), ("10 ms", 0 * pA)], neurons=[1], name="c"))
    net.add(sc.StateMonitor("n", ("v",), name="m"))
    res = run(net, 0.02)
    t, v = res.traces["m"]["times"], res.traces["m"]["variables"]["v"]
    assert np.all(v[:, 0] == 0.0)
    assert np.all(v[t <= 0.005 + 1e-12, 1] == 0.0)
    s = t[(t > 0.005) & (t <= 0.010 + 1e-12)] - 0.005
    np.testing.assert_allclose(v[(t > 0.005) & (t <= 0.010 + 1e-12), 1], 0.01 * (1 - np.exp(-s / 0.01)), rtol=1e-12)
    v10 = 0.01 * (1 - math.exp(-0.5))
    s2 = t[t > 0.010 + 1e-12] - 0.010
    np.testing.assert_allclose(v[t > 0.010 + 1e-12, 1], v10 * np.exp(-s2 / 0.01), rtol=1e-9)


def test_coba_relaxes_to_reversal_weighted_equilibrium():
    """With a constant conductance (tau_syn huge) v converges to (gl El + g E)/(gl + g)."""
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.Population(1, "lif_coba", dict(c_m="200 pF", g_l="10 nS", v_leak="-60 mV", v_threshold="0 mV",
                                              v_reset="-60 mV", tau_syn={"e": "1e9 ms"}, e_rev={"e": "-20 mV"}),
                          {"g_e": "10 nS"}, name="n"))
    net.add(sc.StateMonitor("n", ("v",), interval="10 ms", name="m"))
    res = run(net, 0.3)
    assert res.traces["m"]["variables"]["v"][-1, 0] == pytest.approx(-0.040, abs=1e-6)


def small_brunel(seed=1, n_e=400, n_i=100):
    """Brunel (2000) at 1/20 scale, in-degree kept by raising p; Poisson drive per neuron."""
    net = sc.Network("brunel_small", seed=seed, dt=0.1 * ms)
    params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
    net.add(sc.Population(n_e, "lif_delta", params, {"v": sc.Uniform(0 * mV, 20 * mV)}, name="exc"))
    net.add(sc.Population(n_i, "lif_delta", params, {"v": sc.Uniform(0 * mV, 20 * mV)}, name="inh"))
    net.add(sc.PoissonSource(n_e + n_i, "20 kHz", name="ext"))
    net.add(sc.Projection("ext", "exc", sc.FromIndices(np.arange(n_e), np.arange(n_e)), weight=0.1 * mV, name="xe"))
    net.add(sc.Projection("ext", "inh", sc.FromIndices(np.arange(n_e, n_e + n_i), np.arange(n_i)),
                          weight=0.1 * mV, name="xi"))
    for pre, w in (("exc", 0.1 * mV), ("inh", -0.5 * mV)):
        for post in ("exc", "inh"):
            net.add(sc.Projection(pre, post, sc.FixedProbability(0.1), weight=w, delay=1.5 * ms,
                                  name=f"{pre}_{post}"))
    return net


def test_deterministic_and_continuation_equals_one_run():
    from backends import get_backend

    g = small_brunel().to_ir()
    a = get_backend("native").compile(g).run(0.1)
    b = get_backend("native").compile(small_brunel().to_ir()).run(0.1)
    exe = get_backend("native").compile(g)
    c1 = exe.run(0.037)
    c2 = exe.run(0.063)
    for pop in ("exc", "inh"):
        assert np.array_equal(a.spikes[pop][0], b.spikes[pop][0])
        assert np.array_equal(a.spikes[pop][1], b.spikes[pop][1])
        joined_t = np.concatenate([c1.spikes[pop][0], c2.spikes[pop][0]])
        joined_i = np.concatenate([c1.spikes[pop][1], c2.spikes[pop][1]])
        assert np.array_equal(a.spikes[pop][0], joined_t) and np.array_equal(a.spikes[pop][1], joined_i)
    assert a.spikes["exc"][0].size > 100
    other = get_backend("native").compile(small_brunel(seed=2).to_ir()).run(0.1)
    assert not np.array_equal(a.spikes["exc"][1][:50], other.spikes["exc"][1][:50])
