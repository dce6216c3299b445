"""NEST 3.10 neurons as f-I drives (spikecore.analysis.fi.measure_fi): one NEST neuron per
current, the current as its I_e, spikes recorded over the duration. NEST stamps a spike at
the end of its step, spikecore at the start: rates (intervals) are unaffected."""
from __future__ import annotations

import numpy as np


def _run(nest, model: str, params: dict, currents, duration: float, dt: float, initial=None):
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt * 1e3, "print_time": False})
    n = nest.Create(model, len(currents), params=params)
    n.set([{"I_e": float(i) * 1e12, **(initial or {})} for i in currents])
    rec = nest.Create("spike_recorder")
    nest.Connect(n, rec)
    nest.Simulate(duration * 1e3)
    ev = rec.get("events")
    first = n.tolist()[0]
    return np.asarray(ev["times"], float) * 1e-3, np.asarray(ev["senders"], np.int64) - first


def aeif_cond_exp(params_si: dict, duration: float, dt: float):
    """A drive of NEST's aeif_cond_exp with an adex_cond population's SI parameters."""
    import nest
    p = {"C_m": params_si["c_m"] * 1e12, "g_L": params_si["g_l"] * 1e9, "E_L": params_si["v_leak"] * 1e3,
         "Delta_T": params_si["delta_t"] * 1e3, "V_th": params_si["v_t"] * 1e3, "tau_w": params_si["tau_w"] * 1e3,
         "a": params_si["a"] * 1e9, "b": params_si["b"] * 1e12, "V_reset": params_si["v_reset"] * 1e3,
         "V_peak": params_si["v_threshold"] * 1e3, "t_ref": params_si["t_refrac"] * 1e3,
         "V_m": params_si["v_leak"] * 1e3, "w": 0.0}
    return lambda currents: _run(nest, "aeif_cond_exp", p, currents, duration, dt)


def izhikevich(a, b, c, d, v0, duration: float, dt: float, consistent_integration: bool = True):
    """A drive of NEST's izhikevich (I_e in pA = Izhikevich's I in mV/ms), starting at v0 (mV), U_m = b v0."""
    import nest
    p = {"a": a, "b": b, "c": c, "d": d, "V_th": 30.0, "V_m": v0, "U_m": b * v0,
         "consistent_integration": consistent_integration}
    return lambda currents: _run(nest, "izhikevich", p, currents, duration, dt)
