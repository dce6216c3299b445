import numpy as np
import pytest

from spikecore.errors import ModelFileError
from spikecore.result import Result, cv_isi


def test_cv_isi_regular_and_poisson():
    t = np.arange(0, 1, 0.01)
    assert cv_isi(t, np.zeros(t.size, dtype=np.int64)) == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(0)
    ts = np.cumsum(rng.exponential(0.01, size=(20, 500)), axis=1)
    assert cv_isi(ts.ravel(), np.repeat(np.arange(20), 500)) == pytest.approx(1.0, abs=0.05)
    assert cv_isi(np.array([0.1, 0.2]), np.array([0, 0])) is None


def test_save_load_round_trip(tmp_path):
    r = Result(backend="native", duration=0.5, dt=1e-4, wall_s=0.1, sizes={"a": 3},
               spikes={"a": (np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 0]))},
               traces={"m": {"target": "a", "neurons": np.array([0]), "times": np.arange(5) * 1e-4,
                             "variables": {"v": np.zeros((5, 1))}}}, seed=4, model="x")
    r.save(tmp_path)
    back = Result.load(tmp_path)
    assert back.summary()["populations"] == r.summary()["populations"]
    assert np.array_equal(back.spikes["a"][0], r.spikes["a"][0])
    assert back.traces["m"]["variables"]["v"].shape == (5, 1) and back.traces["m"]["target"] == "a"
    assert r.summary()["populations"]["a"]["rate_hz"] == pytest.approx(4 / (3 * 0.5))


def test_load_rejects_non_result_dir(tmp_path):
    with pytest.raises(ModelFileError, match="summary.json"):
        Result.load(tmp_path)
