"""The native engine's Loihi mode (spikecore/engine/loihi.py, _loihi.pyx) against Lava, bit for bit.

Three layers, fastest first:
* Lava's own conversion functions (lava/utils/weightutils.py) and its LIF step
  (PyLifModelBitAcc methods, called directly on a model instance) against ours, on
  many hypothesis examples including every overflow edge;
* whole random networks run in Lava fixed_pt (Loihi2SimCfg) and natively: identical
  spike rasters and final u and v (few, small examples: Lava needs ~2 s per network;
  benchmarks/loihi_emulation.py --sweep runs hundreds);
* crafted networks that must wrap u at +-2**23, saturate v and overflow int32, in both.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.lava_fixed_reference import (KINDS, Conn, ConnKnobs, FixedNet, GroupKnobs, LifGroup, NetKnobs,
                                             SpikeInput, build_net, run_lava, to_ir)
from spikecore import ir as _ir
from spikecore.engine import loihi
from spikecore.engine.loihi import LoihiSimulator
from spikecore.errors import UnsupportedFeature, ValidationError

I32 = (-2**31, 2**31 - 1)


def step_spikes(raw):
    """population -> (steps, indices) of a run's spikes."""
    return {name: (raw.spike_steps[name], raw.spike_indices[name]) for name in raw.spike_steps}


def _lava():
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    import lava.utils.weightutils as wu
    from lava.proc.lif.models import PyLifModelBitAcc
    return wu, PyLifModelBitAcc


def run_native(net: FixedNet, n_steps: int):
    sim = LoihiSimulator(to_ir(net))
    res = sim.run_steps(n_steps)
    return {g.name: sim.raster(res, g.name) for g in net.groups}, sim.state()


def assert_same_as_lava(net: FixedNet, n_steps: int) -> dict:
    ref = run_lava(net, n_steps)
    spikes, state = run_native(net, n_steps)
    for g in net.groups:
        lava_raster = ref["spikes"][g.name]
        assert lava_raster.shape == spikes[g.name].shape
        diff = np.argwhere(lava_raster != spikes[g.name])
        assert diff.size == 0, f"{g.name}: first raster difference at (step, neuron) {diff[0].tolist()}"
        np.testing.assert_array_equal(state[g.name]["u"], ref["u"][g.name], err_msg=f"{g.name}.u")
        np.testing.assert_array_equal(state[g.name]["v"], ref["v"][g.name], err_msg=f"{g.name}.v")
    return ref


# -- Lava's conversions and LIF step, called directly ------------------------------------------

MODE_NAMES = ("mixed", "excitatory", "inhibitory", "null")


@settings(max_examples=300, deadline=None)
@given(w=st.lists(st.integers(-400, 400) | st.sampled_from([-257, -256, -255, -1, 0, 1, 255, 256]),
                  min_size=1, max_size=40),
       mode=st.sampled_from(MODE_NAMES), nwb=st.integers(1, 8))
def test_weight_clipping_and_truncation_are_lavas(w, mode, nwb):
    wu, _ = _lava()
    w = np.array(w, dtype=np.int64)
    lava_mode = wu.SignMode[mode.upper()]
    code = loihi.SIGN_MODES[mode]
    expect = wu.truncate_weights(wu.clip_weights(w, lava_mode, num_bits=8), lava_mode, nwb)
    got = loihi.truncate_weights(loihi.clip_weights(w, code, 8), code, nwb)
    np.testing.assert_array_equal(got, expect)
    dense = w.reshape(1, -1)
    assert loihi.SIGN_MODE_NAMES[loihi.determine_sign_mode(w, False)] == wu.determine_sign_mode(dense).name.lower()


def _lava_lif_step(model_cls, u, v, du, dv, vth, mant, exp, a_in):
    m = model_cls({})
    m.u, m.v = u.astype(np.int32), v.astype(np.int32)
    m.du, m.dv, m.vth = du, dv, vth
    m.bias_mant, m.bias_exp = mant.astype(np.int16), exp.astype(np.int16)
    m.scale_bias()
    m.scale_threshold()
    m.subthr_dynamics(activation_in=a_in.astype(np.int32))
    s = m.spiking_activation()
    m.reset_voltage(spike_vector=s)
    return m.u.astype(np.int64), m.v.astype(np.int64), np.asarray(s, bool)


def _native_lif_step(u, v, du, dv, vth, mant, exp, a_in):
    n = u.size
    pop = _ir.PopulationNode("p", n, "loihi_lif", {"du": du, "dv": dv, "vth": vth}, {"default": {}},
                             {"u": u.astype(float), "v": v.astype(float)}, {"bias_mant": mant, "bias_exp": exp})
    g = _ir.IRGraph("one_step", 1e-3, 0, populations={"p": pop})
    sim = LoihiSimulator(g)
    sim.arrays["ring"][0, :] = a_in.astype(np.int32).view(np.uint32)   # input due at step 0
    res = sim.run_steps(1)
    st_ = sim.state()["p"]
    return st_["u"], st_["v"], sim.raster(res, "p")[0]


EDGE_UV = [-2**23, -2**23 + 1, -1, 0, 1, 2**23 - 1, 2**23]
state_values = st.integers(-2**23, 2**23) | st.sampled_from(EDGE_UV)
a_in_values = (st.integers(-2**17, 2**17) | st.integers(*I32)
               | st.sampled_from([-2**25 - 1, -2**25, 2**25 - 1, 2**25, 2**17, I32[0], I32[1]]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 12),
       du=st.integers(0, 4095) | st.sampled_from([0, 4095]), dv=st.integers(0, 4095) | st.sampled_from([0, 4095]),
       vth=st.integers(0, 2**17 - 1) | st.sampled_from([0, 2**17 - 1]))
def test_one_lif_step_is_lavas(data, n, du, dv, vth):
    """Lava's PyLifModelBitAcc step on extreme u, v, a_in (u wraps, v saturates, a_in << 6 overflows int32)."""
    _, model_cls = _lava()
    arr = lambda s: np.array(data.draw(st.lists(s, min_size=n, max_size=n)), dtype=np.int64)  # noqa: E731
    u, v, a_in = arr(state_values), arr(state_values), arr(a_in_values)
    mant, exp = arr(st.integers(-4096, 4095)), arr(st.integers(0, 7))
    expect = _lava_lif_step(model_cls, u, v, du, dv, vth, mant, exp, a_in)
    got = _native_lif_step(u, v, du, dv, vth, mant, exp, a_in)
    for name, e, g in zip(("u", "v", "spikes"), expect, got):
        np.testing.assert_array_equal(g, e, err_msg=name)


def test_lif_step_edges_are_exercised():
    """The wrap, the saturation and the int32 overflow of a_in << 6 each happen in one step."""
    _, model_cls = _lava()
    u = np.array([2**23 - 10, -2**23 + 10, 0, 0, 2**23, 0, 0])
    v = np.array([0, 0, -2**23 + 5, 2**23 - 5, 0, 0, 0])
    a_in = np.array([100, -100, -1000, 1000, 2**26 + 3, 2**17, -2**17])
    args = (0, 0, 2**17 - 1, np.zeros(7, np.int64), np.zeros(7, np.int64), a_in)
    eu, ev, es = _lava_lif_step(model_cls, u, v, *args)
    gu, gv, gs = _native_lif_step(u, v, *args)
    np.testing.assert_array_equal(gu, eu)
    np.testing.assert_array_equal(gv, ev)
    np.testing.assert_array_equal(gs, es)
    assert gu[0] < 0 < gu[1]                       # wrapped both ways
    assert gv[2] == -(2**23 - 1)                   # saturated low
    assert gs[3] and gv[3] == 0                    # saturated high, above vth << 6, reset
    assert gu[4] == (2**23 * 4095 >> 12) + 192     # (2**26 + 3) << 6 wraps int32 to 3 << 6
    assert gu[5] == gu[6] == 2**23                 # 2**23 is kept, -2**23 wraps to it


# -- whole networks in Lava's runtime ---------------------------------------------------------

def _group_knobs():
    decay = st.integers(0, 4095) | st.sampled_from([0, 1, 4094, 4095])
    vth = st.integers(0, 400) | st.sampled_from([0, 1, 2**17 - 1]) | st.integers(0, 2**17 - 1)
    return st.builds(GroupKnobs, size=st.integers(1, 8), du=decay, dv=decay, vth=vth,
                     bias=st.sampled_from(["zero", "small", "full"]), init=st.sampled_from(["zero", "small", "full"]))


@st.composite
def net_knobs(draw):
    groups = draw(st.lists(_group_knobs(), min_size=1, max_size=3))
    ng = len(groups)

    def conn(pre, post):
        return st.builds(ConnKnobs, pre=st.just(pre), post=st.just(post), kind=st.sampled_from(KINDS),
                         density=st.floats(0.1, 1.0), weight_exp=st.integers(-8, 7),
                         num_weight_bits=st.integers(1, 8),
                         sign_mode=st.sampled_from([None, "mixed", "excitatory", "inhibitory"]),
                         weights=st.sampled_from(["mixed", "excitatory", "inhibitory", "extreme"]),
                         max_delay=st.integers(0, 63) | st.sampled_from([0, 63]))
    conns = [draw(conn(draw(st.integers(-1, k - 1)), k)) for k in range(ng)]    # connected
    for _ in range(draw(st.integers(0, 2))):
        conns.append(draw(conn(draw(st.integers(-1, ng - 1)), draw(st.integers(0, ng - 1)))))
    return NetKnobs(groups, conns, draw(st.integers(1, 6)), draw(st.floats(0.05, 0.6)),
                    draw(st.integers(0, 2**31 - 1)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(knobs=net_knobs(), n_steps=st.integers(20, 80))
def test_random_networks_match_lava(knobs, n_steps):
    assert_same_as_lava(build_net(knobs, n_steps), n_steps)


def _group(name, n, du=0, dv=0, vth=2**17 - 1, mant=0, exp=0, u=0, v=0):
    full = lambda x: np.broadcast_to(np.asarray(x, dtype=np.int64), (n,)).copy()  # noqa: E731
    return LifGroup(name, n, du, dv, vth, full(mant), full(exp), full(u), full(v))


def test_overflow_edges_match_lava():
    """u wraps at +2**23 and at -2**23, v saturates low, a_in << 6 overflows int32, weights clip
    and truncate, delays 0 and 63 — in Lava's runtime and here, with the edges checked to occur."""
    T = 70
    inp = SpikeInput("input", np.ones((4, T), np.int64))
    wide = SpikeInput("wide", np.ones((2300, T), np.int64))
    pulse = np.zeros((2, T), np.int64)
    pulse[0, [0, 3]] = 1
    pulse[1, 5] = 1
    groups = [
        _group("wrap_up", 2, du=0, dv=4095),             # large excitatory drive: u crosses +2**23
        _group("wrap_down", 2, du=0, dv=0),              # large inhibitory drive: u crosses -2**23, v clips
        _group("int32", 2, du=4095, dv=4095, vth=1000),  # a_in << 6 beyond int32
        _group("bias_sat", 3, dv=0, mant=[4095, -4096, 7], exp=7, vth=2**17 - 1),
        _group("delayed", 4, du=4095, dv=4095, vth=0),
    ]
    conns = [
        Conn("up", "input", "wrap_up", np.array([0, 1, 2, 3, 0]), np.array([0, 0, 0, 0, 1]),
             np.array([255, 300, 255, 255, 255]), np.zeros(5, np.int64), weight_exp=7, kind="dense"),
        Conn("down", "input", "wrap_down", np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1]),
             np.array([-256, -300, -255, -255]), np.zeros(4, np.int64), weight_exp=7, sign_mode="mixed",
             kind="sparse"),
        # a_in = 1100 * (255 << 7) and 2300 * (255 << 7): << 6 wraps int32 to a negative and to a
        # positive value (int64 arithmetic would make both spike)
        Conn("big", "wide", "int32", np.r_[np.arange(1100), np.arange(2300)],
             np.r_[np.zeros(1100, np.int64), np.ones(2300, np.int64)],
             np.full(3400, 255), np.zeros(3400, np.int64), weight_exp=7, sign_mode="excitatory", kind="sparse"),
        Conn("tie2", "input", "int32", np.array([0]), np.array([0]), np.array([0]), np.zeros(1, np.int64)),
        Conn("drive", "input", "bias_sat", np.array([0]), np.array([2]), np.array([1]), np.zeros(1, np.int64)),
        Conn("late", "pulse", "delayed", np.array([0, 1, 0, 1]), np.array([0, 1, 2, 3]),
             np.array([100, -9, 255, 3]), np.array([0, 63, 17, 63]), weight_exp=-3, num_weight_bits=5,
             sign_mode="mixed", kind="delay_dense"),
        Conn("late_sparse", "pulse", "delayed", np.array([0, 1]), np.array([1, 3]),
             np.array([-5, 130]), np.array([63, 63]), weight_exp=-1, kind="delay_sparse"),
        # a zero-weight tie: Lava runs only what is connected to the process it runs
        Conn("tie", "input", "delayed", np.array([0]), np.array([0]), np.array([0]), np.zeros(1, np.int64)),
    ]
    net = FixedNet(groups, [inp, wide, SpikeInput("pulse", pulse)], conns)
    ref = assert_same_as_lava(net, T)
    # the edges did occur (checked on the native trace, which equals Lava's final state)
    g = to_ir(net)
    g.state_monitors["m"] = _ir.StateMonitorNode("m", "wrap_up", ("u",), np.array([0]), g.dt)
    g.state_monitors["w"] = _ir.StateMonitorNode("w", "wrap_down", ("u", "v"), np.array([0]), g.dt)
    sim = LoihiSimulator(g)
    res = sim.run_steps(T)
    up = res.traces["m"]["variables"]["u"][:, 0]
    assert up.max() > 2**23 - 2**22 and (np.diff(up) < -2**23).any()         # wrapped past +2**23
    down = res.traces["w"]["variables"]
    assert (np.diff(down["u"][:, 0]) > 2**23).any()                          # wrapped past -2**23
    assert (down["v"][:, 0] == -(2**23 - 1)).any()                           # v saturated
    assert ref["spikes"]["int32"][1:, 1].all() and not ref["spikes"]["int32"][:, 0].any()
    assert ref["v"]["int32"][0] == -(2**23 - 1)                             # int32 wrap made it negative
    late = ref["spikes"]["delayed"]
    # pulses at steps 0 and 3 (pre 0) and 5 (pre 1): a spike at step n with Lava delay d acts at n+1+d;
    # 3 truncates to 0 (5 weight bits, mixed: 4 LSBs dropped) and -9 to -16: no spike from them
    assert np.array_equal(np.nonzero(late[:, 0])[0], [1, 4]) and np.array_equal(np.nonzero(late[:, 2])[0], [18, 21])
    assert np.array_equal(np.nonzero(late[:, 3])[0], [69]) and not late[:, 1].any()


# -- the integer IR: validation and bookkeeping -----------------------------------------------

def _one_pop_ir(**params):
    p = {"du": 0, "dv": 0, "vth": 10}
    p.update(params)
    pop = _ir.PopulationNode("p", 2, "loihi_lif", p, {"default": {}}, {"u": np.zeros(2), "v": np.zeros(2)})
    return _ir.IRGraph("t", 1e-3, 0, populations={"p": pop})


@pytest.mark.parametrize("field,value", [("du", 4096), ("dv", -1), ("vth", 2**17), ("bias_exp", 8),
                                         ("bias_mant", 4096), ("du", 1.5), ("vth", [1, 2])])
def test_out_of_range_parameters_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        LoihiSimulator(_one_pop_ir(**{field: value}))


def _with_projection(weight, delay_steps, **attrs):
    g = _one_pop_ir()
    n = len(weight)
    g.projections["c"] = _ir.ProjectionEdge("c", "p", "p", "default", "loihi", np.zeros(n, np.int64),
                                            np.arange(n, dtype=np.int64) % 2, np.asarray(weight, float),
                                            np.asarray(delay_steps, float) * g.dt, attrs)
    return g


def test_unrepresentable_networks_are_refused():
    with pytest.raises(UnsupportedFeature, match="64 steps"):
        LoihiSimulator(_with_projection([1], [64]))
    with pytest.raises(ValidationError, match="multiple of dt"):
        LoihiSimulator(_with_projection([1], [1.5]))
    with pytest.raises(ValidationError, match="integer"):
        LoihiSimulator(_with_projection([1.5], [1]))
    with pytest.raises(ValidationError, match="sign_mode"):
        LoihiSimulator(_with_projection([1], [1], sign_mode="both"))
    with pytest.raises(ValidationError, match="num_weight_bits"):
        LoihiSimulator(_with_projection([1], [1], num_weight_bits=9))
    with pytest.raises(ValidationError, match="graded"):
        LoihiSimulator(_with_projection([1], [1], graded="yes"))
    g = _one_pop_ir(refractory_steps=2)
    with pytest.raises(UnsupportedFeature, match="refractory"):
        LoihiSimulator(g)
    g = _one_pop_ir()
    with pytest.raises(ValidationError, match="weight_exp"):
        LoihiSimulator(_with_projection([1], [1], weight_exp=8))
    g = _one_pop_ir()
    g.populations["p"].model = "lif_cuba"
    with pytest.raises(UnsupportedFeature, match="lif_cuba"):
        LoihiSimulator(g)
    g = _one_pop_ir()
    g.currents["i"] = _ir.CurrentInputNode("i", "p", np.array([0]), np.array([0.0]), np.array([1e-9]))
    with pytest.raises(UnsupportedFeature, match="current input"):    # no attrs to convert amperes
        LoihiSimulator(g)


def test_repeated_synapses_are_separate_synapses():
    """Two synapses between one pair are clipped one by one (the Lava backend puts the second
    in another connection process), then summed: 200 + 200 reaches u as 400 << 6."""
    g = _one_pop_ir(du=4095, dv=4095, vth=2**17 - 1)
    g.spike_sources["s"] = _ir.SpikeSourceNode("s", 1, np.array([0.0]), np.array([0]))
    g.projections["c"] = _ir.ProjectionEdge("c", "s", "p", "default", "loihi", np.zeros(2, np.int64),
                                            np.zeros(2, np.int64), np.array([200.0, 200.0]), np.zeros(2), {})
    sim = LoihiSimulator(g)
    sim.run_steps(1)
    assert sim.state()["p"]["u"][0] == 0
    sim.run_steps(1)     # the source spike of step 0 reaches a_in at step 1; du = 4095 keeps only a_in << 6
    assert sim.state()["p"]["u"][0] == 400 << 6


def test_runs_in_pieces_equal_one_run_and_monitors_sample_step_starts():
    knobs = NetKnobs([GroupKnobs(6, 100, 300, 50, "small", "small"), GroupKnobs(5, 4095, 0, 20, "full", "zero")],
                     [ConnKnobs(-1, 0, "delay_dense", 0.6, -2, 7, None, "mixed", 40),
                      ConnKnobs(0, 1, "sparse", 0.8, 1, 8, "mixed", "extreme"),
                      ConnKnobs(1, 0, "delay_sparse", 0.5, -4, 6, "inhibitory", "inhibitory", 63)],
                     input_size=5, input_density=0.4, seed=3)
    g = to_ir(build_net(knobs, 200))
    g.state_monitors["m"] = _ir.StateMonitorNode("m", "g0", ("u", "v"), np.arange(6), g.dt)
    whole = LoihiSimulator(g)
    r = whole.run_steps(200)
    pieces = LoihiSimulator(g)
    parts = [pieces.run_steps(n) for n in (1, 63, 136)]
    for name in ("g0", "g1"):
        np.testing.assert_array_equal(whole.state()[name]["u"], pieces.state()[name]["u"])
        np.testing.assert_array_equal(whole.state()[name]["v"], pieces.state()[name]["v"])
        for k in (0, 1):
            np.testing.assert_array_equal(step_spikes(r)[name][k],
                                          np.concatenate([step_spikes(p)[name][k] for p in parts]))
    assert r.spike_steps["g0"].size > 0 and r.spike_steps["g1"].size > 0
    # the sample of step n is the state left by step n-1
    one = LoihiSimulator(g)
    one.run_steps(57)
    np.testing.assert_array_equal(r.traces["m"]["variables"]["v"][57], one.state()["g0"]["v"])
    np.testing.assert_array_equal(r.traces["m"]["variables"]["u"][57], one.state()["g0"]["u"])


def test_projection_truncated_to_nothing():
    """Weights that Lava's truncation turns into zeros leave no synapse (and no input)."""
    g = _with_projection([1, -1, 3], [0, 2, 5], num_weight_bits=5, sign_mode="mixed")   # 16-steps: 1, 3 -> 0
    sim = LoihiSimulator(g)
    assert sim.n_synapses == 1                   # -1 floors to -16
    g = _with_projection([1, 3], [0, 2], num_weight_bits=5, sign_mode="exc")
    sim = LoihiSimulator(g)
    assert sim.n_synapses == 0
    sim.run_steps(5)
    assert not sim.state()["p"]["u"].any()


# -- the kernel's two neuron updates and its ring -------------------------------------------

def _busy_knobs(seed: int) -> NetKnobs:
    """Groups whose sizes leave partial 16-neuron blocks, driven hard (many spikes, u and v
    near their limits), connections of all four kinds with delays up to 63 steps."""
    return NetKnobs([GroupKnobs(37, 100, 300, 20, "full", "full"), GroupKnobs(16, 4095, 0, 5, "small", "small"),
                     GroupKnobs(3, 0, 4095, 0, "full", "full")],
                    [ConnKnobs(-1, 0, "delay_dense", 0.7, 3, 8, None, "excitatory", 5),
                     ConnKnobs(0, 1, "sparse", 0.6, 0, 8, "mixed", "extreme"),
                     ConnKnobs(1, 0, "delay_sparse", 0.5, -3, 6, "inhibitory", "inhibitory", 63),
                     ConnKnobs(0, 2, "dense", 0.9, -1, 7, None, "mixed"),
                     ConnKnobs(2, 0, "delay_dense", 0.8, 1, 8, None, "mixed", 1)],
                    input_size=6, input_density=0.5, seed=seed)


@pytest.fixture
def portable_update():
    """The kernel's portable neuron update instead of the AVX-512 one (where the CPU has it)."""
    from spikecore.engine._loihi import set_simd
    set_simd(False)
    yield
    set_simd(True)


def test_portable_update_matches_lava(portable_update):
    assert_same_as_lava(build_net(_busy_knobs(11), 120), 120)


def test_avx512_and_portable_updates_are_identical():
    from spikecore.engine._loihi import set_simd
    if not set_simd(True):
        pytest.skip("this CPU has no AVX-512: only the portable update runs here")
    g = to_ir(build_net(_busy_knobs(12), 300))
    try:
        runs = []
        for simd in (True, False):
            set_simd(simd)
            sim = LoihiSimulator(g)
            r = sim.run_steps(300)
            runs.append((step_spikes(r), sim.state()))
    finally:
        set_simd(True)
    (raster_a, state_a), (raster_b, state_b) = runs
    assert sum(s.size for s, _ in raster_a.values()) > 300       # busy enough to exercise the spike lists
    for name in state_a:
        for k in (0, 1):
            np.testing.assert_array_equal(raster_a[name][k], raster_b[name][k])
        np.testing.assert_array_equal(state_a[name]["u"], state_b[name]["u"])
        np.testing.assert_array_equal(state_a[name]["v"], state_b[name]["v"])


def test_ring_holds_only_the_longest_delay():
    """The input ring has longest delay + 2 rows and that many overflow rows, less one; a
    message due in the last row of the ring lands in an overflow row and still arrives."""
    for delays, rows in (([0, 0], 3), ([0, 5], 13)):
        g = _one_pop_ir(du=4095, dv=4095, vth=2**17 - 1)
        g.spike_sources["s"] = _ir.SpikeSourceNode("s", 1, np.array([0.0, 0.0, 1e-3, 2e-3, 3e-3]),
                                                   np.zeros(5, np.int64))
        g.projections["c"] = _ir.ProjectionEdge("c", "s", "p", "default", "loihi", np.zeros(2, np.int64),
                                                np.zeros(2, np.int64), np.array([3.0, 5.0]),
                                                np.array(delays) * g.dt, {})
        sim = LoihiSimulator(g)
        assert sim.arrays["ring"].shape[0] == rows
        us = []
        for _ in range(12):
            sim.run_steps(1)
            us.append(int(sim.state()["p"]["u"][0]) >> 6)     # du = 4095: u = a_in << 6 of the step
        # source spikes at steps 0..3 (binary: the two at step 0 are one spike); weight 3 arrives
        # 1 + d0 steps later, weight 5 1 + d1 steps later
        expect = np.zeros(12, np.int64)
        for n in range(4):
            expect[n + 1 + delays[0]] += 3
            expect[n + 1 + delays[1]] += 5
        assert us == expect.tolist()


def test_prefetch_lines_follow_where_the_rows_live():
    rows = np.array([0, 100, 100, 60])
    assert loihi.prefetch_lines(np.zeros(5, np.int64), 10**9) == (0, 0)
    assert loihi.prefetch_lines(rows, 1000) == (loihi.PF_CACHED_LINES, loihi.PF_CACHED_LINES)
    big = 4 * loihi.last_level_cache_bytes()
    # mean row 260/3 synapses: 347 bytes of targets (6 lines, 7 with alignment), 174 of weights (3 + 1)
    assert loihi.prefetch_lines(rows, big) == (7, 4)
    assert loihi.prefetch_lines(np.array([5000]), big) == (loihi.PF_MAX_LINES, loihi.PF_MAX_LINES)
    assert loihi.last_level_cache_bytes() > 0
