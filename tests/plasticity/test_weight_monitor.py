"""WeightMonitor: chosen synapses sampled at an interval (native and Brian2 alike), weights.npz in
the result directory, final weights loaded back as initial weights (train, then test)."""
import numpy as np
import pytest

import spikecore as sc
from spikecore import units as u
from spikecore.errors import ValidationError
from spikecore.io import load_network, save_network

from scenarios import pairs_network, stdp


def _monitored(**kw):
    net = pairs_network(stdp())
    net.add(sc.WeightMonitor("plastic", synapses=[0, 5, 17, 40], interval="2 ms", name="wm", **kw))
    return net


def test_samples_at_the_interval_match_the_final_weights():
    r = _monitored().run("0.1 s")
    entry = r.weights["plastic"]
    assert entry["t"] == pytest.approx(np.arange(50) * 2e-3)
    assert entry["w"].shape == (50, 4)
    np.testing.assert_array_equal(entry["synapses"], [0, 5, 17, 40])
    w0 = pairs_network(None).to_ir().projections["plastic"].weight
    np.testing.assert_array_equal(entry["w"][0], w0[[0, 5, 17, 40]])      # the start of step 0
    # a second run continues: its first sample is the first one's final weights
    sim = __import__("backends").get_backend("native").compile(_monitored().to_ir())
    first = sim.run(0.1)
    second = sim.run(0.01)
    np.testing.assert_array_equal(second.weights["plastic"]["w"][0], first.weights["plastic"]["final"][[0, 5, 17, 40]])
    assert not np.array_equal(entry["w"][0], entry["w"][-1])


def test_brian2_records_the_same_samples():
    pytest.importorskip("brian2")
    rn = _monitored().run("0.1 s")
    rb = _monitored().run("0.1 s", backend="brian2", target="numpy")
    np.testing.assert_allclose(rb.weights["plastic"]["t"], rn.weights["plastic"]["t"], rtol=1e-12)
    np.testing.assert_allclose(rb.weights["plastic"]["w"], rn.weights["plastic"]["w"], rtol=1e-12, atol=0)


def test_weights_npz_round_trip(tmp_path):
    r = _monitored().run("0.05 s")
    r.save(tmp_path / "out")
    with np.load(tmp_path / "out" / "weights.npz") as z:
        assert {"plastic.final", "plastic.t", "plastic.w", "plastic.synapses"} <= set(z.files)
    back = sc.Result.load(tmp_path / "out")
    for key in ("final", "t", "w", "synapses"):
        np.testing.assert_array_equal(back.weights["plastic"][key], r.weights["plastic"][key])


def test_train_then_test_with_the_learned_weights(tmp_path):
    trained = pairs_network(stdp()).run("0.1 s")
    trained.save(tmp_path / "train")
    final = sc.Result.load(tmp_path / "train").weights["plastic"]["final"]
    test = pairs_network(stdp())
    test.projections["plastic"].weight = u.Quantity(final, u.VOLTAGE)
    np.testing.assert_array_equal(test.to_ir().projections["plastic"].weight, final)
    # and through a model file
    save_network(test, tmp_path / "test.yaml")
    np.testing.assert_array_equal(load_network(tmp_path / "test.yaml").to_ir().projections["plastic"].weight, final)


def test_model_file_keeps_the_monitor(tmp_path):
    save_network(_monitored(), tmp_path / "m.yaml")
    g = load_network(tmp_path / "m.yaml").to_ir()
    m = g.weight_monitors["wm"]
    assert m.projection == "plastic" and m.interval == pytest.approx(2e-3)
    np.testing.assert_array_equal(m.synapses, [0, 5, 17, 40])


def test_bad_monitors_name_the_field():
    net = pairs_network(None)
    with pytest.raises(ValidationError, match="monitors.wm.projection"):
        net.add(sc.WeightMonitor("plastic", name="wm"))
    net = pairs_network(stdp())
    with pytest.raises(ValidationError, match="monitors.wm.synapses"):
        net.add(sc.WeightMonitor("plastic", synapses=[1000], name="wm"))
        net.to_ir()
