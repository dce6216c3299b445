"""The numba batch simulator gives the native engine's spikes on the same inputs (hwmodels.batch)."""
import numpy as np
import pytest

from backends import get_backend
from hwmodels import conversion as conv
from hwmodels.batch import BatchNet, Events
from hwmodels.coding import RateCode, TemporalCode
from hwmodels.passes import quantize
from hwmodels.precision import load_task, train
from spikecore import Network, PoissonSource, Population, Projection, SpikeSource, ir as _ir, units as u
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.network import FromIndices


@pytest.fixture(scope="module")
def digits():
    Xtr, Xte, ytr, yte, _ = load_task("digits", 0)
    mlp = conv.normalize(train("mlp", Xtr, ytr, 0, hidden=24), Xtr)
    logreg = conv.normalize(train("logreg", Xtr, ytr, 0), Xtr)
    return {"mlp": mlp, "logreg": logreg, "X": Xte[:4], "y": yte[:4]}


def native_raster(g, n_steps):
    """(step, global neuron) pairs of a native-engine run, in the batch simulator's numbering."""
    res = get_backend("native").compile(g).run(n_steps * g.dt)
    out, start = [], 0
    for name, pop in g.populations.items():
        t, i = res.spikes[name]
        out.append(np.stack([np.rint(t / g.dt).astype(np.int64), i + start], axis=1))
        start += pop.size
    return _sorted(np.concatenate(out))


def _sorted(r):
    r = np.asarray(r).reshape(-1, 2)
    return r[np.lexsort((r[:, 1], r[:, 0]))]


def batch_raster(bn, events, n_steps):
    res = bn.run(events, n_steps, record=True)
    return _sorted(np.stack(res.raster, axis=1)), res


def _one(events, k):
    a, b = events.ptr[k], events.ptr[k + 1]
    return Events(np.array([0, b - a]), events.step[a:b], events.index[a:b], events.mult[a:b])


@pytest.mark.parametrize("kind", ["mlp", "logreg"])
def test_rate_code_same_spikes_as_native(digits, kind):
    model = digits[kind]
    enc = RateCode(4)
    events = enc.encode(digits["X"])
    n_steps = conv.rate_steps(model, enc.ticks)
    template = conv.to_ir(conv.build_rate_network(model, enc.ticks))
    bn = BatchNet(template)
    for k in range(3):
        ev = _one(events, k)
        a, b = events.ptr[k], events.ptr[k + 1]
        ticks = np.repeat(events.step[a:b], events.mult[a:b])
        idx = np.repeat(events.index[a:b], events.mult[a:b])
        g = conv.to_ir(conv.build_rate_network(model, enc.ticks, ticks, idx))
        mine, res = batch_raster(bn, ev, n_steps)
        ref = native_raster(g, n_steps)
        assert ref.shape[0] > 3
        assert np.array_equal(mine, ref)
        assert res.counts.sum() == np.sum(ref[:, 1] >= bn.out_start)


def test_temporal_code_same_spikes_as_native(digits):
    model = digits["mlp"]
    enc = TemporalCode(5)
    events = enc.encode(digits["X"])
    n_steps = conv.temporal_steps(model, enc.ticks)
    bn = BatchNet(conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, enc.ticks))))
    for k in range(3):
        ev = _one(events, k)
        g = conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, enc.ticks, ev.step, ev.index)))
        mine, res = batch_raster(bn, ev, n_steps)
        ref = native_raster(g, n_steps)
        assert np.array_equal(mine, ref)
        # a time-to-first-spike code: every hidden neuron fires exactly once (ReLU kick included),
        # an output neuron at most once (refractory for the whole run)
        fired = np.bincount(ref[:, 1], minlength=bn.n_neurons)
        assert (fired[:bn.out_start] == 1).all() and (fired[bn.out_start:] <= 1).all()


def test_temporal_hidden_spike_times_follow_the_closed_form(digits):
    """Hidden neuron j fires at tick K + 2 + floor(K (1 - h_j)), h = clip(relu(W x^ + b), 0, 1)."""
    model = digits["mlp"]
    enc = TemporalCode(6)
    K = enc.ticks
    ev = _one(enc.encode(digits["X"][:1]), 0)
    g = conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, K)))
    bn = BatchNet(g)
    raster, _ = batch_raster(bn, ev, conv.temporal_steps(model, K))
    x_hat = np.zeros(model.n_inputs)
    x_hat[ev.index] = 1 - ev.step / K
    W, b = model.layers[0]
    h = np.clip(W @ x_hat + b, 0, 1)
    expected = K + 2 + np.floor(K * (1 - h) + 1e-9).astype(int)
    hidden = raster[raster[:, 1] < W.shape[0]]
    got = np.full(W.shape[0], -1)
    got[hidden[:, 1]] = hidden[:, 0]
    close = np.abs(K * (1 - h) - np.round(K * (1 - h))) < 1e-6   # exactly on a tick: float rounding decides
    assert np.array_equal(got[~close], expected[~close])


def test_quantized_network_same_spikes_as_native(digits):
    model = digits["mlp"]
    enc = RateCode(3)
    ev = _one(enc.encode(digits["X"]), 1)
    ticks, idx = np.repeat(ev.step, ev.mult), np.repeat(ev.index, ev.mult)
    q = quantize(conv.to_ir(conv.build_rate_network(model, enc.ticks, ticks, idx)), "loihi", weight_bits=4,
                 exact=False)
    codes = q.projections["w1"].attrs["hw"]["weight_codes"]
    assert codes.min() >= -8 and codes.max() <= 7
    n_steps = conv.rate_steps(model, enc.ticks)
    mine, _ = batch_raster(BatchNet(q), ev, n_steps)
    assert np.array_equal(mine, native_raster(q, n_steps))


def test_poisson_counts_with_multiplicity_match_native():
    """The data source may be the native engine's own Poisson source, replayed from its stream."""
    dt = 1e-3
    net = Network(seed=4, dt=u.Quantity(dt, u.TIME))
    net.add(PoissonSource(20, u.Quantity(np.linspace(200, 900, 20), u.FREQUENCY), name="inp"))
    net.add(Population(5, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "1 mV",
                                         "v_reset": "0 mV"}, name="out"))
    rng = np.random.default_rng(0)
    i, j = np.meshgrid(np.arange(20), np.arange(5), indexing="ij")
    net.add(Projection("inp", "out", FromIndices(i.ravel(), j.ravel()),
                       weight=u.Quantity(rng.normal(0.1e-3, 0.3e-3, 100), u.VOLTAGE), name="w"))
    g = net.to_ir()
    n_steps = 300
    counts = _ir.poisson_counts(g.poisson_sources["inp"], dt, 0, n_steps).astype(np.int64)
    assert counts.max() > 1                               # several spikes of one neuron in one step
    st, ix = np.nonzero(counts)
    ev = Events.from_lists([(st, ix, counts[st, ix])])
    mine, _ = batch_raster(BatchNet(g), ev, n_steps)
    assert mine.shape[0] > 20
    assert np.array_equal(mine, native_raster(g, n_steps))


def test_spike_loss_probability(digits):
    model = digits["logreg"]
    enc = RateCode(5)
    events = enc.encode(digits["X"])
    bn = BatchNet(conv.to_ir(conv.build_rate_network(model, enc.ticks)))
    n = conv.rate_steps(model, enc.ticks)
    none = bn.run(events, n)
    zero = bn.run(events, n, p_loss=0.0, seed=5)
    assert np.array_equal(none.counts, zero.counts)
    lost = bn.run(events, n, p_loss=1.0, seed=5)
    # only the bias neuron's spikes arrive: every sample gets the same output
    assert (lost.counts == lost.counts[0]).all()
    half = bn.run(events, n, p_loss=0.5, seed=5)
    assert np.array_equal(half.counts, bn.run(events, n, p_loss=0.5, seed=5).counts)
    assert half.synops.mean() < none.synops.mean()
    with pytest.raises(ValidationError, match="p_loss"):
        bn.run(events, n, p_loss=1.5)


def _one_neuron(weight_mv, threshold_mv):
    net = Network(dt="1 ms")
    net.add(SpikeSource(times=u.Quantity(np.zeros(0), u.TIME), indices=np.zeros(0, np.int64), size=1, name="inp"))
    net.add(Population(1, "lif_delta", {"tau_mem": "10 ms", "v_leak": "0 mV", "v_threshold": f"{threshold_mv} mV",
                                         "v_reset": "0 mV"}, name="out"))
    net.add(Projection("inp", "out", FromIndices([0], [0]), weight=f"{weight_mv} mV", name="w"))
    return net.to_ir()


def _fixed(bits, decay):
    return {"out": {"bits": bits, "overflow": "saturate", "rounding": "truncate", "lsb": 1e-3,
                    "decay_kind": "multiplier", "decay_mem": decay}}


def test_fixed_point_membrane_by_hand():
    """v in 1 mV LSBs, decay 0.75 then truncation, +3 every step, threshold 6.5 mV -> code 6.

    Before each input arrives v is 0, 2, 3, 4, 5, 6, 6, ...: truncation holds it at 6, never > 6.
    In float it reaches 6.86 at step 6 and fires."""
    g = _one_neuron(3.0, 6.5)
    ev = Events.from_lists([(np.arange(20), np.zeros(20, np.int64))])
    fixed = BatchNet(g, state=_fixed(8, 0.75)).run(ev, 22)
    assert fixed.counts[0, 0] == 0
    g.populations["out"].params["tau_mem"] = -g.dt / np.log(0.75)   # the float model with the same factor
    floating = BatchNet(g).run(ev, 22, record=True)
    assert floating.first[0, 0] == 6


def test_fixed_point_saturation_by_hand():
    """+10 LSB a step into a 4-bit saturating register (max 7): after decay 0.75 v is at most trunc(5.25) = 5,
    below the threshold code 6; an 8-bit register reaches trunc(7.5) = 7 and fires at step 2."""
    g = _one_neuron(10.0, 6.5)
    ev = Events.from_lists([(np.arange(20), np.zeros(20, np.int64))])
    assert BatchNet(g, state=_fixed(4, 0.75)).run(ev, 22).counts[0, 0] == 0
    assert BatchNet(g, state=_fixed(8, 0.75)).run(ev, 22).first[0, 0] == 2


def test_refuses_what_it_cannot_simulate(digits):
    g = conv.to_ir(conv.build_rate_network(digits["logreg"], 3))
    g.projections["w1"].delay = g.projections["w1"].delay * 2
    with pytest.raises(UnsupportedFeature, match="delays of 2 steps"):
        BatchNet(g)
    with pytest.raises(ValidationError, match="data_source"):
        BatchNet(conv.to_ir(conv.build_rate_network(digits["logreg"], 3)), data_source="nope")
    bn = BatchNet(conv.to_ir(conv.build_rate_network(digits["logreg"], 3)))
    with pytest.raises(ValidationError, match="events.index"):
        bn.run(Events.from_lists([([0], [999])]), 5)
