"""The shared-trace layout of the native grid engine (spikecore/engine/_kernel.h, sc_net
pl_fast): lazy stdp_pair projections whose synapses see their target's spikes at once keep one
presynaptic trace per segment and one postsynaptic trace per target neuron, the weight alone
per synapse. Checked here: which projections get it, and that it gives the spikes and weights
of the per-synapse layout (GridSimulator.SHARED_TRACES = False) -- pairs in one step, both
bounds, nearest pairing, multiplicative weights, more target spikes than the neuron record
and the history hold, another lazy rule onto the same targets, threads, float32."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.engine.simulator import GridSimulator

from scenarios import LIF, pairs_network, recurrent_network, stdp, taught_pair


def _run(net, duration, shared, monkeypatch, **kw):
    monkeypatch.setattr(GridSimulator, "SHARED_TRACES", shared)
    return get_backend("native").compile(net.to_ir(), **kw).run(duration)


def _same(make, duration, monkeypatch, rel=1e-12, **kw):
    a = _run(make(), duration, True, monkeypatch, **kw)
    b = _run(make(), duration, False, monkeypatch, **kw)
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop][0], b.spikes[pop][0])
        np.testing.assert_array_equal(a.spikes[pop][1], b.spikes[pop][1])
    for name in a.weights:
        np.testing.assert_allclose(a.weights[name]["final"], b.weights[name]["final"], rtol=rel, atol=0)
    return a


def test_stdp_pair_without_post_delay_is_laid_out_with_shared_traces():
    sim = GridSimulator(pairs_network(stdp()).to_ir())
    assert sim.arrays["pl_fast"].tolist() == [1]
    # the weight alone per synapse: no traces, last events or flags of its own
    assert sim.arrays["pl_state"].size == sim.arrays["pl_last"].size == sim.arrays["pl_pdone"].size == 0
    assert GridSimulator(pairs_network(stdp(dendritic_delay_fraction=1.0)).to_ir()).arrays["pl_fast"].tolist() == [0]
    triplet = {"rule": "stdp_triplet", "w_min": "0.2 mV", "w_max": "3 mV"}
    assert GridSimulator(pairs_network(triplet).to_ir()).arrays["pl_fast"].tolist() == [0]


@pytest.mark.parametrize("change", [{}, {"pairing": "nearest"},
                                    {"weight_dependence": "multiplicative", "A_plus": "0.3", "A_minus": "0.35"}],
                         ids=["all_to_all", "nearest", "multiplicative"])
def test_pairs_and_bounds_as_the_per_synapse_layout(change, monkeypatch):
    r = _same(lambda: pairs_network(stdp(**change)), 0.16, monkeypatch)
    w, w0 = r.weights["plastic"]["final"], pairs_network(None).to_ir().projections["plastic"].weight
    assert not np.array_equal(w, w0)
    if not change:
        assert np.isclose(w, 0.2e-3).any() and np.isclose(w, 3e-3).any()     # both bounds reached


def test_more_target_spikes_than_record_and_history_hold(monkeypatch):
    # 87 target spikes between two presynaptic ones: beyond the neuron record's 7 and the
    # history's 64, so a full history settles the thread's shared-trace synapses
    teach = list(range(140, 2740, 30))
    _same(lambda: taught_pair([100, 2800, 2830, 2900], teach + [2850, 2870], delay_steps=4,
                              A_plus="0.02 mV", A_minus="0.01 mV"), 0.3, monkeypatch)


def test_another_lazy_rule_onto_the_same_targets(monkeypatch):
    def make():
        net = recurrent_network(stdp(A_plus="0.05 mV", A_minus="0.06 mV"))
        net.project("exc", "exc", sc.FixedProbability(0.2), weight="0.5 mV", delay="0.3 ms", name="trip",
                    plasticity={"rule": "stdp_triplet", "w_min": "0 mV", "w_max": "2 mV"})
        return net
    assert GridSimulator(make().to_ir()).arrays["pl_fast"].tolist() == [1, 0]
    _same(make, 0.3, monkeypatch)


@pytest.mark.parametrize("threads", [1, 3])
def test_recurrent_network_and_threads(threads, monkeypatch):
    r = _same(lambda: recurrent_network(stdp(A_plus="0.05 mV", A_minus="0.06 mV")), 0.3, monkeypatch,
              threads=threads)
    assert r.spikes["exc"][0].size > 200


def test_float32_close_to_the_per_synapse_layout(monkeypatch):
    _same(lambda: pairs_network(stdp()), 0.16, monkeypatch, rel=1e-5, precision="float32")


def wide_network(plasticity, sign=1, seed=3):
    """5 presynaptic spike-time neurons onto 27 targets, all to all with one delay, so that each
    arrival is a row of 27 synapses (three groups of eight for the AVX-512 row, three left
    over); target j is taught at a rate rising with j, from no spikes to the refractory limit
    between two arrivals (more than the neuron record's eleven), and presynaptic neuron 0 is
    silent for longer than the decay table (16 x 33.7 ms)."""
    rng = np.random.default_rng(seed)
    n_pre, n_post, steps = 5, 27, 11000
    pre = [[100, 104, 150, 9500, 9510, 10500]]
    pre += [sorted(int(s) for s in rng.choice(np.arange(10, steps), 25, replace=False)) for _ in range(n_pre - 1)]
    teach = [sorted(int(s) for s in rng.choice(np.arange(10, steps), 18 * j, replace=False)) for j in range(n_post)]
    net = sc.Network(seed=seed, dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in st] for st in pre], name="pre"))
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in st] for st in teach], name="teacher"))
    net.population("post", n_post, "lif_delta", LIF, initial={"v": "-70 mV"})
    net.project("teacher", "post", sc.OneToOne(), weight="40 mV", delay="0.1 ms", name="teach")
    w0 = sign * rng.uniform(0.5, 2.5, n_pre * n_post)
    net.project("pre", "post", sc.AllToAll(), weight=[f"{x} mV" for x in w0], delay="0.5 ms", name="plastic",
                plasticity=plasticity)
    return net


@pytest.fixture
def simd():
    """The AVX-512 stdp_pair row switched on (skips where the CPU lacks it); on again after."""
    from spikecore.engine._core import set_plastic_simd
    if not set_plastic_simd(True):
        pytest.skip("the CPU has no AVX-512")
    yield set_plastic_simd
    set_plastic_simd(True)


ADDITIVE = {"A_plus": "0.05 mV", "A_minus": "0.06 mV"}


@pytest.mark.parametrize("change, sign", [(ADDITIVE, 1), (ADDITIVE, -1),
                                          ({"weight_dependence": "multiplicative", "A_plus": "0.03",
                                            "A_minus": "0.035"}, 1)],
                         ids=["additive", "inhibitory", "multiplicative"])
@pytest.mark.parametrize("threads", [1, 2])
def test_avx512_row_gives_the_bits_of_the_scalar_row(change, sign, threads, simd, monkeypatch):
    make = lambda: wide_network(stdp(**change), sign=sign)  # noqa: E731
    a = _run(make(), 1.1, True, monkeypatch, threads=threads)
    simd(False)
    b = _run(make(), 1.1, True, monkeypatch, threads=threads)
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop][0], b.spikes[pop][0])
        np.testing.assert_array_equal(a.spikes[pop][1], b.spikes[pop][1])
    wa, wb = a.weights["plastic"]["final"], b.weights["plastic"]["final"]
    np.testing.assert_array_equal(wa, wb)
    w0 = make().to_ir().projections["plastic"].weight
    assert (wa != w0).mean() > 0.9
    # and the per-synapse layout's numbers
    simd(True)
    _same(make, 1.1, monkeypatch, threads=threads)


def test_avx512_row_reaches_both_bounds(simd, monkeypatch):
    r = _same(lambda: wide_network(stdp()), 1.1, monkeypatch)
    w = r.weights["plastic"]["final"]
    assert np.isclose(w, 0.2e-3).any() and np.isclose(w, 3e-3).any()


def test_rows_whose_channels_all_differ_are_told_apart():
    # the AVX-512 row delivers at once, out of row order, only where a row's channels all differ
    from spikecore.engine._core import segments_rise
    starts = np.array([0, 3, 5])
    assert segments_rise(np.array([1, 4, 9, 0, 2], np.int32), starts)       # falling only between rows
    assert not segments_rise(np.array([1, 4, 4, 0, 2], np.int32), starts)   # a channel twice in a row
    assert not segments_rise(np.array([1, 4, 9, 2, 0], np.int32), starts)   # out of order: not known to differ
    assert segments_rise(np.array([7], np.int32), np.array([0, 1]))


@pytest.mark.parametrize("threads", [1, 2])
def test_weights_read_out_and_set_whichever_the_order_of_the_synapses(threads):
    # one thread: the projection's synapses lie in IR order in one run, read and set by slice;
    # two: spread over the threads' parts, by position
    exe = get_backend("native").compile(wide_network(stdp(**ADDITIVE)).to_ir(), threads=threads)
    assert isinstance(exe.sim._pl_span["plastic"], slice) == (threads == 1)
    w = exe.run(0.2).weights["plastic"]["final"]
    assert not np.shares_memory(w, exe.sim.arrays["pl_w"])      # a copy, not the engine's state
    again = exe.weights("plastic")
    np.testing.assert_array_equal(again, w)
    again[:] = 0                                                  # changes nothing in the engine
    np.testing.assert_array_equal(exe.weights("plastic"), w)
    exe.set_weights("plastic", w[::-1])                          # (SI)
    np.testing.assert_array_equal(exe.weights("plastic"), w[::-1])
