"""The model registry: name -> NeuronModel, filled by one ``register`` line per model in
spikecore/models/__init__.py, and the look-ups the rest of spikecore makes in it."""
from __future__ import annotations

from .base import MODE_ENGINES, NeuronModel

MODELS: dict = {}


def add_once(table: dict, entry, kind: str):
    """Put ``entry`` into ``table`` under its ``name``; ValueError if that name is taken
    (a programming error: two ``register`` lines for one name)."""
    if entry.name in table:
        raise ValueError(f"{kind} {entry.name!r} is registered twice")
    table[entry.name] = entry
    return entry


def register(model: NeuronModel) -> NeuronModel:
    return add_once(MODELS, model, "model")


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
    the model, ``where`` (e.g. "population exc"), the models that run there and, for a
    registered model, the modes it runs in."""
    model = MODELS.get(name) if isinstance(name, str) else None
    if model is not None:
        return model.require(mode, where, engine, others=models_for(mode))
    from ..errors import UnsupportedFeature
    raise UnsupportedFeature(engine or MODE_ENGINES[mode], f"model '{name}'" + (f" ({where})" if where else ""),
                             "one of " + ", ".join(models_for(mode)))


def model_for_nir(synapse: str) -> NeuronModel:
    """The model a NIR neuron node imports as: ``synapse`` "delta" (LIF, IF, LI, I) or
    "current" (CubaLIF, CubaLI, or a LIF fed by synaptic filters)."""
    for m in MODELS.values():
        if m.nir_kind == synapse and m.describable:
            return m
    raise KeyError(f"no model imports NIR neurons with {synapse} synapses")
