"""The precision sweeps (hwmodels.precision): closed-form agreement, statistics, bad input."""
import math

import numpy as np
import pytest

from hwmodels import precision as P
from hwmodels.precision import Settings, condition, run_precision
from hwmodels.quantizers import bits_needed
from spikecore.errors import BackendUnavailable, ValidationError


def grid_task(B, copies=10):
    """Two features on a grid of 2^B levels; the class is the larger one, always by exactly one level.

    Telling the classes apart needs the inputs resolved to 1 / (2^B - 1): B bits of counter or clock."""
    L = 2 ** B - 1
    X, y = [], []
    for k in range(L):
        lo, hi = k / L, (k + 1) / L
        for _ in range(copies):
            X += [[hi, lo], [lo, hi]]
            y += [0, 1]
    return np.array(X), np.array(y)


def small_settings(**kw):
    base = dict(seeds=3, classifiers=("logreg",), counter_bits=tuple(range(1, 8)), clock_bits=tuple(range(1, 8)),
                weight_bits=(8,), conditions=(condition("noiseless"),), weight_conditions=(), jitter_series=(),
                series_classifier="logreg")
    base.update(kw)
    return Settings(**base)


@pytest.mark.parametrize("B", [3, 4])
def test_noiseless_min_bits_match_the_closed_form(B):
    X, y = grid_task(B)
    levels = len(np.unique(X))
    predicted = bits_needed(levels)                   # log2(N + 1) = log2(T/dt + 1) = B
    assert predicted == B
    rep = run_precision((X, y), ("ideal",), settings=small_settings(), jobs=1)
    assert rep["float_accuracy"] == 1.0
    rate = rep["min_bits"]["rate"]["noiseless"]["counter"]
    temporal = rep["min_bits"]["temporal"]["noiseless"]["clock"]
    assert rate is not None and abs(rate - predicted) <= 1
    assert temporal is not None and abs(temporal - predicted) <= 1
    # and one bit fewer than needed is measurably worse: the sweep does resolve the requirement
    curve = rep["by_profile"]["ideal"]["logreg"]["curves"]["temporal"]["noiseless"]["clock"]
    assert curve[predicted - 2]["accuracy"] < 0.9


def test_statistics_and_min_bits_rule():
    m, lo, hi = P.mean_ci([0.9, 0.92, 0.94])
    assert m == pytest.approx(0.92)
    assert hi - m == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)   # t(0.975, 2) = 4.3027
    pts = [{"bits": b, "diff_low": d} for b, d in [(1, -0.5), (2, -0.005), (3, -0.02), (4, -0.004), (5, 0.0),
                                                   (6, -0.011), (7, -0.002)]]
    assert P.min_bits_from_curve(pts, 0.01) == 4          # 2 passes alone; 4 and 5 pass together
    assert P.min_bits_from_curve(pts[:3], 0.01) is None
    assert P.min_bits_from_curve(pts[:4], 0.01) == 4      # the top of the sweep confirms itself
    assert P.min_bits_from_curve(pts, 0.01, confirm=1) == 2


def test_theory_curves():
    assert [P.bits_regular(b) for b in (1, 3, 8)] == [1, 3, 8]                  # log2(N + 1), N = 2^b - 1
    assert P.bits_poisson(5) == pytest.approx(0.5 * math.log2(31))
    assert P.bits_clock(6) == pytest.approx(6)                                  # log2(T/dt + 1) without jitter
    assert P.bits_clock(12, sigma=1e-3) < P.jitter_ceiling(1e-3) < P.bits_clock(12)
    assert P.jitter_ceiling(0.128 / math.sqrt(12)) == pytest.approx(1.0)
    assert P.predicted_bits(4, P.bits_regular) == 4
    assert P.predicted_bits(4, P.bits_poisson) == 9                             # 1/2 log2(511) >= 4
    assert P.predicted_bits(6, lambda b: P.bits_clock(b, 10e-3)) is None        # beyond the jitter ceiling


def test_iris_report_structure_and_workers_agree():
    s = small_settings(seeds=2, classifiers=("logreg", "mlp"), counter_bits=(1, 2, 3, 4), clock_bits=(1, 2, 3, 4),
                       weight_bits=(2, 4), reference_bits=4,
                       conditions=(condition("noiseless"), condition("poisson"), condition("loss", 0.2)),
                       weight_conditions=("noiseless",), jitter_series=(8e-3,), series_classifier="mlp", max_test=20)
    one = run_precision("iris", ("ideal", "loihi"), settings=s, jobs=1)
    two = run_precision("iris", ("ideal", "loihi"), settings=s, jobs=2)
    assert set(one["min_bits"]) == {"rate", "temporal"}
    assert set(one["min_bits"]["rate"]) == {"noiseless", "poisson", "loss_0.2"}
    assert set(one["min_bits"]["temporal"]) == {"noiseless", "loss_0.2"}           # Poisson is a rate-code axis
    assert set(one["min_bits"]["rate"]["noiseless"]) == {"counter", "weight"}
    assert set(one["min_bits"]["temporal"]["noiseless"]) == {"clock", "weight"}
    assert set(one["by_profile"]) == {"ideal", "loihi"}
    assert set(one["by_profile"]["loihi"]) == {"logreg", "mlp"}
    assert 0.5 < one["float_accuracy"] <= 1.0
    for prof in ("ideal", "loihi"):
        for kind in ("logreg", "mlp"):
            a = one["by_profile"][prof][kind]["curves"]
            b = two["by_profile"][prof][kind]["curves"]
            assert a == b                                  # seeds make the result independent of scheduling
    assert one["continuous"]["conditions"] == two["continuous"]["conditions"]
    pt = one["by_profile"]["ideal"]["mlp"]["curves"]["rate"]["noiseless"]["counter"][-1]
    assert pt["spikes"] > 0 and pt["synops"] > pt["spikes"] and pt["latency"] == 15 + 4
    series = one["by_profile"]["ideal"]["mlp"]["theory"]["jitter_series"]
    assert [r["condition"] for r in series] == ["noiseless", "jitter_8ms"]


def test_bad_input_is_a_clear_error():
    X, y = grid_task(2)
    with pytest.raises(ValidationError, match="task: got 'mnist'"):
        run_precision("mnist")
    with pytest.raises(ValidationError, match="profile: got 'truenorth'"):
        run_precision("iris", "truenorth", settings=small_settings())
    with pytest.raises(ValidationError, match=r"y: got '59 labels', expected one label per row of X \(60\)"):
        run_precision((X, y[:-1]), settings=small_settings())
    with pytest.raises(ValidationError, match="counter_bits: got 0"):
        run_precision((X, y), settings=small_settings(counter_bits=(0, 1, 2)))
    with pytest.raises(ValidationError, match="clock_bits: got -2"):
        run_precision((X, y), settings=small_settings(clock_bits=(-2,)))
    with pytest.raises(ValidationError, match="coding scheme: got 'phase'"):
        P.simulate_point(P.conv.FloatModel([(np.eye(2), np.zeros(2))]), X, y, "ideal", "phase",
                         condition("noiseless"), 3, None, 0)
    with pytest.raises(ValidationError, match="classifier"):
        run_precision((X, y), settings=small_settings(classifiers=("svm",)))
    with pytest.raises(ValidationError, match="seeds"):
        run_precision((X, y), settings=small_settings(seeds=1))
    with pytest.raises(ValidationError, match="--jobs"):
        run_precision((X, y), settings=small_settings(), jobs=0)
    with pytest.raises(ValidationError, match="continuous_bits: got 21"):
        run_precision((X, y), settings=small_settings(continuous_bits=(4, 21)))
    with pytest.raises(ValidationError, match="continuous_conditions: got 'loss_0.1'"):
        run_precision((X, y), settings=small_settings(continuous_conditions=(condition("loss", 0.1),)))
    with pytest.raises(ValidationError, match="continuous_samples"):
        run_precision((X, y), settings=small_settings(continuous_samples=0))


def test_continuous_reference_in_the_report():
    """The clock measured against the continuous-time reference (precise mode) inside run_precision."""
    s = small_settings(clock_bits=(2, 3, 4, 5, 6, 7, 8), continuous_samples=40,
                       continuous_conditions=(condition("noiseless"), condition("jitter", 2e-3),
                                              condition("drift", 30000)))
    rep = run_precision("iris", ("ideal",), settings=s, jobs=1)
    c = rep["continuous"]
    assert c["samples"] == 40 and c["seeds"] == 3 and c["classifier"] == "logreg"
    ref = c["reference"]
    assert ref["construction_agreement"] == 1.0 and ref["construction_max_error_s"] < 1e-6
    assert ref["accuracy"] == pytest.approx(ref["float_accuracy"], abs=0.05)
    rows = c["conditions"]["noiseless"]
    rms = [r["rms_output_s"] for r in rows]
    assert all(a > b for a, b in zip(rms, rms[1:]))                 # every extra bit helps ...
    assert 1.7 < c["error_factor_per_bit"] < 2.4                    # ... by about 2
    assert rows[-1]["agreement"] > rows[0]["agreement"]
    for name in ("jitter_2ms", "drift_30000ppm"):
        cont, *clocks = c["conditions"][name]
        assert cont["bits"] is None and cont["rms_output_s"] > 0     # the noise alone, in continuous time
        # a fine clock carries the noise's error; against the noisy continuous network, its own
        assert clocks[-1]["rms_output_s"] == pytest.approx(cont["rms_output_s"], rel=0.3)
        assert clocks[-1]["rms_vs_same_noise_s"] < 0.3 * cont["rms_output_s"]
    off = run_precision("iris", ("ideal",), settings=small_settings(continuous=False, clock_bits=(2,),
                                                                     counter_bits=(2,)), jobs=1)
    assert "continuous" not in off


def test_dask_scheduler_without_distributed_says_how_to_install():
    pytest.importorskip("numpy")
    try:
        import distributed  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailable, match="pip install"):
            run_precision("iris", settings=small_settings(), scheduler="tcp://127.0.0.1:8786")
    else:
        pytest.skip("distributed is installed")


def test_adaptive_sweeps_stop_when_the_criterion_holds_or_cannot_be_reached():
    X, y = grid_task(3)
    s = small_settings(counter_bits=tuple(range(1, 11)), clock_bits=tuple(range(1, 11)),
                       conditions=(condition("noiseless"), condition("jitter", 1e-3), condition("loss", 0.5)))
    rep = run_precision((X, y), ("ideal",), settings=s, jobs=1)
    curves = rep["by_profile"]["ideal"]["logreg"]["curves"]
    assert len(curves["temporal"]["noiseless"]["clock"]) == 10          # noiseless: the full range
    passed = curves["temporal"]["jitter_1ms"]["clock"]                 # stops two bit counts after passing
    assert rep["min_bits"]["temporal"]["jitter_1ms"]["clock"] == passed[-2]["bits"] < 10
    lossy = curves["temporal"]["loss_0.5"]["clock"]                    # a plateau far below the band
    assert rep["min_bits"]["temporal"]["loss_0.5"]["clock"] is None and len(lossy) < 10
    assert all(p["diff_high"] < -0.01 for p in lossy[-3:])


def test_training_leaves_the_multiprocessing_context_unset():
    """joblib fixes the default context inside LogisticRegression.fit; Lava's import needs it unset."""
    import multiprocessing as mp

    mp.set_start_method(None, force=True)
    Xtr, _, ytr, _, _ = P.load_task("iris", 0)
    P.train("logreg", Xtr, ytr, 0)
    assert mp.get_start_method(allow_none=True) is None
