"""The backend contract: ``compile(ir, **options) -> Executable``, ``Executable.run(duration) -> Result``.

A backend refuses what it cannot express with ``UnsupportedFeature`` naming the
feature; it never silently approximates. Opt-in approximations are listed in
the Result (``Result.approximations``). Options are validated here, once, so a
misspelt option is an error that names it rather than a silently ignored value.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from spikecore.errors import ValidationError, nearest
from spikecore.ir import IRGraph
from spikecore.result import Result


class Executable(ABC):
    """A compiled network, ready to run."""

    backend: str
    build_s: float = 0.0

    @abstractmethod
    def run(self, duration: float, progress: bool = False) -> Result:
        """Simulate ``duration`` seconds from the current state."""


class Backend(ABC):
    name: str = ""
    #: option name -> (allowed values or None for any, default)
    options: dict = {}

    def check_options(self, options: dict) -> dict:
        out = {}
        for key, value in options.items():
            if key not in self.options:
                known = ", ".join(self.options) or "none"
                raise ValidationError(f"option '{key}'", value,
                                      f"an option of backend '{self.name}' ({known}){nearest(key, self.options)}")
            allowed = self.options[key][0]
            if allowed is not None and value not in allowed:
                raise ValidationError(f"option '{key}'", value, "one of " + ", ".join(map(str, allowed)))
            out[key] = value
        for key, (_, default) in self.options.items():
            out.setdefault(key, default)
        return out

    @abstractmethod
    def compile(self, ir: IRGraph, **options) -> Executable:
        """Compile ``ir``; raise UnsupportedFeature for anything this backend cannot express."""
