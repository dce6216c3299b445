"""Backends: compilers from the IR (spikecore.ir) to something that runs.

Each backend is one module here whose name is its registry key and its
``name`` attribute (STYLE.md rule 3); each exposes ``BACKEND``, an instance of
``backends.base.Backend``. Modules are imported only when asked for, so a
missing optional dependency affects only its own backend, and it says so.
Backends never import each other.
"""
from __future__ import annotations

import importlib

from spikecore.errors import BackendUnavailable, ValidationError

BACKENDS = ("native", "brian2", "lava", "nest")


def get_backend(name: str):
    """The backend registered as ``name``; raises a clear error if unknown or not installed."""
    if name not in BACKENDS:
        raise ValidationError("backend", name, "one of " + ", ".join(BACKENDS))
    try:
        module = importlib.import_module(f"backends.{name}")
    except ModuleNotFoundError as e:
        if e.name and (e.name == f"backends.{name}" or not e.name.startswith(("backends", "spikecore"))):
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
