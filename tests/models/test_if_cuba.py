"""if_cuba (spikecore/models/if_cuba.py, grid update spikecore/engine/updates/if_cuba.h):
closed-form PSP and spike times, the grid engine's threads and precisions, and the modes
that refuse it."""
import math

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.errors import BackendUnavailable, UnsupportedFeature
from spikecore.models import get_model
from spikecore.units import ms, pA, pF

DT = 1e-4
C_M = 200e-12


def neuron(n=1, **params):
    """``n`` if_cuba neurons named n: c_m = C_M, from 0 mV to a 20 mV threshold, one 5 ms receptor."""
    defaults = dict(c_m=C_M * 1e12 * pF, v_leak="0 mV", v_threshold="20 mV", v_reset="0 mV", tau_syn={"exc": "5 ms"})
    return sc.Population(n, "if_cuba", {**defaults, **params}, name="n")


def test_psp_is_the_integral_of_the_synaptic_current():
    """v(s) = w tau_s / c_m (1 - exp(-s/tau_s)) after the current's onset: no leak, it stays."""
    tau_s, w, d = 0.005, 50e-12, 0.0015
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.SpikeSource(spike_times=[["10 ms"]], name="src"), neuron(v_threshold="1 V"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=w * 1e12 * pA, delay=d * 1e3 * ms, name="p"))
    net.add(sc.StateMonitor("n", ("v", "syn_exc"), name="vm"))
    res = net.run(100 * ms)
    tr = res.traces["vm"]
    t, v, syn = tr["times"], tr["variables"]["v"][:, 0], tr["variables"]["syn_exc"][:, 0]
    onset = 0.010 + d + DT            # delivered in the step of t_spike + d, first seen at the next sample
    assert syn[t < onset - DT / 2].max() == 0.0
    assert syn[np.isclose(t, onset)][0] == pytest.approx(w, rel=1e-12)
    s = t - onset
    analytic = np.where(s >= 0, w * tau_s / C_M * -np.expm1(-s / tau_s), 0.0)
    assert np.max(np.abs(v - analytic)) <= 1e-12 * w * tau_s / C_M
    assert v[-1] == pytest.approx(w * tau_s / C_M, rel=1e-6)      # the charge stays: no leak


@pytest.mark.parametrize("t_ref_ms,current_pa", [(0.0, 100.0), (2.0, 100.0), (0.5, 61.0)])
def test_constant_current_fires_at_the_charging_time(t_ref_ms, current_pa):
    """From v_reset, v = v_reset + I t / c_m crosses v_threshold at t* = c_m (vth - v_reset) / I."""
    net = sc.Network(dt=0.1 * ms)
    net.add(neuron(t_refrac=t_ref_ms * ms))
    net.add(sc.CurrentSource("n", amplitude=current_pa * pA, name="i"))
    t = net.run(400 * ms).spikes["n"][0]
    t_star = C_M * 0.020 / (current_pa * 1e-12)
    assert t.size >= 5
    assert abs(t[0] - t_star) <= DT + 1e-12
    assert np.all(np.abs(np.diff(t) - (t_ref_ms * 1e-3 + t_star)) <= DT + 1e-12)


def test_two_receptors_sum_and_currents_step():
    """An excitatory and an inhibitory current of equal charge cancel; a current step adds I dt/c_m per step."""
    net = sc.Network(dt=0.1 * ms)
    net.add(sc.SpikeSource(spike_times=[["1 ms"]], name="src"),
            neuron(tau_syn={"exc": "2 ms", "inh": "8 ms"}, v_threshold="1 V"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=40 * pA, delay=1 * ms, receptor="exc", name="e"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight=-10 * pA, delay=1 * ms, receptor="inh", name="i"))
    net.add(sc.CurrentSource("n", steps=[("50 ms", 20 * pA), ("60 ms", 0 * pA)], name="step"))
    net.add(sc.StateMonitor("n", ("v",), name="vm"))
    tr = net.run(100 * ms).traces["vm"]
    t, v = tr["times"], tr["variables"]["v"][:, 0]
    onset = 0.002 + DT                # spike at 1 ms + 1 ms delay, first seen at the next sample

    def charge(s):                    # sum_k w_k tau_k (1 - exp(-s/tau_k)): c_m v of the synapses alone
        return 40e-12 * 2e-3 * -math.expm1(-s / 2e-3) - 10e-12 * 8e-3 * -math.expm1(-s / 8e-3)

    assert v[np.isclose(t, 0.049)][0] == pytest.approx(charge(0.049 - onset) / C_M, rel=1e-9)
    jump = v[np.isclose(t, 0.065)][0] - v[np.isclose(t, 0.045)][0]
    tails = charge(0.065 - onset) - charge(0.045 - onset)
    assert jump == pytest.approx((20e-12 * 0.010 + tails) / C_M, rel=1e-9)


def recurrent(n=400):
    net = sc.Network("ifnet", seed=5, dt="0.1 ms")
    net.add(neuron(n, t_refrac="2 ms"))
    net.add(sc.PoissonSource(n, "800 Hz", name="drive"))
    net.add(sc.Projection("drive", "n", sc.OneToOne(), weight=60 * pA, delay=0.5 * ms, name="in"))
    net.add(sc.Projection("n", "n", sc.FixedProbability(0.05), weight=sc.Normal(-5 * pA, 2 * pA),
                          delay=sc.Uniform(1 * ms, 3 * ms), name="rec"))
    return net


def test_grid_engine_gives_the_same_spikes_on_any_thread_count_and_close_ones_in_float32():
    from spikecore.engine._core import openmp_enabled
    g = recurrent().to_ir()
    one = get_backend("native").compile(g).run(0.2)
    t1, i1 = one.spikes["n"]
    assert t1.size > 100
    if openmp_enabled():
        t2, i2 = get_backend("native").compile(g, threads=2).run(0.2).spikes["n"]
        assert np.array_equal(t1, t2) and np.array_equal(i1, i2)
    f32 = get_backend("native").compile(g, precision="float32").run(0.2).spikes["n"][0]
    assert abs(f32.size - t1.size) <= 0.05 * t1.size


@pytest.mark.parametrize("backend,options", [("native", {"timing": "precise"}),
                                             ("native", {"format": "loihi"}),
                                             ("brian2", {}), ("lava", {})])
def test_modes_without_it_refuse_it_by_name(backend, options):
    net = recurrent(10)
    try:
        be = get_backend(backend)
    except BackendUnavailable:
        pytest.skip(f"{backend} is not installed")
    with pytest.raises(UnsupportedFeature, match="if_cuba"):
        be.compile(net.to_ir(timing=options.get("timing", "grid")), **options).run(0.001)


def test_nir_export_refuses_it(tmp_path):
    with pytest.raises(UnsupportedFeature, match="if_cuba"):
        recurrent(10).save(tmp_path / "m.nir")


def test_the_model_declares_grid_only_and_current_state():
    m = get_model("if_cuba", describable=True)
    assert m.modes == frozenset({"grid"}) and m.membrane_decay({}, DT) == 1.0
    assert m.state_variables(["exc"]) == {"v": sc.units.VOLTAGE, "syn_exc": sc.units.CURRENT}
    assert m.synaptic_coefficient({"c_m": C_M}, {"tau_syn": 5e-3}, DT) == pytest.approx(
        5e-3 * (1 - math.exp(-DT / 5e-3)) / C_M, rel=1e-12)
