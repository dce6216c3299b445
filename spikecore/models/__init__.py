"""Neuron models: one module per model, one registration line per model.

Parameter names follow NIR where NIR has the concept (``tau_mem``, ``tau_syn``,
``v_leak``, ``v_threshold``, ``v_reset``, ``r``); all values are SI floats once validated
(spikecore.units). The contract every model fulfils, and what engines, backends, IO and
hwmodels ask it, is in spikecore/models/base.py; the look-ups in spikecore/models/registry.py.
The models:

* ``lif_delta`` (lif_delta.py): LIF with delta (voltage-jump) synapses, Brunel (2000)
* ``lif_cuba`` (lif_cuba.py): LIF with exponential current synapses (Brian2 CUBA, NIR CubaLIF)
* ``lif_coba`` (lif_coba.py): LIF with exponential conductances (Brette et al. 2007 COBA)
* ``loihi_lif`` (loihi_lif.py): Loihi's integer LIF, the model of quantized populations
* ``if_cuba`` (if_cuba.py): non-leaky integrate-and-fire with exponential current synapses
* ``adex``, ``adex_cond`` (adex.py): adaptive exponential integrate-and-fire (Brette & Gerstner 2005)
* ``izhikevich`` (izhikevich.py): Izhikevich (2003) with presets and three integrators
* ``equations`` (equations.py): a model written as equations in Brian2's syntax, per population
* ``alif``, ``alif_current`` (alif.py): LIF with an adaptive threshold (Bellec et al. 2018) or a
  spike-triggered adaptation current

The LIFs integrate exactly or by exponential Euler, never forward Euler; izhikevich by
RK4 unless a user names one of the Euler schemes NEST and Izhikevich's code use. Adding a model:
docs/architecture.md.
"""
from __future__ import annotations

from . import adex, alif, equations, if_cuba, izhikevich, lif_coba, lif_cuba, lif_delta, loihi_lif
from .base import (COMMON_LIF_PARAMS, DEFAULT_R, MODES, REQUIRED, Brian2Equations, LoihiStructure, ModelSpec,
                   NeuronModel, ParamSpec)
from .registry import (MODELS, describable_models, get_model, model_for, model_for_nir, models_for,
                       register)

register(lif_delta.MODEL)
register(lif_cuba.MODEL)
register(lif_coba.MODEL)
register(loihi_lif.MODEL)
register(if_cuba.MODEL)
register(izhikevich.MODEL)
register(adex.MODEL)
register(adex.COND_MODEL)
register(alif.MODEL)
register(alif.CURRENT_MODEL)
register(equations.MODEL)

__all__ = ["MODELS", "MODES", "REQUIRED", "COMMON_LIF_PARAMS", "DEFAULT_R", "Brian2Equations", "LoihiStructure",
           "ModelSpec", "NeuronModel", "ParamSpec", "describable_models", "get_model", "model_for", "model_for_nir",
           "models_for", "register"]
