"""Connectors: how a projection's synapses are drawn (spikecore.network's connector objects).

Each connector is a small frozen dataclass with a ``kind`` (its name in model files),
``check(fld)`` for what can be validated before the populations are known,
``connect(n_pre, n_post, same, rng, fld)`` drawing the synapses as index arrays, and
``expected_synapses(n_pre, n_post, same)`` for the memory estimate
(spikecore.engine.memory) before anything is drawn. A connector may also offer
``connect_chunks(n_pre, n_post, same, rng, fld) -> (n, pieces)``: the number of synapses
and an iterator of (i, j) pieces that join to exactly what ``connect`` returns, so a
large projection is drawn into the engine piece by piece (spikecore.ir.SynapseStream);
weights and delays are then drawn piece by piece too (spikecore.distributions.ValueStream).
A connector that can draw the synapses onto any set of targets without the rest (so an MPI
rank draws only those onto its own neurons: fixed_total_number's per-target streams, and the
undrawn one_to_one and all_to_all) offers ``connect_onto(n_pre, n_post, same, rng, hosted)``
and ``in_degrees(...)``; fixed_probability and fixed_indegree draw a projection from one
generator in turn, so they cannot (a projection with ``streams: per_target`` draws them
from per-target streams instead: ``with_target_streams``). ``CONNECTORS`` maps kinds to
classes for the model-file reader (spikecore.io.model_files). A new connector is one class here
and one entry in ``CONNECTORS``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ValidationError, refuse_unknown_keywords
from .ir import TARGET_STREAM, poisson_uniforms   # the counter-based stream of the Poisson sources


# ----------------------------------------------------------------------------- connectors
# Every connector: ``check(fld)`` validates what does not depend on the populations
# (Network.add calls it, so a mistake is reported at once), ``connect(n_pre, n_post,
# same, rng, fld)`` draws the synapses; ``fld`` is the projection's field path, e.g.
# "projections.ee.connector", so an error names the projection.
# synapses per piece of connect_chunks (a projection's draw holds one piece at a time)
CHUNK_SYNAPSES = 2**20


def _join(n_and_pieces):
    """connect's arrays from connect_chunks' pieces."""
    _, pieces = n_and_pieces
    parts = list(pieces)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _row_pieces(counts, row_targets):
    """(i, j) pieces of about CHUNK_SYNAPSES over rows 0, 1, ...: row k has counts[k]
    synapses onto row_targets(k) (called in row order: it may draw)."""
    rows, js, held = [], [], 0
    for k, c in enumerate(counts):
        rows.append(k)
        js.append(row_targets(k))
        held += int(c)
        if held >= CHUNK_SYNAPSES:
            yield np.repeat(np.array(rows, np.int64), counts[rows[0]:k + 1]), np.concatenate(js).astype(np.int64)
            rows, js, held = [], [], 0
    if rows:
        yield (np.repeat(np.array(rows, np.int64), counts[rows[0]:rows[-1] + 1]),
               np.concatenate(js).astype(np.int64))


def _check_flag(value, fld):
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(fld, value, "true or false")


@refuse_unknown_keywords
@dataclass(frozen=True)
class AllToAll:
    allow_self: bool = True
    kind = "all_to_all"

    def check(self, fld="connector"):
        _check_flag(self.allow_self, f"{fld}.allow_self")

    def expected_synapses(self, n_pre, n_post, same) -> int:
        return n_pre * n_post - (min(n_pre, n_post) if same and not self.allow_self else 0)

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        return _join(self.connect_chunks(n_pre, n_post, same, rng, fld))

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector"):
        self.check(fld)
        no_self = same and not self.allow_self
        n = self.expected_synapses(n_pre, n_post, same)
        every = np.arange(n_post, dtype=np.int64)
        counts = np.full(n_pre, n_post, np.int64)
        if no_self:
            counts[:min(n_pre, n_post)] -= 1
        return n, _row_pieces(counts, lambda k: every[every != k] if no_self else every)

    def in_degrees(self, n_pre, n_post, same, rng, fld="connector"):
        """The number of synapses onto each target (int64), nothing drawn."""
        self.check(fld)
        return np.full(n_post, n_pre - 1 if same and not self.allow_self else n_pre, np.int64)

    def connect_onto(self, n_pre, n_post, same, rng, hosted, fld="connector"):
        """The synapses onto the targets marked in ``hosted`` as ``(n, pieces)``, target by
        target, sources ascending (each target's synapses in connect's order)."""
        no_self = same and not self.allow_self
        mine = np.flatnonzero(np.asarray(hosted, dtype=bool)).astype(np.int64)
        n = int(self.in_degrees(n_pre, n_post, same, rng, fld)[mine].sum())
        every = np.arange(n_pre, dtype=np.int64)

        def pieces():
            per = max(1, CHUNK_SYNAPSES // max(n_pre, 1))     # targets per piece
            for first in range(0, mine.size, per):
                t = mine[first:first + per]
                i, j = np.tile(every, t.size), np.repeat(t, n_pre)
                if no_self:
                    keep = i != j
                    i, j = i[keep], j[keep]
                yield i, j
        return n, pieces()


@refuse_unknown_keywords
@dataclass(frozen=True)
class OneToOne:
    kind = "one_to_one"

    def check(self, fld="connector"):
        pass

    def expected_synapses(self, n_pre, n_post, same) -> int:
        return n_pre

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        if n_pre != n_post:
            raise ValidationError(fld, "one_to_one", f"pre and post of equal size (got {n_pre} and {n_post})")
        idx = np.arange(n_pre)
        return idx, idx.copy()

    def in_degrees(self, n_pre, n_post, same, rng, fld="connector"):
        """The number of synapses onto each target (int64), nothing drawn."""
        if n_pre != n_post:
            raise ValidationError(fld, "one_to_one", f"pre and post of equal size (got {n_pre} and {n_post})")
        return np.ones(n_post, np.int64)

    def connect_onto(self, n_pre, n_post, same, rng, hosted, fld="connector"):
        """The synapse onto each target marked in ``hosted``, as ``(n, [(i, j)])``."""
        self.in_degrees(n_pre, n_post, same, rng, fld)
        mine = np.flatnonzero(np.asarray(hosted, dtype=bool)).astype(np.int64)
        return mine.size, [(mine, mine.copy())]


def target_generator(key: int, target: int) -> np.random.Generator:
    """Target ``target``'s own generator of a projection's per-target streams (Philox keyed by
    (the projection's key, target)): fixed_indegree's and fixed_probability's sources with
    ``streams: per_target``, fixed_total_number's without multapses."""
    return np.random.Generator(np.random.Philox(key=[key, int(target)]))


def _sample_without(rng, n: int, k: int, exclude: int | None) -> np.ndarray:
    """k distinct indices from range(n), skipping ``exclude``; sorted."""
    if exclude is None:
        picks = rng.choice(n, size=k, replace=False)
    else:
        picks = rng.choice(n - 1, size=k, replace=False)
        picks[picks >= exclude] += 1
    picks.sort()
    return picks


@refuse_unknown_keywords
@dataclass(frozen=True)
class FixedProbability:
    p: float
    allow_self: bool = True
    kind = "fixed_probability"

    def check(self, fld="connector"):
        if (isinstance(self.p, (bool, np.bool_)) or not isinstance(self.p, (int, float, np.integer, np.floating))
                or not 0.0 <= float(self.p) <= 1.0):
            raise ValidationError(f"{fld}.p", self.p, "a probability in [0, 1]")
        _check_flag(self.allow_self, f"{fld}.allow_self")

    def expected_synapses(self, n_pre, n_post, same) -> int:
        avail = n_post - 1 if same and not self.allow_self else n_post
        p = float(self.p) if isinstance(self.p, (int, float, np.number)) else 0.0
        return int(round(min(max(p, 0.0), 1.0) * n_pre * max(avail, 0)))

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        return _join(self.connect_chunks(n_pre, n_post, same, rng, fld))

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector"):
        self.check(fld)
        p = float(self.p)
        no_self = same and not self.allow_self
        avail = n_post - 1 if no_self else n_post
        counts = rng.binomial(max(avail, 0), p, size=n_pre)   # all rows' counts first, then each row's targets
        return int(counts.sum()), _row_pieces(
            counts, lambda k: _sample_without(rng, n_post, int(counts[k]), k if no_self else None))


@refuse_unknown_keywords
@dataclass(frozen=True)
class FixedIndegree:
    k: int
    allow_self: bool = True
    kind = "fixed_indegree"

    def check(self, fld="connector"):
        k = self.k
        if not isinstance(k, (int, np.integer)) or isinstance(k, (bool, np.bool_)) or k < 0:
            raise ValidationError(f"{fld}.k", k, "a non-negative integer")
        _check_flag(self.allow_self, f"{fld}.allow_self")

    def expected_synapses(self, n_pre, n_post, same) -> int:
        k = self.k if isinstance(self.k, (int, np.integer)) else 0
        return int(max(k, 0)) * n_post

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        return _join(self.connect_chunks(n_pre, n_post, same, rng, fld))

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector"):
        """k sources per target drawn target by target, listed by (source, target): one
        int64 key i * n_post + j per synapse is held and sorted (the pairs are distinct)."""
        self.check(fld)
        k = int(self.k)
        no_self = same and not self.allow_self
        avail = n_pre - 1 if no_self else n_pre
        if k > avail:
            raise ValidationError(f"{fld}.k", k, f"an integer in [0, {avail}]")
        n = k * n_post
        key = np.empty(n, np.int64)
        for post in range(n_post):
            key[post * k:(post + 1) * k] = _sample_without(rng, n_pre, k, post if no_self else None) * n_post + post
        key.sort()

        return n, _key_pieces(key, n_post)


def _key_pieces(keys: np.ndarray, n_post: int):
    """Sorted synapse keys (source * n_post + target) as (sources, targets) pieces of
    CHUNK_SYNAPSES synapses."""
    for start in range(0, keys.size, CHUNK_SYNAPSES):
        part = keys[start:start + CHUNK_SYNAPSES]
        yield part // n_post, part % n_post


class FixedIndegreePerTarget(FixedIndegree):
    """fixed_indegree as a projection with ``streams: per_target`` draws it: target j's k
    sources from a Philox generator of its own, keyed by (the projection's key, j), as
    fixed_total_number without multapses does, so any set of targets is drawn without the
    rest (``connect_onto``). The same distribution as FixedIndegree (k distinct sources per
    target, uniformly), other synapses: a network's default (one generator in turn) is kept."""

    def _key(self, rng) -> int:
        return int(rng.integers(0, 2 ** 63 - 1))

    def _avail(self, n_pre, same, fld):
        self.check(fld)
        avail = n_pre - 1 if same and not self.allow_self else n_pre
        if int(self.k) > avail:
            raise ValidationError(f"{fld}.k", self.k, f"an integer in [0, {avail}]")
        return avail

    def _sources_of(self, key, n_pre, same, target: int) -> np.ndarray:
        """Target ``target``'s k sources, ascending."""
        return _sample_without(target_generator(key, target), n_pre, int(self.k),
                               target if same and not self.allow_self else None)

    def in_degrees(self, n_pre, n_post, same, rng, fld="connector"):
        """The number of synapses onto each target (int64), nothing drawn."""
        self._avail(n_pre, same, fld)
        return np.full(n_post, int(self.k), np.int64)

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector"):
        """Every target's sources from its own stream, listed by (source, target) (one int64
        key per synapse held and sorted, as FixedIndegree)."""
        self._avail(n_pre, same, fld)
        key, k = self._key(rng), int(self.k)
        n = k * n_post
        keys = np.empty(n, np.int64)
        for post in range(n_post):
            keys[post * k:(post + 1) * k] = self._sources_of(key, n_pre, same, post) * n_post + post
        keys.sort()

        return n, _key_pieces(keys, n_post)

    def connect_onto(self, n_pre, n_post, same, rng, hosted, fld="connector"):
        """Only the synapses onto the targets marked in ``hosted``, target by target, sources
        ascending (each target's synapses in connect's order): only those targets' streams drawn."""
        self._avail(n_pre, same, fld)
        key, k = self._key(rng), int(self.k)
        mine = np.flatnonzero(np.asarray(hosted, dtype=bool)).astype(np.int64)

        def pieces():
            per = max(1, CHUNK_SYNAPSES // max(k, 1))        # targets per piece
            for first in range(0, mine.size, per):
                t = mine[first:first + per]
                i = (np.concatenate([self._sources_of(key, n_pre, same, int(post)) for post in t.tolist()])
                     if k else np.zeros(0, np.int64))
                yield i.astype(np.int64), np.repeat(t, k)
        return mine.size * k, pieces()


class FixedProbabilityPerTarget(FixedProbability):
    """fixed_probability as a projection with ``streams: per_target`` draws it: every target's
    in-degree from Binomial(allowed sources, p) (one draw of n_post numbers from the projection's
    generator, as fixed_total_number's multinomial), then target j's sources, that many distinct
    ones uniformly among the allowed, from a Philox generator of its own (``target_generator``),
    so any set of targets is drawn without the rest (``connect_onto``). The same distribution as
    FixedProbability: given its in-degree, a target's set of sources is uniform over the sets of
    that size, so each allowed pair is present with probability p independently of every other
    pair (one Bernoulli(p) per pair); no pair twice, no autapse unless ``allow_self``. Other
    synapses than FixedProbability's (one generator, row by row): a network's default is kept."""

    def plan(self, n_pre, n_post, same, rng, fld="connector"):
        """(in-degree per target as int64, the key of the targets' source streams)."""
        self.check(fld)
        avail = max(n_pre - 1 if same and not self.allow_self else n_pre, 0)
        degrees = rng.binomial(avail, float(self.p), size=n_post).astype(np.int64)
        return degrees, int(rng.integers(0, 2 ** 63 - 1))

    def _sources_of(self, key, n_pre, same, target: int, k: int) -> np.ndarray:
        """Target ``target``'s k sources, ascending."""
        return _sample_without(target_generator(key, target), n_pre, k,
                               target if same and not self.allow_self else None)

    def in_degrees(self, n_pre, n_post, same, rng, fld="connector"):
        """The number of synapses onto each target (int64): the plan's first stage alone."""
        return self.plan(n_pre, n_post, same, rng, fld)[0]

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector"):
        """Every target's sources from its own stream, listed by (source, target) (one int64
        key per synapse held and sorted, as FixedIndegree)."""
        degrees, key = self.plan(n_pre, n_post, same, rng, fld)
        keys = np.empty(int(degrees.sum()), np.int64)
        at = 0
        for post, k in enumerate(degrees.tolist()):
            keys[at:at + k] = self._sources_of(key, n_pre, same, post, k) * n_post + post
            at += k
        keys.sort()
        return keys.size, _key_pieces(keys, n_post)

    def connect_onto(self, n_pre, n_post, same, rng, hosted, fld="connector"):
        """Only the synapses onto the targets marked in ``hosted``, as ``(n, pieces)`` of about
        CHUNK_SYNAPSES, target by target, sources ascending (each target's synapses in connect's
        order): after every target's in-degree, only those targets' streams are drawn."""
        degrees, key = self.plan(n_pre, n_post, same, rng, fld)
        mine = np.flatnonzero(np.asarray(hosted, dtype=bool)).astype(np.int64)
        ends = np.cumsum(degrees[mine])
        n = int(ends[-1]) if ends.size else 0

        def pieces():
            first, at = 0, 0
            while at < n:
                last = max(int(np.searchsorted(ends, at + CHUNK_SYNAPSES, side="right")), first + 1)
                t = mine[first:last]
                k = degrees[t]
                i = np.concatenate([self._sources_of(key, n_pre, same, post, m)
                                    for post, m in zip(t.tolist(), k.tolist())])
                yield i.astype(np.int64), np.repeat(t, k)
                first, at = last, at + i.size
        return n, pieces()


def with_target_streams(connector):
    """The connector as a projection with ``streams: per_target`` draws it: fixed_indegree and
    fixed_probability from per-target streams (FixedIndegreePerTarget, FixedProbabilityPerTarget);
    every other connector as it is (fixed_total_number's sources already come from per-target
    streams, one_to_one and all_to_all draw nothing, from_indices and sparse are given)."""
    if type(connector) is FixedIndegree:
        return FixedIndegreePerTarget(connector.k, connector.allow_self)
    if type(connector) is FixedProbability:
        return FixedProbabilityPerTarget(connector.p, connector.allow_self)
    return connector


# Per-target streams of fixed_total_number: target j's k-th source is SplitMix64 number
# j * TARGET_STREAM + k of the projection's key (spikecore.ir.poisson_uniforms; TARGET_STREAM
# = 2**32), so any range of targets is drawn on its own, without a generator object per target.


@refuse_unknown_keywords
@dataclass(frozen=True)
class FixedTotalNumber:
    """Exactly ``n`` synapses between two populations, placed uniformly at random.

    ``allow_self`` is NEST's ``allow_autapses`` (only meaningful when pre is post);
    ``allow_multapses`` lets one pair carry several synapses (NEST's default, and the
    cortical microcircuit's). Drawn in two stages, so a builder can stream the synapses
    target by target (``plan``, then ``targets`` for any range of targets):

    1. the in-degree of every target, from the projection's seed: one multinomial of
       ``n`` over the targets, uniform (with multapses), or, without multapses, one
       multivariate hypergeometric draw (each target holding as many slots as it has
       allowed sources), which makes every set of ``n`` distinct pairs equally likely;
    2. the sources of each target from its own stream: with multapses i.i.d. uniform
       over the allowed sources (SplitMix64 numbers ``j * 2**32 + k`` of a key drawn
       after the in-degrees), without multapses ``k`` distinct sources from a Philox
       generator keyed by (key, j).

    NEST's ``fixed_total_number`` draws the same distribution (with multapses: each
    synapse's target and source independent and uniform) but splits ``n`` first over
    its virtual processes (a multinomial weighted by each process's share of the
    targets) and then draws each process's synapses from that process's generator, so
    its synapses change with the number of threads and MPI ranks; here they depend on
    the network seed only. NEST refuses ``allow_multapses: false`` for this rule
    ("Connect doesn't support the suppression of multapses"); it is supported here.
    """
    n: int
    allow_self: bool = True
    allow_multapses: bool = True
    kind = "fixed_total_number"
    draws_in_any_order = True      # connect_chunks(..., ordered=False)

    def check(self, fld="connector"):
        n = self.n
        if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or not 0 <= n < 2 ** 62:
            raise ValidationError(f"{fld}.n", n, "a non-negative integer number of synapses")
        _check_flag(self.allow_self, f"{fld}.allow_self")
        _check_flag(self.allow_multapses, f"{fld}.allow_multapses")

    def expected_synapses(self, n_pre, n_post, same) -> int:
        return int(self.n) if isinstance(self.n, (int, np.integer)) and self.n > 0 else 0

    def _available(self, n_pre, same):
        """Sources each target may draw from."""
        return n_pre - 1 if same and not self.allow_self else n_pre

    def plan(self, n_pre, n_post, same, rng, fld="connector"):
        """(in-degree per target as int64, the key of the targets' source streams)."""
        self.check(fld)
        n = int(self.n)
        avail = max(self._available(n_pre, same), 0)
        if not self.allow_multapses and n > avail * n_post:
            what = "autapses and multapses" if same and not self.allow_self else "multapses"
            raise ValidationError(f"{fld}.n", n, f"at most {avail * n_post} synapses "
                                  f"({n_pre} x {n_post} pairs{' less autapses' if avail < n_pre else ''}, "
                                  f"without {what})")
        if n and (avail == 0 or n_post == 0):
            raise ValidationError(f"{fld}.n", n, "0 (there is no allowed pair of neurons)")
        if n == 0 or n_post == 0:
            counts = np.zeros(n_post, np.int64)
        elif self.allow_multapses:
            counts = rng.multinomial(n, np.full(n_post, 1.0 / n_post)).astype(np.int64)
        else:
            counts = rng.multivariate_hypergeometric(np.full(n_post, avail, np.int64), n).astype(np.int64)
        if counts.size and counts.max() >= TARGET_STREAM:
            raise ValidationError(f"{fld}.n", n, f"fewer than {TARGET_STREAM} synapses per target")
        key = int(rng.integers(0, 2 ** 63 - 1))
        return counts, key

    def _sources(self, plan, n_pre, same, start, stop):
        """Synapses (i, j) onto targets [start, stop), target by target, each target's
        sources in the order its stream draws them."""
        return self._sources_of(plan, n_pre, same, np.arange(start, stop, dtype=np.int64))

    def _sources_of(self, plan, n_pre, same, targets):
        """Synapses (i, j) onto the given targets (ascending int64 indices), target by target,
        each target's sources in the order its own stream draws them: only those targets'
        numbers are drawn."""
        counts, key = plan
        c = counts[targets]
        j = np.repeat(targets, c)
        avail = self._available(n_pre, same)
        if not j.size:
            return np.zeros(0, np.int64), j
        if self.allow_multapses:
            first = np.cumsum(c) - c
            k = np.arange(j.size, dtype=np.int64) - np.repeat(first, c)
            u = poisson_uniforms(key, j * TARGET_STREAM + k)
            i = np.minimum((u * avail).astype(np.int64), avail - 1)
        else:
            i = np.concatenate([
                target_generator(key, t).choice(avail, size=int(m), replace=False)
                for t, m in zip(targets.tolist(), c.tolist())])
        if avail < n_pre:   # no autapses: skip the target's own index
            i = i + (i >= j)
        return i, j

    def targets(self, plan, n_pre, same, start, stop):
        """Synapses (i, j) onto targets [start, stop), target by target, sources ascending
        within a target: the same for any split of the targets into ranges."""
        return self.targets_of(plan, n_pre, same, np.arange(start, stop, dtype=np.int64))

    def targets_of(self, plan, n_pre, same, targets):
        """Synapses (i, j) onto the given targets (ascending indices), target by target,
        sources ascending within a target: for every target, its synapses in the order of
        the projection's list (which is by source, then target)."""
        i, j = self._sources_of(plan, n_pre, same, targets)
        i += j * n_pre          # one int64 key per synapse sorts faster than a lexsort
        i.sort(kind="stable")   # the keys come in runs (one per target): timsort merges them ~2x faster
        return i % n_pre, i // n_pre

    def in_degrees(self, n_pre, n_post, same, rng, fld="connector"):
        """The number of synapses onto each target (int64): the plan's first stage alone."""
        return self.plan(n_pre, n_post, same, rng, fld)[0]

    def connect_onto(self, n_pre, n_post, same, rng, hosted, fld="connector"):
        """Only the synapses onto the targets marked in ``hosted`` (a bool mask over the
        targets: the neurons one MPI rank hosts), as ``(n, pieces)`` of about CHUNK_SYNAPSES,
        target by target, sources ascending within a target (``targets_of``). Only those
        targets' source streams are drawn (after the in-degrees of all targets, one
        multinomial of n_post numbers): a rank hosting a k-th of the targets draws about a
        k-th of the projection's numbers. Every target gets the synapses, in the order, that
        it has in ``connect``'s list, so the ranks' parts join to it for any split."""
        plan = self.plan(n_pre, n_post, same, rng, fld)
        mine = np.flatnonzero(np.asarray(hosted, dtype=bool)).astype(np.int64)
        counts = plan[0]
        n = int(counts[mine].sum())
        ends = np.cumsum(counts[mine])

        def pieces():
            first, at = 0, 0
            while at < n:
                last = max(int(np.searchsorted(ends, at + CHUNK_SYNAPSES, side="right")), first + 1)
                i, j = self.targets_of(plan, n_pre, same, mine[first:last])
                yield i, j
                first, at = last, at + i.size
        return n, pieces()

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        return _join(self.connect_chunks(n_pre, n_post, same, rng, fld))

    def connect_chunks(self, n_pre, n_post, same, rng, fld="connector", ordered=True):
        """The synapses in presynaptic order (by source, then target), in pieces of
        CHUNK_SYNAPSES. The targets are drawn range by range (about CHUNK_SYNAPSES synapses
        each) twice: first for every source's out-degree, then each synapse's target is
        appended to its source's row (a counting sort: the ranges come in target order, so a
        row's targets ascend). The rows' targets, uint32, are the only thing held for the
        whole projection (4 B per synapse: spikecore.engine.memory). ``ordered=False``: the
        same synapses as the target ranges draw them (by target, unsorted), nothing held."""
        from .engine._core import fill_packed      # the engine's append-to-rows loop

        plan = self.plan(n_pre, n_post, same, rng, fld)
        counts = plan[0]
        n = int(counts.sum())
        ends = np.cumsum(counts)

        def ranges():
            start, at = 0, 0
            while at < n:
                stop = max(int(np.searchsorted(ends, at + CHUNK_SYNAPSES, side="right")), start + 1)
                i, j = self._sources(plan, n_pre, same, start, stop)
                yield i, j
                start, at = stop, at + i.size
        if not ordered:
            return n, ranges()
        out_degree = np.zeros(n_pre, np.int64)
        for i, _ in ranges():
            out_degree += np.bincount(i, minlength=n_pre)
        row_end = np.cumsum(out_degree)
        row_start = row_end - out_degree
        cursor = row_start.copy()
        targets = np.empty(n, np.uint32)
        no_weights = np.zeros(0, np.float32)
        for i, j in ranges():
            fill_packed(cursor, i, j.astype(np.uint32), no_weights, targets, no_weights)
            del i, j

        def pieces():
            for first in range(0, n, CHUNK_SYNAPSES):
                last = min(first + CHUNK_SYNAPSES, n)
                r0 = int(np.searchsorted(row_end, first, side="right"))
                r1 = int(np.searchsorted(row_end, last - 1, side="right")) + 1
                in_piece = np.minimum(row_end[r0:r1], last) - np.maximum(row_start[r0:r1], first)
                yield np.repeat(np.arange(r0, r1, dtype=np.int64), in_piece), targets[first:last].astype(np.int64)
        return n, pieces()


@refuse_unknown_keywords
@dataclass(frozen=True, eq=False)
class FromIndices:
    """Explicit synapses: presynaptic indices i and postsynaptic indices j."""
    i: np.ndarray
    j: np.ndarray
    kind = "from_indices"

    def check(self, fld="connector"):
        _index_array(self.i, f"{fld}.i", None)
        _index_array(self.j, f"{fld}.j", None)

    def expected_synapses(self, n_pre, n_post, same) -> int:
        return int(np.size(self.i))

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        i = _index_array(self.i, f"{fld}.i", n_pre)
        j = _index_array(self.j, f"{fld}.j", n_post)
        if i.size != j.size:
            raise ValidationError(f"{fld}.j", f"array of length {j.size}", f"the length of {fld}.i ({i.size})")
        return i, j

    def __eq__(self, other):
        return (isinstance(other, FromIndices) and np.array_equal(self.i, other.i)
                and np.array_equal(self.j, other.j))


@refuse_unknown_keywords
@dataclass(frozen=True, eq=False)
class FromSparse:
    """Synapses where a (n_pre, n_post) scipy.sparse matrix is non-zero.

    If the projection's weight is None, the matrix entries are the weights, in
    ``unit`` (a unit string such as 'mV' or 'nS')."""
    matrix: object
    unit: str | None = None
    kind = "sparse"

    def check(self, fld="connector"):
        import scipy.sparse as sp

        if not sp.issparse(self.matrix):
            raise ValidationError(f"{fld}.matrix", type(self.matrix).__name__, "a scipy.sparse matrix")
        if self.unit is not None and not isinstance(self.unit, str):
            raise ValidationError(f"{fld}.unit", self.unit, "a unit such as 'mV' or 'nS'")

    def coo(self, fld="connector"):
        import scipy.sparse as sp

        self.check(fld)
        m = sp.coo_matrix(self.matrix)
        m.sum_duplicates()
        order = np.lexsort((m.col, m.row))
        return m.shape, m.row[order].astype(np.int64), m.col[order].astype(np.int64), m.data[order]

    def expected_synapses(self, n_pre, n_post, same) -> int:
        return int(getattr(self.matrix, "nnz", 0))

    def connect(self, n_pre, n_post, same, rng, fld="connector"):
        shape, i, j, _ = self.coo(fld)
        if tuple(shape) != (n_pre, n_post):
            raise ValidationError(f"{fld}.matrix", f"shape {tuple(shape)}", f"shape ({n_pre}, {n_post})")
        return i, j

    def __eq__(self, other):
        if not isinstance(other, FromSparse) or self.unit != other.unit:
            return False
        a, b = self.coo(), other.coo()
        return all(np.array_equal(x, y) for x, y in zip(a, b))


CONNECTORS = {c.kind: c for c in (AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedTotalNumber,
                                  FromIndices, FromSparse)}


def _index_array(a, field_name, n):
    """A 1-D int64 array of indices in [0, n) (n None: any non-negative index)."""
    arr = np.asarray(a)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValidationError(field_name, a, "a 1-D array of integer indices")
    arr = arr.astype(np.int64)
    if n is None:
        if arr.size and arr.min() < 0:
            raise ValidationError(field_name, int(arr.min()), "indices >= 0")
        return arr
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValidationError(field_name, f"indices in [{arr.min()}, {arr.max()}]", f"indices in [0, {n - 1}]")
    return arr
