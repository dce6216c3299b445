"""Graded presynaptic spikes in the learning emulator (spikecore/engine/loihi_learning.py,
_loihi_learning.pyx) against Lava 0.10: the four ``GradedSpikeCfg`` modes of
LearningConnectionModelBitApproximate._process_pre_spikes (lava/magma/core/model/py/connection.py),
on LearningDense and on LearningSparse (Lava's stock model: sign mode mixed, a rule over traces),
and the LearningSparse whose initial weights truncate to 0 (the Lava backend's patched model keeps
those synapses, Lava's drops them). The sweep of random graded networks is in the slow suite.
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.lava_learning_reference import differences, random_learning_net, run_lava
from spikecore.engine.loihi_learning import (GRADED_SPIKE_CFGS, DenseConn, LearningDenseConn, LearningEmulator,
                                             LearningNet, LearningRuleSpec, LearningSparseConn, LifGroup,
                                             SpikeInput)
from spikecore.errors import ValidationError


def _rule(t_epoch: int) -> LearningRuleSpec:
    return LearningRuleSpec(dw="2^-2 * x1 * y0 - 2^-3 * y1 * x0 + 2^-4 * x2 * y0 + 2^-5 * x1 * u0",
                            x1_impulse=20, x1_tau=8, x2_impulse=10.5, x2_tau=12, y1_impulse=16, y1_tau=6,
                            t_epoch=t_epoch, rng_seed=5)


def _graded_net(cfg, t_epoch: int, n_steps: int = 120, seed: int = 1) -> LearningNet:
    """A graded input (payloads 0..255) onto a LearningDense and a LearningSparse (stock: mixed,
    a rule over traces) with ``graded_spike_cfg`` ``cfg``; the post group driven apart."""
    rng = np.random.default_rng(seed)
    data = np.where(rng.random((4, n_steps)) < 0.4, rng.integers(1, 256, (4, n_steps)), 0)
    post_in = (rng.random((3, n_steps)) < 0.3).astype(int)
    syn = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 1, 0]], dtype=bool)
    w = rng.integers(1, 60, (3, 4))
    graded = dict(num_message_bits=8, weight_exp=-6, graded_spike_cfg=cfg)
    return LearningNet(
        groups=[LifGroup("post", 3, 4095, 4095, 300)],
        inputs=[SpikeInput("in", data), SpikeInput("in_post", post_in)],
        conns=[DenseConn("drive", "in_post", "post", np.eye(3) * 250),
               LearningDenseConn("dense", "in", "post", w, _rule(t_epoch), **graded),
               LearningSparseConn("sparse", "in", "post", np.where(syn, w, 0), _rule(t_epoch), synapses=syn,
                                  **graded)])


@pytest.mark.parametrize("t_epoch", [1, 3])
@pytest.mark.parametrize("cfg", GRADED_SPIKE_CFGS)
def test_each_graded_spike_cfg_equals_lavas_learning_dense_and_sparse(cfg, t_epoch):
    net = _graded_net(cfg, t_epoch)
    ref = run_lava(net, 120, sparse_model="stock")
    for kernel in ("compiled", "numpy"):
        assert differences(LearningEmulator(net, kernel=kernel).run(120), ref) == [], kernel
    for c in net.conns[1:]:                              # both learned
        assert not np.array_equal(ref.conns[c.name]["weights"], c.weights)


def _x1_after(cfg, payloads: np.ndarray, x1_impulse: float = 20.0):
    """x1 (and tx through x0) of a graded LearningDense after len(payloads) steps, within its
    first epoch (t_epoch 63: no learning yet), in Lava and in the emulator."""
    n, steps = payloads.shape
    rule = LearningRuleSpec(dw="2^-2 * x1 * y0", x1_impulse=x1_impulse, x1_tau=8, x2_impulse=4, x2_tau=8,
                            t_epoch=63, rng_seed=2)
    net = LearningNet(groups=[LifGroup("post", 1, 4095, 4095, 300)], inputs=[SpikeInput("in", payloads)],
                      conns=[LearningDenseConn("c", "in", "post", np.ones((1, n), dtype=int), rule,
                                               num_message_bits=8, graded_spike_cfg=cfg)])
    ref = run_lava(net, steps)
    assert differences(LearningEmulator(net).run(steps), ref) == []
    return ref.conns["c"]["x1"], ref.conns["c"]["x2"]


def test_quirk_graded_payload_is_halved_rounding_half_to_even():
    """OVERWRITE sets x1 = np.round(payload / 2) as uint8: 1 -> 0 (a Poisson count of one spike
    leaves x1 at 0), 3 -> 2, 5 -> 2, and 255 -> 128, beyond the 7-bit trace."""
    x1, _ = _x1_after("overwrite", np.array([[1], [2], [3], [5], [255]]))
    assert list(x1) == [0, 1, 2, 2, 128]


def test_quirk_add_without_saturation_keeps_the_overflow_and_counts_only_overflowing_spikes():
    """ADD_WITHOUT_SATURATION: (x1 + payload/2) as uint8, minus 127 where it passes 127; a spike
    that does not pass 127 is not recorded (no x0, no x2 impulse on a repeat)."""
    payloads = np.array([[254, 2, 0], [255, 0, 0], [100, 100, 100]])
    x1, x2 = _x1_after("add_without_saturation", payloads)
    assert list(x1) == [1, 1, 23]            # 127 + 1 - 127; 128 - 127; 50 + 50 + 50 - 127
    x1, _ = _x1_after("add_with_saturation", payloads)
    assert list(x1) == [127, 127, 127]


def test_quirk_graded_cfg_zeroes_the_x1_impulse():
    """Any cfg but USE_REGULAR_IMPULSE makes LearningDense set the rule's x1_impulse to 0: a
    binary spike (payload 0 after halving) then never raises x1, whatever x1_impulse says."""
    x1, _ = _x1_after("add_with_saturation", np.array([[1, 1]]), x1_impulse=40)
    assert list(x1) == [0]


def test_graded_spike_cfg_is_checked_naming_the_field():
    net = _graded_net("sideways", 1)
    with pytest.raises(ValidationError, match=r"dense\.graded_spike_cfg.*overwrite"):
        LearningEmulator(net).run(5)


def _zero_weight_net(keep: bool) -> LearningNet:
    data = np.zeros((2, 60), dtype=int)
    data[:, ::3] = 1
    post_in = np.zeros((1, 60), dtype=int)
    post_in[:, 1::4] = 1
    lif = dict(du=4095, dv=4095, vth=10)
    rule = LearningRuleSpec(dw="2^0 * x0", x1_impulse=0, x1_tau=0, rng_seed=3)       # +1 at every pre spike
    return LearningNet(
        groups=[LifGroup("pre", 3, **lif), LifGroup("post", 1, **lif)],
        inputs=[SpikeInput("in", np.vstack([data, data[:1]])), SpikeInput("in_post", post_in)],
        conns=[DenseConn("drive", "in", "pre", np.eye(3) * 250), DenseConn("drive_post", "in_post", "post", [[250]]),
               LearningSparseConn("plastic", "pre", "post", np.array([[1, 40, 0]]), rule,
                                  synapses=np.array([[True, True, False]]), keep_zero_weights=keep)])


def test_patched_learning_sparse_keeps_a_synapse_whose_initial_weight_truncates_to_zero():
    """The Lava backend's LearningSparseBitApproximate truncates without eliminate_zeros: the synapse
    of weight 1 (0 after sign mode mixed drops the LSB) learns; the absent one (pre 2) stays 0.
    Lava's stock model drops it (tests/engine/test_loihi_learning.py, the quirk); the emulator
    follows either (keep_zero_weights)."""
    patched = run_lava(_zero_weight_net(True), 60)
    stock = run_lava(_zero_weight_net(False), 60, sparse_model="stock")
    for keep, ref in ((True, patched), (False, stock)):
        assert differences(LearningEmulator(_zero_weight_net(keep)).run(60), ref) == []
    assert patched.conns["plastic"]["weights"][0, 0] > 0 and stock.conns["plastic"]["weights"][0, 0] == 0
    assert patched.conns["plastic"]["weights"][0, 2] == 0


def test_the_reference_refuses_a_zero_weight_flag_that_is_not_its_models():
    with pytest.raises(ValueError, match="keep_zero_weights"):
        run_lava(_zero_weight_net(False), 5)


@pytest.mark.slow
def test_random_sweep_20_graded_networks_every_cfg():
    """20 random networks with graded plastic connections x 300 steps (sparse=True draws, seeds
    4000...: every GradedSpikeCfg, LearningDense and LearningSparse), about 40 s on the loaded
    2-core machine; the compiled kernel equals the numpy one on each."""
    failed, cfgs, seed, n = [], set(), 4000, 0
    while n < 20:
        net = random_learning_net(np.random.default_rng(seed), 300, sparse=True)
        graded = [c for c in net.conns if isinstance(c, LearningDenseConn) and c.num_message_bits]
        if graded:
            n += 1
            cfgs |= {c.graded_spike_cfg for c in graded}
            ours = LearningEmulator(net).run(300)
            d = differences(ours, run_lava(net, 300, sparse_model="stock"))
            d += differences(LearningEmulator(net, kernel="numpy").run(300), ours)
            if d:
                failed.append((seed, d))
        seed += 1
    assert failed == [] and cfgs == set(GRADED_SPIKE_CFGS)
