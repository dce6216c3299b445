"""The activity measures of benchmarks/microcircuit.py on spike trains whose answers are known:
independent Poisson neurons (CV 1, correlation 0), clock-like neurons (CV 0) and neurons that
all fire together (correlation 1), and the verdicts built on them."""
import numpy as np
import pytest

from benchmarks import microcircuit as mc


def _trains(per_neuron):
    times = np.concatenate(per_neuron)
    senders = np.concatenate([np.full(t.size, k) for k, t in enumerate(per_neuron)])
    return times, senders


def test_poisson_neurons_are_irregular_and_uncorrelated():
    rng = np.random.default_rng(1)
    trains = [np.sort(rng.uniform(0, 20, rng.poisson(200))) for _ in range(100)]
    st = mc.population_statistics(*_trains(trains), 100, 0.0, 20.0)
    assert st["rate_hz"] == pytest.approx(sum(t.size for t in trains) / 100 / 20)
    assert st["cv_isi"] == pytest.approx(1.0, abs=0.05) and abs(st["corr"]) < 0.01


def test_clock_like_and_synchronous_neurons():
    regular = [np.arange(0.0, 10.0, 0.1) + 0.002 + 1e-5 * k for k in range(50)]   # all fire in the same bins
    st = mc.population_statistics(*_trains(regular), 50, 0.0, 10.0)
    assert st["cv_isi"] == pytest.approx(0.0, abs=1e-9) and st["corr"] > 0.99
    window = mc.population_statistics(*_trains(regular), 50, 5.0, 10.0)
    assert window["rate_hz"] == pytest.approx(10.0, rel=0.02)


def _run(rate, cv=0.8, corr=0.001):
    return {"stats": {n: {"rate_hz": rate, "cv_isi": cv, "corr": corr} for n in mc.NAMES}}


def test_verdicts():
    assert mc.compare([_run(1.0), _run(1.02)], [_run(1.0), _run(1.0)]) == []
    bad = mc.compare([_run(1.1)], [_run(1.0)])
    assert len(bad) == 8 and "+10.0 %" in bad[0]
    assert len(mc.compare([_run(1.0, cv=0.9)], [_run(1.0, cv=0.8)])) == 8
    assert mc.asynchronous_irregular(_run(1.0)) == []
    assert len(mc.asynchronous_irregular(_run(1.0, cv=0.1))) == 8
    assert len(mc.asynchronous_irregular(_run(1.0, corr=0.5))) == 8
    assert mc.parse_seeds("1-3,7") == [1, 2, 3, 7]
