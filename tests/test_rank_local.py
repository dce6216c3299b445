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
