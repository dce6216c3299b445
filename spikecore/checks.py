"""Value checks of the description layer (spikecore.network): names, sizes, parameter
values and arrays, delays (drawn or given), times, weight dimensions. Each raises a
ValidationError naming the field, the value and what was expected."""
from __future__ import annotations

import numpy as np

from . import ir as _ir
from . import units as u
from .distributions import Uniform, _is_distribution
from .errors import ValidationError


def _check_name(name, field_name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValidationError(field_name, name, "a name made of letters, digits and '_' (not starting with a digit)")
    return name


def _check_size(size, field_name):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValidationError(field_name, size, "a positive integer number of neurons")
    return int(size)


def _is_array(value) -> bool:
    """A per-neuron array: a list, tuple or numpy array (a Quantity or Brian2 quantity with one)."""
    if isinstance(value, (list, tuple)):
        return True
    return np.ndim(getattr(value, "value", value)) > 0 if not isinstance(value, str) else False


def _check_bounds(x, ps, fld, shown):
    """A hardware register (ParamSpec bounds): integers within [lo, hi]."""
    lo, hi = ps.bounds
    x = np.atleast_1d(np.asarray(x, dtype=float))
    bad = ~np.isfinite(x) | (x != np.round(x)) | (x < lo) | (x > hi)
    if bad.any():
        value = shown if np.ndim(shown) == 0 and shown is not None else x[bad][0].item()
        raise ValidationError(fld, value, f"an integer in [{lo}, {hi}]")


def _check_param_array(arr, ps, fld):
    if ps.bounds is not None:
        _check_bounds(arr, ps, fld, None)
    if ps.positive and not (arr > 0).all():
        raise ValidationError(fld, float(arr.min()), f"positive values in {u.dim_name(ps.dim)}")
    if ps.nonnegative and not (arr >= 0).all():
        raise ValidationError(fld, float(arr.min()), f"values >= 0 in {u.dim_name(ps.dim)}")


def _check_param(value, ps, fld):
    v = u.to_si(value, ps.dim, fld)
    if not np.isfinite(v):
        raise ValidationError(fld, value, "a finite value")
    if ps.bounds is not None:
        _check_bounds(v, ps, fld, value)
    if ps.positive and not v > 0:
        raise ValidationError(fld, value, f"a positive value in {u.dim_name(ps.dim)}")
    if ps.nonnegative and not v >= 0:
        raise ValidationError(fld, value, f"a value >= 0 in {u.dim_name(ps.dim)}")
    return v


def _drawn_delays(d: np.ndarray, dt: float, timing: str, dist, fld: str) -> np.ndarray:
    """Drawn delays on the grid (grid timing) or as drawn (precise); refuse those below dt."""
    if timing != "precise":
        d = np.rint(d / dt) * dt
    else:  # floating-point slack just below dt is dt
        d = np.where((d < dt) & (d >= dt * (1 - _ir.GRID_TOLERANCE)), dt, d)
    short = int(np.count_nonzero(d < dt * (1 - _ir.GRID_TOLERANCE)))
    if short:
        low = f"{dt * 1e3:g} ms"
        hint = ("raise the distribution's low bound to dt" if getattr(dist, "low", None) is not None
                else f"give it low: {low} (values below are then redrawn)")
        raise ValidationError(fld, f"{short} of {d.size} drawn delays below dt",
                              f"delays >= dt ({low}); short draws are not clipped: {hint}")
    return d


def _check_at_most_max_steps(x: np.ndarray, dt: float, fld: str, what: str = "delays", shown=None):
    if x.size and not float(np.max(x)) / dt <= _ir.MAX_STEPS:
        shown = f"{float(np.max(x))!r} s" if shown is None else shown
        raise ValidationError(fld, shown, f"{what} of at most {_ir.MAX_STEPS} steps of dt "
                              f"({_ir.MAX_STEPS * dt:.4g} s)")


# Spike and current-step times become 64-bit step numbers; far beyond any run is fine,
# beyond what the counter holds is not (the cast would give an arbitrary step).
MAX_TIME_STEPS = 2.0**62


def _check_countable_times(t: np.ndarray, dt: float, fld: str):
    if t.size and not float(np.max(t)) / dt < MAX_TIME_STEPS:
        raise ValidationError(fld, f"{float(np.max(t)):g} s", f"times below {MAX_TIME_STEPS * dt:.3g} s "
                              f"(2^62 steps of dt)")


def check_delays(d: np.ndarray, dt: float, fld: str):
    if (d < dt * (1 - _ir.GRID_TOLERANCE)).any():
        raise ValidationError(fld, f"{float(d.min())!r} s", f"delays >= dt ({dt!r} s)")
    _check_at_most_max_steps(d, dt, fld)
    ratio = d / dt
    if (np.abs(ratio - np.rint(ratio)) > _ir.GRID_TOLERANCE).any():
        bad = float(d[np.argmax(np.abs(ratio - np.rint(ratio)))])
        raise ValidationError(fld, f"{bad!r} s", f"a multiple of dt ({dt!r} s)")


def _check_weight_dim(w_dim, spec, weight, fld):
    if w_dim not in spec.weight_dims:
        if _is_distribution(weight):   # the field the dimension was read from
            fld, weight = (f"{fld}.low", weight.low) if isinstance(weight, Uniform) else (f"{fld}.mean", weight.mean)
        raise ValidationError(fld, weight,
                              f"a weight in {' or '.join(u.dim_name(d) for d in spec.weight_dims)} for {spec.name}")


def _weight_dim(weight, spec, fld):
    """The dimension a weight was given in (it may be one of several the model accepts)."""
    probe = weight
    if _is_distribution(weight):
        probe = weight.low if isinstance(weight, Uniform) else weight.mean
    if isinstance(probe, str):
        return u.parse_quantity(probe, fld).dim
    if isinstance(probe, u.Quantity):
        return probe.dim
    if isinstance(probe, (list, tuple)) and probe and isinstance(probe[0], (str, u.Quantity)):
        return _weight_dim(probe[0], spec, fld)
    if hasattr(probe, "dim") and hasattr(probe, "dimensions"):
        return u._from_brian2(probe, fld).dim
    return spec.weight_dim if probe is None else u.DIMENSIONLESS
