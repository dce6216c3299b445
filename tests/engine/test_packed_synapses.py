"""The grid engine's packed synapse table and the IR's lazy projections (spikecore.engine.simulator
``_fill_packed``, spikecore.ir.SynapseStream): the packed table gives the segmented table's results
bit for bit, for any thread count, in 8 bytes per synapse or less; a lazy projection is filled into
the engine chunk by chunk without being joined, and gives the explicit projection's results."""
import numpy as np
import pytest

import spikecore as sc
from spikecore import connectors
from spikecore import ir as _ir
from spikecore.engine import GridSimulator
from spikecore.engine._core import openmp_enabled
from spikecore.errors import ValidationError

THREADS = (1, 2) if openmp_enabled() else (1,)
LIF = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="15 mV", v_reset="0 mV", t_refrac="2 ms")


def mixed_net(seed=4, weight_precision="float32"):
    """Current-based (sparse fold) and delta (dense fold) targets, per-synapse normal weights and
    delays, a constant-weight projection with drawn delays, spike-source and Poisson input."""
    net = sc.Network("packed", seed=seed, dt="0.1 ms")
    net.add(sc.Population(300, "lif_cuba", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="10 mV",
                                                v_reset="0 mV", t_refrac="2 ms", r="100 Mohm",
                                                tau_syn={"exc": "2 ms", "inh": "4 ms"}),
                          {"v": sc.Uniform("0 mV", "9 mV")}, name="e"))
    net.add(sc.Population(100, "lif_delta", LIF, {"v": sc.Uniform("0 mV", "14 mV")}, name="i"))
    net.add(sc.PoissonSource(50, "40 Hz", name="bg"))
    rng = np.random.default_rng(1)
    net.add(sc.SpikeSource(times=np.sort(rng.uniform(0, 80, 300)) * sc.units.ms,
                           indices=rng.integers(0, 20, 300), name="s"))
    normal_delay = sc.Normal("1.5 ms", "0.75 ms", low="0.1 ms")
    net.add(sc.Projection("bg", "e", sc.FixedIndegree(20), weight=sc.Normal("60 pA", "6 pA", low="0 pA"),
                          delay=normal_delay, receptor="exc", name="bg_e", weight_precision=weight_precision))
    net.add(sc.Projection("e", "e", sc.FixedProbability(0.1), weight=sc.Normal("40 pA", "4 pA", low="0 pA"),
                          delay=normal_delay, receptor="exc", name="ee", weight_precision=weight_precision))
    net.add(sc.Projection("e", "i", sc.FixedIndegree(30), weight="1 mV",
                          delay=sc.Uniform("0.5 ms", "3 ms"), name="ei"))      # one weight, drawn delays
    net.add(sc.Projection("i", "e", sc.FixedProbability(0.2), weight=sc.Normal("-90 pA", "9 pA", high="0 pA"),
                          delay=normal_delay, receptor="inh", name="ie", weight_precision=weight_precision))
    net.add(sc.Projection("s", "i", sc.FixedProbability(0.5), weight=sc.Normal("3 mV", "0.3 mV"),
                          delay=sc.Uniform("0.1 ms", "2 ms"), name="si", weight_precision=weight_precision))
    net.add(sc.SpikeSource(times=np.sort(rng.uniform(0, 80, 200)) * sc.units.ms,
                           indices=rng.integers(0, 10, 200), name="s2"))
    net.add(sc.Projection("s2", "e", sc.FixedProbability(0.5), weight="30 pA", delay=sc.Uniform("0.1 ms", "2 ms"),
                          receptor="exc", name="s2e"))   # one weight (no float32 value), rows of its own
    net.add(sc.Projection("i", "i", sc.FixedTotalNumber(2500, allow_self=False),
                          weight=sc.Normal("-0.5 mV", "0.05 mV", high="0 mV"), delay=normal_delay, name="ii",
                          weight_precision=weight_precision))    # multapses
    net.add(sc.StateMonitor("e", ("v", "syn_exc"), neurons=[0, 5, 17], name="mon"))
    return net


def run_sim(g, steps=800, **kw):
    sim = GridSimulator(g, **kw)
    raw = sim.run_steps(steps)
    return sim, raw


def assert_same_run(a, b):
    for pop in a.spike_steps:
        assert np.array_equal(a.spike_steps[pop], b.spike_steps[pop])
        assert np.array_equal(a.spike_indices[pop], b.spike_indices[pop])
    for name, tr in a.traces.items():
        for var, x in tr["variables"].items():
            assert np.array_equal(x, b.traces[name]["variables"][var]), (name, var)


@pytest.mark.parametrize("threads", THREADS)
def test_packed_table_gives_the_segmented_tables_results_bit_for_bit(threads):
    g = mixed_net().to_ir()
    packed, run_packed = run_sim(g, threads=threads)
    segmented, run_segmented = run_sim(g, threads=threads, packed=False)
    # all but the one-weight projection whose rows (e) it shares with per-synapse weights (ee);
    # s2e's weight, no float32 value, is its rows' weight, exactly
    assert packed.arrays["pk_syn"].size == packed.n_synapses - g.projections["ei"].n_synapses
    w = g.projections["s2e"].weight[0]
    assert np.float32(w) != w and w in packed.arrays["pk_row_w"]
    assert segmented.arrays["pk_syn"].size == 0
    assert sum(x.size for x in run_packed.spike_steps.values()) > 200
    assert_same_run(run_packed, run_segmented)


@pytest.mark.skipif(len(THREADS) < 2, reason="engine built without OpenMP")
def test_packed_table_results_do_not_depend_on_threads():
    g = mixed_net(seed=9).to_ir()
    _, one = run_sim(g, threads=1)
    _, two = run_sim(g, threads=2)
    assert_same_run(one, two)


def test_packed_table_costs_at_most_8_bytes_per_synapse():
    net = sc.Network("bytes", seed=2, dt="0.1 ms")
    net.add(sc.Population(2000, "lif_delta", LIF, name="a"))
    net.add(sc.Projection("a", "a", sc.FixedIndegree(100), weight=sc.Normal("0.5 mV", "0.05 mV"),
                          delay=sc.Normal("1.5 ms", "0.75 ms", low="0.1 ms"), name="het",
                          weight_precision="float32"))
    g = net.to_ir()
    sim = GridSimulator(g)
    a = sim.arrays
    assert (a["pk_syn"].nbytes + a["pk_w"].nbytes) / sim.n_synapses == 8.0
    assert sim.bytes_per_synapse <= 8.5     # + row pointers, 0.4 B with 100 synapses per row
    assert GridSimulator(g, packed=False).bytes_per_synapse > 12.0     # one segment per synapse
    net.projections["het"].weight = "0.5 mV"     # one weight per row: no per-synapse weights stored
    assert GridSimulator(net.to_ir()).bytes_per_synapse <= 4.5


def test_float64_weights_stay_in_the_segmented_table():
    # weights that are not float32 values cannot be stored in 4 bytes without changing the sums
    g = mixed_net(weight_precision="float64").to_ir()
    sim = GridSimulator(g)
    # only the one-weight projections (ei now has its rows to itself)
    assert sim.arrays["pk_syn"].size == g.projections["ei"].n_synapses + g.projections["s2e"].n_synapses
    assert GridSimulator(g, precision="float32").arrays["pk_syn"].size == sim.n_synapses


def test_weight_precision_rounds_the_irs_weights_to_float32_values():
    g64 = mixed_net(weight_precision="float64").to_ir()
    g32 = mixed_net(weight_precision="float32").to_ir()
    w64, w32 = g64.projections["ee"].weight, g32.projections["ee"].weight
    assert w32.dtype == np.float64 and not np.array_equal(w64, w32)
    assert np.array_equal(w32, w64.astype(np.float32).astype(np.float64))
    assert np.array_equal(g32.projections["ee"].delay, g64.projections["ee"].delay)


def test_weight_precision_survives_a_model_file(tmp_path):
    net = mixed_net()
    net.save(tmp_path / "m.yaml")
    back = sc.Network.load(tmp_path / "m.yaml")
    assert back.projections["ee"].weight_precision == "float32"
    assert back.projections["ei"].weight_precision == "float64"
    assert np.array_equal(back.to_ir().projections["ee"].weight, net.to_ir().projections["ee"].weight)


def test_a_bad_weight_precision_is_refused_naming_the_field():
    net = mixed_net()
    with pytest.raises(ValidationError, match=r"projections\.ee2\.weight_precision.*float64, float32"):
        net.add(sc.Projection("e", "e", sc.OneToOne(), weight="1 pA", receptor="exc", name="ee2", weight_precision="half"))
    net = mixed_net()
    net.projections["ee"].weight_precision = "half"
    with pytest.raises(ValidationError, match=r"projections\.ee\.weight_precision"):
        net.to_ir()


def lazy_ir(monkeypatch, net):
    """Every projection lazy, drawn in pieces of 64 synapses (the explicit IR draws them whole)."""
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 1)
    monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", 64)
    return net.to_ir()


def test_lazy_projections_join_to_the_explicit_synapse_lists(monkeypatch):
    explicit = mixed_net().to_ir()
    lazy = lazy_ir(monkeypatch, mixed_net())
    assert all(e.is_lazy for e in lazy.projections.values())
    for name, e in explicit.projections.items():
        f = lazy.projections[name]
        assert f.n_synapses == e.n_synapses and f.is_lazy      # counting does not join
        for key in ("i", "j", "weight", "delay"):
            assert np.array_equal(getattr(f, key), getattr(e, key)), (name, key)
        assert not f.is_lazy
    assert lazy.redrawn == explicit.redrawn and explicit.redrawn


@pytest.mark.parametrize("threads", THREADS)
def test_the_engine_fills_lazy_projections_without_joining_them(monkeypatch, threads):
    explicit = mixed_net().to_ir()
    lazy = lazy_ir(monkeypatch, mixed_net())
    _, run_lazy = run_sim(lazy, threads=threads)
    assert all(e.is_lazy for e in lazy.projections.values())
    _, run_explicit = run_sim(explicit, threads=threads)
    assert_same_run(run_lazy, run_explicit)


def test_a_lazy_projection_reports_bad_delays_in_one_line(monkeypatch):
    net = mixed_net()
    net.projections["ee"].delay = sc.Normal("1.5 ms", "0.75 ms")   # no low bound: draws below dt
    g = lazy_ir(monkeypatch, net)
    with pytest.raises(ValidationError, match=r"projections\.ee\.delay.*drawn delays below dt"):
        GridSimulator(g)


def test_the_stream_gives_the_same_chunks_on_every_pass():
    calls = []

    def generate(counts):
        calls.append(1)
        rng = np.random.default_rng(5)
        for k in range(3):
            i = rng.integers(0, 10, 4)
            yield i, i.copy(), rng.normal(size=4), np.full(4, 1e-3)
    e = _ir.ProjectionEdge("p", "a", "b", "exc", "current", stream=_ir.SynapseStream(generate))
    first = [c[2] for c in e.chunks()]
    second = [c[2] for c in e.chunks()]
    assert all(np.array_equal(x, y) for x, y in zip(first, second)) and len(calls) == 2
    assert e.n_synapses == 12 and e.is_lazy
    assert np.array_equal(e.weight, np.concatenate(first)) and not e.is_lazy


def test_setting_a_copied_edges_weights_leaves_the_original_alone(monkeypatch):
    import copy
    for g in (mixed_net().to_ir(), lazy_ir(monkeypatch, mixed_net())):
        e = g.projections["ee"]
        before = e.weight.copy()
        f = copy.copy(e)
        f.weight = np.zeros_like(before)
        assert np.array_equal(e.weight, before) and not f.weight.any()


def test_medium_projections_of_a_large_network_stay_lazy(monkeypatch):
    """In a network expecting at least LAZY_NETWORK_SYNAPSES static synapses, every static
    projection of at least LAZY_IN_LARGE_NETWORK is lazy (the IR holds none of them), and the
    memory estimate counts the same ones as lazy; a smaller network keeps them explicit."""
    from spikecore.engine.memory import _Plan

    monkeypatch.setattr(_ir, "LAZY_IN_LARGE_NETWORK", 2000)
    monkeypatch.setattr(_ir, "LAZY_NETWORK_SYNAPSES", 10**9)
    small = mixed_net().to_ir()
    assert not any(e.is_lazy for e in small.projections.values())
    monkeypatch.setattr(_ir, "LAZY_NETWORK_SYNAPSES", 20_000)
    net = mixed_net()
    g = net.to_ir()
    lazy = {name for name, e in g.projections.items() if e.is_lazy}
    assert lazy == {name for name, e in small.projections.items() if e.n_synapses >= 2000}
    assert {"ee", "ie", "ii"} <= lazy and "s2e" not in lazy
    plan = _Plan(net, "native-grid", "native", 1e-4, 0.1, {})
    assert plan.lazy == lazy
    _, run_lazy = run_sim(g)
    _, run_explicit = run_sim(small)
    assert_same_run(run_lazy, run_explicit)


def test_a_lazy_fixed_total_number_drawn_in_any_order_has_the_same_synapses_and_values(monkeypatch):
    """The engine's counting pass reads fixed_total_number by target, unsorted
    (chunks(ordered=False)): the same synapses, the same weights and the same delays (as
    multisets: a value belongs to a position of the list, not to a synapse) and the same
    redraw counts as the ordered list; other connectors give their one order."""
    g = lazy_ir(monkeypatch, mixed_net())
    e = g.projections["ii"]
    assert e.stream.generate_any_order is not None and g.projections["ee"].stream.generate_any_order is None

    def joined(ordered):
        return [np.concatenate(x) for x in zip(*e.chunks(ordered=ordered))]
    ri, rj, rw, rd = joined(True)
    redrawn = dict(g.redrawn)
    g.redrawn.clear()
    i, j, w, d = joined(False)
    assert g.redrawn == redrawn and redrawn["projections.ii.delay"] > 0 and e.is_lazy
    assert not np.array_equal(i, ri)                                       # another order ...
    assert np.array_equal(np.sort(i * 100 + j), np.sort(ri * 100 + rj))    # ... of the same synapses
    assert np.array_equal(np.sort(w), np.sort(rw)) and np.array_equal(np.sort(d), np.sort(rd))
    assert e.n_synapses == 2500


def test_a_lazy_projection_finds_its_redraws_once(monkeypatch):
    """A lazy projection's truncated weights and delays find their out-of-bounds draws on the
    first pass only (ValueStream's known_redraws); later passes give the same values and
    the same redraw counts."""
    from spikecore.distributions import ValueStream
    calls = []
    find = ValueStream._find_redraws
    monkeypatch.setattr(ValueStream, "_find_redraws", lambda self, rng: calls.append(self.field_name) or find(self, rng))
    g = lazy_ir(monkeypatch, mixed_net())
    e = g.projections["ie"]
    first = [np.concatenate(x) for x in zip(*e.chunks())]
    assert sorted(calls) == ["projections.ie.delay", "projections.ie.weight"]
    redrawn = dict(g.redrawn)
    g.redrawn.clear()
    second = [np.concatenate(x) for x in zip(*e.chunks())]
    assert len(calls) == 2 and g.redrawn == redrawn and redrawn["projections.ie.delay"] > 0
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_the_memory_estimate_counts_the_kept_redraws(monkeypatch):
    """16 B per value a lazy projection's truncated normals draw outside their bounds (kept
    for the engine's second pass), expected from the mass outside the bounds."""
    from spikecore.distributions import ValueStream
    from spikecore.engine.memory import _kept_redraw_bytes, _Plan

    kept = []
    init = ValueStream.__init__

    def spy(self, *args, **kw):
        init(self, *args, **kw)
        kept.append(self.patch_at.size)
    monkeypatch.setattr(ValueStream, "__init__", spy)
    net = mixed_net()
    g = lazy_ir(monkeypatch, net)
    for e in g.projections.values():
        for _ in e.chunks():
            pass
    plan = _Plan(net, "native-grid", "native", 1e-4, 0.1, {})
    estimate = _kept_redraw_bytes(plan)
    assert estimate == pytest.approx(16 * sum(kept), rel=0.15) and estimate > 16 * 500
