"""How the grid engine delivers synaptic input into its ring buffer: ring or bucket mode.

Ring mode adds each input into its (delay slot, channel) cell of the ring at once. Bucket mode
(_kernel_impl.h, delivery buckets) appends each input for a later step to a sequential bucket
per thread and slot, and adds a slot's bucket into the slot when its step begins: the same
additions in the same order, so the same results bit for bit, but a cache miss per input
becomes a sequential write and read once the ring outgrows the cache. Where the ring fits in
the cache, ring mode is cheaper (no detour through the bucket).

The rule of ``delivery="auto"`` (the default): bucket mode when the ring (channels x delay
slots x the state's bytes) exceeds ``BUCKET_RING_BYTES``, a size that no longer stays in
this kind of machine's L2 (1 MB per core) beside the rest of a step's data (the microcircuit at
scale 0.1, a 3.1 MiB ring, ran 1.6-2.3 times faster in bucket mode once packed rows went as
delay groups: benchmarks/RESULTS.md; Brunel's 1.2 MiB stays in ring mode), and the network has at least
``BUCKET_MIN_SYNAPSES_PER_CHANNEL`` synapses per channel: with fewer, a step's inputs are
few, the ring's misses cost little, and the buckets' reserved memory would buy nothing (a
million neurons with half a million synapses: the buckets' bound was 2.5 times the run's
measured peak).

The buckets of a thread hold up to ``BUCKET_ENTRIES_PER_CHANNEL`` entries (8 bytes; 16 for a
double value that no float holds) per channel of the thread and delay slot, in chunks of
``BUCKET_CHUNK_ENTRIES`` from one pool per thread: a bucket is a chain of chunks, and the chunk
drained last is the next one filled, so the memory the buckets touch is about what they hold at
once (at full scale ~11 MB; their bound is ~200 MB), and it stays in the cache. When the pool
runs dry every bucket of the thread is added into its slot of the ring (which keeps the order),
so the capacity bounds the memory, never the results.

The input of the step being run, and of the one before until it is folded into the synaptic
variables, is added into one of three *hot slots* (a few MB at full scale), not into the ring's
slot of the step, which was last used ring_len steps before and is out of the cache: the ring
receives only what a dry pool drains and, when a run call returns, every bucket, so that between
calls it holds all pending input as in ring mode (the next call moves a slot's part of it into
the hot slot first, before the slot's bucket). A hot slot marks its touched channels and is
folded by a pass over the thread's channels in order (a mark selects), no list.

A row of the packed table (spikecore.engine.simulator) does not go through the buckets synapse by
synapse either: in bucket mode each row is sorted by delay, stably, and cut into groups of one
delay (``pk_grp``, about 50 synapses each at full scale), and a spike appends one item per group
(the group's synapses and the spike's multiplier) to the bucket of its slot; draining the item
adds the group's synapses, in order, reading the table there. A row sends into one slot only the
synapses of one delay, which keep the IR's order, and the item stands where their entries would
have stood: the same additions in the same order.

A Poisson drive whose every source has one synapse in a thread's part, all with one delay D of at
least a step (the one-to-one background drive of the cortical microcircuit: 7.7e8 counts per
simulated second at full scale), does not go through the buckets count by count: at step m its
thread appends one two-entry item to the bucket of slot m + D, and draining it draws the counts of
step m (counter-based streams: any step's counts can be drawn at any time) and adds them into the
slot there (``deferred_poisson``). The item stands where the counts' entries would have stood, so
each cell still receives its inputs in ring mode's order. In a team, the counts the items of a
window's steps stand for are drawn ahead, as the non-deferred drive's are (_kernel.c,
sc_pois_part): a thread that reaches the window's barrier first draws them, its partner's parts'
first, and the drain adds the drawn counts (sc_net.pd_drawn) instead of drawing them there.
"""
from __future__ import annotations

import numpy as np

from ..errors import ValidationError

DELIVERY_MODES = ("auto", "ring", "bucket")
#: a ring larger than this (bytes) is delivered through buckets under delivery="auto"
BUCKET_RING_BYTES = 2 * 2**20
#: and the network has at least this many synapses per channel (the microcircuit: ~3,900)
BUCKET_MIN_SYNAPSES_PER_CHANNEL = 10
#: capacity of a bucket, in 8-byte entries per channel of its thread
BUCKET_ENTRIES_PER_CHANNEL = 6
BUCKET_ENTRY_BYTES = 8
#: entries of a bucket's chunk (_kernel_impl.h, SC_BK_CHUNK)
BUCKET_CHUNK_ENTRIES = 512
#: slots of the input of the current and the previous step in bucket mode (sc_net.hot)
HOT_SLOTS = 3
#: largest channel count of bucket mode (a bucket entry holds the channel in 30 bits, and one value is no channel)
BUCKET_MAX_CHANNELS = 2**30 - 1


def uses_buckets(delivery: str, ring_len: int, n_channels: int, state_bytes: int,
                 n_synapses: int | None = None) -> bool:
    """Whether a ring of ``ring_len`` slots x ``n_channels`` channels is delivered through buckets
    under ``delivery`` ("auto", "ring" or "bucket"; module docstring). ``n_synapses``: the
    network's synapses (None: not considered)."""
    if delivery not in DELIVERY_MODES:
        raise ValidationError("delivery", delivery, "one of " + ", ".join(DELIVERY_MODES))
    if n_channels == 0 or n_channels >= BUCKET_MAX_CHANNELS:
        return False
    if delivery == "auto":
        dense = n_synapses is None or n_synapses >= BUCKET_MIN_SYNAPSES_PER_CHANNEL * n_channels
        return dense and ring_len * n_channels * state_bytes > BUCKET_RING_BYTES
    return delivery == "bucket"


def bucket_capacity(own_channels: int) -> int:
    """Entries of one bucket for a thread owning ``own_channels`` channels (at least 64)."""
    return max(64, BUCKET_ENTRIES_PER_CHANNEL * int(own_channels))


def bucket_bytes(ring_len: int, n_channels: int, threads: int = 1, state_bytes: int = 8) -> int:
    """Memory of the buckets of a ring (their bound; the pages are touched only as filled), with
    what a run call adds to them: three hot slots of ``state_bytes`` per channel and a byte of
    marks per channel and part each, and 12 bytes per chunk of ``BUCKET_CHUNK_ENTRIES``. The
    layout of a team of ``threads`` has parts of unequal shares (thread_choice.part_shares):
    every part's buckets have the room of the largest (its channels, the boundaries' rounding
    to 16 neurons allowed for)."""
    from .thread_choice import part_shares
    shares = part_shares(threads)
    parts = len(shares)
    largest = -(-int(n_channels) * max(shares) // sum(shares)) + (64 if parts > 1 else 0)
    cap = bucket_capacity(min(int(n_channels), largest))
    chunks = parts * ring_len * cap // min(cap, BUCKET_CHUNK_ENTRIES)
    hot = HOT_SLOTS * int(n_channels) * (state_bytes + parts)
    return parts * ring_len * cap * BUCKET_ENTRY_BYTES + hot + 12 * chunks


def contiguous_poisson_channels(a: dict, defer: np.ndarray) -> np.ndarray:
    """Per thread and Poisson node (``pd_contig``, T x nodes): 1 where a deferred range (``defer``,
    deferred_poisson) reaches channels that follow one another (a one-to-one drive onto a
    population's part), whose counts the drain then adds in a vectorised loop, else 0."""
    pd_off, lo, hi = a["pd_off"], a["pr_lo"], a["pr_hi"]
    out = np.zeros(pd_off.size, np.uint8)
    for i in np.flatnonzero(defer):
        c = a["pd_chan"][pd_off[i]: pd_off[i] + hi[i] - lo[i]].astype(np.int64)
        out[i] = bool(c.size) and bool((c == c[0] + np.arange(c.size)).all())
    return out


def deferred_poisson(a: dict, threads: int, seg_sparse: int) -> np.ndarray:
    """Per thread and Poisson node (``pd_defer``, T x nodes): the delay in steps of a range whose
    counts bucket mode draws when their slot's bucket is drained (module docstring), else 0. Such a
    range has a flat table (``pd_off`` >= 0: one synapse per row) whose rows share one delay of at
    least a step. ``a``: the simulator's arrays; ``seg_sparse``: the flag bit of ``pd_delay``."""
    pd_off, lo, hi = a["pd_off"], a["pr_lo"], a["pr_hi"]
    out = np.zeros_like(pd_off)
    for i in np.flatnonzero(pd_off >= 0):
        d = a["pd_delay"][pd_off[i]: pd_off[i] + hi[i] - lo[i]] & ~np.uint16(seg_sparse)
        if d.size and d[0] >= 1 and (d == d[0]).all():
            out[i] = int(d[0])
    return out


def likely_buckets(g, delivery: str) -> bool:
    """Whether the grid engine will deliver an IR's network through buckets under ``delivery``
    (uses_buckets), from the IR alone, before any layout (thread_choice needs it): the ring's slots
    from the largest delay drawn (thread_choice.LAZY_DELAY_STEPS for a lazy projection's)."""
    from .thread_choice import LAZY_DELAY_STEPS

    if delivery == "ring":
        return False
    channels = sum(p.size * len(p.receptors) for p in g.populations.values())
    max_d, n_syn = 0, 0
    for e in g.projections.values():
        if e.is_lazy:
            max_d = max(max_d, LAZY_DELAY_STEPS)
            n_syn += int(e.stream.n_synapses if e.stream.n_synapses is not None else e.stream.expected)
            continue
        d = np.asarray(e.delay)
        n_syn += int(e.n_synapses)
        if d.size:
            max_d = max(max_d, int(np.rint(d.max() / g.dt)))
    return uses_buckets(delivery, max_d + 1, channels, 8, n_syn)
