"""The continuous-time reference of the temporal code (hwmodels.continuous), run in the native
engine's precise mode (nothing mocked): closed forms on hand-computable nets, agreement with the
float classifier, and the b-bit clock's timing error measured against it."""
import numpy as np
import pytest

from hwmodels import continuous as ct
from hwmodels.coding import TemporalCode
from hwmodels.conversion import WINDOW, FloatModel, normalize
from hwmodels.precision import load_task, train
from spikecore.errors import ValidationError

T = WINDOW
E = ct.EDGE_FRACTION * T      # the construction's edge width


# Two inputs, three hidden neurons, two outputs. With x = (0.8, 0.3):
#   hidden a = (0.4 + 0.075 + 0.1, -0.8 + 0.15, 0.8 + 0.3 + 0.4) = (0.575, -0.65, 1.5)
#   -> clipped to [0, 1]: h = (0.575, 0, 1); first spikes at T (1 - h) = (0.425 T, T, 0)
#   outputs a = (0.575 - 0.4 + 0.05, 0.115 + 0.5 + 0.1) = (0.225, 0.715) -> spikes at (0.775 T, 0.285 T)
TWO_LAYER = FloatModel([(np.array([[0.5, 0.25], [-1.0, 0.5], [1.0, 1.0]]), np.array([0.1, 0.0, 0.4])),
                        (np.array([[1.0, 0.5, -0.4], [0.2, -0.3, 0.5]]), np.array([0.05, 0.1]))])


def test_perfect_integrator_first_spike_times_by_hand():
    # One layer: after the window v = THETA a exactly (the integral of the currents w_i from
    # (1 - x_i) T, and b from 0, over the window, times THETA / T), then the unit ramp adds
    # THETA s / T: the first crossing of THETA is at s = T (1 - a).
    m = FloatModel([(np.array([[0.5], [0.2]]), np.array([0.1, -0.3]))])
    ref = ct.continuous_reference(m, np.array([[0.6], [1.0], [0.0]]))
    expected = T * np.array([[1 - 0.4, 1 - (-0.18)], [1 - 0.6, 1 - (-0.1)], [1 - 0.1, 1 - (-0.3)]])
    assert np.max(np.abs(ref.output - expected)) < 1e-10 * T     # float rounding of the edge width only
    assert ref.decide().tolist() == [[True, False]] * 3
    # off-grid input times given directly: x = 1 - t / T
    t = np.array([[0.0123], [0.1]])
    ref = ct.continuous_reference(m, times=t)
    a = np.array([0.5, 0.2]) * (1 - t / T) + np.array([0.1, -0.3])
    assert np.max(np.abs(ref.output - T * (1 - a))) < 1e-10 * T


def test_two_layers_relu_and_clipping_by_hand():
    ref = ct.continuous_reference(TWO_LAYER, np.array([[0.8, 0.3]]))
    hid, out = ref.times
    assert hid[0, 0] == pytest.approx(0.425 * T, abs=1e-10 * T)
    assert T - E <= hid[0, 1] <= T                    # a <= 0: the kick fires it within an edge of x = 0
    assert -E < hid[0, 2] <= 0                        # a > 1: fires inside the pulse, just before x = 1
    # the outputs see those two neurons off by at most E each, weighted by |w| <= 0.5
    assert out[0] == pytest.approx([0.775 * T, 0.285 * T], abs=E)
    closed = ct.construction_times(TWO_LAYER, np.array([[0.8, 0.3]]))
    assert np.allclose(closed[0], [[0.425 * T, T, 0.0]]) and np.allclose(closed[1], [[0.775 * T, 0.285 * T]])


def test_result_does_not_depend_on_step_or_hop_delay():
    X = np.array([[0.8, 0.3], [0.05, 0.95]])
    base = ct.continuous_reference(TWO_LAYER, X)
    for hop, dt in ((0.0137, 0.005), (0.0137, 0.0137 * 0.3)):     # off-grid hop delays
        other = ct.continuous_reference(TWO_LAYER, X, hop=hop, dt=dt)
        for a, b in zip(base.times, other.times):
            assert np.allclose(a, b, rtol=0, atol=1e-12 * T, equal_nan=True)


def test_drift_and_jitter_inputs_by_hand_and_as_the_clock_reads_them():
    m = FloatModel([(np.array([[0.5], [0.2]]), np.array([0.1, -0.3]))])
    X = np.array([[0.6], [0.2]])
    # drift: the receiving clock runs fast, input times stretch by 1 + drift
    drift = 50_000.0                                                  # ppm
    ref = ct.continuous_reference(m, X, drift_ppm=drift)
    t_in = (1 - X) * T * 1.05
    a = np.array([0.5, 0.2]) * (1 - t_in / T) + np.array([0.1, -0.3])
    assert np.max(np.abs(ref.output - T * (1 - a))) < 1e-10 * T
    # the clock's ticks are these continuous (noisy) times, quantized
    rng = np.random.default_rng(0)
    Xs = rng.uniform(0, 1, (50, 6))
    for jitter, drift in ((0.0, 0.0), (3e-3, 0.0), (2e-3, 20_000.0)):
        t = ct.input_times(Xs, jitter=jitter, drift_ppm=drift, seed=11)
        code = TemporalCode(6, jitter=jitter, drift_ppm=drift, seed=11)
        assert np.abs(code.spike_ticks(Xs) - t / code.tick).max() <= 0.5 + 1e-9


@pytest.fixture(scope="module")
def digits_mlp():
    Xtr, Xte, ytr, yte, _ = load_task("digits", 0, max_test=60)
    return normalize(train("mlp", Xtr, ytr, 0, hidden=32), Xtr), Xte, yte


def test_reference_reproduces_the_float_classifier(digits_mlp):
    model, X, y = digits_mlp
    ref = ct.continuous_reference(model, X)
    closed = ct.construction_times(model, X)
    for a, b in zip(ref.times, closed):      # the construction's closed form, to a few edge widths
        both = ~np.isnan(a) & ~np.isnan(b)
        assert (np.isnan(a) == np.isnan(b)).mean() > 0.99
        assert np.abs(a - b)[both].max() < 8 * E
    acts = ct.clipped_activations(model, X)
    assert ct.agreement(ref.decide(), ct.first_winners(closed[-1])) == 1.0
    # against the float argmax: identical wherever the code does not clip (no output reaches 1,
    # no hidden activation exceeds 1); disagreements can only come from clipping
    win = ref.decide()
    pred = model.predict(X)
    unclipped = (acts[-1].max(axis=1) < 1) & (acts[0].max(axis=1) <= 1)
    assert unclipped.mean() > 0.5
    assert np.all(win[unclipped].sum(axis=1) == 1)
    assert np.all(win[unclipped, pred[unclipped]])


def test_clock_timing_error_halves_per_bit_and_vanishes(digits_mlp):
    model, X, y = digits_mlp
    X = X[:30]
    ref = ct.continuous_reference(model, X)
    rms, bias = [], []
    for b in range(3, 11):
        e = ct.timing_error(ct.clock_times(model, X, b), ref)
        rms.append(e["output"]["rms_s"])
        bias.append(e["output"]["mean_s"])
        tick = T / (2 ** b - 1)
        assert e["output"]["rms_s"] < tick                 # first order: a fraction of one tick
        assert abs(e["output"]["mean_s"]) < tick / 2
    ratios = np.array(rms[:-1]) / np.array(rms[1:])
    assert np.all((ratios > 1.6) & (ratios < 2.6)), ratios
    assert 1.85 < np.exp(np.mean(np.log(ratios))) < 2.2
    # -> 0 against the reference, and the decision converges to the reference's
    e = ct.timing_error(ct.clock_times(model, X, 12), ref)
    assert e["agreement"] >= 0.99 and e["output"]["rms_s"] < rms[-1] / 3 < 3e-4 * T


def test_jitter_and_drift_measured_against_the_reference(digits_mlp):
    model, X, y = digits_mlp
    X = X[:30]
    ref = ct.continuous_reference(model, X)
    noise = {}
    for sigma in (0.5e-3, 1e-3, 2e-3):
        noisy = ct.continuous_reference(model, X, jitter=sigma, seed=3)
        noise[sigma] = ct.timing_error(noisy, ref)["output"]["rms_s"]
        # a fine clock under the same jitter sits on the continuous noisy network ...
        clk = ct.clock_times(model, X, 12, jitter=sigma, seed=3)
        assert ct.timing_error(clk, noisy)["output"]["rms_s"] < T / 4095
        # ... so against the reference it carries the jitter's error, not the clock's
        assert ct.timing_error(clk, ref)["output"]["rms_s"] == pytest.approx(noise[sigma], rel=0.1)
    # small jitter: the output error grows in proportion (the network is linear in its input times)
    assert noise[1e-3] / noise[0.5e-3] == pytest.approx(2, rel=0.15)
    assert noise[2e-3] / noise[1e-3] == pytest.approx(2, rel=0.15)
    # drift: a 1% fast clock reads every input 1% later: x' = 1 - 1.01 (1 - x), exactly what the
    # continuous network then computes; against the reference that is the drift's error, and a
    # fine clock under drift carries the same, a coarse one more
    drifted = ct.continuous_reference(model, X, drift_ppm=10_000)
    closed = ct.construction_times(model, np.clip(1 - 1.01 * (1 - X), 0, 1))
    both = ~np.isnan(drifted.output) & ~np.isnan(closed[-1])
    assert np.abs(drifted.output - closed[-1])[both].max() < 8 * E
    d = ct.timing_error(drifted, ref)["output"]["rms_s"]
    assert d > 1e-4 * T
    fine = ct.timing_error(ct.clock_times(model, X, 12, drift_ppm=10_000), ref)["output"]["rms_s"]
    assert fine == pytest.approx(d, rel=0.1)
    coarse = ct.timing_error(ct.clock_times(model, X, 4, drift_ppm=10_000), ref)["output"]["rms_s"]
    assert coarse > 2 * d


def test_bad_input_is_a_clear_error():
    m = FloatModel([(np.array([[0.5], [0.2]]), np.array([0.1, -0.3]))])
    with pytest.raises(ValidationError, match="model"):
        ct.continuous_reference([(np.eye(2), np.zeros(2))], np.zeros((1, 2)))
    with pytest.raises(ValidationError, match="exactly one of X or times"):
        ct.continuous_reference(m)
    with pytest.raises(ValidationError, match="exactly one of X or times"):
        ct.continuous_reference(m, np.zeros((1, 1)), times=np.zeros((1, 1)))
    with pytest.raises(ValidationError, match=r"input_times: got 'array of shape \(1, 2\)'"):
        ct.continuous_reference(m, times=np.zeros((1, 2)))
    with pytest.raises(ValidationError, match="within the window"):
        ct.continuous_reference(m, times=np.array([[0.2]]))
    with pytest.raises(ValidationError, match="within the window"):
        ct.continuous_reference(m, times=np.array([[np.nan]]))
    with pytest.raises(ValidationError, match="features scaled to"):
        ct.continuous_reference(m, np.array([[1.5]]))
    with pytest.raises(ValidationError, match="jitter"):
        ct.continuous_reference(m, np.array([[0.5]]), jitter=-1.0)
    with pytest.raises(ValidationError, match="window"):
        ct.continuous_reference(m, np.array([[0.5]]), window=0)
    with pytest.raises(ValidationError, match="hop"):
        ct.build_continuous_network(m, np.zeros((1, 1)), hop=-1e-3)
    with pytest.raises(ValidationError, match="dt"):
        ct.build_continuous_network(m, np.zeros((1, 1)), hop=1e-3, dt=2e-3)     # delays must be >= dt
    with pytest.raises(ValidationError, match="dt"):
        ct.build_continuous_network(m, np.zeros((1, 1)), hop=0.05, dt=0.05)     # the edges need dt <= T/16
    with pytest.raises(ValidationError, match="clock bits"):
        ct.clock_times(m, np.array([[0.5]]), 0)
    ref = ct.continuous_reference(m, np.array([[0.5]]))
    with pytest.raises(ValidationError, match="layers"):
        ct.timing_error(ct.continuous_reference(TWO_LAYER, np.array([[0.5, 0.5]])), ref)
