"""Quantizers: what a chip does to a weight, a spike counter, a clock and a state variable.

Each quantizer is a small frozen dataclass validated on construction (a bad
field raises ``spikecore.errors.ValidationError`` naming it) with one method
that maps float values to what the hardware holds. They are the vocabulary of
hwmodels.profiles (a profile is a set of quantizers plus its arithmetic) and
are applied by hwmodels.passes (IR -> IR) and by the batch simulator of
hwmodels.batch (state arithmetic during the run).

Conventions, so that every value can be checked by hand:

* ``round`` is round half away from zero, ``truncate`` rounds toward zero (C's
  integer cast, which Lava's ``astype(np.int32)`` is), ``floor`` rounds toward
  minus infinity (an arithmetic right shift), ``stochastic`` is floor(x + U[0, 1))
  with a seeded generator (unbiased: E[q(x)] = x).
* A signed b-bit integer is two's complement, [-2^(b-1), 2^(b-1) - 1], unless
  ``symmetric`` drops the most negative code; unsigned is [0, 2^b - 1].
* Scales: ``tensor`` one float scale for the whole array, max|w| / q_max;
  ``channel`` one per row (output neuron); ``shared_exponent`` one power of two
  for the whole array (block floating point: Loihi's weight_exp, SpiNNaker's
  ring-buffer shift), the smallest 2^e with max|w| / 2^e <= q_max, e clipped to
  ``exponent_range``. ``q_max`` is the largest code magnitude, at least 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikecore.errors import ValidationError

ROUNDINGS = ("round", "truncate", "floor", "stochastic")
SCALES = ("tensor", "channel", "shared_exponent")
OVERFLOWS = ("saturate", "wrap")
DECAY_KINDS = ("float", "multiplier", "shift", "fixed")
#: Parts per million: the unit of clock drift.
PPM = 1e-6


def check_bits(bits, field: str, allow_none: bool = False, maximum: int = 64) -> int | None:
    """A positive integer number of bits (0 bits is refused: nothing can be stored)."""
    if bits is None and allow_none:
        return None
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= maximum:
        raise ValidationError(field, bits, f"a whole number of bits in [1, {maximum}]")
    return int(bits)


def _check_choice(value, choices, field: str) -> str:
    if value not in choices:
        raise ValidationError(field, value, "one of " + ", ".join(choices))
    return value


def round_to_int(x, rounding: str = "round", rng: np.random.Generator | None = None) -> np.ndarray:
    """Float array -> integer-valued float array with the named rounding (module docstring)."""
    x = np.asarray(x, dtype=float)
    if rounding == "round":
        return np.sign(x) * np.floor(np.abs(x) + 0.5)
    if rounding == "truncate":
        return np.trunc(x)
    if rounding == "floor":
        return np.floor(x)
    if rounding == "stochastic":
        if rng is None:
            raise ValidationError("rounding", rounding, "a seed (or generator) for stochastic rounding")
        return np.floor(x + rng.random(x.shape))
    raise ValidationError("rounding", rounding, "one of " + ", ".join(ROUNDINGS))


def shared_exponent(m: float, q_max: int, exponent_range=(-64, 64)) -> int:
    """The smallest e with m / 2^e <= q_max, clipped to ``exponent_range`` (0 for m == 0)."""
    if m <= 0:
        return 0
    e = math.ceil(math.log2(m / q_max))
    while m / 2.0 ** (e - 1) <= q_max:   # guard log2's last-bit slack both ways
        e -= 1
    while m / 2.0 ** e > q_max:
        e += 1
    return int(np.clip(e, *exponent_range))


def int_range(bits: int, signed: bool, symmetric: bool = False) -> tuple[int, int]:
    """(lowest, highest) code of a b-bit integer."""
    if not signed:
        return 0, 2 ** bits - 1
    hi = 2 ** (bits - 1) - 1
    return (-hi if symmetric else -(2 ** (bits - 1))), hi


def apply_overflow(q: np.ndarray, lo: int, hi: int, overflow: str) -> np.ndarray:
    """Saturate integer codes to [lo, hi], or wrap them modulo hi - lo + 1 into that range."""
    if overflow == "saturate":
        return np.clip(q, lo, hi)
    span = hi - lo + 1
    return np.mod(q - lo, span) + lo


@dataclass(frozen=True)
class QuantizedWeights:
    """Integer codes and the scale(s) that turn them back into values: w = codes * scale."""
    codes: np.ndarray           # integer-valued float array, same shape as the input
    scale: np.ndarray           # () for tensor/shared_exponent, (rows, 1) for channel
    exponent: int | None        # the shared exponent, when scale is a power of two

    @property
    def values(self) -> np.ndarray:
        return self.codes * self.scale


@dataclass(frozen=True)
class WeightQuantizer:
    """Weights to ``bits``-bit integer codes times a scale.

    ``q(w) = clip(rounding(w / s)) * s`` with s chosen per ``scale`` (module
    docstring). ``seed`` drives stochastic rounding; the same seed gives the same codes.
    """
    bits: int
    signed: bool = True
    scale: str = "tensor"
    rounding: str = "round"
    symmetric: bool = False
    exponent_range: tuple = (-64, 64)
    seed: int | None = None

    def __post_init__(self):
        check_bits(self.bits, "weights.bits", maximum=32)
        _check_choice(self.scale, SCALES, "weights.scale")
        _check_choice(self.rounding, ROUNDINGS, "weights.rounding")
        if self.rounding == "stochastic" and self.seed is None:
            raise ValidationError("weights.seed", None, "an integer seed for stochastic rounding")
        lo, hi = self.exponent_range
        if not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer)) and lo <= hi):
            raise ValidationError("weights.exponent_range", self.exponent_range, "two integers [low, high], low <= high")

    @property
    def code_range(self) -> tuple[int, int]:
        return int_range(self.bits, self.signed, self.symmetric)

    @property
    def q_max(self) -> int:
        """Largest positive code, at least 1 (a 1-bit signed code {-1, 0} scales by max|w|)."""
        return max(self.code_range[1], 1)

    def _scale_for(self, m: np.ndarray) -> tuple[np.ndarray, int | None]:
        """Scale(s) for group maxima ``m`` (a scalar array, or a column of row maxima)."""
        qmax = self.q_max
        if self.scale == "shared_exponent":
            top = float(np.max(m)) if m.size else 0.0
            e = shared_exponent(top, qmax, self.exponent_range)
            return np.array(2.0 ** e), e
        return np.where(m > 0, m / qmax, 1.0), None

    def quantize(self, w) -> QuantizedWeights:
        """Codes and scale of ``w`` (1-D or 2-D; channel scales are per row)."""
        w = np.asarray(w, dtype=float)
        if not np.isfinite(w).all():
            raise ValidationError("weights", "non-finite values", "finite weights")
        if not self.signed and (w < 0).any():
            raise ValidationError("weights", float(w.min()), "weights >= 0 for an unsigned format")
        if self.scale == "channel":
            if w.ndim != 2:
                raise ValidationError("weights", f"array of shape {w.shape}", "a 2-D (rows = channels) array for per-channel scales")
            mag = np.max(np.abs(w), axis=1, keepdims=True) if w.shape[1] else np.zeros((w.shape[0], 1))
            scale, exp = self._scale_for(mag)
        else:
            scale, exp = self._scale_for(np.array(float(np.max(np.abs(w))) if w.size else 0.0))
            scale = np.asarray(scale, dtype=float).reshape(())
        rng = np.random.default_rng(self.seed) if self.rounding == "stochastic" else None
        codes = round_to_int(w / scale, self.rounding, rng)
        lo, hi = self.code_range
        codes = np.clip(codes, lo, hi)
        return QuantizedWeights(codes=codes, scale=scale, exponent=exp)

    def __call__(self, w) -> np.ndarray:
        return self.quantize(w).values


@dataclass(frozen=True)
class CounterQuantizer:
    """A ``bits``-bit spike counter: counts above 2^b - 1 saturate there or wrap to 0."""
    bits: int
    overflow: str = "saturate"

    def __post_init__(self):
        check_bits(self.bits, "counter.bits", maximum=62)
        _check_choice(self.overflow, OVERFLOWS, "counter.overflow")

    @property
    def max_count(self) -> int:
        return 2 ** self.bits - 1

    def __call__(self, counts) -> np.ndarray:
        c = np.asarray(counts)
        if c.size and (not np.issubdtype(c.dtype, np.integer) or c.min() < 0):
            if not (np.issubdtype(c.dtype, np.floating) and np.all(c == np.floor(c)) and c.min() >= 0):
                raise ValidationError("counts", c.min() if c.size else c, "non-negative integer spike counts")
        c = c.astype(np.int64)
        return apply_overflow(c, 0, self.max_count, self.overflow)


@dataclass(frozen=True)
class ClockQuantizer:
    """Timestamps of a ``bits``-bit clock over a window ``window`` (s), tick = window / (2^b - 1).

    A time t (s after the reference) is read as tick ``round(t * (1 + drift) / tick
    + noise)``, noise ~ N(0, (jitter/tick)^2) drawn from ``seed``, then saturated to
    [0, 2^b - 1] (or wrapped). ``drift_ppm`` > 0 means the reading clock runs fast.
    ``ClockQuantizer.from_tick(window, tick)`` builds the clock a tick implies
    (bits = ceil(log2(window / tick + 1))), refusing a window shorter than a tick.
    """
    bits: int
    window: float
    drift_ppm: float = 0.0
    jitter: float = 0.0
    seed: int | None = None
    overflow: str = "saturate"

    def __post_init__(self):
        check_bits(self.bits, "clock.bits", maximum=40)
        if not (isinstance(self.window, (int, float, np.floating)) and math.isfinite(self.window) and self.window > 0):
            raise ValidationError("clock.window", self.window, "a positive, finite window in seconds")
        if not (math.isfinite(self.drift_ppm) and self.drift_ppm > -1e6):
            raise ValidationError("clock.drift_ppm", self.drift_ppm, "a finite drift above -1e6 ppm")
        if not (math.isfinite(self.jitter) and self.jitter >= 0):
            raise ValidationError("clock.jitter", self.jitter, "a standard deviation >= 0 s")
        if self.jitter > 0 and self.seed is None:
            raise ValidationError("clock.seed", None, "an integer seed when jitter > 0")
        _check_choice(self.overflow, OVERFLOWS, "clock.overflow")

    @classmethod
    def from_tick(cls, window: float, tick: float, **kw) -> "ClockQuantizer":
        if not (isinstance(tick, (int, float, np.floating)) and math.isfinite(tick) and tick > 0):
            raise ValidationError("clock.tick", tick, "a positive, finite tick in seconds")
        if not (isinstance(window, (int, float, np.floating)) and window >= tick):
            raise ValidationError("clock.window", window, f"a window at least one tick long ({tick!r} s)")
        ticks = window / tick
        bits = max(1, math.ceil(math.log2(ticks + 1) - 1e-12))
        clock = cls(bits=bits, window=float(window), **kw)
        return clock

    @property
    def max_tick(self) -> int:
        return 2 ** self.bits - 1

    @property
    def tick(self) -> float:
        return self.window / self.max_tick

    def __call__(self, t) -> np.ndarray:
        """Times (s) -> integer ticks (int64)."""
        t = np.asarray(t, dtype=float)
        x = t * (1.0 + self.drift_ppm * PPM) / self.tick
        if self.jitter > 0:
            x = x + np.random.default_rng(self.seed).normal(0.0, self.jitter / self.tick, size=x.shape)
        k = round_to_int(x, "round").astype(np.int64)
        return apply_overflow(k, 0, self.max_tick, self.overflow)

    def time_of(self, ticks) -> np.ndarray:
        return np.asarray(ticks, dtype=float) * self.tick


@dataclass(frozen=True)
class StateQuantizer:
    """A state variable held as a ``bits``-bit integer of ``lsb`` units.

    ``q(x) = overflow(rounding(x / lsb)) * lsb``: Loihi's v saturates, its u wraps
    (spikecore/models/loihi_lif.py); SpiNNaker's s16.15 accumulators are ``bits=32, lsb=2**-15``.
    """
    bits: int
    lsb: float = 1.0
    signed: bool = True
    overflow: str = "saturate"
    rounding: str = "truncate"

    def __post_init__(self):
        check_bits(self.bits, "state.bits", maximum=62)
        if not (isinstance(self.lsb, (int, float, np.floating)) and math.isfinite(self.lsb) and self.lsb > 0):
            raise ValidationError("state.lsb", self.lsb, "a positive, finite value of one least significant bit")
        _check_choice(self.overflow, OVERFLOWS, "state.overflow")
        _check_choice(self.rounding, ("round", "truncate", "floor"), "state.rounding")

    @property
    def code_range(self) -> tuple[int, int]:
        # Hardware state registers are symmetric on saturation (Loihi: +-(2^23 - 1)).
        return int_range(self.bits, self.signed, symmetric=self.signed and self.overflow == "saturate")

    def codes(self, x) -> np.ndarray:
        lo, hi = self.code_range
        if self.overflow == "wrap" and self.signed:
            lo = -(2 ** (self.bits - 1))
        return apply_overflow(round_to_int(np.asarray(x, dtype=float) / self.lsb, self.rounding), lo, hi,
                              self.overflow)

    def __call__(self, x) -> np.ndarray:
        return self.codes(x) * self.lsb


@dataclass(frozen=True)
class DecayQuantizer:
    """A per-step decay factor f = exp(-dt/tau) as the hardware can hold it.

    * ``float``: f itself;
    * ``multiplier`` (Loihi du/dv): f = (2^b - d) / 2^b with the integer d = round(2^b (1 - f))
      clipped to [0, 2^b - 1] (a 12-bit du of 4096 would be a full reset, which the field cannot hold);
    * ``shift`` (Xylo): x <- x - (x >> s), f = 1 - 2^-s, s = round(-log2(1 - f)) clipped to
      [0, 2^b - 1] (a b-bit shift field);
    * ``fixed`` (SpiNNaker s16.15 / u0.b): f rounded to a multiple of 2^-b.
    ``code(f)`` returns the integer the hardware stores (d, s or f * 2^b).
    """
    kind: str = "float"
    bits: int | None = None

    def __post_init__(self):
        _check_choice(self.kind, DECAY_KINDS, "decay.kind")
        if self.kind != "float":
            check_bits(self.bits, "decay.bits", maximum=32)

    def code(self, factor) -> np.ndarray:
        f = np.asarray(factor, dtype=float)
        if ((f < 0) | (f > 1)).any():
            raise ValidationError("decay.factor", float(f.min() if (f < 0).any() else f.max()), "factors in [0, 1]")
        b = self.bits
        if self.kind == "multiplier":
            return np.clip(round_to_int(2 ** b * (1 - f), "round"), 0, 2 ** b - 1)
        if self.kind == "shift":
            with np.errstate(divide="ignore"):
                s = -np.log2(np.maximum(1 - f, 0.0))
            return np.clip(round_to_int(np.where(np.isfinite(s), s, 2 ** b - 1), "round"), 0, 2 ** b - 1)
        if self.kind == "fixed":
            return np.clip(round_to_int(f * 2 ** b, "round"), 0, 2 ** b)
        return f

    def __call__(self, factor) -> np.ndarray:
        c = self.code(factor)
        b = self.bits
        if self.kind == "multiplier":
            return (2 ** b - c) / 2 ** b
        if self.kind == "shift":
            return 1 - 2.0 ** -c
        if self.kind == "fixed":
            return c / 2 ** b
        return c

    def tau(self, tau, dt: float) -> np.ndarray:
        """The time constant the quantized factor of ``tau`` amounts to (inf where f == 1, 0 where f == 0)."""
        f = np.asarray(self(np.exp(-dt / np.asarray(tau, dtype=float))), dtype=float)
        inside = np.where((f > 0) & (f < 1), f, 0.5)
        return np.where(f >= 1.0, np.inf, np.where(f <= 0, 0.0, -dt / np.log(inside)))


def bits_needed(levels) -> int:
    """ceil(log2(levels)): the bits to tell ``levels`` values apart (at least 1)."""
    levels = int(levels)
    if levels < 1:
        raise ValidationError("levels", levels, "at least one level")
    return max(1, math.ceil(math.log2(levels) - 1e-12))
