"""Backends: compilers from the IR (spikecore.ir) to something that runs.

Each backend is one module here whose name is its registry key and its ``name``
attribute; each exposes ``BACKEND``, an instance of ``backends.base.Backend``, and is
listed in ``spikecore.registry.BACKENDS``, through which the core finds it. Modules are
imported only when asked for, so a missing optional dependency affects only its own
backend, and it says so. Backends never import each other.
"""
from __future__ import annotations

from spikecore.registry import BACKENDS as _REGISTERED
from spikecore.registry import available_backends, get_backend

BACKENDS = tuple(_REGISTERED)

__all__ = ["BACKENDS", "available_backends", "get_backend"]
