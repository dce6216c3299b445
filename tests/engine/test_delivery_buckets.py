"""Bucket delivery (spikecore.engine.delivery, _kernel_impl.h): every input for a later step is
appended to a bucket of its slot and added into the ring when the slot's step begins. Forced on
small networks, it gives ring mode's results bit for bit on every path that writes the ring
(Poisson drive flat and per row, spike sources, recurrent spikes through the segmented and the
packed table, plastic arrivals with dendritic delays, eager and lazy rules), with monitors, for
any thread count, float32 and float64, across run() calls, and when buckets fill up."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.engine import GridSimulator, simulator
from spikecore.engine._core import openmp_enabled
from spikecore.engine.delivery import BUCKET_MIN_SYNAPSES_PER_CHANNEL, BUCKET_RING_BYTES, bucket_bytes, uses_buckets
from spikecore.engine.memory import estimate
from spikecore.errors import ValidationError

THREADS = (1, 2) if openmp_enabled() else (1,)
CUBA = dict(tau_mem="20 ms", v_leak="-49 mV", v_threshold="-50 mV", v_reset="-60 mV", t_refrac="2 ms",
            tau_syn={"e": "5 ms", "i": "10 ms"})
DELTA = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
STDP = {"rule": "stdp_pair", "tau_plus": "16.8 ms", "tau_minus": "33.7 ms", "A_plus": "0.3 mV",
        "A_minus": "0.25 mV", "w_min": "0.1 mV", "w_max": "3 mV"}


def static_net(seed=3):
    """Current-based (sparse fold) and delta (dense fold) targets; Poisson drive one-to-one (the
    flat path) and per row; spike sources; per-synapse weights and delays in the packed table
    (float32 weights), one weight per projection and float64 weights in the segmented one."""
    net = sc.Network("buckets", seed=seed, dt="0.1 ms")
    net.add(sc.Population(200, "lif_cuba", CUBA, {"v": sc.Uniform("-60 mV", "-50 mV")}, name="a"))
    net.add(sc.Population(80, "lif_delta", DELTA, {"v": sc.Uniform("0 mV", "20 mV")}, name="b"))
    net.add(sc.PoissonSource(200, "2 kHz", name="ext"))
    net.add(sc.PoissonSource(40, "300 Hz", name="ext_b"))
    net.add(sc.SpikeSource(times=np.linspace(1, 90, 80) * sc.units.ms, indices=np.arange(80) % 9, name="src"))
    normal_delay = sc.Normal("1.5 ms", "0.75 ms", low="0.1 ms")
    net.add(sc.Projection("ext", "a", sc.OneToOne(), weight="1.1 mV", delay="1.5 ms", receptor="e", name="pa"))
    net.add(sc.Projection("ext_b", "b", sc.FixedIndegree(5), weight="0.35 mV", delay="0.3 ms", name="pb"))
    net.add(sc.Projection("src", "b", sc.FixedProbability(0.5), weight=sc.Normal("3 mV", "0.3 mV"),
                          delay=sc.Uniform("0.1 ms", "2 ms"), name="sb", weight_precision="float32"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(0.1), weight=sc.Uniform("0.5 mV", "1.5 mV"),
                          delay=normal_delay, receptor="e", name="aa", weight_precision="float32"))
    net.add(sc.Projection("a", "b", sc.FixedProbability(0.1), weight="0.4 mV", delay=sc.Uniform("0.2 ms", "2 ms"),
                          name="ab"))
    net.add(sc.Projection("b", "a", sc.FixedProbability(0.1), weight=sc.Uniform("-4 mV", "-2 mV"),
                          delay=normal_delay, receptor="i", name="ba"))     # float64 weights: segmented table
    net.add(sc.Projection("b", "b", sc.FixedProbability(0.1), weight="-1.2 mV", delay="0.7 ms", name="bb"))
    net.add(sc.StateMonitor("a", ("v", "syn_e"), neurons=[0, 5, 199], name="m"))
    net.add(sc.StateMonitor("b", ("v",), neurons=[3, 79], interval="0.5 ms", name="mb"))
    return net


def plastic_net(fraction, rule=STDP, seed=2, modulator=False):
    """Poisson-driven neurons with a plastic recurrent projection; ``fraction`` of each delay is
    dendritic, so plastic arrivals also deliver into later slots (None: the rule's default). ``modulator``: a source 'dopa'."""
    net = sc.Network(seed=seed, dt="0.1 ms")
    if modulator:
        net.add(sc.SpikeSource(times=np.array([20.0, 40.0, 41.0, 90.0]) * sc.units.ms, indices=[0, 1, 0, 1],
                               name="dopa"))
    net.add(sc.PoissonSource(60, "40 Hz", name="drive"))
    net.population("exc", 60, "lif_cuba", {**CUBA, "v_leak": "-60 mV"}, initial={"v": "-60 mV"})
    net.project("drive", "exc", sc.FixedProbability(0.3), weight="30 mV", delay="0.1 ms", receptor="e",
                name="in")
    net.project("exc", "exc", sc.FixedProbability(0.3), weight=sc.Uniform("0.5 mV", "2 mV"),
                delay=sc.Uniform("0.3 ms", "2 ms"), receptor="e", name="rec",
                plasticity={**rule, "dendritic_delay_fraction": fraction} if fraction is not None else rule)
    net.add(sc.StateMonitor("exc", ("v", "syn_e"), neurons=[0, 7], name="m"))
    return net


def run_parts(g, parts, **kw):
    """Run ``parts`` durations one after the other: the concatenated spikes and traces, the final
    weights and the state arrays (ring included) after the last part."""
    exe = get_backend("native").compile(g, **kw)
    rs = [exe.run(d) for d in parts]
    spikes = {p: tuple(np.concatenate([r.spikes[p][k] for r in rs]) for k in (0, 1)) for p in rs[0].spikes}
    traces = {(m, v): np.concatenate([r.traces[m]["variables"][v] for r in rs])
              for m in rs[0].traces for v in rs[0].traces[m]["variables"]}
    weights = {k: w["final"] for k, w in (rs[-1].weights or {}).items()}
    state = {k: exe.sim.arrays[k].copy() for k in ("v", "syn", "ring")}
    # each thread has marks of its own (SC_MARK, _kernel.h): the channels listed by any thread
    state["mark"] = exe.sim.arrays["mark"].reshape(exe.sim.parts, -1).max(0)
    return exe.sim, spikes, traces, weights, state


def assert_identical(a, b):
    _, sa, ta, wa, xa = a
    _, sb, tb, wb, xb = b
    assert sa.keys() == sb.keys() and ta.keys() == tb.keys() and wa.keys() == wb.keys()
    for k in sa:
        assert np.array_equal(sa[k][0], sb[k][0]) and np.array_equal(sa[k][1], sb[k][1]), k
    for k in ta:
        assert np.array_equal(ta[k].view(np.uint8), tb[k].view(np.uint8)), k
    for k in wa:
        assert np.array_equal(np.asarray(wa[k]).view(np.uint8), np.asarray(wb[k]).view(np.uint8)), k
    for k in xa:
        assert np.array_equal(xa[k].view(np.uint8), xb[k].view(np.uint8)), k


def went_through_buckets(sim):
    """The buckets are empty between calls, but what they held stays in their memory."""
    return sim.delivery == "bucket" and bool(np.any(sim.arrays["bk"]))


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_bucket_mode_gives_ring_modes_results_bit_for_bit(precision):
    g = static_net().to_ir()
    ring = run_parts(g, [0.1], precision=precision, delivery="ring")
    assert ring[0].delivery == "ring" and sum(s[0].size for s in ring[1].values()) > 300
    for threads in THREADS:
        bucket = run_parts(g, [0.0337, 0.0663], precision=precision, delivery="bucket", threads=threads)
        assert went_through_buckets(bucket[0])
        assert_identical(ring, bucket)


def test_segmented_table_in_bucket_mode_bit_for_bit():
    g = static_net(seed=8).to_ir()
    ring = GridSimulator(g, packed=False, delivery="ring")
    bucket = GridSimulator(g, packed=False, delivery="bucket")
    assert bucket.arrays["pk_syn"].size == 0
    a, b = ring.run_steps(700), bucket.run_steps(700)
    assert went_through_buckets(bucket)
    for pop in a.spike_steps:
        assert np.array_equal(a.spike_steps[pop], b.spike_steps[pop])
        assert np.array_equal(a.spike_indices[pop], b.spike_indices[pop])
    assert np.array_equal(ring.arrays["ring"], bucket.arrays["ring"])


@pytest.mark.parametrize("fraction", [0.0, 0.5])
def test_plastic_arrivals_in_bucket_mode_bit_for_bit(fraction):
    g = plastic_net(fraction).to_ir()
    ring = run_parts(g, [0.15], delivery="ring")
    assert sum(s[0].size for s in ring[1].values()) > 200
    for threads in THREADS:
        bucket = run_parts(g, [0.05, 0.1], delivery="bucket", threads=threads)
        assert went_through_buckets(bucket[0])
        assert_identical(ring, bucket)


@pytest.mark.parametrize("rule", ["three_factor", "tsodyks_markram"])
def test_eager_plastic_rules_in_bucket_mode_bit_for_bit(rule):
    # rules updated at once, not lazily: with a neuromodulator, or without a post function
    if rule == "three_factor":
        spec = {"rule": "three_factor", "tau_plus": "16.8 ms", "tau_minus": "33.7 ms", "A_plus": "0.8 mV",
                "A_minus": "0.4 mV", "tau_c": "40 ms", "tau_d": "15 ms", "w_min": "0.2 mV", "w_max": "3 mV",
                "modulator": "dopa"}
    else:
        spec = {"rule": "tsodyks_markram", "U": 0.5, "tau_rec": "100 ms", "tau_fac": "50 ms"}
    g = plastic_net(None, rule=spec, modulator=rule == "three_factor").to_ir()
    ring = run_parts(g, [0.12], delivery="ring")
    assert sum(s[0].size for s in ring[1].values()) > 200
    bucket = run_parts(g, [0.07, 0.05], delivery="bucket")
    assert went_through_buckets(bucket[0])
    assert_identical(ring, bucket)


def test_full_buckets_are_added_early_without_changing_a_sum(monkeypatch):
    # room for one item: nearly every input fills its bucket, which is added into its slot at once
    g = static_net(seed=5).to_ir()
    ring = run_parts(g, [0.06], delivery="ring")
    monkeypatch.setattr(simulator, "bucket_capacity", lambda own: 3)
    for threads in THREADS:
        bucket = run_parts(g, [0.02, 0.04], delivery="bucket", threads=threads)
        assert bucket[0].arrays["bk"].size == 3 * bucket[0].parts * bucket[0].ring_len
        assert_identical(ring, bucket)


def test_auto_delivery_rule_and_memory_estimate():
    g = static_net().to_ir()
    assert GridSimulator(g).delivery == "ring"                   # a small ring stays ring mode
    assert GridSimulator(g).arrays["bk"].size == 0
    edge = BUCKET_RING_BYTES // (54 * 8)          # channels of a 54-slot float64 ring at the threshold
    assert not uses_buckets("auto", 54, edge, 8) and uses_buckets("auto", 54, edge + 1, 8)
    assert not uses_buckets("auto", 54, edge + 1, 4)                # float32 state: half the ring
    assert not uses_buckets("ring", 54, 10**6, 8) and uses_buckets("bucket", 2, 10, 4)
    # few synapses per channel: ring mode however large the ring (the buckets' bound buys nothing)
    n = edge + 1
    assert uses_buckets("auto", 54, n, 8, BUCKET_MIN_SYNAPSES_PER_CHANNEL * n)
    assert not uses_buckets("auto", 54, n, 8, BUCKET_MIN_SYNAPSES_PER_CHANNEL * n - 1)
    assert uses_buckets("bucket", 54, n, 8, 0)
    # the microcircuit at scale 0.1 (a 3.1 MiB ring) in bucket mode, Brunel's 10,000 neurons
    # (16 slots, 1.2 MiB) and CUBA's ring (0.1 MiB) in ring mode
    assert uses_buckets("auto", 53, 7717, 8, 388 * 7717)
    assert not uses_buckets("auto", 16, 10000, 8, 1000 * 10000) and not uses_buckets("auto", 2, 8000, 8, 40 * 8000)
    with pytest.raises(ValidationError, match="delivery"):
        GridSimulator(g, delivery="sorted")
    with pytest.raises(ValidationError, match="delivery"):
        get_backend("native").compile(g, delivery="sorted")
    # the estimate counts the buckets where the run will have them
    net = static_net()
    T = THREADS[-1]
    run = estimate(net, 0.1, "native", {"delivery": "bucket", "threads": T}).stage("run").components
    size = next(v for k, v in run.items() if "delivery buckets" in k)
    # at least what the engine allocates (the estimate's delay slots come from the delay's bound)
    sim = GridSimulator(g, delivery="bucket", threads=T)
    assert sim.arrays["bk"].nbytes <= size == bucket_bytes(54, sim.n_channels, T)
    assert not any("delivery buckets" in k for k in estimate(net, 0.1, "native", {}).stage("run").components)


def test_one_to_one_poisson_drive_is_drawn_when_its_bucket_is_drained():
    # the one-to-one drive of fixed delay leaves one item per step in its slot's bucket (pd_defer),
    # drawn when the bucket is added; rows of several synapses (ext_b), random delays and ring
    # mode keep drawing at the step
    g = static_net().to_ir()
    bucket = GridSimulator(g, delivery="bucket", threads=THREADS[-1])
    ring = GridSimulator(g, delivery="ring")
    assert not ring.arrays["pd_defer"].any()
    defer = bucket.arrays["pd_defer"].reshape(bucket.parts, -1)
    names = list(g.poisson_sources)
    assert (defer[:, names.index("ext")] == 15).all() and (defer[:, names.index("ext_b")] == 0).all()
    # its channels follow one another: the drain adds its counts in a vectorised loop
    contig = bucket.arrays["pd_contig"].reshape(bucket.threads, -1)
    assert (contig[:, names.index("ext")] == 1).all() and (contig[:, names.index("ext_b")] == 0).all()
    assert not ring.arrays["pd_contig"].any()
    # alone, the drive's items are all the buckets ever held: two words (node, step) per step
    net = sc.Network("drive", seed=4, dt="0.1 ms")
    net.add(sc.Population(50, "lif_cuba", CUBA, name="a"))
    net.add(sc.PoissonSource(50, "3 kHz", name="ext"))
    net.add(sc.Projection("ext", "a", sc.OneToOne(), weight="1.1 mV", delay="1.5 ms", receptor="e"))
    g = net.to_ir()
    ring = run_parts(g, [0.02], delivery="ring")
    sim, *rest = bucket = run_parts(g, [0.007, 0.013], delivery="bucket")
    assert_identical(ring, bucket)
    # a team draws the counts ahead, at the barrier, that its drains add (sc_net.pd_drawn): the
    # same counts, across calls too (a call's first 15 steps drain no item: their input waits in
    # the ring)
    for threads in THREADS[1:]:
        assert_identical(ring, run_parts(g, [0.0013, 0.0071, 0.0116], delivery="bucket", threads=threads))
    words = sim.arrays["bk"][sim.arrays["bk"] != 0]
    items = words[(words & 0xFFFFFFFF) == 0xFFFFFFFF]
    assert items.size > 0 and words.size <= 2 * items.size + 1
    # random delays per row: drawn at the step, entry by entry
    net2 = sc.Network("drive2", seed=4, dt="0.1 ms")
    net2.add(sc.Population(50, "lif_cuba", CUBA, name="a"))
    net2.add(sc.PoissonSource(50, "3 kHz", name="ext"))
    net2.add(sc.Projection("ext", "a", sc.OneToOne(), weight="1.1 mV", delay=sc.Uniform("0.1 ms", "2 ms"),
                           receptor="e"))
    g2 = net2.to_ir()
    assert not GridSimulator(g2, delivery="bucket").arrays["pd_defer"].any()
    assert_identical(run_parts(g2, [0.02], delivery="ring"), run_parts(g2, [0.02], delivery="bucket"))


def test_buckets_reuse_the_chunk_drained_last():
    # a bucket is a chain of chunks from its thread's pool, the chunk drained last filled next:
    # a run touches the start of the pool only, not one region per delay slot
    g = static_net(seed=6).to_ir()
    sim = GridSimulator(g, delivery="bucket")
    sim.run(0.1)
    bk = sim.arrays["bk"]
    used = np.flatnonzero(bk)
    assert used.size and used[-1] < bk.size // 4     # (one region per slot: up to the end)


def grouped_net(seed=11):
    """Packed rows that mix projections: multapses of equal delays (one delay of a step) and of
    drawn delays onto one channel block, several projections from one source onto one population
    and onto another whose input is folded densely, Poisson rows whose spikes count more than one
    (a multiplier), and rows of one weight with drawn delays (the row's weight)."""
    net = sc.Network("groups", seed=seed, dt="0.1 ms")
    net.add(sc.Population(120, "lif_cuba", CUBA, {"v": sc.Uniform("-60 mV", "-50 mV")}, name="a"))
    net.add(sc.Population(50, "lif_delta", DELTA, {"v": sc.Uniform("0 mV", "20 mV")}, name="b"))
    net.add(sc.PoissonSource(40, "4 kHz", name="ext"))     # ~0.4 spikes per step: counts of 2 and more
    net.add(sc.PoissonSource(30, "1 kHz", name="ext_u"))
    f32 = dict(weight_precision="float32")
    net.add(sc.Projection("ext", "a", sc.FixedTotalNumber(2400), weight=sc.Uniform("0.2 mV", "0.6 mV"),
                          delay=sc.Uniform("0.1 ms", "1 ms"), receptor="e", name="ea", **f32))
    net.add(sc.Projection("ext_u", "a", sc.FixedTotalNumber(900), weight="0.3 mV",
                          delay=sc.Uniform("0.1 ms", "2 ms"), receptor="e", name="ua"))   # one weight per row
    net.add(sc.Projection("a", "a", sc.FixedTotalNumber(3000), weight=sc.Uniform("0.2 mV", "1 mV"),
                          delay="0.1 ms", receptor="e", name="aa_one_delay", **f32))      # multapses, one delay
    net.add(sc.Projection("a", "a", sc.FixedTotalNumber(3000), weight=sc.Uniform("0.1 mV", "0.9 mV"),
                          delay=sc.Normal("1 ms", "0.5 ms", low="0.1 ms"), receptor="e", name="aa_drawn", **f32))
    net.add(sc.Projection("a", "a", sc.FixedTotalNumber(1500), weight=sc.Uniform("-3 mV", "-1 mV"),
                          delay=sc.Uniform("0.1 ms", "0.6 ms"), receptor="i", name="aa_inh", **f32))
    net.add(sc.Projection("a", "b", sc.FixedTotalNumber(1200), weight=sc.Uniform("0.1 mV", "0.8 mV"),
                          delay=sc.Uniform("0.1 ms", "1.5 ms"), name="ab", **f32))      # a dense fold in a's rows
    net.add(sc.Projection("b", "a", sc.FixedTotalNumber(1000), weight=sc.Uniform("-2 mV", "-0.5 mV"),
                          delay=sc.Normal("0.8 ms", "0.3 ms", low="0.1 ms"), receptor="i", name="ba", **f32))
    net.add(sc.StateMonitor("a", ("v", "syn_e", "syn_i"), neurons=[0, 17, 119], name="m"))
    return net


def packed_rows(sim):
    """Each (thread, row) part of the packed table: its entries and weights."""
    a = sim.arrays
    ptr, syn, w = a["pk_ptr"], a["pk_syn"], a["pk_w"]
    return [(syn[ptr[i]:ptr[i + 1]], w[ptr[i]:ptr[i + 1]] if w.size else w) for i in range(ptr.size - 1)]


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_packed_rows_sorted_by_delay_give_ring_modes_results(precision):
    # bucket mode sorts each packed row by delay, stably, and appends one item per group of one
    # delay at a spike, whose synapses are added when the slot's bucket is drained
    g = grouped_net().to_ir()
    ring = run_parts(g, [0.08], precision=precision, delivery="ring")
    assert ring[0].arrays["pk_gptr"].size == 0 and sum(s[0].size for s in ring[1].values()) > 200
    for threads in THREADS:
        bucket = run_parts(g, [0.0231, 0.0569], precision=precision, delivery="bucket", threads=threads)
        sim = bucket[0]
        assert_identical(ring, bucket)
        if threads == 1:     # the same rows as ring mode's, each sorted by delay, stably
            for (rs, rw), (bs, bw) in zip(packed_rows(ring[0]), packed_rows(sim)):
                order = np.argsort(rs & 0xFF, kind="stable")
                assert np.array_equal(rs[order], bs) and np.array_equal(rw[order], bw)
        # the groups: runs of one delay, in the rows' order
        a = sim.arrays
        grp, gptr = a["pk_grp"], a["pk_gptr"]
        assert gptr.size == a["pk_ptr"].size and gptr[-1] == grp.size
        lengths = np.diff(a["pk_ptr"])
        assert np.array_equal(np.add.reduceat(np.append(grp >> 8, 0), gptr[:-1])[lengths > 0],
                              lengths[lengths > 0])
        delays = a["pk_syn"] & 0xFF
        assert np.array_equal(np.repeat(grp & 0xFF, grp >> 8), delays)
        if sim.parts == 1:   # whole rows: groups of two synapses or more on average
            assert grp.size < a["pk_syn"].size / 2
        # all three kinds of items went through the buckets: a spike (multiplier 1), a Poisson
        # count (its multiplier), a row of one weight
        low = a["bk"] & 0xFFFFFFFF
        assert {0xFFFFFFFC, 0xFFFFFFFD, 0xFFFFFFFE} <= set(np.unique(low).tolist())


def test_memory_estimate_bounds_the_delay_groups():
    net = grouped_net()
    T = THREADS[-1]
    run = estimate(net, 0.1, "native", {"delivery": "bucket", "threads": T}).stage("run").components
    size = next(v for k, v in run.items() if "delay groups" in k)
    sim = GridSimulator(net.to_ir(), delivery="bucket", threads=T)
    a = sim.arrays
    assert a["pk_grp"].nbytes <= size <= 4 * a["pk_grp"].nbytes + a["pk_gptr"].nbytes
    # and the engine's bytes per synapse count them
    ring = GridSimulator(net.to_ir(), delivery="ring", threads=T)
    extra = (a["pk_grp"].nbytes + a["pk_gptr"].nbytes) / sim.n_synapses
    assert sim.bytes_per_synapse == pytest.approx(ring.bytes_per_synapse + extra)
    # ring mode has none
    assert not any("delay groups" in k for k in estimate(net, 0.1, "native", {"delivery": "ring"}).stage("run").components)


def folding_net(seed=4):
    """Bucket mode folds the pending input of lif_cuba in its update's own pass (sc_block.fold: fused
    loops for one and two receptors, a separate fold for three and for per-neuron parameters) and
    that of other models with synaptic state (lif_coba) before their update."""
    net = sc.Network("folds", seed=seed, dt="0.1 ms")
    taus = {1: {"e": "5 ms"}, 2: {"e": "5 ms", "i": "10 ms"}, 3: {"e": "5 ms", "i": "10 ms", "s": "2 ms"}}
    for n_rec, tau_syn in taus.items():
        net.add(sc.Population(70, "lif_cuba", {**CUBA, "tau_syn": tau_syn}, {"v": sc.Uniform("-60 mV", "-50 mV")},
                              name=f"r{n_rec}"))
    per_neuron = sc.units.Quantity(np.linspace(15e-3, 25e-3, 60), sc.units.TIME)
    net.add(sc.Population(60, "lif_cuba", {**CUBA, "tau_mem": per_neuron}, {"v": sc.Uniform("-60 mV", "-50 mV")},
                          name="pn"))
    net.add(sc.Population(50, "lif_coba", dict(c_m="200 pF", g_l="10 nS", v_leak="-49 mV", v_threshold="-50 mV",
                                               v_reset="-60 mV", t_refrac="2 ms", tau_syn={"e": "5 ms"},
                                               e_rev={"e": "0 mV"}), {"v": sc.Uniform("-60 mV", "-50 mV")},
                          name="cb"))
    net.add(sc.PoissonSource(100, "3 kHz", name="ext"))
    delay = sc.Uniform("0.1 ms", "2 ms")
    for name in ("r1", "r2", "r3", "pn"):
        net.add(sc.Projection("ext", name, sc.FixedProbability(0.2), weight=sc.Uniform("0.2 mV", "0.6 mV"),
                              delay=delay, receptor="e", name=f"x{name}", weight_precision="float32"))
        net.add(sc.Projection("r2", name, sc.FixedProbability(0.1), weight=sc.Uniform("-1 mV", "1 mV"),
                              delay=delay, receptor="e", name=f"rec{name}", weight_precision="float32"))
    for name, receptor in (("r2", "i"), ("r3", "s")):
        net.add(sc.Projection("r1", name, sc.FixedProbability(0.2), weight=sc.Uniform("-2 mV", "2 mV"),
                              delay=delay, receptor=receptor, name=f"y{name}", weight_precision="float32"))
    net.add(sc.Projection("ext", "cb", sc.FixedProbability(0.2), weight=sc.Uniform("0.5 nS", "2 nS"), delay=delay,
                          receptor="e", name="xcb", weight_precision="float32"))
    net.add(sc.StateMonitor("r3", ("v", "syn_s"), neurons=[0, 69], name="m"))
    return net


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_updates_that_fold_give_ring_modes_results_bit_for_bit(precision):
    g = folding_net().to_ir()
    ring = run_parts(g, [0.06], precision=precision, delivery="ring")
    assert all(ring[1][p][0].size > 20 for p in ("r1", "r2", "r3", "pn", "cb"))
    for threads in THREADS:
        bucket = run_parts(g, [0.0213, 0.0387], precision=precision, delivery="bucket", threads=threads)
        assert went_through_buckets(bucket[0])
        assert_identical(ring, bucket)
