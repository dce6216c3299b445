"""How the core finds what is layered above it, without importing it.

Layers import downward only (docs/architecture.md): the core (``spikecore`` without its
CLI) never imports ``backends`` or ``hwmodels``, and a module never imports one that
imports it back. Where a lower layer offers a convenience that an upper layer implements
-- ``Network.run`` compiles on a backend, ``Network.save`` writes a model file,
``Result.plot`` draws -- it looks the implementation up here by name: the tables map
names to module paths, imported on first use. A new backend is one line in ``BACKENDS``
(and its module under ``backends/``).
"""
from __future__ import annotations

import importlib

from .errors import BackendUnavailable, ValidationError

#: backend name -> the module that defines it (its ``BACKEND``); the name is also the
#: module's last component and the backend's ``name`` attribute
BACKENDS = {
    "native": "backends.native",
    "brian2": "backends.brian2",
    "lava": "backends.lava",
    "nest": "backends.nest",
}

#: a convenience of a lower layer -> "module:attribute" of its implementation
IMPLEMENTATIONS = {
    "save_network": "spikecore.io:save_network",       # Network.save
    "load_network": "spikecore.io:load_network",       # Network.load
    "network_to_dict": "spikecore.io:network_to_dict",  # Network.__eq__
    "plot_result": "spikecore.plotting:plot_result",   # Result.plot
    "result_to_neo": "spikecore.io.neo:result_to_neo",  # Result.to_neo
}


def get_backend(name: str):
    """The backend registered as ``name``; raises a clear error if unknown or not installed."""
    if name not in BACKENDS:
        raise ValidationError("backend", name, "one of " + ", ".join(BACKENDS))
    path = BACKENDS[name]
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as e:
        if e.name and (e.name == path or not e.name.startswith(("backends", "spikecore"))):
            raise BackendUnavailable(f"backend '{name}' is not available: {e}") from None
        raise
    return module.BACKEND


def available_backends() -> list:
    """Names of the backends whose dependencies import on this machine."""
    out = []
    for name in BACKENDS:
        try:
            get_backend(name)
        except BackendUnavailable:
            continue
        out.append(name)
    return out


def implementation(name: str):
    """The function registered as ``name`` in IMPLEMENTATIONS, imported on first use."""
    module, attr = IMPLEMENTATIONS[name].split(":")
    return getattr(importlib.import_module(module), attr)
