"""Neuron models: the registry. One module per model, one registration line per model.

Parameter names follow NIR where NIR has the concept (``tau_mem``, ``tau_syn``,
``v_leak``, ``v_threshold``, ``v_reset``, ``r``); all values are SI floats once validated
(spikecore.units). The contract every model fulfils, and what engines, backends, IO and
hwmodels ask it, is in spikecore/models/base.py; the models:

* ``lif_delta`` (lif_delta.py): LIF with delta (voltage-jump) synapses, Brunel (2000)
* ``lif_cuba`` (lif_cuba.py): LIF with exponential current synapses (Brian2 CUBA, NIR CubaLIF)
* ``lif_coba`` (lif_coba.py): LIF with exponential conductances (Brette et al. 2007 COBA)
* ``loihi_lif`` (loihi_lif.py): Loihi's integer LIF, the model of quantized populations

All integrate exactly or by exponential Euler, never forward Euler. Adding a model:
docs/architecture.md.
"""
from __future__ import annotations

from . import lif_coba, lif_cuba, lif_delta, loihi_lif
from .base import (COMMON_LIF_PARAMS, DEFAULT_R, MODES, REQUIRED, Brian2Equations, LoihiStructure, ModelSpec,
                   NeuronModel, ParamSpec)

MODELS: dict = {}


def register(model: NeuronModel) -> NeuronModel:
    if model.name in MODELS:
        raise ValueError(f"model {model.name!r} is registered twice")
    MODELS[model.name] = model
    return model


register(lif_delta.MODEL)
register(lif_cuba.MODEL)
register(lif_coba.MODEL)
register(loihi_lif.MODEL)


def describable_models() -> list:
    """Names of the models a model file or ``spikecore.Network`` may use."""
    return sorted(name for name, m in MODELS.items() if m.describable)


def get_model(name: str, describable: bool = False) -> NeuronModel:
    """The registered model ``name``; with ``describable``, only one a model file may use."""
    from ..errors import ValidationError

    allowed = describable_models() if describable else sorted(MODELS)
    if not isinstance(name, str) or name not in allowed:
        raise ValidationError("model", name, "one of " + ", ".join(allowed))
    return MODELS[name]


def models_for(mode: str) -> list:
    """Names of the registered models that run in ``mode`` (spikecore.models.MODES)."""
    return sorted(name for name, m in MODELS.items() if mode in m.modes)


def model_for(name: str, mode: str, where: str = "", engine: str | None = None) -> NeuronModel:
    """The registered model ``name`` when it runs in ``mode``; else UnsupportedFeature naming
    the model, ``where`` (e.g. "population exc") and the models that run there."""
    model = MODELS.get(name) if isinstance(name, str) else None
    if model is not None:
        return model.require(mode, where, engine)
    from ..errors import UnsupportedFeature
    from .base import MODE_ENGINES
    raise UnsupportedFeature(engine or MODE_ENGINES[mode], f"model '{name}'" + (f" ({where})" if where else ""),
                             "one of " + ", ".join(models_for(mode)))


def model_for_nir(synapse: str) -> NeuronModel:
    """The model a NIR neuron node imports as: ``synapse`` "delta" (LIF, IF, LI, I) or
    "current" (CubaLIF, CubaLI, or a LIF fed by synaptic filters)."""
    for m in MODELS.values():
        if m.nir_kind == synapse and m.describable:
            return m
    raise KeyError(f"no model imports NIR neurons with {synapse} synapses")


__all__ = ["MODELS", "MODES", "REQUIRED", "COMMON_LIF_PARAMS", "DEFAULT_R", "Brian2Equations", "LoihiStructure",
           "ModelSpec", "NeuronModel", "ParamSpec", "describable_models", "get_model", "model_for", "model_for_nir", "models_for",
           "register"]
