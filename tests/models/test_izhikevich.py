"""izhikevich (spikecore/models/izhikevich.py, grid update spikecore/engine/updates/izhikevich.h):
spike times equal to NEST's izhikevich with the matching integration flag, convergence of
the default integrator to a tightly converged event-located DOP853 solution, presets,
per-neuron parameters, delta synapses and the modes that refuse it (bad input: test_bad_params.py)."""
import numpy as np
import pytest

import spikecore as sc
from spikecore.errors import UnsupportedFeature
from spikecore.models import get_model
from spikecore.models.izhikevich import PRESETS

from ode_reference import spike_times


def spikes_ms(current_pa, dt_ms, integrator="rk4", preset="RS", duration_ms=1000, precision="float64", **extra):
    net = sc.Network(dt=f"{dt_ms} ms", seed=1)
    net.population("p", 1, "izhikevich", {"preset": preset, "integrator": integrator,
                                          "bias": f"{current_pa} pA", **extra})
    return net.run(f"{duration_ms} ms", backend="native", precision=precision).spikes["p"][0] * 1e3


def reference_ms(current, preset="RS", n=20, t_max=1000.0):
    """The first n spike times (ms) of the exact model: scipy DOP853 (rtol = atol = 1e-10),
    stopped at v = v_peak by event location, restarted from the reset."""
    a, b, c, d, k2, k1, k0, v0 = PRESETS[preset]

    def rhs(_, y):
        return [k2 * y[0] ** 2 + k1 * y[0] + k0 - y[1] + current, a * (b * y[0] - y[1])]

    def peak(_, y):
        return y[0] - 30.0
    return spike_times(rhs, peak, [v0, b * v0], t_max, n, lambda t, y: (t, [c, float(y[1]) + d]))


def nest_spikes_ms(current_pa, consistent, preset="RS", dt_ms=0.01, duration_ms=500):
    nest = pytest.importorskip("nest")
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.resolution = dt_ms
    a, b, c, d, *_, v0 = PRESETS[preset]
    n = nest.Create("izhikevich", params={"a": a, "b": b, "c": c, "d": d, "I_e": float(current_pa), "V_m": v0,
                                          "U_m": b * v0, "consistent_integration": consistent})
    rec = nest.Create("spike_recorder")
    nest.Connect(n, rec)
    nest.Simulate(float(duration_ms))
    return np.array(rec.events["times"])


@pytest.mark.parametrize("preset", ["RS", "FS", "CH"])
@pytest.mark.parametrize("integrator,consistent", [("euler", True), ("izhikevich2003", False)])
@pytest.mark.parametrize("current", [5, 10, 20])
def test_the_euler_schemes_give_nests_spike_times(integrator, consistent, current, preset):
    """NEST stamps a spike of the update over [n dt, (n+1) dt] with (n+1) dt, spikecore with n dt."""
    ours = spikes_ms(current, 0.01, integrator, preset, duration_ms=500)
    nest = nest_spikes_ms(current, consistent, preset)
    assert ours.size == nest.size > 3
    # v is held in volts, NEST's in mV: conversions round, so after many spikes a crossing may
    # move by one step; the first 20 spikes are equal
    np.testing.assert_allclose(ours[:20] + 0.01, nest[:20], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours + 0.01, nest, rtol=0, atol=0.05)


@pytest.mark.parametrize("current", [5, 10, 20, 40])
def test_rk4_spike_times_converge_to_the_exact_solution(current):
    ref = reference_ms(current)
    assert ref.size >= 10
    errors = {}
    for dt in (0.04, 0.02, 0.01):
        ours = spikes_ms(current, dt)[:ref.size]
        assert ours.size == ref.size
        errors[dt] = np.max(np.abs(ours - ref))
        # in-step event location: every spike is reported at the step it falls in, no drift
        assert errors[dt] <= 1.0001 * dt
    assert errors[0.01] < 0.25 and errors[0.01] < errors[0.04] / 2.5
    # the Euler schemes drift (the reason rk4 is the default)
    assert np.max(np.abs(spikes_ms(current, 0.01, "euler")[:ref.size] - ref)) > 10 * errors[0.01]


def test_float32_stays_close_and_the_class1_quadratic_is_used():
    ref = reference_ms(10)
    assert np.max(np.abs(spikes_ms(10, 0.01, precision="float32")[:ref.size] - ref)) < 0.1
    ref1 = reference_ms(30, preset="class1", t_max=2000)
    ours = spikes_ms(30, 0.01, preset="class1", duration_ms=2000)[:ref1.size]
    assert ref1.size >= 5 and np.max(np.abs(ours - ref1)) <= 0.0101


def test_per_neuron_parameters_and_distributions_match_single_neurons():
    net = sc.Network(dt="0.01 ms", seed=3)
    net.population("p", 3, "izhikevich", {"preset": "RS", "bias": ["5 pA", "10 pA", "20 pA"],
                                          "a": [0.02, 0.1, 0.02], "d": np.array([8.0, 2.0, 4.0])})
    res = net.run("300 ms")
    t, i = res.spikes["p"]
    for k, (cur, a, d) in enumerate([(5, 0.02, 8.0), (10, 0.1, 2.0), (20, 0.02, 4.0)]):
        alone = spikes_ms(cur, 0.01, duration_ms=300, a=a, d=d)
        np.testing.assert_array_equal(t[i == k] * 1e3, alone)
    net2 = sc.Network(dt="0.01 ms", seed=3)
    net2.population("p", 50, "izhikevich", {"preset": "RS", "bias": sc.Uniform("4 pA", "20 pA")})
    b = net2.to_ir().populations["p"].params["bias"]
    assert b.shape == (50,) and 4e-12 <= b.min() < b.max() < 20e-12
    np.testing.assert_array_equal(b, net2.to_ir().populations["p"].params["bias"])   # seeded
    assert len(net2.run("100 ms").spikes["p"][0]) > 0


def test_a_voltage_weight_is_a_jump_in_v():
    net = sc.Network(dt="0.01 ms")
    net.population("p", 1, "izhikevich", {"preset": "RS", "integrator": "euler"})
    net.add(sc.SpikeSource(spike_times=[["10 ms"]], name="s"))
    net.add(sc.Projection("s", "p", sc.OneToOne(), weight="5 mV", delay="1 ms", name="e"))
    net.add(sc.StateMonitor("p", ("v", ), name="m"))
    tr = net.run("20 ms").traces["m"]
    t, v = tr["times"], tr["variables"]["v"][:, 0]
    k = int(np.argmax(np.abs(np.diff(v)) > 2e-3))
    assert np.diff(v)[k] == pytest.approx(5e-3, abs=2e-4) and t[k] == pytest.approx(0.011, abs=2e-5)


def test_modes_without_it_refuse_it_by_name(assert_refused_in_mode):
    net = sc.Network(dt="0.1 ms")
    net.population("p", 2, "izhikevich", {"preset": "RS", "bias": "10 pA"})
    assert_refused_in_mode(net, "izhikevich")


def test_nir_export_refuses_it(tmp_path):
    net = sc.Network(dt="0.1 ms")
    net.population("p", 2, "izhikevich", {"preset": "RS"})
    with pytest.raises(UnsupportedFeature, match="izhikevich"):
        net.save(tmp_path / "m.nir")


def test_the_model_declares_its_modes_state_and_presets():
    m = get_model("izhikevich", describable=True)
    assert m.modes == frozenset({"grid", "brian2", "nest"}) and m.extra_state == ["u", "rem", "vmv"]
    assert set(PRESETS) == {"RS", "IB", "CH", "FS", "LTS", "TC", "RZ", "class1", "class2"}
    p = sc.Population(1, "izhikevich", {"preset": "class1"}, name="p")
    assert (p.si_params["k1"], p.si_params["k0"], p.si_params["v_reset"]) == (4.1, 108.0, -0.055)
