"""spikecore.io.neo: Result -> neo.Block with the Result's spikes and traces, units and
annotations; written by Neo IOs that need no system library and read back the same."""
from __future__ import annotations

import numpy as np
import pytest
import quantities as pq

import spikecore as sc
from spikecore.errors import ValidationError
from spikecore.io.neo import read_neo, result_to_neo, write_neo


@pytest.fixture(scope="module")
def result():
    net = sc.Network("neo_net", seed=7, dt="0.1 ms", duration="200 ms")
    net.population("exc", 12, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV",
                                           "v_reset": "-60 mV", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}},
                   initial={"v": sc.Uniform("-60 mV", "-50 mV")})
    net.population("cond", 3, "lif_coba", {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV",
                                           "v_threshold": "-50 mV", "v_reset": "-60 mV",
                                           "tau_syn": {"e": "5 ms"}, "e_rev": {"e": "0 mV"}})
    net.add(sc.PoissonSource(20, "80 Hz", name="noise"))
    net.project("noise", "exc", sc.FixedProbability(0.3), weight="1.5 mV", receptor="exc")
    net.project("exc", "exc", sc.FixedProbability(0.2), weight="-1 mV", receptor="inh")
    net.project("noise", "cond", sc.AllToAll(), weight="4 nS")
    net.add(sc.StateMonitor("exc", ("v", "syn_exc"), neurons=[0, 3], interval="0.5 ms", name="vm"))
    net.add(sc.StateMonitor("cond", ("g_e",), name="gm"))
    res = net.run()
    assert sum(t.size for t, _ in res.spikes.values()) > 20
    return res


def check_block(block, res):
    assert len(block.segments) == 1
    seg = block.segments[0]
    assert block.annotations["backend"] == "native" and block.annotations["seed"] == 7
    for pop, (times, idx) in res.spikes.items():
        trains = [st for st in seg.spiketrains if st.annotations["population"] == pop]
        assert len(trains) == res.sizes[pop]
        assert sum(st.size for st in trains) == times.size
        for st in trains:
            k = st.annotations["index"]
            assert st.name == f"{pop}[{k}]"
            expected = np.sort(times[idx == k])
            np.testing.assert_array_equal(st.rescale(pq.s).magnitude, expected)
            assert float(st.t_stop.rescale(pq.s)) == pytest.approx(res.duration)
    signals = {sig.name: sig for sig in seg.analogsignals}
    assert set(signals) == {"vm.v", "vm.syn_exc", "gm.g_e"}
    for name, sig in signals.items():
        mon, var = name.split(".")
        tr = res.traces[mon]
        np.testing.assert_array_equal(np.asarray(sig.magnitude), tr["variables"][var])
        np.testing.assert_allclose(sig.times.rescale(pq.s).magnitude, tr["times"], rtol=0, atol=1e-12)
        assert np.asarray(sig.annotations["neurons"]).ravel().tolist() == tr["neurons"].tolist()
        assert sig.annotations["population"] == tr["target"]
    assert signals["vm.v"].units == pq.V and signals["vm.syn_exc"].units == pq.V
    assert signals["gm.g_e"].units == pq.S
    assert float(signals["vm.v"].sampling_period.rescale(pq.s)) == pytest.approx(5e-4)


def test_block_holds_every_spike_and_trace(result):
    block = result.to_neo()
    check_block(block, result)
    assert [g.name for g in block.groups] == ["exc", "cond"]
    assert len(block.groups[0].spiketrains) == 12


@pytest.mark.parametrize("suffix", [".nix", ".mat", ".pkl"])
def test_written_files_read_back_the_same(result, tmp_path, suffix):
    path = write_neo(result, tmp_path / f"run{suffix}")
    check_block(read_neo(path), result)


def test_result_dir_round_trip_then_neo(result, tmp_path):
    result.save(tmp_path / "res")
    check_block(result_to_neo(sc.Result.load(tmp_path / "res")), result)


def test_unknown_suffix_is_refused(result, tmp_path):
    with pytest.raises(ValidationError, match=r"\.nix.*\.mat.*\.pkl"):
        write_neo(result, tmp_path / "run.h5")
