"""Coding schemes: turn feature vectors into input spikes, and output spikes into a class.

Two schemes, both over a window of 2^bits - 1 ticks (so "bits" is what the
hardware spends: a counter that counts to 2^b - 1, or a clock that stamps
2^b ticks):

* ``RateCode`` — value x in [0, 1] -> about x*N spikes in the window (N = 2^b - 1),
  ``regular`` (evenly spaced, count round(x N)) or ``poisson`` (count ~ Poisson(x N),
  times uniform: a Poisson process conditioned on its count). Decoded by counting
  each output neuron's spikes in a b-bit counter (hwmodels.quantizers.CounterQuantizer,
  saturating or wrapping) and taking the largest count.
* ``TemporalCode`` — time to first spike with a reference spike at tick 0: x -> one
  spike at the tick a b-bit clock reads for (1 - x) T (hwmodels.quantizers.ClockQuantizer,
  so jitter and drift act where a chip's clock would). Decoded by the first output
  neuron to fire. hwmodels.continuous feeds the same noisy times, unquantized, to the
  continuous-time network (precise mode): the reference the clock is measured against.

Noise: ``jitter`` (s, Gaussian, on every input spike time), ``drift_ppm`` (the
receiving clock runs fast: a rate window holds (1+drift) times more spikes, spike
times stretch by 1+drift relative to the reference), spike loss (applied to
every data spike by the simulator, hwmodels.batch). Ties in a decision are
scored as the expected accuracy of a fair coin among the tied classes.

Encoders return hwmodels.batch.Events; everything random comes from ``seed``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from spikecore.errors import ValidationError

from .batch import Events
from .conversion import WINDOW
from .quantizers import PPM, ClockQuantizer, CounterQuantizer, check_bits

CODES = ("rate", "temporal")
GENERATIONS = ("regular", "poisson")


def check_code(code: str) -> str:
    if code not in CODES:
        raise ValidationError("coding scheme", code, "one of " + ", ".join(CODES))
    return code


def check_features(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValidationError(name, f"array of shape {X.shape}", "a non-empty 2-D array (samples, features)")
    if not np.isfinite(X).all():
        raise ValidationError(name, "non-finite values", "finite feature values")
    if X.min() < -1e-9 or X.max() > 1 + 1e-9:
        raise ValidationError(name, f"values in [{X.min():.3g}, {X.max():.3g}]", "features scaled to [0, 1]")
    return np.clip(X, 0.0, 1.0)


def _check_noise(jitter, drift_ppm):
    if not (isinstance(jitter, (int, float)) and math.isfinite(jitter) and jitter >= 0):
        raise ValidationError("jitter", jitter, "a standard deviation >= 0 s")
    if not (isinstance(drift_ppm, (int, float)) and math.isfinite(drift_ppm) and drift_ppm > -1e6):
        raise ValidationError("drift_ppm", drift_ppm, "a finite drift above -1e6 ppm")


@njit(cache=True)
def _rate_events(counts, W, poisson, jitter_ticks, seed, ptr, step, idx, mult):
    """Spike trains of every sample, aggregated per (tick, input), in (sample, tick, input) order.

    Regular train of c spikes: ticks floor((k + 0.5) W / c), k < c (evenly spread, distinct
    while c <= W). Poisson: c ticks uniform in [0, W). Jitter: each tick moves by a rounded
    N(0, jitter_ticks^2) draw, clipped to the window. Returns the number of entries."""
    np.random.seed(seed)
    S, D = counts.shape
    grid = np.zeros((W, D), np.int64)
    n = 0
    for s in range(S):
        for i in range(D):
            c = counts[s, i]
            for k in range(c):
                if poisson:
                    t = np.random.randint(0, W)
                else:
                    t = int(np.floor((k + 0.5) * W / c))
                if jitter_ticks > 0.0:
                    t += int(np.floor(np.random.normal(0.0, jitter_ticks) + 0.5))
                    if t < 0:
                        t = 0
                    elif t > W - 1:
                        t = W - 1
                grid[t, i] += 1
        for t in range(W):
            for i in range(D):
                m = grid[t, i]
                if m != 0:
                    step[n] = t
                    idx[n] = i
                    mult[n] = m
                    n += 1
                    grid[t, i] = 0
        ptr[s + 1] = n
    return n


def _pack(S, counts_per_sample, steps, idx, mult) -> Events:
    ptr = np.concatenate([[0], np.cumsum(counts_per_sample)]).astype(np.int64)
    return Events(ptr, steps.astype(np.int64), idx.astype(np.int64), mult.astype(np.int64))


class RateCode:
    """Spike counts in a window of N = 2^bits - 1 ticks (module docstring)."""
    name = "rate"

    def __init__(self, bits: int, generation: str = "regular", jitter: float = 0.0, drift_ppm: float = 0.0,
                 window: float = WINDOW, seed: int = 0):
        self.bits = check_bits(bits, "counter bits", maximum=20)
        if generation not in GENERATIONS:
            raise ValidationError("generation", generation, "one of " + ", ".join(GENERATIONS))
        _check_noise(jitter, drift_ppm)
        if not (window > 0 and math.isfinite(window)):
            raise ValidationError("window", window, "a positive window in seconds")
        self.generation, self.jitter, self.drift_ppm, self.window, self.seed = generation, float(jitter), float(drift_ppm), float(window), seed
        self.ticks = 2 ** self.bits - 1
        self.tick = self.window / self.ticks

    @property
    def latency_ticks(self) -> int:
        return self.ticks

    def counts(self, X, rng) -> np.ndarray:
        lam = check_features(X) * self.ticks * (1.0 + self.drift_ppm * PPM)
        if self.generation == "poisson":
            return rng.poisson(lam)
        return np.floor(lam + 0.5).astype(np.int64)

    def encode(self, X) -> Events:
        """Input spikes of every sample: (tick, input neuron, multiplicity), ticks in [0, N)."""
        rng = np.random.default_rng(self.seed)
        c = self.counts(X, rng).astype(np.int64)        # (S, D)
        S, D = c.shape
        ptr = np.zeros(S + 1, np.int64)
        cap = int(min(c.sum(), S * self.ticks * D))
        step = np.empty(cap, np.int64)
        idx = np.empty(cap, np.int64)
        mult = np.empty(cap, np.int64)
        n = _rate_events(c, self.ticks, self.generation == "poisson", self.jitter / self.tick,
                         int(rng.integers(0, 2 ** 31 - 1)), ptr, step, idx, mult)
        return Events(ptr, step[:n].copy(), idx[:n].copy(), mult[:n].copy())

    def counter(self, overflow: str = "saturate") -> CounterQuantizer:
        return CounterQuantizer(self.bits, overflow)

    def decide(self, counts, overflow: str = "saturate") -> np.ndarray:
        """(S, C) mask of the classes with the largest b-bit count."""
        c = self.counter(overflow)(counts)
        return c == c.max(axis=1, keepdims=True)


class TemporalCode:
    """Time to first spike after a reference spike, on a clock of K = 2^bits - 1 ticks over the window."""
    name = "temporal"

    def __init__(self, bits: int, jitter: float = 0.0, drift_ppm: float = 0.0, window: float = WINDOW, seed: int = 0):
        self.bits = check_bits(bits, "clock bits", maximum=20)
        _check_noise(jitter, drift_ppm)
        if not (window > 0 and math.isfinite(window)):
            raise ValidationError("window", window, "a positive window in seconds")
        self.jitter, self.drift_ppm, self.window, self.seed = float(jitter), float(drift_ppm), float(window), seed
        self.ticks = 2 ** self.bits - 1
        self.clock = ClockQuantizer(bits=self.bits, window=self.window, drift_ppm=self.drift_ppm,
                                    jitter=self.jitter, seed=seed if self.jitter > 0 else None)
        self.tick = self.clock.tick

    def spike_ticks(self, X) -> np.ndarray:
        """(S, D) tick of each input's spike: the clock's reading of (1 - x) T."""
        return self.clock((1.0 - check_features(X)) * self.window)

    def encode(self, X) -> Events:
        t = self.spike_ticks(X)
        S, D = t.shape
        order = np.argsort(t, axis=1, kind="stable")       # by tick, then input index
        t_sorted = np.take_along_axis(t, order, axis=1)
        return _pack(S, np.full(S, D), t_sorted.reshape(-1), order.reshape(-1), np.ones(S * D, np.int64))

    @staticmethod
    def decide(first) -> np.ndarray:
        """(S, C) mask of the output neurons that fired first (all of them when none fired)."""
        f = np.where(np.asarray(first) < 0, np.iinfo(np.int64).max, first)
        return f == f.min(axis=1, keepdims=True)


def expected_accuracy(winners, y) -> np.ndarray:
    """Per-sample credit: 1/k when the true class is among k tied winners, else 0."""
    winners = np.asarray(winners, bool)
    y = np.asarray(y)
    if y.shape != (winners.shape[0],):
        raise ValidationError("y", f"{y.size} labels", f"one label per sample ({winners.shape[0]})")
    return winners[np.arange(y.size), y] / winners.sum(axis=1)
