"""Random values: truncated normals redraw (never clip) and count the redraws, per seed;
drawn delays below dt are refused unless the distribution is bounded."""
import math

import numpy as np
import pytest

import spikecore as sc
from spikecore.errors import ValidationError
from spikecore.units import mV, ms

DELTA = dict(tau_mem=20 * ms, v_leak=0 * mV, v_threshold=20 * mV, v_reset=10 * mV)


def delay_net(delay, seed=1):
    net = sc.Network("d", seed=seed)
    net.add(sc.Population(30, "lif_delta", DELTA, name="a"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(0.5), weight=1 * mV, delay=delay, name="p"))
    return net


@pytest.mark.parametrize("timing", ["grid", "precise"])
def test_drawn_delays_below_dt_are_refused_not_clipped(timing):
    net = delay_net(sc.Normal(0.2 * ms, 1 * ms))
    with pytest.raises(ValidationError, match=r"projections\.p\.delay: got '\d+ of \d+ drawn delays below dt'.*low"):
        net.to_ir(timing=timing)


def test_bounded_delays_are_redrawn_not_piled_at_dt():
    g = delay_net(sc.Normal(0.2 * ms, 1 * ms, low=0.1 * ms)).to_ir()
    d = g.projections["p"].delay
    assert d.min() >= 1e-4 - 1e-15
    # a truncated normal puts ~4% of its mass within half a step of dt; clipping put ~half there
    assert np.mean(np.isclose(d, 1e-4)) < 0.12
    assert g.redrawn["projections.p.delay"] > 0.3 * d.size


def test_truncation_redraws_with_the_truncated_normal_law():
    net = sc.Network(seed=4)
    net.add(sc.Population(20000, "lif_delta", DELTA, {"v": sc.Normal(0 * mV, 1 * mV, low=0 * mV)}, name="a"))
    v = net.to_ir().populations["a"].initial["v"] * 1e3
    assert v.min() >= 0 and np.count_nonzero(v == 0) == 0      # redrawn, nothing sits on the bound
    assert v.mean() == pytest.approx(math.sqrt(2 / math.pi), abs=0.02)   # clipping would give 0.40


def test_weights_keep_their_sign_and_redraws_are_reported_per_field_and_seed():
    def make(seed):
        net = sc.Network(seed=seed)
        net.add(sc.Population(40, "lif_delta", DELTA, name="a"))
        net.add(sc.Projection("a", "a", sc.AllToAll(), weight=sc.Normal(0.5 * mV, 1 * mV, low=0 * mV), name="e"))
        net.add(sc.Projection("a", "a", sc.AllToAll(), weight=sc.Normal(-0.5 * mV, 1 * mV, high=0 * mV), name="i"))
        return net
    g1, g2, g3 = make(1).to_ir(), make(1).to_ir(), make(2).to_ir()
    assert (g1.projections["e"].weight > 0).all() and (g1.projections["i"].weight < 0).all()
    assert np.array_equal(g1.projections["e"].weight, g2.projections["e"].weight)
    assert g1.redrawn == g2.redrawn and set(g1.redrawn) == {"projections.e.weight", "projections.i.weight"}
    assert not np.array_equal(g1.projections["e"].weight, g3.projections["e"].weight)
    result = make(1).run(1 * ms)
    assert result.extra["redrawn"] == g1.redrawn and result.summary()["redrawn"] == g1.redrawn


@pytest.mark.parametrize("dist,match", [
    (sc.Normal(0.2 * ms, 0.01 * ms, low=10 * ms), r"projections\.p\.delay\.low.*keep at least 1%"),
    (sc.Normal(5 * ms, 0.01 * ms, high=1 * ms), r"projections\.p\.delay\.high"),
    (sc.Normal(5 * ms, 1 * ms, low=6 * ms, high=4 * ms), r"projections\.p\.delay\.high"),
    (sc.Normal("inf ms", 1 * ms), r"projections\.p\.delay\.mean.*finite"),
])
def test_bounds_that_exclude_the_mass_are_refused_in_one_line(dist, match):
    with pytest.raises(ValidationError, match=match) as e:
        delay_net(dist).to_ir()
    assert "\n" not in str(e.value)




# ----------------------------------------------------------------------------- drawn in pieces
@pytest.mark.parametrize("dist", [
    sc.Normal("1.5 ms", "0.75 ms", low="0.1 ms"),                 # redraws below
    sc.Normal("-1 ms", "0.75 ms", high="-0.1 ms"),                # redraws above
    sc.Normal("1 ms", "1 ms", low="0.5 ms", high="1.2 ms"),       # most draws redrawn, several rounds
    sc.Normal("1 ms", "0.1 ms"), sc.Uniform("1 ms", "2 ms"), "3 ms"])
def test_a_value_stream_hands_out_the_whole_draw_in_pieces(dist, monkeypatch):
    from spikecore import distributions as d
    from spikecore import units as u
    monkeypatch.setattr(d, "STREAM_CHUNK", 1000)    # the first pass in several pieces as well

    def factory():
        return np.random.default_rng(7)
    whole_counts, piece_counts = {}, {}
    whole = d._values(dist, u.TIME, 30_001, factory, "f", whole_counts)
    stream = d.ValueStream(dist, u.TIME, 30_001, factory, "f", piece_counts)
    pieces = np.concatenate([stream.take(m) for m in (1, 999, 1000, 17_000, 11_001)])
    assert np.array_equal(whole, pieces)
    assert whole_counts == piece_counts
    with pytest.raises(ValueError):
        stream.take(1)
