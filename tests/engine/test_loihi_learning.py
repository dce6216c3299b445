"""The learning emulator (spikecore/engine/loihi_learning.py, _loihi_learning.pyx) against Lava 0.10.

Lava's fixed-point learning model (PyLearningDenseModelBitApproximate under
Loihi1SimCfg(select_tag="fixed_pt"), run by benchmarks/lava_learning_reference.py) and the
emulator must agree bit for bit in spike rasters, final u and v, weights, tags and traces:
* Lava's STDP tutorial and reward-modulated STDP tutorial networks (short here; 10,000 steps
  in the slow suite) and random networks and rule strings drawn inside Lava's grammar (a few
  here; the slow suite runs 60, about 4 minutes under load), and random recurrent networks
  whose static connections carry synaptic delays (DelayDense, DelaySparse; 2 here, 20 x 2,000
  steps in the slow suite);
* the compiled kernel against the numpy one on many random networks (no Lava, fast);
* each Lava quirk the emulator reproduces, shown in Lava itself (docs/loihi_learning.md);
* LearningSparse where Lava's stock model crashes (sign modes excitatory and inhibitory, factors
  w, d, t): against the Lava backend's patched model (backends/_lava_models.py), which is Lava's
  with the crashing operations done on the stored values.
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.lava_learning_reference import (differences, lava_crash, random_learning_net, random_recurrent_net,
                                                rstdp_tutorial_net, run_lava, stdp_tutorial_net)
from spikecore.engine.loihi_learning import (CompiledRule, DenseConn, LearningDenseConn, LearningEmulator,
                                             LearningNet, LearningRuleSpec, LearningSparseConn, LifGroup, LifProbe,
                                             SpikeInput,
                                             compile_rule, conn_var_random_stream, lava_rule, trace_random_streams)
from spikecore.engine.loihi import SIGN_MODES, truncate_weights
from spikecore.errors import UnsupportedFeature, ValidationError


def assert_same_as_lava(net: LearningNet, n_steps: int, sparse_model: str = "patched"):
    ref = run_lava(net, n_steps, sparse_model=sparse_model)
    ours = LearningEmulator(net).run(n_steps)
    assert differences(ours, ref) == []
    return ours, ref


# -- whole networks against Lava ------------------------------------------------------------

@pytest.mark.parametrize("make", [stdp_tutorial_net, rstdp_tutorial_net])
def test_tutorial_networks_short(make):
    ours, ref = assert_same_as_lava(make(400), 400)
    w0 = np.asarray(make(1).conns[-1].weights)
    assert not np.array_equal(ref.conns["plastic_dense"]["weights"], w0)      # it did learn


@pytest.mark.slow
@pytest.mark.parametrize("make", [stdp_tutorial_net, rstdp_tutorial_net])
def test_tutorial_networks_10000_steps(make):
    assert_same_as_lava(make(10_000), 10_000)


@pytest.mark.parametrize("seed", [3, 11, 17])
def test_random_networks_and_rules(seed):
    net = random_learning_net(np.random.default_rng(seed), 150)
    assert_same_as_lava(net, 150)


@pytest.mark.slow
def test_random_sweep_60_networks():
    """60 random networks x 300 steps (seeds 1000..1059), about 4 minutes at load 16-34 (256 s in the benchmark)."""
    failed = []
    for seed in range(1000, 1060):
        net = random_learning_net(np.random.default_rng(seed), 300)
        d = differences(LearningEmulator(net).run(300), run_lava(net, 300))
        if d:
            failed.append((seed, d))
    assert failed == []


@pytest.mark.parametrize("seed", [0, 5])
def test_random_sparse_graded_and_reward_lif_networks(seed):
    """LearningSparse, graded plastic connections, the Lava backend's RewardLIF (sparse=True draws)."""
    net = random_learning_net(np.random.default_rng(seed), 200, sparse=True)
    assert any(isinstance(c, LearningSparseConn) for c in net.conns)
    assert_same_as_lava(net, 200, sparse_model="stock")


@pytest.mark.slow
def test_random_sweep_20_sparse_graded_networks():
    """20 random networks with sparse=True x 300 steps (seeds 2000..2019): LearningSparse, graded
    plastic connections, RewardLIF; with the 60 dense ones, 80 networks. About 1.5 minutes."""
    failed = []
    for seed in range(2000, 2020):
        net = random_learning_net(np.random.default_rng(seed), 300, sparse=True)
        d = differences(LearningEmulator(net).run(300), run_lava(net, 300, sparse_model="stock"))
        if d:
            failed.append((seed, d))
    assert failed == []


@pytest.mark.parametrize("seed", [1, 11])
def test_random_recurrent_networks_with_delays(seed):
    """Recurrent static E->E, E->I, I->E with synaptic delays (DelayDense, DelaySparse) beside
    plastic LearningDense connections (random_recurrent_net), against Lava."""
    net = random_recurrent_net(np.random.default_rng(seed), 300)
    assert {c.delays is not None for c in net.conns if isinstance(c, DenseConn)} == {True, False}
    ours, _ = assert_same_as_lava(net, 300)
    assert all(ours.spikes[g].any() for g in ("E", "I"))


@pytest.mark.slow
def test_random_sweep_20_recurrent_networks_2000_steps():
    """20 random recurrent networks with delays x 2,000 steps (seeds 3000..3019): spikes, u, v,
    weights, tags and traces identical. About 3 minutes on the loaded 2-core machine."""
    failed, kinds = [], set()
    for seed in range(3000, 3020):
        net = random_recurrent_net(np.random.default_rng(seed), 2000)
        kinds |= {c.sparse for c in net.conns if isinstance(c, DenseConn) and c.delays is not None}
        d = differences(LearningEmulator(net).run(2000), run_lava(net, 2000))
        if d:
            failed.append((seed, d))
    assert failed == [] and kinds == {True, False}          # DelayDense and DelaySparse both ran


def assert_kernels_agree(make_net, seeds, steps: int):
    """The compiled kernel's run equals the numpy kernel's on ``make_net(rng, steps)`` for each seed."""
    for seed in seeds:
        net = make_net(np.random.default_rng(seed), steps)
        assert differences(LearningEmulator(net, kernel="numpy").run(steps), LearningEmulator(net).run(steps)) == [], seed


def test_compiled_kernel_equals_numpy_kernel_on_recurrent_networks_with_delays():
    assert_kernels_agree(random_recurrent_net, range(30_000, 30_015), 300)


def test_probes_record_u_and_v_after_each_step_alike_in_both_kernels():
    """LifProbe: u or v of some neurons after every Lava step t with t % every == phase; the
    compiled kernel records what the numpy one does, the last sample of v at step n is the final v."""
    net = random_recurrent_net(np.random.default_rng(7), 200)
    probes = [LifProbe("E", "v", [0, 1], 1, 0), LifProbe("E", "u", [1], 3, 1), LifProbe("I", "v", [0], 200, 0)]
    a = LearningEmulator(net, kernel="numpy").run(200, probes=probes)
    b = LearningEmulator(net).run(200, probes=probes)
    assert [t.tolist()[:3] for t, _ in b.probes] == [[1, 2, 3], [1, 4, 7], [200]]
    for (ta, va), (tb, vb) in zip(a.probes, b.probes):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(va, vb)
    np.testing.assert_array_equal(b.probes[0][1][-1], b.v["E"][[0, 1]])
    np.testing.assert_array_equal(b.probes[2][1][-1], b.v["I"][[0]])
    assert np.ptp(b.probes[0][1]) > 0 and np.ptp(b.probes[1][1]) > 0
    for bad, field in ((LifProbe("X", "v", [0]), "probe.group"), (LifProbe("E", "w", [0]), "probe.var"),
                       (LifProbe("E", "v", [99]), "probe.index"), (LifProbe("E", "v", [0], 2, 2), "probe.phase")):
        with pytest.raises(ValidationError, match=field):
            LearningEmulator(net).run(5, probes=[bad])


def test_bias_changes_as_lavas_bias_mant_set_between_runs():
    """LifGroup.bias_changes: from Lava step t on a new bias_mant (Lava: bias_mant.set() after t - 1
    steps, as the Lava backend sets injected currents); both kernels and Lava agree, and the
    changes change the spikes."""
    net = random_recurrent_net(np.random.default_rng(11), 300)
    plain = LearningEmulator(net).run(300)
    rng = np.random.default_rng(0)
    e = net.groups[0]
    e.bias_changes = ((1, rng.integers(-50, 50, e.size)), (100, rng.integers(1000, 4000, e.size)),
                      (201, np.zeros(e.size, int)))
    a = LearningEmulator(net, kernel="numpy").run(300)
    assert differences(a, LearningEmulator(net).run(300)) == []
    assert differences(a, run_lava(net, 300)) == []
    assert "spikes[E]" in differences(a, plain)
    e.bias_changes = ((5, np.full(e.size, 5000)),)
    with pytest.raises(ValidationError, match="E.bias_changes"):
        LearningEmulator(net).run(10)


def _delay_net(n_steps, weights, delays, weight_exp=0, vth=240, dv=4095, spike_steps=(0,)):
    """One input neuron per column of ``weights`` spiking at ``spike_steps`` (columns of the data)
    onto one LIF per row through a DelayDense (``delays`` None: a Dense)."""
    weights = np.asarray(weights)
    data = np.zeros((weights.shape[1], n_steps), dtype=int)
    data[:, list(spike_steps)] = 1
    return LearningNet(
        groups=[LifGroup("post", weights.shape[0], du=4095, dv=dv, vth=vth)],
        inputs=[SpikeInput("in", data)],
        conns=[DenseConn("delayed", "in", "post", weights, weight_exp=weight_exp, sign_mode="excitatory",
                         delays=None if delays is None else np.asarray(delays))])


def test_delay_d_arrives_d_steps_after_a_dense_connection():
    """PyDelayDenseModelBitAcc: a spike sent at step 1 through delay d reaches a_in at step 2 + d
    (delay 0 is a Dense's one step); Lava's largest delay, 63, included."""
    d = np.array([[0], [1], [5], [63]])
    ours, _ = assert_same_as_lava(_delay_net(70, np.full((4, 1), 250), d), 70)
    assert [int(np.flatnonzero(ours.spikes["post"][:, j])[0]) for j in range(4)] == [1, 2, 6, 64]


@pytest.mark.parametrize("delays, v", [(None, 64), ([[2, 2]], 64), ([[0, 1]], 0)],
                         ids=["dense", "same-delay", "two-delays"])
def test_quirk_delay_dense_floors_each_delays_sum_apart(delays, v):
    """DelayDense shifts the weight exponent into each delay value's sum separately: two weights
    of 3 at weight_exp -2 give (3 + 3) >> 2 = 1 through a Dense or one delay, but 3 >> 2 + 3 >> 2 =
    0 at two delays (v, never decayed, = 64 * everything u received)."""
    net = _delay_net(8, [[3, 3]], delays, weight_exp=-2, vth=131071, dv=0)
    ours, _ = assert_same_as_lava(net, 8)
    assert int(ours.v["post"][0]) == v


def test_compiled_kernel_equals_numpy_kernel_on_sparse_graded_and_reward_lif():
    kinds = set()
    for seed in range(30):
        net = random_learning_net(np.random.default_rng(20_000 + seed), 200, sparse=True)
        kinds |= {type(c).__name__ for c in net.conns} | {g.reward_model for g in net.groups if g.reward}
        if any(getattr(c, "num_message_bits", 0) and "plastic" in c.name for c in net.conns):
            kinds.add("graded")
        a = LearningEmulator(net, kernel="numpy").run(200)
        b = LearningEmulator(net).run(200)
        assert differences(a, b) == [], seed
    assert {"LearningSparseConn", "reward_lif", "graded"} <= kinds


def _signed_sparse(net: LearningNet) -> bool:
    return any(isinstance(c, LearningSparseConn) and c.sign_mode in ("excitatory", "inhibitory") for c in net.conns)


def _patched_sparse_nets(seed0: int, count: int, n_steps: int) -> list:
    """(seed, net): the first ``count`` random networks from ``seed0`` on with a LearningSparse of
    sign mode excitatory or inhibitory (sparse_model="patched" draws)."""
    out, seed = [], seed0
    while len(out) < count:
        net = random_learning_net(np.random.default_rng(seed), n_steps, sparse=True, sparse_model="patched")
        if _signed_sparse(net):
            out.append((seed, net))
        seed += 1
    return out


@pytest.mark.parametrize("seed", [0, 3])
def test_random_sparse_networks_with_excitatory_and_inhibitory_weights_equal_the_patched_model(seed):
    """Where Lava's stock LearningSparse crashes (sign modes excitatory and inhibitory, rules with
    w, d, t factors and constants): the emulator equals the Lava backend's patched model."""
    [(_, net)] = _patched_sparse_nets(seed, 1, 150)
    ours, _ = assert_same_as_lava(net, 150)
    assert any(not np.array_equal(ours.conns[c.name]["weights"], c.weights) for c in net.conns
               if isinstance(c, LearningSparseConn) and c.sign_mode in ("excitatory", "inhibitory"))


@pytest.mark.slow
def test_random_sweep_12_sparse_networks_with_excitatory_and_inhibitory_weights():
    """12 more (from seed 3000 on) x 300 steps against the patched LearningSparse model, about 1 minute."""
    failed = []
    for seed, net in _patched_sparse_nets(3000, 12, 300):
        d = differences(LearningEmulator(net).run(300), run_lava(net, 300))
        if d:
            failed.append((seed, d))
    assert failed == []


def test_compiled_kernel_equals_numpy_kernel_on_excitatory_and_inhibitory_sparse():
    for seed, net in _patched_sparse_nets(30_000, 10, 200):
        assert differences(LearningEmulator(net, kernel="numpy").run(200), LearningEmulator(net).run(200)) == [], seed


def test_patched_learning_sparse_equals_lavas_where_lavas_runs():
    """The patch changes only what crashes, and keeps the synapses whose initial weight truncates
    to 0 (Lava's model drops them: test_patched_learning_sparse_keeps_a_synapse_whose_initial_weight_
    truncates_to_zero, tests/engine/test_loihi_learning_graded.py): on a network Lava's stock
    LearningSparse runs (sign mode mixed, a rule over traces) without such synapses, both models
    give the same spikes, weights, tags and traces."""
    net = random_learning_net(np.random.default_rng(0), 200, sparse=True)
    dropped = 0
    for c in net.conns:
        if isinstance(c, LearningSparseConn):
            keep = c.synapses & (truncate_weights(np.asarray(c.weights, dtype=np.int32), SIGN_MODES["mixed"],
                                                  c.num_weight_bits) != 0)
            dropped += int((c.synapses & ~keep).sum())
            c.synapses = keep
            c.weights, c.tag_1, c.tag_2 = (np.where(keep, np.broadcast_to(v, keep.shape), 0)
                                           for v in (c.weights, c.tag_1, c.tag_2))
    assert dropped and any(isinstance(c, LearningSparseConn) for c in net.conns)
    assert differences(run_lava(net, 200, sparse_model="stock"), run_lava(net, 200)) == []


def _sparse_net(weights, synapses, rule, sign_mode=None, n_steps=60):
    """Two input neurons driving two pre LIF (every 3rd step) onto one post through LearningSparse."""
    data = np.zeros((2, n_steps), dtype=int)
    data[:, ::3] = 1
    post_in = np.zeros((1, n_steps), dtype=int)
    post_in[:, 1::4] = 1
    lif = dict(du=4095, dv=4095, vth=10)
    return LearningNet(
        groups=[LifGroup("pre", 2, **lif), LifGroup("post", 1, **lif)],
        inputs=[SpikeInput("in", data), SpikeInput("in_post", post_in)],
        conns=[DenseConn("drive", "in", "pre", np.eye(2) * 250), DenseConn("drive_post", "in_post", "post", [[250]]),
               LearningSparseConn("plastic", "pre", "post", np.asarray(weights), rule, sign_mode=sign_mode,
                                  synapses=np.asarray(synapses, dtype=bool))])


def test_quirk_learning_sparse_drops_synapses_whose_initial_weight_truncates_to_zero():
    """Lava's truncate_weights calls eliminate_zeros on the CSR matrix: a stored synapse of initial
    weight 0 (or 1: mixed sign mode truncates the LSB) is gone before the first epoch, never learns."""
    rule = LearningRuleSpec(dw="2^0 * x0", x1_impulse=0, x1_tau=0, rng_seed=3)     # +1 at every pre spike
    net = _sparse_net([[1, 40]], [[True, True]], rule)
    ours, ref = assert_same_as_lava(net, 60, sparse_model="stock")
    w = ref.conns["plastic"]["weights"][0]
    assert w[0] == 0 and w[1] > 40


@pytest.mark.parametrize("sign_mode, weights, rule, message", [
    ("excitatory", [[20, 40]], dict(dw="2^-2 * x0 * y1"), ">= and <= don't work with 0"),
    ("inhibitory", [[-20, -40]], dict(dw="2^-2 * x0 * y1"), ">= and <= don't work with 0"),
    ("mixed", [[20, 40]], dict(dw="2^-2 * x0 * (w + 3)"), "adding a nonzero scalar to a sparse"),
    ("mixed", [[20, 40]], dict(dw="2^-2 * x0 * y1", dt="2^-2 * x0 * y1 - 2^-3 * y0 * t"), "truth value of an array"),
])
def test_quirk_learning_sparse_crashes_where_the_patched_model_runs(sign_mode, weights, rule, message):
    """Lava 0.10's stock LearningSparse model crashes in its first epoch with sign mode excitatory
    or inhibitory (np.maximum on a CSR matrix), and on a factor w, d or t (np.clip of a CSR matrix;
    a constant added to one). The Lava backend's patched model runs them, and the emulator equals it."""
    spec = LearningRuleSpec(x1_impulse=16, x1_tau=4, y1_impulse=16, y1_tau=4, rng_seed=3, **rule)
    net = _sparse_net(weights, [[True, True]], spec, sign_mode=sign_mode)
    assert message in lava_crash(net, 60)
    ours, ref = assert_same_as_lava(net, 60)
    learned = ref.conns["plastic"]
    assert not np.array_equal(learned["weights"], weights) and (learned["tag_1"].any() or "dt" not in rule)


def test_compiled_kernel_equals_numpy_kernel():
    assert_kernels_agree(random_learning_net, range(10_000, 10_040), 250)


def test_snapshots_record_weights_every_k_steps():
    net = stdp_tutorial_net(400)
    res = LearningEmulator(net).run(400, snapshot_every=100)
    assert [t for t, _ in res.snapshots] == [100, 200, 300, 400]
    assert np.array_equal(res.snapshots[-1][1]["plastic_dense"], res.conns["plastic_dense"]["weights"])
    ref = LearningEmulator(net, kernel="numpy").run(400, snapshot_every=100)
    for (t1, a), (t2, b) in zip(res.snapshots, ref.snapshots):
        assert t1 == t2 and np.array_equal(a["plastic_dense"], b["plastic_dense"])


# -- Lava's quirks, each shown in Lava ------------------------------------------------------

def _probe_net(n_steps, conns, n_pre=4, pre_pattern=None, post_pattern=None):
    """Input 'pre' (n_pre neurons) -> plastic conns -> LIF 'post' (one neuron), 'post' also
    driven by input 'kick' so that it spikes one step after each kick."""
    pre = np.zeros((n_pre, n_steps), dtype=int) if pre_pattern is None else pre_pattern
    kick = np.zeros((1, n_steps), dtype=int) if post_pattern is None else post_pattern
    return LearningNet(
        groups=[LifGroup("post", 1, du=4095, dv=4095, vth=240)],
        inputs=[SpikeInput("pre", pre), SpikeInput("kick", kick)],
        conns=[DenseConn("kick_post", "kick", "post", np.full((1, 1), 250)), *conns])


def _rule(**kw):
    base = dict(dw="2^-7 * x0 * y1", x1_impulse=0.0, x1_tau=0.0, y1_impulse=0.0, y1_tau=0.0, t_epoch=1, rng_seed=1)
    base.update(kw)
    return LearningRuleSpec(**base)


def test_quirk_impulse_fraction_compared_with_a_7_bit_random():
    """An impulse's fraction is in 1/256 but its random number is an integer 0..127: a
    fraction >= 0.5 always rounds up. Five connections, five seeds: x1 = 1 after one spike of
    impulse 0.5, every time (a fair coin would give 0 half the time)."""
    pre = np.zeros((1, 1), dtype=int)
    pre[0, 0] = 1
    conns = [LearningDenseConn(f"c{s}", "pre", "post", np.zeros((1, 1)), _rule(x1_impulse=0.5, rng_seed=s))
             for s in range(5)]
    ours, ref = assert_same_as_lava(_probe_net(1, conns, n_pre=1, pre_pattern=pre), 1)
    assert [int(ref.conns[f"c{s}"]["x1"][0]) for s in range(5)] == [1] * 5


def test_quirk_one_random_number_per_step_for_every_trace():
    """All pre neurons share one random number per step: eight neurons spiking together, with
    a fractional impulse and decay, keep identical traces forever."""
    rng = np.random.default_rng(0)
    col = (rng.random(200) < 0.3).astype(int)
    pre = np.tile(col, (8, 1))
    conns = [LearningDenseConn("c", "pre", "post", np.zeros((1, 8)),
                               _rule(x1_impulse=10.3, x1_tau=7.5, x2_impulse=3.7, x2_tau=2.2, rng_seed=5))]
    ours, ref = assert_same_as_lava(_probe_net(200, conns, n_pre=8, pre_pattern=pre), 200)
    x1 = ref.conns["c"]["x1"]
    assert x1.max() > 0 and np.all(x1 == x1[0])


def test_quirk_weight_rounding_generator_ignores_rng_seed():
    """ConnVarRandom is built without rng_seed (seed 2): two connections whose rules differ
    only in rng_seed round their weights identically; the emulator's stream is seed 2's."""
    rng = np.random.default_rng(1)
    w = rng.integers(-200, 200, (1, 6))
    rule = dict(dw="u0 * w * 3 * 2^-6", t_epoch=1)
    conns = [LearningDenseConn("seed_a", "pre", "post", w, _rule(rng_seed=11, **rule)),
             LearningDenseConn("seed_b", "pre", "post", w, _rule(rng_seed=987654, **rule))]
    ours, ref = assert_same_as_lava(_probe_net(40, conns, n_pre=6), 40)
    assert np.array_equal(ref.conns["seed_a"]["weights"], ref.conns["seed_b"]["weights"])
    assert not np.array_equal(ref.conns["seed_a"]["weights"], w)
    assert np.array_equal(conn_var_random_stream(3), np.random.default_rng(2).random(4))


def test_quirk_tau_zero_forgets_at_once():
    """tau = 0 does not mean 'no decay': the epoch history leaves such a trace at 0, so the
    impulse of a spike lasts one epoch."""
    pre = np.zeros((1, 2), dtype=int)
    pre[0, 0] = 1
    one = [LearningDenseConn("c", "pre", "post", np.zeros((1, 1)), _rule(x1_impulse=20, x1_tau=0))]
    ours, ref = assert_same_as_lava(_probe_net(1, one, n_pre=1, pre_pattern=pre[:, :1]), 1)
    assert ref.conns["c"]["x1"][0] == 20
    ours, ref = assert_same_as_lava(_probe_net(2, one, n_pre=1, pre_pattern=pre), 2)
    assert ref.conns["c"]["x1"][0] == 0


def test_quirk_learning_dense_truncates_as_mixed_and_does_not_clip():
    """LearningDense's model truncates the initial weights to num_weight_bits with sign mode
    'mixed' unless told (one more LSB dropped; Dense would infer 'excitatory') and never clips
    them: 301 is sent as 300 (Dense would send 255) until the first epoch clips it to 255."""
    pre = np.zeros((1, 2), dtype=int)
    pre[0, 0] = 1
    conns = [LearningDenseConn("c", "pre", "post", np.full((1, 1), 301), _rule(dw="2^-7 * x0 * y1"))]
    net = _probe_net(2, conns, n_pre=1, pre_pattern=pre)
    net.groups[0].vth = 2 ** 17 - 1           # no spike: u keeps what arrived
    ours, ref = assert_same_as_lava(net, 2)
    assert ref.u["post"][0] == 300 << 6
    assert ref.conns["c"]["weights"][0, 0] == 255


def test_rule_strings_lava_refuses_are_validation_errors():
    """Lava's parser decides the grammar; its refusals name the rule strings."""
    with pytest.raises(ValidationError, match="x0 \\* u1 \\* y1"):
        compile_rule(_rule(dw="x0 * u1 * y1"))         # a uk after a spike dependency
    with pytest.raises(ValidationError, match="learning rule"):
        compile_rule(_rule(dw="9 * x0 * y1"))          # mantissa outside -8..7


def test_quirk_lava_draws_a_random_rng_seed_when_none():
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
    seeds = {Loihi2FLearningRule(dw="x0 * y1", rng_seed=None).rng_seed for _ in range(3)}
    assert len(seeds) > 1
    with pytest.raises(ValidationError, match="rng_seed"):
        lava_rule(LearningRuleSpec(dw="x0 * y1"))


def test_trace_streams_advance_twice_per_step():
    """Lava's recv_traces advances both trace generators twice per step: after n steps the
    numbers in use are the (2n)-th draws, which the emulator takes from the streams."""
    decay, impulse = trace_random_streams(4, 5, 6)
    assert np.array_equal(decay, np.random.default_rng(4).random(7))
    g = np.random.default_rng(5)
    assert list(impulse) == [g.integers(0, 2 ** 7, size=1, dtype=int)[0] for _ in range(7)]


# -- the API ----------------------------------------------------------------------------------

def test_rule_from_lava_object_and_from_spec_compile_alike():
    spec = LearningRuleSpec(dw="2^-2 * x0 * y1 - 3 * 2^-4 * y0 * x1", dt="x0 * sgn(w+4)", x1_impulse=16,
                            x1_tau=10, y1_impulse=16, y1_tau=10, t_epoch=2, rng_seed=3)
    a, b = compile_rule(spec), compile_rule(lava_rule(spec))
    assert isinstance(a, CompiledRule) and a == b
    assert compile_rule(a) is a
    assert [p.s_mantissa for p in a.products["dw"]] == [1, -3]


def test_three_factor_rule_needs_a_reward_neuron():
    conns = [LearningDenseConn("c", "pre", "post", np.zeros((1, 4)),
                               LearningRuleSpec(dw="x0 * y2", t_epoch=1, rng_seed=1, three_factor=True))]
    with pytest.raises(UnsupportedFeature, match="reward neuron"):
        LearningEmulator(_probe_net(5, conns)).run(5)


def test_user_mistakes_name_the_field():
    conns = [LearningDenseConn("c", "pre", "post", np.zeros((4, 1)), _rule())]
    with pytest.raises(ValidationError, match="c.weights"):
        LearningEmulator(_probe_net(5, conns)).run(5)
    with pytest.raises(ValidationError, match="kernel"):
        LearningEmulator(_probe_net(5, []), kernel="gpu")
    with pytest.raises(ValidationError, match="learning_rule"):
        compile_rule("x0 * y1")
    bad = [LearningDenseConn("c", "nowhere", "post", np.zeros((1, 4)), _rule())]
    with pytest.raises(ValidationError, match="nowhere"):
        LearningEmulator(_probe_net(5, bad)).run(5)
    with pytest.raises(ValidationError, match="c.weights"):
        LearningEmulator(_probe_net(5, [LearningDenseConn("c", "pre", "post", np.full((1, 4), 0.5), _rule())])).run(5)
    net = _probe_net(5, [])
    net.groups[0].du = 5000
    with pytest.raises(ValidationError, match="post.du"):
        LearningEmulator(net).run(5)
    with pytest.raises(ValidationError, match="delayed.delays") as e:       # Loihi's delays are 6 bits
        LearningEmulator(_delay_net(5, [[250]], [[64]])).run(5)
    assert "64" in str(e.value)
    with pytest.raises(ValidationError, match="delayed.delays"):
        LearningEmulator(_delay_net(5, [[250]], [[1, 2]])).run(5)


def test_compiled_fraction_equals_numpys_modulo():
    """The kernel's x - floor(x) is numpy's x % 1 (fmod, + 1 when negative), bit for bit."""
    from spikecore.engine._loihi_learning import mod1_values
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(-300, 300, 20000), rng.uniform(-1, 1, 5000) * 1e-12,
                        np.exp(-1 / rng.uniform(0.1, 70000, 5000)) * rng.integers(-128, 128, 5000),
                        -np.ldexp(1.0, -np.arange(1, 80)), [0.0, -0.0, -1.0, 3.0, -2.5]])
    assert np.array_equal(mod1_values(np.ascontiguousarray(p)), p % 1)
