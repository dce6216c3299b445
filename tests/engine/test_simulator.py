"""The native engine's layout and kernel (spikecore.engine.simulator, _kernel.c): Poisson
stream against its numpy definition, thread-count independence, float32 state, the
synapse table's size and a reference implementation of the step semantics."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore import ir as _ir
from spikecore.engine import GridSimulator
from spikecore.engine._core import openmp_enabled
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.units import ms

DT = 1e-4
# without OpenMP (a compiler that lacks it) the engine runs one thread and says so
THREADS = (2, 3) if openmp_enabled() else ()
needs_openmp = pytest.mark.skipif(not openmp_enabled(), reason="engine built without OpenMP")


def poisson_net(rates_a, rates_b, start="0 ms", stop=None):
    net = sc.Network("pois", seed=3, dt="0.1 ms")
    net.add(sc.Population(2, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="1 V",
                                               v_reset="0 mV"), name="n"))
    net.add(sc.PoissonSource(len(rates_a), rates_a, name="a"))
    net.add(sc.PoissonSource(len(rates_b), rates_b, start=start, stop=stop, name="b"))
    return net


@pytest.mark.parametrize("threads", [1] + list(THREADS[:1]))
def test_kernel_poisson_counts_equal_numpy_definition(threads):
    # one node with a shared table (vector path), one with mixed rates incl. 0, long tables and starts/stops
    rates_a = ["20 kHz"] * 300
    rates_b = np.array([0.0, 5.0, 1e3, 2e4, 1e6, 3e6, 2e4, 7.0]) * sc.units.Hz
    net = poisson_net(rates_a, rates_b, start="0.35 ms", stop="1.05 ms")
    g = net.to_ir()
    sim = GridSimulator(g, threads=threads)
    na, nb = g.poisson_sources["a"], g.poisson_sources["b"]
    ref_a = _ir.poisson_counts(na, DT, 0, 40)
    ref_b = _ir.poisson_counts(nb, DT, 0, 40)
    for n in range(40):
        assert np.array_equal(sim.kernel.poisson_counts(n, 0, 300), ref_a[n])
        assert np.array_equal(sim.kernel.poisson_counts(n, 300, 308), ref_b[n])
    assert ref_b[:4].sum() == 0 and ref_b[11:].sum() == 0 and ref_b[4:11, 4].min() > 50
    # chunked definition: any window of steps gives the same numbers
    assert np.array_equal(_ir.poisson_counts(na, DT, 17, 5), ref_a[17:22])


@pytest.mark.parametrize("rate", ["200 Hz", "20 kHz", "500 kHz", "3000 kHz"])
def test_kernel_shared_table_counts_equal_numpy_definition(rate):
    # a node whose neurons share one table: a block's counts are summed over the few entries
    # its largest variate reaches (means up to a few spikes per step; the table's tail towards
    # 1.0 is longer), else searched per variate (large means); 700 neurons: blocks of 256 and a rest
    net = poisson_net([rate] * 700, ["1 kHz"])
    g = net.to_ir()
    sim = GridSimulator(g)
    ref = _ir.poisson_counts(g.poisson_sources["a"], DT, 0, 30)
    assert ref.sum() > 0
    for n in range(30):
        assert np.array_equal(sim.kernel.poisson_counts(n, 0, 700), ref[n])


def test_poisson_stream_has_poisson_statistics():
    node = _ir.PoissonSourceNode("p", 2000, np.full(2000, 2e4), seed=11)
    c = _ir.poisson_counts(node, DT, 0, 200).astype(float)
    assert abs(c.mean() - 2.0) < 0.01
    assert abs(c.var() - 2.0) < 0.03
    # independent neurons and steps
    assert abs(np.corrcoef(c[:, :-1].ravel(), c[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(c[:-1].ravel(), c[1:].ravel())[0, 1]) < 0.01


def test_poisson_rate_too_high_is_refused():
    net = poisson_net(["1 kHz"], ["8000 kHz"])
    with pytest.raises(ValidationError, match="rate"):
        GridSimulator(net.to_ir())


def mixed_net(seed=5, model="lif_cuba"):
    """Recurrent network with per-synapse random weights and delays, a spike source,
    Poisson input, a current, and monitors: every path of the kernel."""
    net = sc.Network("mixed", seed=seed, dt="0.1 ms")
    if model == "lif_cuba":
        params = dict(tau_mem="20 ms", v_leak="-49 mV", v_threshold="-50 mV", v_reset="-60 mV",
                      t_refrac="2 ms", tau_syn={"e": "5 ms", "i": "10 ms"})
        rec = {"e": "e", "i": "i"}
    else:
        params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
        rec = {"e": None, "i": None}
    init = {"v": sc.Uniform("-60 mV", "-50 mV") if model == "lif_cuba" else sc.Uniform("0 mV", "20 mV")}
    net.add(sc.Population(150, model, params, init, name="a"))
    net.add(sc.Population(70, model, params, init, name="b"))
    net.add(sc.SpikeSource(times=np.linspace(1, 90, 60) * ms, indices=np.arange(60) % 7, name="src"))
    net.add(sc.PoissonSource(150, "2 kHz", name="ext"))
    mv = 1.0 if model == "lif_cuba" else 0.4
    net.add(sc.Projection("ext", "a", sc.OneToOne(), weight=f"{mv} mV", delay="0.1 ms", receptor=rec["e"],
                          name="pa"))
    net.add(sc.Projection("src", "b", sc.FixedProbability(0.5), weight=f"{3 * mv} mV", delay="0.3 ms",
                          receptor=rec["e"], name="sb"))
    for pre, post, w, r in (("a", "a", sc.Uniform(f"{0.5 * mv} mV", f"{1.5 * mv} mV"), "e"),
                            ("a", "b", f"{mv} mV", "e"),
                            ("b", "a", sc.Uniform(f"{-4 * mv} mV", f"{-2 * mv} mV"), "i"),
                            ("b", "b", f"{-3 * mv} mV", "i")):
        net.add(sc.Projection(pre, post, sc.FixedProbability(0.1), weight=w,
                              delay=sc.Uniform("0.2 ms", "2 ms"), receptor=rec[r], name=f"{pre}{post}"))
    net.add(sc.CurrentSource("b", steps=[("20 ms", "0.1 nA"), ("60 ms", "0 nA")], name="c"))
    variables = ("v", "syn_e") if model == "lif_cuba" else ("v",)
    net.add(sc.StateMonitor("a", variables, neurons=[0, 5, 149], name="m"))
    net.add(sc.StateMonitor("b", ("v",), neurons=[3, 69], interval="0.5 ms", name="mb"))
    return net


@needs_openmp
@pytest.mark.parametrize("model", ["lif_cuba", "lif_delta"])
def test_results_are_identical_for_any_thread_count_and_continuation(model):
    g = mixed_net(model=model).to_ir()
    one = get_backend("native").compile(g).run(0.1)
    assert sum(t.size for t, _ in one.spikes.values()) > 20
    for threads in THREADS:
        exe = get_backend("native").compile(g, threads=threads)
        parts = [exe.run(0.0337), exe.run(0.0663)]
        for pop in ("a", "b"):
            t = np.concatenate([p.spikes[pop][0] for p in parts])
            i = np.concatenate([p.spikes[pop][1] for p in parts])
            assert np.array_equal(t, one.spikes[pop][0]) and np.array_equal(i, one.spikes[pop][1])
        for m in ("m", "mb"):
            for var, x in one.traces[m]["variables"].items():
                y = np.concatenate([p.traces[m]["variables"][var] for p in parts])
                assert np.array_equal(x, y)


@needs_openmp
def test_poisson_counts_drawn_ahead_by_waiting_threads_change_nothing():
    # Threads draw the next window's Poisson counts while they wait for each other
    # (_kernel_impl.h); sources that switch on and off inside windows, two nodes,
    # and rows with several synapses per thread (the general push, not the one-to-one
    # path) must give the one-thread spikes exactly.
    net = sc.Network("ahead", seed=11, dt="0.1 ms")
    params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
    net.add(sc.Population(300, "lif_delta", params, {"v": sc.Uniform("0 mV", "20 mV")}, name="a"))
    net.add(sc.PoissonSource(200, "3 kHz", start="3.35 ms", stop="41.05 ms", name="p1"))
    net.add(sc.PoissonSource(40, "40 kHz", start="20 ms", name="p2"))
    net.add(sc.Projection("p1", "a", sc.FixedProbability(0.2), weight="0.5 mV", delay="0.1 ms", name="w1"))
    net.add(sc.Projection("p2", "a", sc.FixedIndegree(4), weight="0.2 mV", delay="0.4 ms", name="w2"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(0.05), weight="-0.3 mV", delay="1.3 ms", name="rec"))
    assert_split_runs_on_threads_equal_one_run(net.to_ir(), (0.0171, 0.0429), min_spikes=100)


def assert_split_runs_on_threads_equal_one_run(g, durations, min_spikes):
    """Population a's spikes: one thread in one run call == every THREADS count in run calls of
    `durations` (continued runs)."""
    one = get_backend("native").compile(g).run(sum(durations))
    assert one.spikes["a"][0].size > min_spikes
    for threads in THREADS:
        exe = get_backend("native").compile(g, threads=threads)
        parts = [exe.run(d) for d in durations]
        t = np.concatenate([p.spikes["a"][0] for p in parts])
        i = np.concatenate([p.spikes["a"][1] for p in parts])
        assert np.array_equal(t, one.spikes["a"][0]) and np.array_equal(i, one.spikes["a"][1])


def block_drawn_net():
    """Poisson rows of thousands of neurons per thread: drawn in blocks (_kernel.c,
    SC_POIS_BLOCK) that cross the two sources' ranges, switched on and off inside windows."""
    net = sc.Network("blocks", seed=5, dt="0.1 ms")
    params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
    net.add(sc.Population(3000, "lif_delta", params, {"v": sc.Uniform("0 mV", "20 mV")}, name="a"))
    net.add(sc.PoissonSource(3000, "2 kHz", start="1.25 ms", stop="17.05 ms", name="p1"))
    net.add(sc.PoissonSource(1700, "9 kHz", start="6 ms", name="p2"))
    net.add(sc.Projection("p1", "a", sc.OneToOne(), weight="1.5 mV", delay="0.1 ms", name="w1"))
    net.add(sc.Projection("p2", "a", sc.FixedIndegree(2), weight="0.4 mV", delay="0.3 ms", name="w2"))
    net.add(sc.Projection("a", "a", sc.FixedIndegree(20), weight="-0.2 mV", delay="0.5 ms", name="rec"))
    return net.to_ir()


@needs_openmp
def test_poisson_rows_drawn_in_blocks_by_any_thread_change_nothing():
    assert_split_runs_on_threads_equal_one_run(block_drawn_net(), (0.0113, 0.0187), min_spikes=1000)


@needs_openmp
@pytest.mark.parametrize("split", ["cycle", "even", "adaptive"])
def test_any_split_of_the_parts_between_threads_changes_nothing(split, monkeypatch):
    """The team shares the layout's parts out window by window (Kernel.split; _kernel.c, sc_split):
    "cycle" gives the threads a different split at every window, so every part changes hands
    again and again -- with its Poisson rows drawn ahead by whichever thread waits, its spike
    sources, monitors and buckets; the spikes, traces and state equal one thread's. Two threads
    share 4 parts here (thread_choice.TWO_THREAD_SHARES; by default they have one each)."""
    from spikecore.engine import thread_choice
    from spikecore.engine._core import SPLIT_MODES

    monkeypatch.setattr(thread_choice, "TWO_THREAD_SHARES", (7, 3, 3, 7))

    assert SPLIT_MODES == ("adaptive", "even", "cycle")
    for g, pop in ((mixed_net().to_ir(), "b"), (block_drawn_net(), "a")):
        one = get_backend("native").compile(g).run(0.03)
        for threads in THREADS:
            for delivery in ("ring", "bucket"):
                exe = get_backend("native").compile(g, threads=threads, delivery=delivery)
                exe.sim.kernel.split = split
                assert exe.sim.kernel.split == split and exe.sim.parts == 2 * threads
                exe.sim.kernel.profile_windows(200)
                res = [exe.run(0.013), exe.run(0.017)]
                parts = exe.sim.kernel.phase_parts()
                assert (parts >= 1).all() and (parts.sum(0) == exe.sim.parts).all()
                if split == "cycle":        # the split moved at every window
                    assert len(np.unique(parts[0])) > 1 and (parts[0, 1:] != parts[0, :-1]).mean() > 0.9
                if split == "even":
                    assert (parts == 2).all()
                for name in one.spikes:
                    t = np.concatenate([r.spikes[name][0] for r in res])
                    i = np.concatenate([r.spikes[name][1] for r in res])
                    assert np.array_equal(t, one.spikes[name][0]) and np.array_equal(i, one.spikes[name][1]), \
                        (split, threads, delivery, name)
                for name, tr in one.traces.items():
                    for var, x in tr["variables"].items():
                        y = np.concatenate([r.traces[name]["variables"][var] for r in res])
                        assert np.array_equal(x, y), (split, threads, delivery, name, var)
        assert one.spikes[pop][0].size > 50
    with pytest.raises(ValueError, match="split"):
        exe.sim.kernel.split = "random"


def test_float32_state_stays_close_to_float64():
    g = mixed_net().to_ir()
    d = get_backend("native").compile(g).run(0.1)
    f = get_backend("native").compile(g, precision="float32").run(0.1)
    v64, v32 = d.traces["m"]["variables"]["v"], f.traces["m"]["variables"]["v"]
    # before chaos separates the trajectories, float32 follows float64 to its own precision
    assert np.max(np.abs(v64[:50] - v32[:50])) < 1e-6
    n64 = sum(t.size for t, _ in d.spikes.values())
    n32 = sum(t.size for t, _ in f.spikes.values())
    assert abs(n32 - n64) <= 0.05 * n64


def test_psp_in_float32_matches_closed_form_to_single_precision():
    tau_m, tau_s, w = 0.02, 0.005, 0.002
    net = sc.Network(dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[["10 ms"]], name="src"))
    net.add(sc.Population(1, "lif_cuba", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="100 mV",
                                              v_reset="0 mV", tau_syn={"exc": "5 ms"}), name="n"))
    net.add(sc.Projection("src", "n", sc.OneToOne(), weight="2 mV", delay="1.5 ms", name="p"))
    net.add(sc.StateMonitor("n", ("v",), name="vm"))
    res = net.run("0.1 s", precision="float32")
    t, v = res.traces["vm"]["times"], res.traces["vm"]["variables"]["v"][:, 0]
    s = t - (0.010 + 0.0015 + DT)
    analytic = np.where(s >= 0, w * tau_s / (tau_s - tau_m) * (np.exp(-s / tau_s) - np.exp(-s / tau_m)), 0.0)
    assert np.max(np.abs(v - analytic)) < 1e-6 * w * 50


def reference_delta(g, n_steps):
    """Straight from the IR docstring: one lif_delta population, spike-source input, no Poisson."""
    (pop,) = g.populations.values()
    am = np.exp(-g.dt / pop.params["tau_mem"])
    vl, vth, vr = pop.params["v_leak"], pop.params["v_threshold"], pop.params["v_reset"]
    ref = _ir.steps(pop.params["t_refrac"], g.dt)
    v = pop.initial["v"].copy()
    last = np.full(pop.size, -10**9)
    queue = {}
    src = {}
    for s in g.spike_sources.values():
        for t, k in zip(s.times, s.indices):
            src.setdefault(_ir.steps(t, g.dt), []).append((s.name, k))
    out = []
    for n in range(n_steps):
        clamped = n - last < ref
        v = np.where(clamped, v, vl + (v - vl) * am)
        spk = np.flatnonzero((v > vth) & ~(n - last < ref))
        fired = [(pop.name, k) for k in spk] + src.get(n, [])
        for e in g.projections.values():
            for name, k in fired:
                if name != e.pre:
                    continue
                sel = e.i == k
                for j, w, d in zip(e.j[sel], e.weight[sel], _ir.delay_steps(e.delay[sel], g.dt)):
                    queue.setdefault(n + d, []).append((j, w))
        last[spk] = n
        refr_now = n - last < max(ref, 1)
        for j, w in queue.pop(n, []):
            if not refr_now[j]:
                v[j] += w
        v[spk] = vr
        out += [(n, k) for k in spk]
    return out


def test_engine_matches_a_reference_implementation_with_per_synapse_delays():
    net = sc.Network("ref", seed=9, dt="0.1 ms")
    net.add(sc.Population(40, "lif_delta", dict(tau_mem="10 ms", v_leak="0 mV", v_threshold="10 mV",
                                                v_reset="0 mV", t_refrac="0.5 ms"),
                          {"v": sc.Uniform("0 mV", "9 mV")}, name="n"))
    rng = np.random.default_rng(0)
    net.add(sc.SpikeSource(times=np.sort(rng.uniform(0, 50, 200)) * ms, indices=rng.integers(0, 10, 200), name="s"))
    net.add(sc.Projection("s", "n", sc.FixedProbability(0.4), weight=sc.Uniform("1 mV", "5 mV"),
                          delay=sc.Uniform("0.1 ms", "3 ms"), name="in"))
    net.add(sc.Projection("n", "n", sc.FixedProbability(0.2), weight=sc.Uniform("-3 mV", "3 mV"),
                          delay=sc.Uniform("0.5 ms", "4 ms"), name="rec"))
    g = net.to_ir()
    res = get_backend("native").compile(g, threads=THREADS[0] if THREADS else 1).run(0.06)
    got = sorted(zip(np.rint(res.spikes["n"][0] / DT).astype(int).tolist(), res.spikes["n"][1].tolist()))
    want = reference_delta(g, 600)
    assert len(want) > 100
    assert got == [(int(n), int(k)) for n, k in want]


def test_synapse_table_bytes_per_synapse():
    net = sc.Network("mem", seed=1, dt="0.1 ms")
    p = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV")
    net.add(sc.Population(2000, "lif_delta", p, name="a"))
    # heterogeneous weights and per-synapse delays: the worst case of the layout
    net.add(sc.Projection("a", "a", sc.FixedIndegree(100), weight=sc.Uniform("0 mV", "1 mV"),
                          delay=sc.Uniform("0.1 ms", "5 ms"), name="het"))
    g = net.to_ir()
    assert GridSimulator(g, precision="float32").bytes_per_synapse <= 12.0
    assert GridSimulator(g, precision="float64").bytes_per_synapse <= 16.0
    net.projections["het"].weight = "0.5 mV"     # one weight per row: no per-synapse weights stored
    assert GridSimulator(net.to_ir(), precision="float64").bytes_per_synapse <= 8.0


@pytest.mark.parametrize("threads", (1,) + THREADS[:1])
def test_targets_past_the_16_bit_channel_blocks_reach_their_neurons(threads):
    # the synapse table stores a target as 16 bits above its segment's block base
    # (simulator.py docstring): channels 65535/65536 and beyond must land exactly
    delta = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="0 mV")
    net = sc.Network("wide", seed=1, dt="0.1 ms")
    net.add(sc.Population(70000, "lif_delta", delta, name="a"))
    net.add(sc.SpikeSource(spike_times=[["1 ms"]], name="src"))
    hit = np.array([3, 65535, 65536, 65537, 69999])
    net.add(sc.Projection("src", "a", sc.FromIndices(np.zeros(hit.size, int), hit), weight="25 mV",
                          delay="0.5 ms", name="in"))
    drive = np.r_[65525:65530, 69990:69995]   # one-to-one Poisson rows take the flat (dense) path
    net.add(sc.PoissonSource(10, "5 kHz", name="ext"))
    net.add(sc.Projection("ext", "a", sc.FromIndices(np.arange(10), drive), weight="25 mV", delay="0.1 ms",
                          name="drive"))
    res = get_backend("native").compile(net.to_ir(), threads=threads).run(0.003)
    t, i = res.spikes["a"]
    assert np.array_equal(np.sort(i[~np.isin(i, drive)]), hit) and np.allclose(t[np.isin(i, hit)], 1.6e-3)
    assert set(i[np.isin(i, drive)]) == set(drive)

    # current synapses (sparse fold): receptor "i" of neuron k is channel 40000 + k
    cuba = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="100 mV", v_reset="0 mV",
                tau_syn={"e": "5 ms", "i": "10 ms"})
    wide = sc.Network("wide_cuba", seed=1, dt="0.1 ms")
    wide.add(sc.Population(40000, "lif_cuba", cuba, name="a"))
    wide.add(sc.SpikeSource(spike_times=[["1 ms"]], name="src"))
    tgt = np.array([1, 25535, 25536, 39999])
    wide.add(sc.Projection("src", "a", sc.FromIndices(np.zeros(tgt.size, int), tgt), weight="2 mV",
                           delay="0.2 ms", receptor="i", name="in"))
    wide.add(sc.StateMonitor("a", ("v", "syn_i"), neurons=[1, 2, 25535, 25536, 25537, 39999], name="m"))
    one = sc.Network("one", seed=1, dt="0.1 ms")
    one.add(sc.Population(1, "lif_cuba", cuba, name="a"))
    one.add(sc.SpikeSource(spike_times=[["1 ms"]], name="src"))
    one.add(sc.Projection("src", "a", sc.FromIndices([0], [0]), weight="2 mV", delay="0.2 ms", receptor="i",
                          name="in"))
    one.add(sc.StateMonitor("a", ("v",), name="m"))
    got = get_backend("native").compile(wide.to_ir(), threads=threads).run(0.004).traces["m"]["variables"]["v"]
    want = get_backend("native").compile(one.to_ir()).run(0.004).traces["m"]["variables"]["v"][:, 0]
    assert want.max() > 1e-4
    for col in (0, 2, 3, 5):     # neurons 1, 25535, 25536, 39999: exactly the lone neuron's trace
        assert np.array_equal(got[:, col], want)
    assert not got[:, [1, 4]].any()   # their neighbours receive nothing


def test_bad_options_and_limits_raise_named_errors():
    g = mixed_net().to_ir()
    with pytest.raises(ValidationError, match="threads"):
        get_backend("native").compile(g, threads=0)
    with pytest.raises(ValidationError, match="precision"):
        get_backend("native").compile(g, precision="float16")
    net = sc.Network(dt="0.01 ms")
    net.add(sc.Population(1, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV",
                                               v_reset="10 mV"), name="n"))
    net.add(sc.Projection("n", "n", sc.OneToOne(), weight="1 mV", delay="400 ms", name="p"))
    with pytest.raises(UnsupportedFeature, match="delays"):
        GridSimulator(net.to_ir())
    assert get_backend("native").compile(g, threads="all").sim.threads >= 1
    if not openmp_enabled():
        with pytest.raises(UnsupportedFeature, match="OpenMP"):
            get_backend("native").compile(g, threads=2)


@pytest.mark.parametrize("threads", [1] + list(THREADS[:1]))
def test_one_to_one_poisson_drive_onto_current_synapses_takes_the_flat_path_bit_for_bit(threads):
    # a one-to-one Poisson drive onto synaptic variables (as the microcircuit's background) is
    # delivered by a flat loop over the range (pd_off) that lists the touched channels itself;
    # with the flat table switched off the same counts go row by row through push: same results
    net = sc.Network("flat", seed=5, dt="0.1 ms")
    net.add(sc.Population(400, "lif_cuba", dict(tau_mem="10 ms", v_leak="-65 mV", v_threshold="-50 mV",
                                                v_reset="-65 mV", t_refrac="2 ms", r="40 Mohm",
                                                tau_syn={"exc": "0.5 ms", "inh": "1 ms"}),
                          {"v": sc.Uniform("-65 mV", "-52 mV")}, name="n"))
    net.add(sc.PoissonSource(400, "12 kHz", name="bg"))
    net.add(sc.Projection("bg", "n", sc.OneToOne(), weight="87.8 pA", delay="1.5 ms", receptor="exc", name="drive"))
    net.add(sc.Projection("n", "n", sc.FixedProbability(0.1), weight=sc.Normal("-300 pA", "30 pA", high="0 pA"),
                          delay=sc.Normal("0.75 ms", "0.3 ms", low="0.1 ms"), receptor="inh", name="rec"))
    net.add(sc.StateMonitor("n", ("v", "syn_exc", "syn_inh"), neurons=[0, 7, 399], name="mon"))
    g = net.to_ir()
    flat, rows = GridSimulator(g, threads=threads), GridSimulator(g, threads=threads)
    assert (flat.arrays["pd_off"] >= 0).all()
    rows.arrays["pd_off"][:] = -1          # the kernel reads this array: every range row by row
    a, b = flat.run_steps(600), rows.run_steps(600)
    assert a.spike_steps["n"].size > 200
    assert np.array_equal(a.spike_steps["n"], b.spike_steps["n"])
    assert np.array_equal(a.spike_indices["n"], b.spike_indices["n"])
    for var, x in a.traces["mon"]["variables"].items():
        assert np.array_equal(x, b.traces["mon"]["variables"][var]), var
