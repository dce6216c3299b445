"""fixed_total_number: exact totals, uniform placement, per-target streams that can be drawn
in any split of the targets, and one-line refusals of impossible totals."""
import numpy as np
import pytest

import spikecore as sc
from spikecore.connectors import FixedTotalNumber
from spikecore.errors import ValidationError
from spikecore.units import mV, ms

DELTA = dict(tau_mem=20 * ms, v_leak=0 * mV, v_threshold=20 * mV, v_reset=10 * mV)


def drawn(connector, n_pre=60, n_post=40, same=False, seed=5):
    return connector.connect(n_pre, n_post, same, np.random.default_rng(seed))


@pytest.mark.parametrize("kw", [{}, {"allow_self": False}, {"allow_multapses": False},
                                {"allow_self": False, "allow_multapses": False}])
def test_exact_total_in_presynaptic_order_and_flags_respected(kw):
    i, j = drawn(FixedTotalNumber(1500, **kw), 40, 40, same=True)
    assert i.size == j.size == 1500
    assert np.all(np.diff(i * 40 + j) >= 0)          # sorted by source, then target
    assert i.min() >= 0 and i.max() < 40 and j.min() >= 0 and j.max() < 40
    if not kw.get("allow_self", True):
        assert not np.any(i == j)
    if not kw.get("allow_multapses", True):
        assert np.unique(i * 40 + j).size == 1500


def test_multapses_are_drawn_when_allowed():
    i, j = drawn(FixedTotalNumber(2000), 30, 30)
    assert np.unique(i * 30 + j).size < 2000     # 2000 draws from 900 pairs must repeat


def test_every_allowed_pair_at_the_maximum_without_multapses():
    i, j = drawn(FixedTotalNumber(30 * 29, allow_self=False, allow_multapses=False), 30, 30, same=True)
    pairs = set(zip(i.tolist(), j.tolist()))
    assert pairs == {(a, b) for a in range(30) for b in range(30) if a != b}


def test_in_degrees_and_sources_are_uniform():
    """In-degrees multinomial(n, 1/n_post): mean n/n_post, variance n/n_post (1 - 1/n_post);
    sources uniform over the pre population."""
    n, n_pre, n_post = 200_000, 500, 400
    i, j = drawn(FixedTotalNumber(n), n_pre, n_post, seed=11)
    indeg = np.bincount(j, minlength=n_post)
    mean, var = n / n_post, n / n_post * (1 - 1 / n_post)
    assert indeg.sum() == n and abs(indeg.var() / var - 1) < 0.25
    outdeg = np.bincount(i, minlength=n_pre)
    expected = n / n_pre
    chi2 = ((outdeg - expected) ** 2 / expected).sum()
    assert chi2 < n_pre + 5 * np.sqrt(2 * n_pre)      # chi-square with n_pre - 1 dof, 5 sigma
    assert mean == indeg.mean()


def test_any_split_of_the_targets_gives_the_same_synapses():
    for kw in ({}, {"allow_self": False, "allow_multapses": False}):
        c = FixedTotalNumber(3000, **kw)
        plan = c.plan(80, 80, True, np.random.default_rng(3))
        whole = c.targets(plan, 80, True, 0, 80)
        parts = [c.targets(plan, 80, True, a, b) for a, b in ((0, 7), (7, 8), (8, 50), (50, 80))]
        for w, p in zip(whole, zip(*parts)):
            assert np.array_equal(w, np.concatenate(p))
        i, j = c.connect(80, 80, True, np.random.default_rng(3))
        assert np.array_equal(np.sort(i * 80 + j), np.sort(whole[0] * 80 + whole[1]))


def unchunked(connector, n_pre, n_post, same, seed):
    """The projection drawn whole: every target's sources at once, sorted by (source, target)."""
    plan = connector.plan(n_pre, n_post, same, np.random.default_rng(seed))
    i, j = connector.targets(plan, n_pre, same, 0, n_post)
    order = np.lexsort((j, i))
    return i[order], j[order]


@pytest.mark.parametrize("kw,n_pre,n_post,n", [
    ({}, 90, 70, 5000), ({"allow_self": False}, 80, 80, 4000), ({"allow_multapses": False}, 60, 50, 2000),
    ({}, 70_000, 66_000, 3000),          # n_pre * n_post > 2**32
    ({"allow_self": False}, 50, 50, 2000),   # multapses: repeated pairs
])
def test_pieces_are_the_projection_drawn_whole(kw, n_pre, n_post, n, monkeypatch):
    """connect_chunks draws the targets range by range and appends them to their sources'
    rows; the synapse list is the one the whole draw gives, whatever the piece size."""
    import spikecore.connectors as connectors
    c = FixedTotalNumber(n, **kw)
    same = n_pre == n_post
    ref_i, ref_j = unchunked(c, n_pre, n_post, same, 9)
    for chunk in (64, 1000, 2 ** 20):
        monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", chunk)
        total, pieces = c.connect_chunks(n_pre, n_post, same, np.random.default_rng(9))
        pieces = list(pieces)
        assert total == n and all(p[0].size <= chunk for p in pieces)
        i, j = np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
        assert i.dtype == j.dtype == np.int64
        assert np.array_equal(i, ref_i) and np.array_equal(j, ref_j)


def test_same_seed_same_synapses_other_seed_differs():
    a, b, c = (drawn(FixedTotalNumber(500), seed=s) for s in (1, 1, 2))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


def test_in_a_network_and_its_memory_estimate():
    net = sc.Network(seed=2)
    net.add(sc.Population(30, "lif_delta", DELTA, name="a"), sc.Population(20, "lif_delta", DELTA, name="b"))
    net.add(sc.Projection("a", "b", sc.FixedTotalNumber(77), weight=0.1 * mV, name="p"))
    assert net.to_ir().projections["p"].n_synapses == 77
    assert sc.FixedTotalNumber(77).expected_synapses(30, 20, False) == 77


@pytest.mark.parametrize("connector,same,match", [
    (FixedTotalNumber(601, allow_multapses=False), False,
     r"^projections\.p\.connector\.n: got 601, expected at most 600 synapses"),
    (FixedTotalNumber(871, allow_self=False, allow_multapses=False), True,
     r"^projections\.p\.connector\.n: got 871, expected at most 870 synapses"),
    (FixedTotalNumber(2.5), False, r"projections\.p\.connector\.n: got 2\.5"),
    (FixedTotalNumber(-1), False, r"projections\.p\.connector\.n: got -1"),
    (FixedTotalNumber(3, allow_multapses="yes"), False, r"projections\.p\.connector\.allow_multapses"),
])
def test_impossible_totals_are_refused_in_one_line(connector, same, match):
    net = sc.Network()
    net.add(sc.Population(30, "lif_delta", DELTA, name="a"), sc.Population(20, "lif_delta", DELTA, name="b"))
    with pytest.raises(ValidationError, match=match) as e:
        net.add(sc.Projection("a", "a" if same else "b", connector, weight=1 * mV, name="p"))
        net.to_ir()
    assert "\n" not in str(e.value)


def test_no_allowed_pair_refuses_a_positive_total():
    with pytest.raises(ValidationError, match=r"connector\.n: got 1, expected 0"):
        FixedTotalNumber(1, allow_self=False).connect(1, 1, True, np.random.default_rng(0))


@pytest.mark.parametrize("projection,needle", [
    ("connector: {type: fixed_total_number, n: 401, allow_multapses: false}, weight: 0.1 mV",
     "projections.p.connector.n: got 401, expected at most 400 synapses"),
    ("connector: {type: fixed_total_number, n: 40}, weight: {distribution: normal, mean: 1 mV, std: 0.1 mV, "
     "high: 0 mV}", "projections.p.weight.high"),
])
def test_command_line_refuses_in_one_line(tmp_path, projection, needle):
    import subprocess
    import sys

    path = tmp_path / "m.yaml"
    path.write_text("spikecore: 1\nname: m\npopulations:\n  a: {size: 20, model: lif_delta, params: {tau_mem: 20 ms, "
                    "v_leak: 0 mV, v_threshold: 20 mV, v_reset: 10 mV}}\nprojections:\n"
                    f"  p: {{pre: a, post: a, {projection}, delay: 1 ms}}\n")
    p = subprocess.run([sys.executable, "-m", "spikecore", "run", str(path), "--duration", "10 ms", "--no-plot",
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == 2 and len(lines) == 1 and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def per_target(i, j, *values, n_post):
    """{target: [(source, values...), ...] in list order}."""
    out = {t: [] for t in range(n_post)}
    for row in zip(np.asarray(i).tolist(), np.asarray(j).tolist(), *[np.asarray(v).tolist() for v in values]):
        out[row[1]].append((row[0], *row[2:]))
    return out


@pytest.mark.parametrize("kw,n_pre,n_post,n", [
    ({}, 70, 50, 3000), ({"allow_self": False}, 60, 60, 2500),
    ({"allow_multapses": False}, 40, 45, 900), ({"allow_self": False, "allow_multapses": False}, 30, 30, 600),
])
def test_each_rank_draws_only_its_targets_and_the_ranks_join_to_the_whole_list(kw, n_pre, n_post, n, monkeypatch):
    """connect_onto (what one MPI rank draws: the synapses onto the targets it hosts, placed
    round-robin as NEST places neurons on its virtual processes): for 1, 2 and 3 ranks every
    target gets exactly the synapses, in the same order, that it has in connect's list, and
    the ranks' parts together are that list, whatever the piece size."""
    import spikecore.connectors as connectors
    c = FixedTotalNumber(n, **kw)
    same = n_pre == n_post
    whole = per_target(*c.connect(n_pre, n_post, same, np.random.default_rng(4)), n_post=n_post)
    monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", 128)
    for n_ranks in (1, 2, 3):
        got = {}
        for rank in range(n_ranks):
            hosted = np.arange(n_post) % n_ranks == rank
            total, pieces = c.connect_onto(n_pre, n_post, same, np.random.default_rng(4), hosted)
            parts = list(pieces)
            i = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
            j = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
            assert total == i.size and hosted[j].all() and i.dtype == j.dtype == np.int64
            assert all(p[0].size <= 128 + n_pre for p in parts)
            mine = per_target(i, j, n_post=n_post)
            got.update({t: mine[t] for t in np.flatnonzero(hosted).tolist()})
        assert got == whole


def test_a_rank_draws_a_share_of_the_projections_random_numbers(monkeypatch):
    """Counted at the source: the SplitMix64 numbers a rank draws for fixed_total_number's
    sources. Drawing the whole list draws all n; a rank drawing only its targets' synapses
    draws its targets' in-degrees' worth, about n / (number of ranks), and the ranks' counts
    add up to n exactly."""
    import spikecore.connectors as connectors
    drawn_numbers = []
    real = connectors.poisson_uniforms

    def counting(seed, counters):
        drawn_numbers.append(np.size(counters))
        return real(seed, counters)
    monkeypatch.setattr(connectors, "poisson_uniforms", counting)
    n, n_post = 200_000, 1000
    c = FixedTotalNumber(n)
    list(c.connect_chunks(800, n_post, False, np.random.default_rng(1), ordered=False)[1])
    assert sum(drawn_numbers) == n
    for n_ranks in (2, 3, 4):
        per_rank = []
        for rank in range(n_ranks):
            drawn_numbers.clear()
            hosted = np.arange(n_post) % n_ranks == rank
            _, pieces = c.connect_onto(800, n_post, False, np.random.default_rng(1), hosted)
            list(pieces)
            per_rank.append(sum(drawn_numbers))
        assert sum(per_rank) == n
        assert all(abs(k - n / n_ranks) < 0.02 * n / n_ranks for k in per_rank), per_rank
