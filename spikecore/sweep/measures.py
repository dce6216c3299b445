"""Activity measures of one run, per population: what a sweep records of every point.

``activity_measures(result, transient)`` reads a Result's spikes after ``transient``
seconds and returns, per population:

* ``rate_hz``: spikes per neuron per second in the window;
* ``cv_isi``: mean over neurons (with at least two ISIs) of std(ISI)/mean(ISI);
* ``fano``: Fano factor Var(P)/E(P) of the population spike count P(k) in bins of
  ``BIN_S`` (1 for independent Poisson neurons, up to the count per bin when all fire
  together);
* ``sync``: the relative amplitude of the population's shared rate modulation,
  sqrt(max(Var(P) - sum_i Var(n_i), 0)) / E(P), where n_i(k) is neuron i's count in
  bin k. The sum of the neurons' own variances is what P would vary by if they were
  independent, so what is left is the covariance between neurons: 0 for an
  asynchronous population whatever its size and rate, about eps for a population
  whose rate is modulated as r (1 + eps s(t)) with std(s) = 1, and
  sqrt((1 - 1/n) (T/BIN_S - 1)) when all n neurons fire in the same bin once per period T;
* ``freq_hz``: the dominant frequency of the population activity P(t): the peak of
  its Welch power spectrum (segments of ``SEGMENT_S``, mean removed) above
  ``MIN_FREQ_HZ``.

Undefined values (no spikes, too few ISIs, a window too short) are None.
spikecore.sweep.runner computes these on the worker; spikecore.sweep.regimes
classifies Brunel's regimes from them.
"""
from __future__ import annotations

import math

import numpy as np

from ..result import cv_isi

#: Bin of the population activity: short against a 180 Hz oscillation's period (5.6 ms).
BIN_S = 1e-3
#: Welch segment of the population activity's spectrum (resolution 1 / SEGMENT_S).
SEGMENT_S = 0.25
#: Peaks below this are the slow drift of a finite window, not an oscillation.
MIN_FREQ_HZ = 5.0

MEASURES = ("rate_hz", "cv_isi", "sync", "fano", "freq_hz")


def activity_measures(result, transient: float = 0.0) -> dict:
    """{population: {measure: value}} over [transient, duration) of ``result``."""
    t0, t1 = float(transient), float(result.duration)
    out = {}
    for name, (times, indices) in result.spikes.items():
        times = np.asarray(times, dtype=float)
        indices = np.asarray(indices, dtype=np.int64)
        keep = times >= t0 - 0.5 * result.dt
        out[name] = population_measures(times[keep] - t0, indices[keep], int(result.sizes[name]), t1 - t0)
    return out


def population_measures(times: np.ndarray, indices: np.ndarray, n: int, window: float) -> dict:
    """The measures of one population's spikes ``times`` (s, from 0) of neurons ``indices`` over ``window`` s."""
    rate = times.size / (n * window) if n and window > 0 else None
    cv = cv_isi(times, indices) if times.size else None
    fano = sync = freq = None
    n_bins = int(math.floor(window / BIN_S + 1e-9))
    if times.size and n_bins >= 2:
        k = np.minimum((times / BIN_S + 1e-9).astype(np.int64), n_bins - 1)
        pop = np.bincount(k, minlength=n_bins).astype(float)
        mean = pop.mean()
        var = pop.var()
        fano = float(var / mean)
        # sum over neurons of Var(n_i) = sum_i E(n_i^2) - E(n_i)^2, from the (neuron, bin) counts
        _, per_cell_bin = np.unique(indices * n_bins + k, return_counts=True)
        own = (np.sum(per_cell_bin.astype(float) ** 2)
               - np.sum(np.bincount(indices, minlength=n).astype(float) ** 2) / n_bins) / n_bins
        sync = float(math.sqrt(max(var - own, 0.0)) / mean)
        freq = dominant_frequency(pop, BIN_S)
    return {"rate_hz": None if rate is None else float(rate), "cv_isi": cv, "sync": sync, "fano": fano,
            "freq_hz": freq}


def dominant_frequency(activity: np.ndarray, bin_s: float) -> float | None:
    """Frequency (Hz) of the largest peak of ``activity``'s Welch spectrum above MIN_FREQ_HZ."""
    from scipy.signal import welch

    per_segment = min(activity.size, int(round(SEGMENT_S / bin_s)))
    if per_segment < 8 or not activity.any():
        return None
    f, power = welch(activity - activity.mean(), fs=1.0 / bin_s, nperseg=per_segment)
    band = f >= MIN_FREQ_HZ
    if not band.any() or not power[band].any():
        return None
    return float(f[band][np.argmax(power[band])])
