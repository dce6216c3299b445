"""Random values of a description: distributions drawn per neuron or synapse.

``Uniform`` and ``Normal`` are what a user writes (``weight=Normal(1*mV, 0.1*mV,
low=0*mV)``, YAML ``{distribution: normal, mean: 1 mV, std: 0.1 mV, low: 0 mV}``);
``_values`` turns a scalar, an array or a distribution into an SI array from a
generator that spikecore.network derives from the network seed per element, so
the draws are the same on every backend. A normal distribution with bounds is
truncated by redrawing, as NEST's ``nest.math.redraw`` and the reference cortical
microcircuit do; the redraws are counted per field (``IRGraph.redrawn``).
A projection's values come from one stream in the order of its synapse list
(``ValueStream``), or, with ``streams: per_target``, from one stream per target
(``TargetValueStream``: synapse k onto target j takes SplitMix64 number
j * 2**32 + k), so the values onto any set of targets are drawn without the rest.
docs/model_files.md describes the rules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import units as u
from .errors import ValidationError, refuse_unknown_keywords
from .ir import TARGET_STREAM, poisson_uniforms, splitmix64


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


def _uniform_bounds(dist, dim, field_name) -> tuple:
    lo = _finite_si(dist.low, dim, f"{field_name}.low")
    hi = _finite_si(dist.high, dim, f"{field_name}.high")
    if not hi >= lo:
        raise ValidationError(f"{field_name}.high", dist.high, f"a value >= low ({dist.low})")
    return lo, hi


def _normal_params(dist, dim, field_name) -> tuple:
    """(mean, std, low, high, truncated) of a Normal in SI, checked; bounds +-inf when absent."""
    mean = _finite_si(dist.mean, dim, f"{field_name}.mean")
    std = _finite_si(dist.std, dim, f"{field_name}.std")
    if std < 0:
        raise ValidationError(f"{field_name}.std", dist.std, "a non-negative spread")
    if dist.low is None and dist.high is None:
        return mean, std, -math.inf, math.inf, False
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
    return mean, std, lo, hi, True


def _check_finite_draws(x, dist, field_name):
    if not np.isfinite(x).all():
        raise ValidationError(f"{field_name}.std", dist.std, "a spread whose draws stay finite")


def _redraw(x: np.ndarray, rng, mean, std, lo, hi) -> int:
    """Draw the values of x outside [lo, hi] again, in order, until all are inside (in place);
    returns how many draws fell outside."""
    count = 0
    outside = (x < lo) | (x > hi)
    while outside.any():
        k = int(outside.sum())
        count += k
        x[outside] = rng.normal(mean, std, size=k)
        outside = (x < lo) | (x > hi)
    return count


def _draw(dist, dim, n: int, rng: np.random.Generator, field_name: str, redrawn: dict | None = None) -> np.ndarray:
    if isinstance(dist, Uniform):
        lo, hi = _uniform_bounds(dist, dim, field_name)
        return rng.uniform(lo, hi, size=n)
    mean, std, lo, hi, truncated = _normal_params(dist, dim, field_name)
    x = rng.normal(mean, std, size=n)
    _check_finite_draws(x, dist, field_name)
    if not truncated:
        return x
    count = _redraw(x, rng, mean, std, lo, hi)
    if redrawn is not None:
        redrawn[field_name] = redrawn.get(field_name, 0) + count
    return x


# values a ValueStream's first pass over a truncated normal draws at a time
STREAM_CHUNK = 2**20


class ValueStream:
    """The n values ``_values(value, dim, n, rng_factory, field_name, redrawn)`` returns,
    handed out in consecutive pieces (``take(m)``) without holding all n: the same numbers.

    numpy's generators draw a stream value by value, so pieces of uniform or normal draws
    join to the whole draw. A truncated normal redraws the values outside its bounds after
    all n first draws: a first pass over the n draws (in pieces, kept nowhere) finds the
    positions outside and runs the redraw rounds for them alone; the second, the one
    ``take`` hands out, replaces those positions by their final values. ``known_redraws``
    (a dict) keeps those positions and values per field path, so a stream drawn again (the
    grid engine reads a lazy projection twice) skips the first pass: 16 B per redrawn value.
    """

    def __init__(self, value, dim, n: int, rng_factory, field_name: str, redrawn: dict | None = None,
                 known_redraws: dict | None = None):
        self.n, self.pos, self.field_name, self.value = int(n), 0, field_name, value
        self.const = self.array = self.rng = None
        self.patch_at = np.zeros(0, np.int64)
        self.patch = np.zeros(0)
        if not _is_distribution(value):
            v = u.to_si(value, dim, field_name, allow_array=True)
            if np.ndim(v) == 0:
                if not np.isfinite(v):
                    raise ValidationError(field_name, value, "a finite value")
                self.const = float(v)
            else:
                self.array = _values(value, dim, n, None, field_name)
            return
        if rng_factory is None:
            raise ValidationError(field_name, value, "a value or one value per neuron (not a distribution)")
        if isinstance(value, Uniform):
            self.params = _uniform_bounds(value, dim, field_name)
        else:
            self.params = _normal_params(value, dim, field_name)
            if self.params[4]:
                if known_redraws is not None and field_name in known_redraws:
                    self.patch_at, self.patch, count = known_redraws[field_name]
                else:
                    count = self._find_redraws(rng_factory())
                    if known_redraws is not None:
                        known_redraws[field_name] = (self.patch_at, self.patch, count)
                if redrawn is not None:
                    redrawn[field_name] = redrawn.get(field_name, 0) + count
        self.rng = rng_factory()

    @classmethod
    def of_si_array(cls, values: np.ndarray, field_name: str) -> "ValueStream":
        """A stream over values already in SI (e.g. a sparse matrix's entries times its unit)."""
        stream = cls(0.0, u.DIMENSIONLESS, 0, None, field_name)
        stream.const, stream.array, stream.n = None, np.asarray(values, dtype=float), int(np.size(values))
        return stream

    def _find_redraws(self, rng) -> int:
        mean, std, lo, hi, _ = self.params
        at = []
        for start in range(0, self.n, STREAM_CHUNK):
            x = rng.normal(mean, std, size=min(STREAM_CHUNK, self.n - start))
            _check_finite_draws(x, self.value, self.field_name)
            at.append(start + np.flatnonzero((x < lo) | (x > hi)))
        self.patch_at = np.concatenate(at) if at else np.zeros(0, np.int64)
        outside = -math.inf if lo > -math.inf else math.inf   # a value outside the bounds
        self.patch = np.full(self.patch_at.size, outside)     # the redraw rounds replace them all
        return _redraw(self.patch, rng, mean, std, lo, hi)

    def take(self, m: int) -> np.ndarray:
        """The next m values."""
        start, self.pos = self.pos, self.pos + m
        if self.pos > self.n:
            raise ValueError(f"{self.field_name}: asked for value {self.pos} of {self.n}")
        if self.const is not None:
            return np.full(m, self.const, dtype=float)
        if self.array is not None:
            return self.array[start:self.pos]
        if isinstance(self.value, Uniform):
            return self.rng.uniform(*self.params, size=m)
        mean, std = self.params[:2]
        x = self.rng.normal(mean, std, size=m)
        _check_finite_draws(x, self.value, self.field_name)
        a, b = np.searchsorted(self.patch_at, [start, self.pos])
        x[self.patch_at[a:b] - start] = self.patch[a:b]
        return x


# The redraw round a of a per-target value takes its number from a stream of its own: key
# splitmix64(key, REDRAW_ROUND + a), a counter no value of the stream uses (j < 2**31).
REDRAW_ROUND = 2 ** 63


class TargetPositions:
    """Which synapse of its target each synapse is: for the pieces of a projection's list (or of
    any part of it that holds each target's synapses in the list's order), ``of(j)`` gives every
    synapse of the piece its position k among the synapses onto its target j so far."""

    def __init__(self, n_post: int):
        self.seen = np.zeros(n_post, np.int64)

    def of(self, j: np.ndarray) -> np.ndarray:
        j = np.asarray(j, dtype=np.int64)
        order = np.argsort(j, kind="stable")
        js = j[order]
        first = np.flatnonzero(np.r_[True, js[1:] != js[:-1]]) if js.size else np.zeros(0, np.int64)
        runs = np.diff(np.r_[first, js.size])
        k = np.empty_like(j)
        k[order] = self.seen[js] + np.arange(js.size) - np.repeat(first, runs)
        self.seen[js[first]] += runs
        return k


class TargetValueStream:
    """A drawn weight or delay of a projection with ``streams: per_target``: the value of
    synapse k onto target j (k counting the target's synapses in the list's order) is drawn
    from SplitMix64 number j * 2**32 + k of the field's key, so a rank draws only its targets'
    values and the same synapse gets the same value whatever else is drawn. A uniform value is
    low + (high - low) u; a normal one mean + std * Phi^-1(u) (u moved half a unit of the last
    place off 0); a value outside a normal's bounds is drawn again, as ``_redraw`` does, from
    the same counter of the next redraw round's stream (``REDRAW_ROUND``) until it falls
    inside, and each redraw is counted in ``counts`` (the graph's redrawn counts per field)."""

    def __init__(self, value, dim, key: int, field_name: str, counts: dict | None = None):
        self.value, self.key, self.field_name, self.counts = value, int(key), field_name, counts
        if isinstance(value, Uniform):
            self.params = _uniform_bounds(value, dim, field_name)
        else:
            self.params = _normal_params(value, dim, field_name)
        if counts is not None and isinstance(value, Normal) and self.params[4]:
            counts.setdefault(field_name, 0)

    def _from_uniforms(self, uni: np.ndarray) -> np.ndarray:
        if isinstance(self.value, Uniform):
            lo, hi = self.params
            return lo + (hi - lo) * uni
        from scipy.special import ndtri

        mean, std = self.params[:2]
        x = mean + std * ndtri(uni + 2.0 ** -54)
        _check_finite_draws(x, self.value, self.field_name)
        return x

    def at(self, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The values of synapses number k onto targets j (int64 arrays of one length)."""
        k = np.asarray(k, dtype=np.int64)
        if k.size and k.max() >= TARGET_STREAM:
            raise ValidationError(self.field_name, self.value,
                                  f"streams: per_target with fewer than {TARGET_STREAM} synapses per target")
        counters = np.asarray(j, dtype=np.int64) * TARGET_STREAM + k
        x = self._from_uniforms(poisson_uniforms(self.key, counters))
        if isinstance(self.value, Uniform) or not self.params[4]:
            return x
        lo, hi = self.params[2:4]
        outside = np.flatnonzero((x < lo) | (x > hi))
        rounds, count = 0, 0
        while outside.size:
            rounds += 1
            count += outside.size
            key = int(splitmix64(self.key, np.array([REDRAW_ROUND + rounds], np.uint64))[0])
            x[outside] = self._from_uniforms(poisson_uniforms(key, counters[outside]))
            outside = outside[(x[outside] < lo) | (x[outside] > hi)]
        if self.counts is not None:
            self.counts[self.field_name] = self.counts.get(self.field_name, 0) + count
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
