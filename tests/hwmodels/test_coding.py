"""Rate and temporal codes: encoders against hand-computed spike trains, decoders and ties (hwmodels.coding)."""
import numpy as np
import pytest

from hwmodels.coding import RateCode, TemporalCode, check_code, expected_accuracy
from spikecore.errors import ValidationError


def _sample(ev, k):
    a, b = ev.ptr[k], ev.ptr[k + 1]
    return ev.step[a:b], ev.index[a:b], ev.mult[a:b]


def test_regular_rate_code_by_hand():
    enc = RateCode(3)                                  # N = 7 ticks, counts round(7 x)
    ev = enc.encode([[1.0, 0.5, 0.0, 0.3]])
    st, ix, mu = _sample(ev, 0)
    trains = {i: st[ix == i].tolist() for i in range(4)}
    assert trains[0] == [0, 1, 2, 3, 4, 5, 6]          # every tick
    assert trains[1] == [0, 2, 4, 6]                   # 4 spikes at floor((k + 0.5) 7 / 4)
    assert trains[2] == []
    assert trains[3] == [1, 5]                         # round(2.1) = 2 spikes at floor(1.75), floor(5.25)
    assert (mu == 1).all()
    assert list(st) == sorted(st)                      # (tick, input) order, as the simulator expects


def test_rate_drift_is_a_gain_and_several_spikes_share_a_tick():
    ev = RateCode(2, drift_ppm=1e6 * 0.5).encode([[1.0]])   # 3 ticks, 1.5x clock: round(4.5) = 5 spikes
    st, ix, mu = _sample(ev, 0)
    assert mu.sum() == 5 and mu.max() == 2 and st.max() <= 2


def test_poisson_rate_code_mean_and_seed():
    X = np.full((400, 3), [0.0, 0.25, 1.0])
    a = RateCode(6, generation="poisson", seed=7).encode(X)
    b = RateCode(6, generation="poisson", seed=7).encode(X)
    assert np.array_equal(a.step, b.step) and np.array_equal(a.mult, b.mult)
    totals = np.zeros(3)
    np.add.at(totals, a.index, a.mult)
    assert totals / 400 == pytest.approx([0.0, 0.25 * 63, 63.0], rel=0.05)
    assert a.step.max() < 63


def test_rate_jitter_moves_spikes_within_the_window():
    X = np.full((50, 2), 0.5)
    clean = RateCode(5).encode(X)
    shaken = RateCode(5, jitter=4e-3, seed=2).encode(X)     # tick 128/31 ms: about 1 tick of jitter
    assert shaken.mult.sum() == clean.mult.sum()             # counts unchanged
    assert not np.array_equal(np.repeat(shaken.step, shaken.mult), np.repeat(clean.step, clean.mult))
    assert shaken.step.min() >= 0 and shaken.step.max() <= 30


def test_temporal_code_by_hand():
    enc = TemporalCode(3)                              # K = 7 ticks: x -> round((1 - x) 7)
    st, ix, mu = _sample(enc.encode([[1.0, 0.5, 0.0, 0.3]]), 0)
    assert dict(zip(ix.tolist(), st.tolist())) == {0: 0, 1: 4, 2: 7, 3: 5}   # 3.5 rounds away from zero
    assert list(st) == sorted(st) and (mu == 1).all()
    late = TemporalCode(3, drift_ppm=2e5).spike_ticks([[0.0, 0.5]])       # 20% fast: 8.4 saturates at 7
    assert late.tolist() == [[7, 4]]


def test_decoders_and_ties():
    counts = np.array([[3, 9, 9], [0, 0, 0], [5, 1, 2]])
    win = RateCode(3).decide(counts)                   # 3-bit counter saturates at 7: 9 and 9 tie
    assert win.tolist() == [[False, True, True], [True, True, True], [True, False, False]]
    wrap = RateCode(3).decide(counts, "wrap")          # 9 wraps to 1: class 0 wins
    assert wrap[0].tolist() == [True, False, False]
    first = np.array([[12, 10, -1], [-1, -1, -1]])
    assert TemporalCode.decide(first).tolist() == [[False, True, False], [True, True, True]]
    credit = expected_accuracy(win, [1, 2, 0])
    assert credit.tolist() == [0.5, 1 / 3, 1.0]


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValidationError, match="coding scheme: got 'phase'"):
        check_code("phase")
    for bad in (0, -1):
        with pytest.raises(ValidationError, match="counter bits"):
            RateCode(bad)
        with pytest.raises(ValidationError, match="clock bits"):
            TemporalCode(bad)
    with pytest.raises(ValidationError, match="generation"):
        RateCode(3, generation="bursty")
    with pytest.raises(ValidationError, match="X"):
        RateCode(3).encode([[1.5]])
    with pytest.raises(ValidationError, match="y: got '2 labels', expected one label per sample"):
        expected_accuracy(np.ones((3, 2), bool), [0, 1])
    with pytest.raises(ValidationError, match="jitter"):
        TemporalCode(3, jitter=-1e-3)
