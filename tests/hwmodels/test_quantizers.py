"""Quantizers against values computed by hand (hwmodels.quantizers)."""
import math

import numpy as np
import pytest

from hwmodels.quantizers import (ClockQuantizer, CounterQuantizer, DecayQuantizer, StateQuantizer, WeightQuantizer,
                                 bits_needed, round_to_int, shared_exponent)
from spikecore.errors import ValidationError


def test_rounding_modes_by_hand():
    x = np.array([1.5, -1.5, 2.5, -0.4, 0.7])
    assert round_to_int(x, "round").tolist() == [2, -2, 3, -0.0, 1]     # half away from zero
    assert round_to_int(x, "truncate").tolist() == [1, -1, 2, 0, 0]
    assert round_to_int(x, "floor").tolist() == [1, -2, 2, -1, 0]


def test_weights_per_tensor_round_and_truncate():
    w = [0.5, -1.0, 0.26, 0.9]
    q = WeightQuantizer(3).quantize(w)          # codes [-4, 3], scale max|w| / 3
    assert q.scale == pytest.approx(1 / 3)
    assert q.codes.tolist() == [2, -3, 1, 3]     # 1.5 -> 2, -3, 0.78 -> 1, 2.7 -> 3
    assert WeightQuantizer(3)(w) == pytest.approx([2 / 3, -1.0, 1 / 3, 1.0])
    t = WeightQuantizer(3, rounding="truncate").quantize(w)
    assert t.codes.tolist() == [1, -3, 0, 2]


def test_weights_twos_complement_and_symmetric_ranges():
    assert WeightQuantizer(3).code_range == (-4, 3)
    assert WeightQuantizer(3, symmetric=True).code_range == (-3, 3)
    assert WeightQuantizer(3, signed=False).code_range == (0, 7)
    # 1-bit signed: codes {-1, 0}, scale max|w|: positive weights vanish, negative ones keep their sign
    q = WeightQuantizer(1).quantize([0.8, -0.8, -0.3])
    assert q.codes.tolist() == [0, -1, -0.0]
    with pytest.raises(ValidationError, match="unsigned"):
        WeightQuantizer(4, signed=False).quantize([-0.1, 0.2])


def test_weights_per_channel():
    w = np.array([[1.0, -0.5], [0.1, 0.05]])
    q = WeightQuantizer(2, scale="channel").quantize(w)   # q_max 1: each row scaled by its own max
    assert q.scale.ravel().tolist() == pytest.approx([1.0, 0.1])
    assert q.codes.tolist() == [[1, -1], [1, 1]]   # -0.5 -> -1 and 0.5 -> 1 (half away from zero)
    with pytest.raises(ValidationError, match="2-D"):
        WeightQuantizer(2, scale="channel").quantize([1.0, 2.0])


def test_weights_shared_exponent_negative_and_clipped():
    q = WeightQuantizer(4, scale="shared_exponent").quantize([3.0, -0.75])
    assert q.exponent == -1                      # 3 / 2^-1 = 6 <= 7, 3 / 2^-2 = 12 > 7
    assert q.codes.tolist() == [6, -2]           # -1.5 rounds away from zero
    assert q.values.tolist() == [3.0, -1.0]
    c = WeightQuantizer(4, scale="shared_exponent", exponent_range=(0, 3)).quantize([3.0, -0.75])
    assert c.exponent == 0 and c.codes.tolist() == [3, -1]
    assert shared_exponent(100.0, 127) == 0 and shared_exponent(300.0, 127) == 2
    assert shared_exponent(0.01, 127) == -13     # 0.01 * 2^13 = 81.9 fits, 0.01 * 2^14 = 163.8 does not
    assert shared_exponent(0.0, 127) == 0


def test_stochastic_rounding_is_seeded_and_unbiased():
    w = np.full(20000, 0.3)
    a = WeightQuantizer(4, rounding="stochastic", seed=3, scale="shared_exponent", exponent_range=(0, 0)).quantize(w)
    b = WeightQuantizer(4, rounding="stochastic", seed=3, scale="shared_exponent", exponent_range=(0, 0)).quantize(w)
    assert np.array_equal(a.codes, b.codes)
    assert set(np.unique(a.codes)) == {0.0, 1.0}
    assert a.codes.mean() == pytest.approx(0.3, abs=0.02)
    with pytest.raises(ValidationError, match="weights.seed"):
        WeightQuantizer(4, rounding="stochastic")


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_zero_or_bad_bits_refused_everywhere(bad):
    for make in (lambda: WeightQuantizer(bad), lambda: CounterQuantizer(bad), lambda: StateQuantizer(bad),
                 lambda: ClockQuantizer(bad, 0.1)):
        with pytest.raises(ValidationError, match="bits"):
            make()


def test_counter_saturate_vs_wrap():
    assert CounterQuantizer(3)([0, 7, 8, 20]).tolist() == [0, 7, 7, 7]
    assert CounterQuantizer(3, "wrap")([0, 7, 8, 20]).tolist() == [0, 7, 0, 4]
    assert CounterQuantizer(1)([0, 1, 2]).tolist() == [0, 1, 1]
    with pytest.raises(ValidationError, match="counter.overflow"):
        CounterQuantizer(3, "clip")
    with pytest.raises(ValidationError, match="counts"):
        CounterQuantizer(3)([-1, 2])


def test_clock_ticks_drift_and_wrap():
    c = ClockQuantizer(4, 0.015)                   # 15 ticks of 1 ms
    assert c.tick == pytest.approx(1e-3)
    assert c([0.0, 1.1e-3, 0.015, 0.5]).tolist() == [0, 1, 15, 15]
    assert ClockQuantizer(4, 0.015, overflow="wrap")([0.5]).tolist() == [500 % 16]
    assert ClockQuantizer(4, 0.015, drift_ppm=1e5)([10e-3]).tolist() == [11]   # 10% fast clock
    assert ClockQuantizer(4, 0.015, drift_ppm=-1e5)([10e-3]).tolist() == [9]


def test_clock_jitter_is_seeded_gaussian():
    c = ClockQuantizer(12, 4.095, jitter=3e-3, seed=1)   # tick 1 ms, sigma 3 ticks
    t = np.full(20000, 2.0)
    k = c(t)
    assert np.array_equal(k, ClockQuantizer(12, 4.095, jitter=3e-3, seed=1)(t))
    assert (k - 2000).mean() == pytest.approx(0.0, abs=0.1)
    assert (k - 2000).std() == pytest.approx(math.sqrt(9 + 1 / 12), rel=0.05)   # rounding adds dt^2/12
    with pytest.raises(ValidationError, match="clock.seed"):
        ClockQuantizer(4, 0.1, jitter=1e-3)


def test_clock_from_tick_and_window_shorter_than_a_tick():
    assert ClockQuantizer.from_tick(10e-3, 1e-3).bits == 4      # 11 timestamps need 4 bits
    assert ClockQuantizer.from_tick(15e-3, 1e-3).bits == 4
    assert ClockQuantizer.from_tick(16e-3, 1e-3).bits == 5
    with pytest.raises(ValidationError, match="clock.window"):
        ClockQuantizer.from_tick(0.5e-3, 1e-3)
    with pytest.raises(ValidationError, match="clock.window"):
        ClockQuantizer(8, 0.0)


def test_state_saturate_wrap_and_rounding():
    s = StateQuantizer(4)                          # saturating registers are symmetric: [-7, 7]
    assert s([-9, 3.7, 8.2, -3.7]).tolist() == [-7, 3, 7, -3]
    w = StateQuantizer(4, overflow="wrap")         # two's complement wrap: [-8, 7]
    assert w([8.2, 9, -9]).tolist() == [-8, -7, 7]
    f = StateQuantizer(8, lsb=0.25, rounding="floor")
    assert f([1.3, -1.3]).tolist() == [1.25, -1.5]
    loihi_v = StateQuantizer(24)
    assert loihi_v([2.0 ** 30]).tolist() == [2 ** 23 - 1]


def test_decay_formats_by_hand():
    f = math.exp(-0.1)                              # 0.904837...
    m = DecayQuantizer("multiplier", 12)
    assert m.code(f) == 390                         # round(4096 * 0.095163) = round(389.79)
    assert m(f) == pytest.approx((4096 - 390) / 4096)
    assert m.code(1.0) == 0 and m(1.0) == 1.0       # no decay is representable
    assert m.code(0.0) == 4095                      # a full reset is not: 12 bits stop at 4095
    s = DecayQuantizer("shift", 4)
    assert s.code(0.9) == 3 and s(0.9) == 0.875     # -log2(0.1) = 3.32 -> shift 3
    assert s(1.0) == 1 - 2.0 ** -15                 # the largest shift a 4-bit field holds
    x = DecayQuantizer("fixed", 8)
    assert x(0.3) == 77 / 256                       # 76.8 -> 77
    assert DecayQuantizer()(0.3) == 0.3
    assert m.tau(np.inf, 1e-3) == np.inf
    with pytest.raises(ValidationError, match="decay.bits"):
        DecayQuantizer("shift")


def test_bits_needed():
    assert [bits_needed(n) for n in (1, 2, 3, 4, 5, 16, 17)] == [1, 1, 2, 2, 3, 4, 5]
