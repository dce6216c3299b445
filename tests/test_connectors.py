"""Connectors drawn in pieces (spikecore.connectors ``connect_chunks``): the pieces join to
exactly what ``connect`` draws, each piece is bounded, and the count comes first."""
import numpy as np
import pytest

from spikecore import connectors as c

CASES = [(c.AllToAll(), 50, 40, False), (c.AllToAll(allow_self=False), 45, 45, True),
         (c.FixedProbability(0.3), 60, 50, False), (c.FixedProbability(0.2, allow_self=False), 45, 45, True),
         (c.FixedIndegree(7), 50, 40, False), (c.FixedIndegree(5, allow_self=False), 30, 30, True),
         (c.FixedProbability(0.0), 10, 10, False), (c.FixedIndegree(3), 5, 0, False),
         (c.FixedTotalNumber(900), 50, 40, False), (c.FixedTotalNumber(700, allow_self=False), 30, 30, True),
         (c.FixedTotalNumber(600, allow_multapses=False), 30, 25, False), (c.FixedTotalNumber(0), 5, 5, False)]


@pytest.mark.parametrize("connector, n_pre, n_post, same", CASES)
def test_pieces_join_to_the_connectors_synapses(connector, n_pre, n_post, same, monkeypatch):
    monkeypatch.setattr(c, "CHUNK_SYNAPSES", 64)
    i, j = connector.connect(n_pre, n_post, same, np.random.default_rng(3))
    n, pieces = connector.connect_chunks(n_pre, n_post, same, np.random.default_rng(3))
    pieces = list(pieces)
    assert n == i.size
    got_i = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
    got_j = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.int64)
    assert np.array_equal(got_i, i) and np.array_equal(got_j, j)
    assert got_i.dtype == np.int64 and got_j.dtype == np.int64
    # pieces end after the row that reaches CHUNK_SYNAPSES (fixed_indegree: exactly that many)
    assert all(p[0].size < 64 + n_post for p in pieces)
    if n > 64:
        assert len(pieces) > 1


def test_the_connectors_draw_as_before():
    # the lists every earlier release drew (sorted by source, then target): the pieces changed
    # how they are held, not what they are
    rng = np.random.default_rng(11)
    i, j = c.FixedIndegree(4).connect(20, 15, False, rng)
    rng = np.random.default_rng(11)
    picks = [np.sort(rng.choice(20, size=4, replace=False)) for _ in range(15)]
    ref_i = np.concatenate(picks)
    ref_j = np.repeat(np.arange(15), 4)
    order = np.lexsort((ref_j, ref_i))
    assert np.array_equal(i, ref_i[order]) and np.array_equal(j, ref_j[order])


def test_a_projection_without_synapses_lowers_to_empty_arrays():
    """fixed_indegree k = 0 yields no piece at all: an empty projection, not an internal error."""
    import spikecore as sc
    net = sc.Network(seed=1, dt="0.1 ms")
    net.population("a", 4, "lif_delta", {"tau_mem": "10 ms", "v_leak": "0 mV", "v_threshold": "20 mV",
                                         "v_reset": "10 mV"})
    net.project("a", "a", sc.FixedIndegree(0), weight="1 mV", delay="1 ms", name="none")
    edge = net.to_ir().projections["none"]
    assert edge.n_synapses == 0 and edge.weight.size == 0
    assert net.run("1 ms").spikes["a"][0].size == 0


ONTO = [(c.AllToAll(), 50, 40, False), (c.AllToAll(allow_self=False), 45, 45, True), (c.OneToOne(), 30, 30, False),
        (c.FixedTotalNumber(900), 50, 40, False), (c.FixedTotalNumber(600, allow_multapses=False), 30, 25, False)]


@pytest.mark.parametrize("connector, n_pre, n_post, same", ONTO)
def test_connect_onto_gives_each_hosted_target_its_synapses_in_list_order(connector, n_pre, n_post, same,
                                                                         monkeypatch):
    """connect_onto (an MPI rank's own targets): for 1, 2 and 3 ranks, each target's synapses
    in connect's order, and in_degrees counts them without drawing the sources."""
    monkeypatch.setattr(c, "CHUNK_SYNAPSES", 64)
    i, j = connector.connect(n_pre, n_post, same, np.random.default_rng(3))
    order = np.argsort(j, kind="stable")           # by target, list order within a target
    assert np.array_equal(connector.in_degrees(n_pre, n_post, same, np.random.default_rng(3)),
                          np.bincount(j, minlength=n_post))
    for n_ranks in (1, 2, 3):
        got_i, got_j = [], []
        for rank in range(n_ranks):
            hosted = np.arange(n_post) % n_ranks == rank
            n, pieces = connector.connect_onto(n_pre, n_post, same, np.random.default_rng(3), hosted)
            pieces = list(pieces)
            assert n == sum(p[0].size for p in pieces) and all(hosted[p[1]].all() for p in pieces)
            got_i += [p[0] for p in pieces]
            got_j += [p[1] for p in pieces]
        got_i, got_j = np.concatenate(got_i), np.concatenate(got_j)
        mine = np.argsort(got_j, kind="stable")
        assert np.array_equal(got_j[mine], j[order]) and np.array_equal(got_i[mine], i[order])
