"""Per-rank synapse generation (what each MPI rank of the NEST backend draws): a lazy
projection whose connector can draw any set of targets alone (``connect_onto``) and whose
weight and delay depend on the target only draws, through ``SynapseStream.onto``, just the
synapses onto the neurons a rank hosts; every other projection is drawn whole and filtered.
Either way every target gets the synapses and values it has in the serial build's list."""
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from spikecore import connectors
from spikecore.distributions import Normal, Uniform
from spikecore.units import mV, ms
from spikecore import ir as _ir
from spikecore.io import load_network
from spikecore.network import rank_local_reason

ROOT = Path(__file__).resolve().parents[1]


def by_target(chunks):
    """(j, i, weight, delay) of the chunks, sorted by target, list order within a target."""
    parts = list(chunks)
    i, j, w, d = (np.concatenate([p[k] for p in parts]) for k in range(4))
    order = np.argsort(j, kind="stable")
    return j[order], i[order], w[order], d[order]


def ranks_by_target(stream, n_post, n_ranks):
    """The union of what ranks 0..n_ranks-1 draw (targets round-robin, as NEST places neurons)."""
    parts = []
    for rank in range(n_ranks):
        hosted = np.arange(n_post) % n_ranks == rank
        for i, j, w, d in stream.onto(hosted):
            assert hosted[j].all()
            parts.append((i, j, w, d))
    return by_target(parts)


def constant_values(net):
    """The network with each projection's drawn weight replaced by the distribution's mean and
    each delay by 1.5 ms (the excitatory mean; the inhibitory 0.75 ms is off the 0.1 ms grid)."""
    for pr in net.projections.values():
        if hasattr(pr.weight, "mean"):
            pr.weight = pr.weight.mean
        pr.delay = 1.5 * ms
    return net


def test_microcircuit_small_projections_through_the_rank_local_path_equal_the_serial_build(monkeypatch):
    """The example's fixed_total_number projections, drawn rank by rank for 1, 2 and 3 ranks,
    give every target the synapses of the serial build in the same order. Its weights and
    delays are drawn (truncated normals, taken in the order of the whole list), so they are
    not rank-local as the file stands: with them replaced by constants the whole edge
    (sources, weights, delays) goes through the rank-local path; the sources are the file's."""
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 1)          # every projection a SynapseStream
    as_is = load_network(ROOT / "examples" / "microcircuit_small.yaml")
    reasons = {name: rank_local_reason(pr) for name, pr in as_is.projections.items()}
    total = [name for name, pr in as_is.projections.items() if pr.connector.kind == "fixed_total_number"]
    assert len(total) == 55 and all("a drawn weight" in reasons[name] for name in total)
    serial = as_is.to_ir()
    g = constant_values(load_network(ROOT / "examples" / "microcircuit_small.yaml")).to_ir()
    for name in total:
        edge = g.projections[name]
        assert edge.is_lazy and edge.stream.rank_local
        n_post = g.populations[edge.post].size
        whole = by_target(edge.chunks())
        file_j, file_i, _, _ = by_target(serial.projections[name].chunks())
        assert np.array_equal(whole[0], file_j) and np.array_equal(whole[1], file_i)
        for n_ranks in (1, 2, 3):
            for got, want in zip(ranks_by_target(edge.stream, n_post, n_ranks), whole):
                np.testing.assert_array_equal(got, want)
    assert all(e.is_lazy for e in g.projections.values())


def test_drawn_values_are_drawn_whole_and_filtered_with_the_same_result(monkeypatch):
    """A projection that is not rank-local (a drawn weight, a fixed_probability connector)
    still gives each rank the serial build's synapses onto its neurons (drawn whole, filtered)."""
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 1)
    net = load_network(ROOT / "examples" / "microcircuit_small.yaml")
    g = net.to_ir()
    for name in ("L4e_L23e", "bg_to_L4e"):
        edge = g.projections[name]
        assert edge.is_lazy
        n_post = g.populations[edge.post].size
        whole = by_target(edge.chunks())
        for n_ranks in (2, 3):
            for got, want in zip(ranks_by_target(edge.stream, n_post, n_ranks), whole):
                np.testing.assert_array_equal(got, want)
    assert not g.projections["L4e_L23e"].stream.rank_local
    assert g.projections["bg_to_L4e"].stream.rank_local          # one_to_one, constant weight and delay


@pytest.mark.parametrize("connector,weight,delay,why", [
    (connectors.FixedTotalNumber(10), 1 * mV, 1 * ms, None),
    (connectors.FixedTotalNumber(10), Uniform(0 * mV, 1 * mV), 1 * ms, "a drawn weight"),
    (connectors.FixedTotalNumber(10), 1 * mV, Normal(1 * ms, 0.1 * ms), "a drawn delay"),
    (connectors.FixedTotalNumber(10), [1 * mV] * 10, 1 * ms, "a per-synapse weight"),
    (connectors.FixedIndegree(3), 1 * mV, 1 * ms, "connector fixed_indegree cannot give one target's synapses"),
    (connectors.FixedProbability(0.1), 1 * mV, None, "connector fixed_probability cannot"),
    (connectors.AllToAll(), 1 * mV, None, None),
    (connectors.OneToOne(), 1 * mV, 1 * ms, None),
])
def test_which_projections_are_rank_local(connector, weight, delay, why):
    net = sc.Network("n", seed=1, dt="0.1 ms")
    net.population("a", 20, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV",
                                           "v_reset": "10 mV"})
    net.project("a", "a", connector, weight=weight, delay=delay, name="p")
    got = rank_local_reason(net.projections["p"])
    assert got is None if why is None else why in got


# ----------------------------------------------------------------------------- streams: per_target
def per_target(net):
    """The network with every projection's random numbers drawn from per-target streams."""
    for pr in net.projections.values():
        pr.streams = "per_target"
    return net


def small_network(streams, connector, weight=Normal(1 * mV, 0.4 * mV, low=0.2 * mV),
                  delay=Normal(1.5 * ms, 0.75 * ms, low=0.05 * ms), n=40, seed=1):
    net = sc.Network("n", seed=seed, dt="0.1 ms")
    net.population("a", n, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV",
                                          "v_reset": "10 mV"})
    net.project("a", "a", connector, weight=weight, delay=delay, name="p", streams=streams)
    return net


@pytest.mark.parametrize("connector,weight,delay,why", [
    (connectors.FixedTotalNumber(10), Uniform(0 * mV, 1 * mV), 1 * ms, None),
    (connectors.FixedTotalNumber(10), 1 * mV, Normal(1 * ms, 0.1 * ms), None),
    (connectors.FixedIndegree(3), Normal(1 * mV, 0.1 * mV), 1 * ms, None),
    (connectors.AllToAll(), Normal(1 * mV, 0.1 * mV), None, None),
    (connectors.FixedTotalNumber(10), [1 * mV] * 10, 1 * ms, "a per-synapse weight"),
    (connectors.FixedProbability(0.1), Normal(1 * mV, 0.1 * mV), None, None),
    (connectors.FromIndices([0, 1], [1, 0]), Normal(1 * mV, 0.1 * mV), None, "connector from_indices cannot"),
])
def test_per_target_streams_make_drawn_values_fixed_indegree_and_fixed_probability_rank_local(connector, weight,
                                                                                               delay, why):
    net = small_network("per_target", connector, weight, delay, n=20)
    got = rank_local_reason(net.projections["p"])
    assert got is None if why is None else why in got
    default = rank_local_reason(small_network("projection", connector, weight, delay, n=20).projections["p"])
    assert default is not None and (why is not None or "streams: per_target" in default)


@pytest.mark.parametrize("connector", [connectors.FixedTotalNumber(700), connectors.FixedIndegree(9),
                                       connectors.FixedTotalNumber(500, allow_self=False, allow_multapses=False),
                                       connectors.FixedIndegree(7, allow_self=False),
                                       connectors.FixedProbability(0.3),
                                       connectors.FixedProbability(0.2, allow_self=False)])
def test_per_target_ranks_join_to_the_whole_list_values_included(monkeypatch, connector):
    """With streams: per_target and truncated-normal weights and delays, what 1, 2 and 3 simulated
    ranks draw (SynapseStream.onto, targets round-robin) joins to the whole list, sources, weights
    and delays, in order per target; the values chunks hold every value of the list."""
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 1)
    monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", 50)     # several pieces
    g = small_network("per_target", connector).to_ir()
    edge = g.projections["p"]
    assert edge.is_lazy and edge.stream.rank_local and edge.stream.per_target
    whole = by_target(edge.chunks())
    for n_ranks in (1, 2, 3):
        for got, want in zip(ranks_by_target(edge.stream, 40, n_ranks), whole):
            np.testing.assert_array_equal(got, want)
    j, w, d = (np.concatenate(x) for x in zip(*edge.stream.value_chunks()))
    assert np.array_equal(np.sort(w), np.sort(whole[2])) and np.array_equal(np.sort(d), np.sort(whole[3]))
    # the unordered pass (the grid engine's counting pass) carries the same (target, value) pairs
    any_order = by_target(edge.chunks(ordered=False))
    for k in (2, 3):
        assert sorted(zip(any_order[0], any_order[k])) == sorted(zip(whole[0], whole[k]))
    if isinstance(connector, connectors.FixedIndegree):
        sources = whole[1].reshape(40, connector.k)
        assert (np.diff(sources, axis=1) > 0).all()               # k distinct sources per target
        assert connector.allow_self or not (sources == np.arange(40)[:, None]).any()
    if isinstance(connector, connectors.FixedProbability):
        same_target = np.diff(whole[0]) == 0
        assert (np.diff(whole[1])[same_target] > 0).all()         # distinct sources per target: no multapse
        assert connector.allow_self == bool((whole[0] == whole[1]).any())


def test_a_synapses_values_depend_on_its_target_and_place_only():
    """Per target, synapse k onto target j gets the same weight and delay whatever the rest of the
    projection is (here: more synapses onto other targets), where the default stream shifts them."""
    def values(streams, n_post):
        net = sc.Network("n", seed=4, dt="0.1 ms")
        net.population("a", 30, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV",
                                              "v_reset": "10 mV"})
        net.population("b", n_post, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV",
                                                  "v_reset": "10 mV"})
        net.project("a", "b", connectors.AllToAll(), weight=Normal(1 * mV, 0.5 * mV, low=0 * mV),
                    delay=Normal(2 * ms, 1 * ms, low=0.05 * ms), name="p", streams=streams)
        e = net.to_ir().projections["p"]
        keep = e.j < 5
        return e.i[keep], e.j[keep], e.weight[keep], e.delay[keep]
    small, large = values("per_target", 5), values("per_target", 12)
    for a, b in zip(small, large):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(values("projection", 5)[2], values("projection", 12)[2])


def test_per_target_values_follow_the_distribution_and_count_their_redraws():
    """Per-target draws: a truncated normal's mean and spread are the truncated distribution's, the
    values stay inside the bounds, the redraws are counted (IRGraph.redrawn), delays on the grid;
    a uniform's values fill [low, high)."""
    from scipy.stats import truncnorm
    net = small_network("per_target", connectors.FixedTotalNumber(40_000), n=200,
                        weight=Normal(1 * mV, 1 * mV, low=0.5 * mV), delay=Uniform(1 * ms, 3 * ms))
    g = net.to_ir()
    e = g.projections["p"]
    w = e.weight / 1e-3
    want = truncnorm(-0.5, np.inf, loc=1, scale=1)
    assert w.min() >= 0.5 and abs(w.mean() - want.mean()) < 0.02 and abs(w.std() - want.std()) < 0.02
    assert abs(g.redrawn["projections.p.weight"] / 40_000 - want_redraws(0.5)) < 0.02
    d = e.delay / 1e-4
    assert np.allclose(d, np.rint(d)) and d.min() == 10 and d.max() == 30 and abs(d.mean() - 20) < 0.1


def want_redraws(z):
    """Expected redraws per value of a normal cut below at mean - z std: p / (1 - p)."""
    from scipy.stats import norm
    p = norm.cdf(-z)
    return p / (1 - p)


def test_streams_is_checked_and_kept_by_model_files(tmp_path):
    """A bad streams value names its field; per_target survives save and load (the default is not written)."""
    from spikecore.errors import ValidationError
    with pytest.raises(ValidationError, match=r"projections\.p\.streams: got 'target', expected one of "
                                              r"projection, per_target"):
        small_network("target", connectors.FixedTotalNumber(10))
    net = small_network("per_target", connectors.FixedTotalNumber(100))
    net.save(tmp_path / "n.yaml")
    assert "streams: per_target" in (tmp_path / "n.yaml").read_text()
    back = load_network(tmp_path / "n.yaml")
    assert back.projections["p"].streams == "per_target"
    a, b = net.to_ir().projections["p"], back.to_ir().projections["p"]
    for x, y in zip((a.i, a.j, a.weight, a.delay), (b.i, b.j, b.weight, b.delay)):
        np.testing.assert_array_equal(x, y)
    small_network("projection", connectors.FixedTotalNumber(100)).save(tmp_path / "d.yaml")
    assert "streams" not in (tmp_path / "d.yaml").read_text()


def test_microcircuit_small_per_target_through_the_rank_local_path_equals_the_serial_build(monkeypatch):
    """microcircuit_small with streams: per_target (examples/microcircuit.py --streams per_target):
    every recurrent projection, truncated-normal weights and delays as in the file, is rank-local;
    the sources are the file's (the values differ: other streams), and, for a few projections,
    2 and 3 simulated ranks join to the serial build, values included."""
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 1)
    serial = load_network(ROOT / "examples" / "microcircuit_small.yaml").to_ir()
    g = per_target(load_network(ROOT / "examples" / "microcircuit_small.yaml")).to_ir()
    total = [name for name, e in g.projections.items() if not name.startswith("bg_")]
    assert len(total) == 55 and all(g.projections[name].stream.rank_local for name in total)
    for name in ("L4e_L23e", "L6i_L6e", "L23i_L5i"):
        edge = g.projections[name]
        whole = by_target(edge.chunks())
        file = by_target(serial.projections[name].chunks())
        assert np.array_equal(whole[0], file[0]) and np.array_equal(whole[1], file[1])
        assert not np.array_equal(whole[2], file[2])
        for n_ranks in (2, 3):
            for got, want in zip(ranks_by_target(edge.stream, g.populations[edge.post].size, n_ranks), whole):
                np.testing.assert_array_equal(got, want)


def test_per_target_fixed_probability_in_degrees_and_out_degrees_are_binomial():
    """fixed_probability with streams: per_target (rank-local: in-degrees, then each target's
    sources from its own stream) draws the connector's distribution: one Bernoulli(p) per allowed
    pair, so every target's in-degree is Binomial(n - 1, p) (no autapses here) and every source's
    out-degree Binomial(n - 1, p) too. Chi-square goodness-of-fit tests at significance level
    0.01 (fixed seed, so the outcome is fixed; bins pooled to an expected count >= 5)."""
    from scipy import stats
    n, p = 400, 0.05
    net = small_network("per_target", connectors.FixedProbability(p, allow_self=False), weight=1 * mV,
                        delay=1 * ms, n=n, seed=11)
    e = net.to_ir().projections["p"]
    assert rank_local_reason(net.projections["p"]) is None
    assert not (e.i == e.j).any() and len(set(zip(e.i.tolist(), e.j.tolist()))) == e.i.size
    binomial = stats.binom(n - 1, p)
    for degrees in (np.bincount(e.j, minlength=n), np.bincount(e.i, minlength=n)):
        edges = [0]                                 # bins [edges[k], edges[k + 1]) of expected count >= 5
        for k in range(1, n):
            if n * (binomial.cdf(k - 1) - binomial.cdf(edges[-1] - 1)) >= 5 and n * binomial.sf(k - 1) >= 5:
                edges.append(k)
        edges.append(n)
        observed = np.histogram(degrees, bins=edges)[0]
        expected = n * np.diff(binomial.cdf(np.array(edges) - 1))
        expected *= n / expected.sum()
        assert len(edges) > 6
        assert stats.chisquare(observed, expected).pvalue > 0.01
    assert abs(e.i.size / (n * (n - 1)) - p) < 3 * np.sqrt(p * (1 - p) / (n * (n - 1)))
