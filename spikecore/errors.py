"""Exceptions raised for user mistakes and for what a backend cannot express.

Every exception names the field, the value and what was expected, so the CLI can
print it as one line (spikecore.cli) and Python users can catch one base class.
``nearest`` and ``refuse_unknown_keywords`` word a misspelt key or keyword with the
valid one it most resembles.
"""
from __future__ import annotations

import difflib
import functools
import inspect


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
        self.hint = hint
        msg = f"backend '{backend}' does not support {feature}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class BackendUnavailable(SpikecoreError):
    """A backend's dependencies are not installed or cannot be imported."""


class InsufficientMemory(SpikecoreError, MemoryError):
    """A network would need more memory than the machine has: raised from the description's
    estimate (spikecore.engine.memory) before anything is drawn or built."""


# ----------------------------------------------------------------------------- wording helpers
def nearest(key, valid) -> str:
    """' (did you mean 'x'?)' for the valid name closest to a misspelt ``key``, or ''."""
    close = difflib.get_close_matches(str(key), [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def refuse_unknown_keywords(cls):
    """Make ``cls(...)`` refuse a misspelt keyword with a ValidationError naming the nearest one.

    Python's own TypeError names the keyword but not what was meant; this is the
    Python side of the model files' unknown-key check (spikecore.io.model_files)."""
    init = cls.__init__
    names = [p for p in inspect.signature(init).parameters if p != "self"]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        for key in kwargs:
            if key not in names:
                raise ValidationError(f"{cls.__name__}({key}=...)", kwargs[key],
                                      f"a keyword of {cls.__name__}: {', '.join(names)}{nearest(key, names)}")
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls
