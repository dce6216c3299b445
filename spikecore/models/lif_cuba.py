"""``lif_cuba``: LIF with exponential current synapses, one time constant per receptor
(Brian2 ``examples/CUBA.py``; NIR ``CubaLIF``)::

    tau_mem dv/dt = (v_leak - v) + sum_k syn_k + r * I_ext
    tau_syn_k dsyn_k/dt = -syn_k
    on spike:  syn_k += w        (w in volts: the synaptic drive r*I_k; a weight in
                                  amperes is converted once with the population's r)

Integrated exactly (the propagator of NEST's iaf_psc_exp, Brian2's ``method='exact'``):
over one step syn_k decays by exp(-dt/tau_syn_k) and adds ``synaptic_coefficient`` *
syn_k to v. The same solution as a function of time, ``synaptic_kernel``, is what the
precise engine searches for spike times. This module is the one implementation of both;
the engines, the hwmodels passes and the Loihi mapping call it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..errors import UnsupportedFeature
from .base import (LEAKY_LIF_PARAMS, LeakyLif, LoihiStructure, ParamSpec, brian2_current_lif,
                   degenerate)


def synaptic_coefficient(dt: float, tau_mem: float, tau_syn: float) -> float:
    """Exact contribution of syn(t) to v(t+dt) for tau_mem dv/dt = -v + syn, syn' = -syn/tau_syn."""
    am, ak = math.exp(-dt / tau_mem), math.exp(-dt / tau_syn)
    if degenerate(tau_mem, tau_syn):
        return dt / tau_mem * am
    return tau_syn / (tau_syn - tau_mem) * (ak - am)


def synaptic_kernel(t, tau_mem: float, tau_syn: float):
    """v(t) for v(0) = 0, syn(0) = 1 (volts per volt): tau_s/(tau_s - tau_m)(e^{-t/tau_s} - e^{-t/tau_m})."""
    t = np.asarray(t, dtype=float)
    delta = tau_syn - tau_mem
    em = np.exp(-t / tau_mem)
    if delta == 0.0:
        return t / tau_mem * em
    return em * tau_syn / delta * np.expm1(t * delta / (tau_syn * tau_mem))


def kernel_peak(h: float, tau_mem: float, tau_syn: float) -> float:
    """max over [0, h] of synaptic_kernel (it rises to one peak, then decays)."""
    if tau_syn == tau_mem:
        t_peak = tau_mem
    else:
        t_peak = tau_mem * tau_syn / (tau_syn - tau_mem) * math.log(tau_syn / tau_mem)
    return float(synaptic_kernel(min(h, t_peak), tau_mem, tau_syn))


@dataclass(frozen=True)
class LifCuba(LeakyLif):
    def receptor_decay(self, receptor_params, dt):
        return math.exp(-dt / receptor_params["tau_syn"])

    def synaptic_coefficient(self, params, receptor_params, dt):
        return synaptic_coefficient(dt, params["tau_mem"], receptor_params["tau_syn"])

    def synaptic_kernel(self, t, params, receptor_params):
        return synaptic_kernel(t, params["tau_mem"], receptor_params["tau_syn"])

    def kernel_peak(self, h, params, receptor_params):
        return kernel_peak(h, params["tau_mem"], receptor_params["tau_syn"])

    def per_neuron_coefficients(self, params, receptors, dt):
        # nparam rows 7 and 8 + r: the decay and each receptor's coefficient per neuron (updates/lif_cuba.h)
        taus = np.asarray(params["tau_mem"], dtype=float)
        rows = [np.exp(-dt / taus)]
        for rp in receptors.values():
            rows.append(np.array([synaptic_coefficient(dt, float(t), rp["tau_syn"]) for t in np.ravel(taus)]))
        return rows

    def brian2_equations(self, params, receptors, dt, refractory_steps):
        # tau_syn == tau_mem: solved with the degenerate (t*exp) solution, v clamped by a
        # conditional write instead of '(unless refractory)' (brian2_current_lif)
        tau_mem = params["tau_mem"]
        if np.ndim(tau_mem):
            # per neuron: Brian2's symbolic solution divides by tau_syn - tau_mem
            if any(np.isclose(tau_mem, rp["tau_syn"], rtol=1e-12, atol=0).any() for rp in receptors.values()):
                raise UnsupportedFeature("brian2", "per-neuron tau_mem equal to a tau_syn",
                                         "Brian2's exact solution of per-neuron time constants divides by their "
                                         "difference; make them differ or give tau_mem one value")
            same = False
        else:
            same = any(degenerate(tau_mem, rp["tau_syn"]) for rp in receptors.values())
        return brian2_current_lif(self, params, receptors, refractory_steps, same)

    def loihi_structure(self, params, receptors):
        return LoihiStructure(tau_mem=params["tau_mem"], current_gain=params["r"],
                              receptor_gain={r: 1.0 for r in receptors})


MODEL = LifCuba(
    name="lif_cuba",
    synapse="current",
    params=LEAKY_LIF_PARAMS,
    receptor_params={"tau_syn": ParamSpec(u.TIME, positive=True, doc="synaptic time constant")},
    weight_dims=(u.VOLTAGE, u.CURRENT),
    state={"v": u.VOLTAGE},
    receptor_state_prefix="syn_",
    per_neuron_params=frozenset(LEAKY_LIF_PARAMS),   # every parameter (module docstring of base)
    doc="LIF with exponential current synapses (Brian2 CUBA)",
    modes=frozenset({"grid", "precise", "loihi", "brian2", "lava", "nir", "nest"}),
    nir_kind="current",
)
