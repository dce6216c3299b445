"""Tests of spikecore/compare.py: the metrics, their tolerances and compare.json."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spikecore.compare import (Tolerances, compare_populations, compare_runs, first_mismatch, format_table,
                               matched_spikes, rate_histogram_pvalue, van_rossum)
from spikecore.errors import ValidationError
from spikecore.result import Result

DT = 1e-4


def van_rossum_numeric(ta, tb, tau, t_end, h=1e-6):
    """D^2 = (1/tau) int (f - g)^2 dt on a fine grid, f and g the exp-filtered trains."""
    t = np.arange(0.0, t_end, h)

    def trace(ts):
        out = np.zeros_like(t)
        for s in ts:
            out += np.where(t >= s, np.exp(-(t - s) / tau), 0.0)
        return out

    d = trace(ta) - trace(tb)
    return math.sqrt(np.sum(d * d) * h / tau)


@pytest.mark.parametrize("ta, tb", [
    ([0.01, 0.03], [0.01, 0.03]),
    ([0.01], []),
    ([0.01, 0.012, 0.05], [0.011, 0.04]),
    ([0.005 * k for k in range(1, 30)], [0.005 * k + 0.001 for k in range(1, 25)]),   # merge path
])
def test_van_rossum_matches_the_integral(ta, tb):
    tau = 0.01
    exact = van_rossum(np.array(ta), np.array(tb), tau)
    numeric = van_rossum_numeric(ta, tb, tau, 0.3)
    assert exact == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_van_rossum_known_values():
    assert van_rossum(np.array([0.1]), np.array([]), 0.01) == pytest.approx(math.sqrt(0.5))
    assert van_rossum(np.array([0.1, 0.2]), np.array([0.1, 0.2]), 0.01) == pytest.approx(0.0, abs=1e-7)


def test_matched_spikes_one_to_one_within_the_window():
    a = np.array([0.0010, 0.0020, 0.0100])
    b = np.array([0.0011, 0.0021, 0.0022, 0.0200])
    assert matched_spikes(a, b, DT * 1.000001) == 2
    assert matched_spikes(a, a, DT) == 3
    assert matched_spikes(a, np.array([]), DT) == 0


def test_rate_histogram_test_separates_different_distributions():
    rng = np.random.default_rng(0)
    same_a, same_b = rng.poisson(20, 2000) / 1.0, rng.poisson(20, 2000) / 1.0
    shifted = rng.poisson(23, 2000) / 1.0
    assert rate_histogram_pvalue(same_a, same_b) > 0.01
    assert rate_histogram_pvalue(same_a, shifted) < 0.01
    assert rate_histogram_pvalue(np.zeros(10), np.zeros(10)) == 1.0


def _result(backend, trains, n=4, duration=1.0):
    """A Result of one population 'p' from {neuron: [times]}."""
    t = np.array([x for k in sorted(trains) for x in trains[k]], float)
    i = np.array([k for k in sorted(trains) for _ in trains[k]], np.int64)
    order = np.lexsort((i, t))
    return Result(backend=backend, duration=duration, dt=DT, wall_s=0.0, sizes={"p": n},
                  spikes={"p": (t[order], i[order])})


def regular(rate, n, jitter=0.0, seed=0, duration=1.0):
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(n):
        ts = np.arange(0.01 + 0.001 * k, duration, 1.0 / rate)
        ts = ts + rng.uniform(-jitter, jitter, ts.size) if jitter else ts
        out[k] = sorted(np.round(np.clip(ts, 0, duration - DT) / DT) * DT)
    return out


def test_identical_runs_agree_exactly():
    a = _result("x", regular(20, 50, jitter=0.01), n=50)
    b = _result("y", regular(20, 50, jitter=0.01), n=50)
    m = compare_populations(a, b, mode="exact")["p"]
    assert m["agree"] and m["matched_fraction"] == 1.0 and m["van_rossum"] == pytest.approx(0, abs=1e-6)
    assert m["first_mismatch_s"] is None and m["rate_hist_p"] == 1.0


def test_one_step_shift_is_matched_but_not_identical():
    trains = regular(20, 10, jitter=0.01)
    shifted = {k: [t + DT for t in v] for k, v in trains.items()}
    m = compare_populations(_result("x", trains, 10), _result("y", shifted, 10), mode="exact")["p"]
    assert m["matched_fraction"] == 1.0 and m["first_mismatch_s"] is not None
    assert 0 < m["van_rossum"] and m["checks"]["van_rossum"]["ok"] and m["agree"]
    two = {k: [t + 2 * DT for t in v] for k, v in trains.items()}
    m = compare_populations(_result("x", trains, 10), _result("y", two, 10), mode="exact")["p"]
    assert m["matched_fraction"] == 0.0 and not m["checks"]["van_rossum"]["ok"] and not m["agree"]


def test_rate_difference_beyond_tolerance_disagrees():
    a = _result("x", regular(20, 40, jitter=0.01, seed=1), n=40)
    b = _result("y", regular(22, 40, jitter=0.01, seed=2), n=40)
    m = compare_populations(a, b)["p"]
    assert not m["checks"]["rate"]["ok"] and not m["agree"]
    # statistical mode reports the spike-level metrics without judging them
    assert m["checks"]["matched_fraction"]["tolerance"] is None and m["checks"]["matched_fraction"]["ok"]
    assert compare_populations(a, b, Tolerances(rate_rel=0.2))["p"]["checks"]["rate"]["ok"]


def test_cv_difference_and_missing_isis():
    regular_trains = regular(20, 20)
    irregular = regular(20, 20, jitter=0.02, seed=3)
    m = compare_populations(_result("x", regular_trains, 20), _result("y", irregular, 20))["p"]
    assert m["cv_isi"]["x"] == pytest.approx(0.0, abs=1e-9) and m["cv_abs_diff"] > 0.05
    assert not m["checks"]["cv_isi"]["ok"]
    one_spike = {k: [0.5] for k in range(4)}
    m = compare_populations(_result("x", one_spike), _result("y", regular(20, 4)))["p"]
    assert not m["checks"]["cv_isi"]["ok"], "ISIs in one run only cannot agree"


def test_exact_mode_judges_spike_level_metrics():
    a = _result("x", regular(20, 30, jitter=0.01, seed=4), n=30)
    b = _result("y", regular(20, 30, jitter=0.01, seed=5), n=30)
    stat = compare_populations(a, b)["p"]
    exact = compare_populations(a, b, mode="exact")["p"]
    assert stat["agree"] and not exact["agree"]
    assert exact["matched_fraction"] < 0.99 and not exact["checks"]["matched_fraction"]["ok"]


def test_first_mismatch_is_the_earliest_difference():
    assert first_mismatch([0.001, 0.002], [0, 1], [0.001, 0.003], [0, 1], DT) == pytest.approx(0.002)
    assert first_mismatch([0.001], [0], [0.001], [0], DT) is None


def test_compare_runs_document_and_table():
    a = _result("native", regular(20, 10), n=10)
    b = _result("brian2", regular(20, 10), n=10)
    c = _result("lava", regular(30, 10), n=10)
    doc = compare_runs([a, b, c])
    assert doc["backends"] == ["native", "brian2", "lava"] and doc["reference"] == "native"
    assert not doc["agree"]
    p = doc["populations"]["p"]
    assert p["rate_hz"] == {"native": pytest.approx(a.rate("p")), "brian2": pytest.approx(b.rate("p")),
                            "lava": pytest.approx(c.rate("p"))}
    assert p["comparisons"]["brian2"]["agree"] and not p["comparisons"]["lava"]["agree"]
    table = format_table(doc)
    assert "brian2" in table and "lava" in table and " !" in table
    assert compare_runs([a, b])["agree"]


def test_compare_refuses_mismatched_runs():
    a = _result("x", regular(20, 4))
    with pytest.raises(ValidationError):
        compare_runs([a])
    with pytest.raises(ValidationError):
        compare_populations(a, _result("y", regular(20, 4, duration=0.5), duration=0.5))
    with pytest.raises(ValidationError):
        compare_populations(a, a, mode="approximate")
