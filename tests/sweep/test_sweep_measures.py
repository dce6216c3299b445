"""Activity measures (spikecore.sweep.measures) on spike trains whose answers are known, and
Brunel's regimes named from them (spikecore.sweep.regimes)."""
import math

import numpy as np
import pytest

from spikecore.sweep.measures import BIN_S, population_measures
from spikecore.sweep.regimes import SCALING_RATIO_MIN, classify, classify_scaled


def poisson(rng, n, rate, window, modulation=None):
    """Spikes of n neurons at rate(t) = rate (1 + modulation(t)), by thinning."""
    times, idx = [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, window, rng.poisson(2 * rate * window)))
        lam = rate * (1 + (modulation(t) if modulation is not None else 0.0))
        keep = rng.uniform(0, 2 * rate, t.size) < lam
        times.append(t[keep])
        idx.append(np.full(keep.sum(), i))
    t, i = np.concatenate(times), np.concatenate(idx)
    order = np.argsort(t, kind="stable")
    return t[order], i[order]


def test_independent_poisson_neurons_are_asynchronous_and_irregular():
    t, i = poisson(np.random.default_rng(1), 400, 20.0, 2.0)
    m = population_measures(t, i, 400, 2.0)
    assert m["rate_hz"] == pytest.approx(20, rel=0.05)
    assert m["cv_isi"] == pytest.approx(1.0, abs=0.1)
    assert m["fano"] == pytest.approx(1.0, abs=0.1)
    assert m["sync"] < 0.1


def test_a_shared_rate_modulation_is_measured_by_its_amplitude_and_frequency():
    eps, f = 0.5, 40.0     # rate 20 (1 + 0.5 sqrt2 sin(2 pi 40 t)): std of the modulation 0.5
    t, i = poisson(np.random.default_rng(2), 400, 20.0, 2.0, lambda x: eps * math.sqrt(2) * np.sin(2 * np.pi * f * x))
    m = population_measures(t, i, 400, 2.0)
    assert m["sync"] == pytest.approx(eps, rel=0.15)
    assert m["freq_hz"] == pytest.approx(f, abs=4.1)
    assert m["fano"] == pytest.approx(1 + eps ** 2 * 400 * 20.0 * BIN_S, rel=0.2)   # 1 + eps^2 E(P)


def test_neurons_firing_together_every_period_are_fully_synchronous_and_regular():
    period, n, window = 5e-3, 100, 1.0      # 200 Hz, all neurons in the same bin
    ticks = np.arange(0, window, period) + 0.2e-3
    t = np.repeat(ticks, n)
    i = np.tile(np.arange(n), ticks.size)
    m = population_measures(t, i, n, window)
    assert m["cv_isi"] == pytest.approx(0.0, abs=1e-9)
    assert m["freq_hz"] == pytest.approx(200.0, abs=4.1)
    assert m["sync"] == pytest.approx(math.sqrt((1 - 1 / n) * (period / BIN_S - 1)), rel=1e-6)


def test_no_spikes_gives_undefined_measures():
    m = population_measures(np.zeros(0), np.zeros(0, np.int64), 10, 1.0)
    assert m == {"rate_hz": 0.0, "cv_isi": None, "sync": None, "fano": None, "freq_hz": None}
    assert classify(m) == "silent"


@pytest.mark.parametrize("measures, regime", [
    ({"rate_hz": 30, "cv_isi": 0.9, "sync": 0.05, "freq_hz": 170}, "AI"),
    ({"rate_hz": 30, "cv_isi": 0.2, "sync": 0.05, "freq_hz": 170}, "AR"),
    ({"rate_hz": 200, "cv_isi": 0.1, "sync": 1.5, "freq_hz": 300}, "SR"),
    ({"rate_hz": 50, "cv_isi": 0.9, "sync": 0.6, "freq_hz": 180}, "SI fast"),
    ({"rate_hz": 3, "cv_isi": 1.1, "sync": 0.8, "freq_hz": 20}, "SI slow"),
])
def test_regimes(measures, regime):
    assert classify(measures) == regime


def _m(rate, sync, freq, cv=0.8):
    return {"rate_hz": rate, "cv_isi": cv, "sync": sync, "freq_hz": freq}


@pytest.mark.parametrize("small, big_sync, regime", [
    # a modulation that halves at 4x the size is finite-size noise: asynchronous
    (_m(37.0, 0.54, 112.0, cv=0.4), 0.27, "AI"),
    (_m(37.0, 0.10, 112.0), 0.10, "AI"),                       # below SYNC_MIN at the paper's size
    # one that keeps its amplitude is a global oscillation; locked neurons: SR
    (_m(312.0, 0.78, 376.0, cv=0.001), 0.78, "SR"),
    (_m(60.0, 1.02, 172.0), 0.98, "SI fast"),                   # rate below half the frequency
    (_m(4.6, 1.78, 24.0, cv=0.49), 1.80, "SI slow"),
    (_m(0.0, None, None), None, "silent"),
])
def test_regimes_by_finite_size_scaling(small, big_sync, regime):
    assert classify_scaled(small, {"sync": big_sync}) == regime


def test_the_scaling_threshold_sits_between_the_two_expectations():
    """N^-1/2 for finite-size fluctuations at 4x the size is a ratio of 1/2; an oscillation 1."""
    assert 0.5 < SCALING_RATIO_MIN < 1.0
    small = _m(37.0, 0.5, 112.0)
    assert classify_scaled(small, {"sync": 0.5 * 0.5}) == "AI"
    assert classify_scaled(small, {"sync": 0.5 * 1.0}) == "SI fast"
