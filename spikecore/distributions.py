"""Random values of a description: distributions drawn per neuron or synapse.

``Uniform`` and ``Normal`` are what a user writes (``weight=Normal(1*mV, 0.1*mV,
low=0*mV)``, YAML ``{distribution: normal, mean: 1 mV, std: 0.1 mV, low: 0 mV}``);
``_values`` turns a scalar, an array or a distribution into an SI array from a
generator that spikecore.network derives from the network seed per element, so
the draws are the same on every backend. A normal distribution with bounds is
truncated by redrawing, as NEST's ``nest.math.redraw`` and the reference cortical
microcircuit do; the redraws are counted per field (``IRGraph.redrawn``).
docs/model_files.md describes the rules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import units as u
from .errors import ValidationError, refuse_unknown_keywords


@refuse_unknown_keywords
@dataclass(frozen=True)
class Uniform:
    """Values drawn uniformly in [low, high) from the network seed."""
    low: object
    high: object
    kind = "uniform"


@refuse_unknown_keywords
@dataclass(frozen=True)
class Normal:
    """Values drawn from N(mean, std), truncated to [low, high] when bounds are given.

    Truncation is by redrawing, as NEST's ``nest.math.redraw`` (and the reference
    microcircuit, which keeps excitatory weights >= 0 with ``low=0`` and inhibitory
    ones <= 0 with ``high=0``): a value outside the bounds is drawn again until it
    falls inside, never clipped onto a bound. Either bound may be left out.
    """
    mean: object
    std: object
    low: object = None
    high: object = None
    kind = "normal"


DISTRIBUTIONS = {"uniform": Uniform, "normal": Normal}

# Bounds must keep at least this fraction of a normal distribution's mass, else the
# redraw loop would run for ever (NEST gives up after 1000 redraws of one value).
MIN_KEPT_MASS = 0.01


def _is_distribution(v) -> bool:
    return isinstance(v, (Uniform, Normal))


def _finite_si(value, dim, fld):
    v = u.to_si(value, dim, fld)
    if not np.isfinite(v):
        raise ValidationError(fld, value, "a finite value")
    return v


def _normal_mass(mean: float, std: float, lo: float, hi: float) -> float:
    """Probability that N(mean, std) falls in [lo, hi]."""
    if std == 0:
        return 1.0 if lo <= mean <= hi else 0.0
    def below(x):   # P(X <= x), accurate in both tails
        return 0.0 if x == -math.inf else 1.0 if x == math.inf else 0.5 * math.erfc((mean - x) / (std * math.sqrt(2)))
    return below(hi) - below(lo)


def _draw(dist, dim, n: int, rng: np.random.Generator, field_name: str, redrawn: dict | None = None) -> np.ndarray:
    if isinstance(dist, Uniform):
        lo = _finite_si(dist.low, dim, f"{field_name}.low")
        hi = _finite_si(dist.high, dim, f"{field_name}.high")
        if not hi >= lo:
            raise ValidationError(f"{field_name}.high", dist.high, f"a value >= low ({dist.low})")
        return rng.uniform(lo, hi, size=n)
    mean = _finite_si(dist.mean, dim, f"{field_name}.mean")
    std = _finite_si(dist.std, dim, f"{field_name}.std")
    if std < 0:
        raise ValidationError(f"{field_name}.std", dist.std, "a non-negative spread")
    x = rng.normal(mean, std, size=n)
    if not np.isfinite(x).all():
        raise ValidationError(f"{field_name}.std", dist.std, "a spread whose draws stay finite")
    if dist.low is None and dist.high is None:
        return x
    lo = -math.inf if dist.low is None else u.to_si(dist.low, dim, f"{field_name}.low")
    hi = math.inf if dist.high is None else u.to_si(dist.high, dim, f"{field_name}.high")
    if not hi >= lo:
        raise ValidationError(f"{field_name}.high", dist.high, f"a value >= low ({dist.low})")
    mass = _normal_mass(mean, std, lo, hi)
    if not mass >= MIN_KEPT_MASS:
        bound = "low" if dist.low is not None and mean < lo else "high" if dist.high is not None else "low"
        raise ValidationError(f"{field_name}.{bound}", getattr(dist, bound),
                              f"bounds that keep at least {MIN_KEPT_MASS:.0%} of N(mean, std) "
                              f"(these keep {mass:.2g}; values outside are redrawn, not clipped)")
    count = 0
    outside = (x < lo) | (x > hi)
    while outside.any():
        k = int(outside.sum())
        count += k
        x[outside] = rng.normal(mean, std, size=k)
        outside = (x < lo) | (x > hi)
    if redrawn is not None:
        redrawn[field_name] = redrawn.get(field_name, 0) + count
    return x


def _values(value, dim, n: int, rng_factory, field_name: str, redrawn: dict | None = None) -> np.ndarray:
    """A scalar, a per-element array, or a distribution -> float64 array of length n (SI).

    ``redrawn`` (if given) collects, per field, how many draws of a truncated
    distribution fell outside its bounds and were drawn again."""
    if _is_distribution(value):
        if rng_factory is None:
            raise ValidationError(field_name, value, "a value or one value per neuron (not a distribution)")
        return _draw(value, dim, n, rng_factory(), field_name, redrawn)
    v = u.to_si(value, dim, field_name, allow_array=True)
    if np.ndim(v) == 0:
        if not np.isfinite(v):
            raise ValidationError(field_name, value, "a finite value")
        return np.full(n, v, dtype=float)
    arr = np.asarray(v, dtype=float).ravel()
    if arr.size != n:
        raise ValidationError(field_name, f"array of length {arr.size}", f"length {n}")
    if not np.isfinite(arr).all():
        raise ValidationError(field_name, value, "finite values")
    return arr
