"""Exceptions raised for user mistakes and for what a backend cannot express.

Every exception names the field, the value and what was expected, so the CLI can
print it as one line (spikecore.cli) and Python users can catch one base class.
"""
from __future__ import annotations


class SpikecoreError(Exception):
    """Base class of every error spikecore raises on purpose."""


class ValidationError(SpikecoreError, ValueError):
    """A user-supplied value is wrong: names the field, the value and the expectation."""

    def __init__(self, field: str, value, expected: str):
        self.field = field
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: got {shown}, expected {expected}")


class UnitError(ValidationError):
    """A quantity has the wrong physical dimension or cannot be parsed."""


class ModelFileError(SpikecoreError):
    """A model file is missing, unreadable or malformed."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class UnsupportedFeature(SpikecoreError):
    """A backend cannot express something the IR holds. Names the feature and the backend."""

    def __init__(self, backend: str, feature: str, hint: str = ""):
        self.backend = backend
        self.feature = feature
        msg = f"backend '{backend}' does not support {feature}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class BackendUnavailable(SpikecoreError):
    """A backend's dependencies are not installed or cannot be imported."""


class InsufficientMemory(SpikecoreError, MemoryError):
    """A network would need more memory than the machine has: raised from the description's
    estimate (spikecore.engine.memory) before anything is drawn or built."""
