"""Run control of plastic networks on the native engine (docs/run_control.md): store/restore
holds the plastic state (weights, traces, spike histories of the lazy updates, pending events,
modulator traces), so a round trip is bit-exact; set_weights writes learnt weights."""
import sys
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.errors import UnsupportedFeature, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plasticity"))
from scenarios import DOPA, pairs_network, recurrent_network, stdp, three_factor  # noqa: E402


def networks():
    rec = recurrent_network(stdp(w_min="0.2 mV", w_max="3 mV"))
    rec.add(sc.SpikeMonitor("exc"))
    pairs = pairs_network(three_factor(), modulator=DOPA)
    pairs.add(sc.SpikeMonitor("post"))
    return {"stdp_recurrent": rec, "three_factor_pairs": pairs}


def spikes_of(res):
    return {k: (np.asarray(t), np.asarray(i)) for k, (t, i) in res.spikes.items()}


@pytest.mark.parametrize("name", ["stdp_recurrent", "three_factor_pairs"])
@pytest.mark.parametrize("threads", [1, 2])
def test_plastic_store_restore_round_trip_is_bit_exact(name, threads):
    if threads == 2:
        from spikecore.engine._core import openmp_enabled
        if not openmp_enabled():
            pytest.skip("engine built without OpenMP")
    ir = networks()[name].to_ir()
    plastic = next(n for n, e in ir.projections.items() if e.plasticity is not None)
    whole = get_backend("native").compile(ir, threads=threads)
    a = whole.run(0.2)
    exe = get_backend("native").compile(ir, threads=threads)
    exe.run(0.1)
    exe.store()
    first = exe.run(0.1)
    w_first = exe.weights(plastic)
    exe.restore()
    again = exe.run(0.1)
    for got in (first, again):
        for pop, (t, i) in spikes_of(got).items():
            sel = np.asarray(a.spikes[pop][0]) >= 0.1 - 1e-12
            np.testing.assert_array_equal(t, np.asarray(a.spikes[pop][0])[sel])
            np.testing.assert_array_equal(i, np.asarray(a.spikes[pop][1])[sel])
    assert sum(t.size for t, _ in spikes_of(first).values()) > 0
    np.testing.assert_array_equal(w_first, whole.weights(plastic))
    np.testing.assert_array_equal(exe.weights(plastic), whole.weights(plastic))
    assert not np.array_equal(whole.weights(plastic), ir.projections[plastic].weight)   # it learnt


def test_setting_state_of_a_plastic_network_continues_it():
    exe = get_backend("native").compile(networks()["stdp_recurrent"].to_ir())
    exe.run(0.05)
    exe.set("exc", "v", -0.07)
    np.testing.assert_array_equal(exe.get("exc", "v"), -0.07)
    assert exe.run(0.05).spikes["exc"][0].size > 0


def test_set_weights_of_a_plastic_projection_writes_the_learnt_weights():
    exe = get_backend("native").compile(networks()["stdp_recurrent"].to_ir())
    exe.run(0.05)
    w = exe.weights("rec")
    new = np.linspace(0.0005, 0.0025, w.size)
    exe.set_weights("rec", new)
    np.testing.assert_array_equal(exe.weights("rec"), new)
    exe.run(0.05)
    assert not np.array_equal(exe.weights("rec"), new)        # and it goes on learning from them
    with pytest.raises(ValidationError, match="sign"):
        exe.set_weights("rec", -new)


def test_set_weights_of_a_three_factor_projection_is_refused_in_one_line():
    exe = get_backend("native").compile(networks()["three_factor_pairs"].to_ir())
    exe.run(0.01)
    with pytest.raises(UnsupportedFeature, match=r"weights of plastic \(three_factor.*eligibility") as err:
        exe.set_weights("plastic", 0.001)
    assert "\n" not in str(err.value)
