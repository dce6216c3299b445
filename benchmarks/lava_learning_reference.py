"""Lava's own fixed-point learning simulation of a ``LearningNet``: the peer and the reference.

``run_lava(net, n_steps)`` builds the network of spikecore.engine.loihi_learning as a Lava
user would -- ``LIF``, the tutorial's ``RSTDPLIF`` (benchmarks/lava_models/rstdp_lif.py) for reward
groups, ``RingBuffer`` sources, ``Dense`` (``Sparse``, ``DelayDense``, ``DelaySparse`` for a
``DenseConn`` with ``sparse`` or ``delays``) and ``LearningDense`` -- runs it under
``Loihi1SimCfg(select_tag="fixed_pt")``, which selects ``PyLifModelBitAcc``,
``PyDenseModelBitAcc`` (``PySparseModelBitAcc``, ``PyDelayDenseModelBitAcc``,
``PyDelaySparseModelBitAcc``) and ``PyLearningDenseModelBitApproximate`` (``LearningSparse``:
the Lava backend's ``LearningSparseBitApproximate``, Lava's ``PyLearningSparseModelBitApproximate``
with the operations that crash on CSR matrices done on the stored values, or with
``sparse_model="stock"`` Lava's own; a ``reward_model="reward_lif"`` group: the Lava
backend's ``RewardLIF``, backends/_lava_models.py), and returns the spike
rasters, the final u and v, and every plastic connection's final weights, tags and traces,
in the emulator's ``LearningResult`` layout. It does not go through the emulator or a
backend: an independent reference built from Lava's process API.
Used by tests/engine/test_loihi_learning.py and benchmarks/loihi_learning.py.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np

from spikecore.engine.loihi_learning import (CompiledRule, DenseConn, LearningDenseConn, LearningNet,
                                             GRADED_SPIKE_CFGS, LearningResult, LearningRuleSpec, LearningSparseConn,
                                             graded_spike_cfg_code, lava_rule,
                                             truncate_weights)
from spikecore.engine.loihi import SIGN_MODES, sign_mode_code

from .lava_fixed_reference import _RECORDER, _recorder_class


def _lava_rule(rule, group=None):
    if isinstance(rule, CompiledRule):
        raise ValueError("the Lava reference needs the rule as Lava or LearningRuleSpec, not compiled")
    r = lava_rule(rule) if isinstance(rule, LearningRuleSpec) else rule
    if group is not None and group.reward and not hasattr(r, "post_trace_decay_tau"):
        r.post_trace_decay_tau = group.post_tau          # what RSTDPLIFBitAcc reads
        r.post_trace_kernel_magnitude = group.post_impulse
    return r


def build_lava(net: LearningNet, n_steps: int, workdir: str):
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.proc.dense.process import Dense, LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.sparse.process import LearningSparse
    from lava.proc.lif.process import LIF
    from lava.utils.weightutils import SignMode

    from .lava_models.rstdp_lif import RSTDPLIF

    modes = {"mixed": SignMode.MIXED, "excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY}
    groups = {g.name: g for g in net.groups}
    rules = {}
    for c in net.conns:        # one Lava rule object per connection (and its reward post group)
        if isinstance(c, LearningDenseConn):
            rules[c.name] = _lava_rule(c.rule, groups[c.post])
    lifs, recorders, ports = {}, {}, {}
    for g in net.groups:
        mant = next((m for t, m in g.bias_changes if int(t) == 1), g.bias_mant)
        kw = dict(shape=(g.size,), du=int(g.du), dv=int(g.dv), vth=int(g.vth), name=g.name,
                  bias_mant=np.zeros(g.size, np.int64) if mant is None else np.asarray(mant),
                  bias_exp=np.zeros(g.size, np.int64) if g.bias_exp is None else np.asarray(g.bias_exp),
                  u=0 if g.u is None else np.asarray(g.u), v=0 if g.v is None else np.asarray(g.v))
        if g.reward and g.reward_model == "reward_lif":
            from backends._lava_models import RewardLIF
            rule = next(rules[c.name] for c in net.conns if isinstance(c, LearningDenseConn) and c.post == g.name)
            lif = RewardLIF(learning_rule=rule, y1_tau=g.post_tau, y1_impulse=g.post_impulse, y2_decay=g.y2_decay,
                            **kw)
        elif g.reward:
            rule = next(rules[c.name] for c in net.conns if isinstance(c, LearningDenseConn) and c.post == g.name)
            lif = RSTDPLIF(learning_rule=rule, **kw)
        else:
            lif = LIF(**kw)
        rec = _recorder_class()(shape=(g.size,), path=os.path.join(workdir, f"raster_{len(recorders)}.bin"))
        lif.s_out.connect(rec.a_in)
        lifs[g.name], recorders[g.name], ports[g.name] = lif, rec, lif.s_out
    for s in net.inputs:
        data = np.asarray(s.data)
        ports[s.name] = RingBuffer(data=data).s_out
    plastic = {}
    for c in net.conns:
        kw = {"weight_exp": int(c.weight_exp), "num_weight_bits": int(c.num_weight_bits), "name": c.name}
        if c.sign_mode is not None:
            kw["sign_mode"] = modes[c.sign_mode]
        w = np.asarray(c.weights)
        post = lifs[c.post]
        if isinstance(c, LearningDenseConn):
            from lava.magma.core.learning.constants import GradedSpikeCfg
            kw["graded_spike_cfg"] = GradedSpikeCfg(graded_spike_cfg_code(c.graded_spike_cfg, "graded_spike_cfg"))
        if isinstance(c, LearningSparseConn):
            proc = LearningSparse(weights=_csr(w, c), learning_rule=rules[c.name],
                                  tag_1=_csr(np.broadcast_to(np.asarray(c.tag_1), w.shape), c),
                                  tag_2=_csr(np.broadcast_to(np.asarray(c.tag_2), w.shape), c),
                                  num_message_bits=int(c.num_message_bits), **kw)
        elif isinstance(c, LearningDenseConn):
            proc = LearningDense(weights=w, learning_rule=rules[c.name],
                                 tag_1=np.broadcast_to(np.asarray(c.tag_1), w.shape).copy(),
                                 tag_2=np.broadcast_to(np.asarray(c.tag_2), w.shape).copy(),
                                 num_message_bits=int(c.num_message_bits), **kw)
        if isinstance(c, LearningDenseConn):
            ports[c.pre].connect(proc.s_in)
            proc.a_out.connect(post.a_in)
            if groups[c.post].reward:
                from lava.magma.core.learning.learning_rule import Loihi3FLearningRule
                post.s_out_bap.connect(proc.s_in_bap)
                if isinstance(rules[c.name], Loihi3FLearningRule):
                    post.s_out_y1.connect(proc.s_in_y1)
                    post.s_out_y2.connect(proc.s_in_y2)
                    post.s_out_y3.connect(proc.s_in_y3)
            else:
                post.s_out.connect(proc.s_in_bap)
            plastic[c.name] = proc
        else:
            proc = _static(c, w, kw)
            ports[c.pre].connect(proc.s_in)
            proc.a_out.connect(post.a_third_factor_in if c.port == "third_factor" else post.a_in)
    return lifs, recorders, plastic


def _static(c: DenseConn, w: np.ndarray, kw: dict):
    """Lava's Dense, Sparse, DelayDense or DelaySparse for a DenseConn (``delays``, ``sparse``)."""
    import scipy.sparse as sp
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import DelaySparse, Sparse

    kw = dict(kw, num_message_bits=int(c.num_message_bits))
    if c.delays is None:
        return Sparse(weights=sp.csr_matrix(w), **kw) if c.sparse else Dense(weights=w, **kw)
    d = np.asarray(c.delays, dtype=int)
    max_delay = int(d.max())
    if c.sparse:
        r, col = np.nonzero(w)
        return DelaySparse(weights=sp.csr_matrix((w[r, col], (r, col)), shape=w.shape),
                           delays=sp.csr_matrix((d[r, col], (r, col)), shape=w.shape), max_delay=max_delay, **kw)
    return DelayDense(weights=w, delays=d, max_delay=max_delay, **kw)


def _synapses(c: LearningSparseConn, w: np.ndarray) -> np.ndarray:
    return np.asarray(w) != 0 if c.synapses is None else np.asarray(c.synapses, dtype=bool)


def _csr(m: np.ndarray, c: LearningSparseConn):
    """A matrix as the CSR a LearningSparse takes: every synapse stored, explicit zeros included."""
    import scipy.sparse as sp
    syn = _synapses(c, c.weights)
    r, col = np.nonzero(syn)
    return sp.csr_matrix((np.asarray(m)[r, col], (r, col)), shape=syn.shape)


def _zero_truncated(c: LearningSparseConn) -> np.ndarray:
    """The synapses of ``c`` whose initial weight truncates to 0 (Lava's LearningSparse drops them)."""
    w = np.asarray(c.weights)
    mode = sign_mode_code(c.sign_mode, "sign_mode")
    held = truncate_weights(w.astype(np.int32), SIGN_MODES["mixed"] if mode is None else mode, int(c.num_weight_bits))
    return _synapses(c, w) & (held == 0)


def _sparse_read(proc, name: str, c: LearningSparseConn) -> np.ndarray:
    """A LearningSparse variable as a dense matrix. Var.get() pairs the model's stored values with
    the initial matrix's nonzero entries, which differ from the stored ones (Lava's model drops the
    weights of the synapses whose initial value truncates to 0, the patched one keeps them as
    explicit zeros; tags keep their explicit zeros): the raw values are placed here at the entries
    the model stores, row by row."""
    w = np.asarray(c.weights)
    syn = _synapses(c, w)
    if name == "weights" and not c.keep_zero_weights:
        mode = sign_mode_code(c.sign_mode, "sign_mode")
        stored = syn & (truncate_weights(w.astype(np.int32), SIGN_MODES["mixed"] if mode is None else mode,
                                         int(c.num_weight_bits)) != 0)
    else:
        stored = syn
    var = getattr(proc, name)
    values = np.asarray(proc.runtime.get_var(var.id)).astype(np.int64)
    out = np.zeros(w.shape, dtype=np.int64)
    out[np.nonzero(stored)] = values
    return out


SPARSE_MODELS = ("patched", "stock")


def run_lava(net: LearningNet, n_steps: int, timing: bool = False, sparse_model: str = "patched") -> LearningResult:
    """Run ``net`` in Lava fixed_pt for ``n_steps``; with ``timing``, ``result.run_s`` is the
    wall time of the ``run`` call alone (compilation and process start-up excluded).
    ``sparse_model``: a LearningSparse's model, the Lava backend's patched one
    (``LearningSparseBitApproximate``) or Lava's ``PyLearningSparseModelBitApproximate``
    ("stock"; it crashes on sign modes excitatory and inhibitory and on w, d, t factors)."""
    from spikecore import procs
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    _check_zero_weights(net, sparse_model)

    workdir = tempfile.mkdtemp(prefix="spikecore-lava-learn-")
    try:
        with procs.forked_children():      # every process Lava forks is ended, whatever happens
            return _run_lava_in(net, n_steps, timing, workdir, sparse_model)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_lava_in(net: LearningNet, n_steps: int, timing: bool, workdir: str,
                 sparse_model: str) -> LearningResult:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg

    lifs, recorders, plastic = build_lava(net, n_steps, workdir)
    first = next(iter(lifs.values()))
    u, v, conns = {}, {}, {}
    try:
        models = {r: _RECORDER["model"] for r in recorders.values()}
        models.update(_sparse_models(net, plastic, sparse_model))
        if any(g.reward and g.reward_model == "reward_lif" for g in net.groups):
            from backends._lava_models import PyRewardLifModelFixed
            models.update({lifs[g.name]: PyRewardLifModelFixed for g in net.groups
                           if g.reward and g.reward_model == "reward_lif"})
        cfg = Loihi1SimCfg(select_tag="fixed_pt", exception_proc_model_map=models)
        first.create_runtime(run_cfg=cfg)
        t0 = time.perf_counter()
        # LifGroup.bias_changes: bias_mant.set() between runs (from Lava step t: after t - 1 steps)
        changes = [(int(t) - 1, g.name, np.asarray(m)) for g in net.groups for t, m in g.bias_changes
                   if 0 < int(t) - 1 < n_steps]     # (step 1's are the initial bias_mant, build_lava)
        bounds = sorted({0, n_steps, *[a for a, _, _ in changes]})
        for a, b in zip(bounds[:-1], bounds[1:]):
            for at, name, m in changes:
                if at == a:
                    lifs[name].bias_mant.set(m)
            first.run(condition=RunSteps(num_steps=b - a), run_cfg=cfg)
        run_s = time.perf_counter() - t0
        for name, lif in lifs.items():
            u[name] = np.asarray(lif.u.get()).astype(np.int64)
            v[name] = np.asarray(lif.v.get()).astype(np.int64)
        sparse = {c.name: c for c in net.conns if isinstance(c, LearningSparseConn)}
        for name, p in plastic.items():
            conns[name] = {k: (_sparse_read(p, k, sparse[name])
                               if name in sparse and k in ("weights", "tag_1", "tag_2")
                               else np.asarray(getattr(p, k).get()).astype(np.int64))
                           for k in ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3")}
    finally:
        first.stop()
    spikes = {}
    for name, rec in recorders.items():
        size = lifs[name].s_out.shape[0]
        raw = np.fromfile(rec.proc_params["path"], dtype=np.uint8).reshape(n_steps, -1)
        spikes[name] = np.unpackbits(raw, axis=1, count=size).astype(bool)
    res = LearningResult(spikes, u, v, conns)
    if timing:
        res.run_s = run_s
    return res


def _check_zero_weights(net: LearningNet, sparse_model: str) -> None:
    """Lava's stock LearningSparse drops a synapse whose initial weight truncates to 0 and the
    patched model keeps it: a LearningSparseConn must say which (``keep_zero_weights``) wherever
    it has such a synapse, for the emulator to be compared with the model that runs."""
    for c in net.conns:
        if isinstance(c, LearningSparseConn) and _zero_truncated(c).any():
            if c.keep_zero_weights != (sparse_model == "patched"):
                raise ValueError(f"{c.name}: keep_zero_weights={c.keep_zero_weights} with sparse_model "
                                 f"{sparse_model!r} (the patched model keeps synapses of weight 0, Lava's drops them)")


def _sparse_models(net: LearningNet, plastic: dict, sparse_model: str) -> dict:
    """The model map entries of the LearningSparse processes (none: Lava picks its stock model)."""
    if sparse_model not in SPARSE_MODELS:
        raise ValueError(f"sparse_model {sparse_model!r}: one of {SPARSE_MODELS}")
    if sparse_model == "stock":
        return {}
    from backends._lava_models import LearningSparseBitApproximate
    return {plastic[c.name]: LearningSparseBitApproximate for c in net.conns if isinstance(c, LearningSparseConn)}


def lava_crash(net: LearningNet, n_steps: int, timeout_s: float = 120.0, sparse_model: str = "stock") -> str:
    """Run ``net`` in Lava fixed_pt, expecting one of its processes to crash (Lava's runtime
    may then wait forever): the last line of the first crashed process's traceback ('' if none
    crashed within ``timeout_s``). Every forked process is ended (the Lava backend's hard stop,
    then spikecore.procs).
    ``sparse_model`` as for ``run_lava``, here Lava's stock model by default."""
    from spikecore import procs
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg

    _check_zero_weights(net, sparse_model)
    workdir = tempfile.mkdtemp(prefix="spikecore-lava-crash-")
    try:
        with procs.forked_children():
            lifs, recorders, plastic = build_lava(net, n_steps, workdir)
            first = next(iter(lifs.values()))
            models = {r: _RECORDER["model"] for r in recorders.values()}
            models.update(_sparse_models(net, plastic, sparse_model))
            cfg = Loihi1SimCfg(select_tag="fixed_pt", exception_proc_model_map=models)
            first.run(condition=RunSteps(num_steps=n_steps, blocking=False), run_cfg=cfg)
            try:
                t0 = time.perf_counter()
                while time.perf_counter() - t0 < timeout_s:
                    for a in first.runtime._messaging_infrastructure.actors:
                        if a.exception is not None:
                            return str(a.exception[1]).strip().splitlines()[-1]
                    time.sleep(0.05)
                return ""
            finally:      # the backend's hard stop: no process nor shared memory left, none still listed
                from backends.lava import hard_stop
                hard_stop(first.runtime)
                first.runtime._is_started = first.runtime._is_running = False
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def differences(a: LearningResult, b: LearningResult) -> list:
    """Names of the quantities where two results differ (empty: bit-identical)."""
    out = []
    for g in a.spikes:
        if not np.array_equal(a.spikes[g], b.spikes[g]):
            out.append(f"spikes[{g}]")
        for k in ("u", "v"):
            if not np.array_equal(getattr(a, k)[g], getattr(b, k)[g]):
                out.append(f"{k}[{g}]")
    for c in a.conns:
        for k, val in a.conns[c].items():
            if not np.array_equal(np.asarray(val, dtype=np.int64), np.asarray(b.conns[c][k], dtype=np.int64)):
                out.append(f"{c}.{k}")
    return out


# -- Lava's two learning tutorials, as LearningNets of any length ---------------------------

def stdp_tutorial_net(n_steps: int, rng_seed: int = 7) -> LearningNet:
    """tutorial08_stdp.ipynb in fixed point (du = dv = 4095, vth 240): pre and post LIF driven
    by Bernoulli(0.03) rasters (numpy seed 123) through Dense 250, plastic LearningDense 50
    with ``STDPLoihi(learning_rate=1, A_plus=1, A_minus=-1, tau_plus=10, tau_minus=10,
    t_epoch=4)``; the rasters are drawn for ``n_steps`` as the notebook draws them."""
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
    from spikecore.engine.loihi_learning import LifGroup, SpikeInput

    np.random.seed(123)
    pre = np.zeros((1, n_steps))
    np.place(pre, np.random.rand(1, n_steps) < 0.03, 1)
    post = np.zeros((1, n_steps))
    np.place(post, np.random.rand(1, n_steps) < 0.03, 1)
    stdp = STDPLoihi(learning_rate=1, A_plus=1, A_minus=-1, tau_plus=10, tau_minus=10, t_epoch=4,
                     rng_seed=rng_seed)
    lif = dict(size=1, du=4095, dv=4095, vth=240)
    return LearningNet(
        groups=[LifGroup("lif_pre", **lif), LifGroup("lif_post", **lif)],
        inputs=[SpikeInput("pattern_pre", pre.astype(int)), SpikeInput("pattern_post", post.astype(int))],
        conns=[DenseConn("conn_inp_pre", "pattern_pre", "lif_pre", np.eye(1) * 250),
               DenseConn("conn_inp_post", "pattern_post", "lif_post", np.eye(1) * 250),
               LearningDenseConn("plastic_dense", "lif_pre", "lif_post", np.full((1, 1), 50), stdp)])


def rstdp_tutorial_net(n_steps: int, rng_seed: int = 7) -> LearningNet:
    """three_factor_learning/tutorial01_Reward_Modulated_STDP.ipynb in fixed point: one pre LIF,
    two RSTDPLIF post neurons, ``RewardModulatedSTDP(learning_rate=1, A_plus=2, A_minus=-2,
    taus 10, kernel magnitudes 16, eligibility_trace_decay_tau=0.5, t_epoch=1)``, rasters as the
    notebook draws them (numpy seed 156, utils.generate_post_spikes) and graded rewards 6 on
    neuron 0 at steps 50..69 and 8 on neuron 1 at 150..169 of every 200 steps."""
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.proc.learning_rules.r_stdp_learning_rule import RewardModulatedSTDP
    from spikecore.engine.loihi_learning import LifGroup, SpikeInput

    rule = RewardModulatedSTDP(learning_rate=1, A_plus=2, A_minus=-2, pre_trace_decay_tau=10,
                               post_trace_decay_tau=10, pre_trace_kernel_magnitude=16,
                               post_trace_kernel_magnitude=16, eligibility_trace_decay_tau=0.5,
                               t_epoch=1, rng_seed=rng_seed)
    np.random.seed(156)
    pre = np.zeros((1, n_steps))
    np.place(pre, np.random.rand(1, n_steps) < 0.03, 1)
    post = _generate_post_spikes(pre, n_steps, [0.03, 0.09])
    reward = np.zeros((2, n_steps))
    for index in range(n_steps):
        if index % 200 in range(50, 70):
            reward[0][index] = 6
        if index % 200 in range(150, 170):
            reward[1][index] = 8
    lif = dict(du=4095, dv=4095, vth=240)
    return LearningNet(
        groups=[LifGroup("lif_pre", size=1, **lif),
                LifGroup("lif_post", size=2, reward=True, post_tau=10, post_impulse=16, **lif)],
        inputs=[SpikeInput("pattern_pre", pre.astype(int)), SpikeInput("pattern_post", post.astype(int)),
                SpikeInput("reward_pattern_post", reward.astype(int))],
        conns=[DenseConn("conn_inp_pre", "pattern_pre", "lif_pre", np.eye(1) * 250),
               DenseConn("conn_inp_post", "pattern_post", "lif_post", np.eye(2) * 250),
               DenseConn("conn_inp_reward", "reward_pattern_post", "lif_post", np.eye(2) * 100,
                         num_message_bits=5, port="third_factor"),
               LearningDenseConn("plastic_dense", "lif_pre", "lif_post", np.full((2, 1), 50), rule)])


def _generate_post_spikes(pre_spike_times, num_steps, spike_prob_post):
    """three_factor_learning/utils.py, generate_post_spikes (Lava 0.10.0, BSD-3-Clause,
    Copyright (C) 2021-22 Intel Corporation), unchanged."""
    pre_synaptic_spikes = np.where(pre_spike_times == 1)[1]
    spike_raster_post = np.zeros((len(spike_prob_post), num_steps))
    for ts in range(num_steps):
        for pre_ts in pre_synaptic_spikes:
            if ts in range(pre_ts, pre_ts + 20):
                if np.random.rand(1) < spike_prob_post[0]:
                    spike_raster_post[0][ts] = 1
    for ts in range(num_steps):
        for pre_ts in pre_synaptic_spikes:
            if ts in range(pre_ts - 12, pre_ts - 2):
                if np.random.rand(1) < spike_prob_post[1]:
                    spike_raster_post[1][ts] = 1
    return spike_raster_post


# -- random networks and rules inside Lava's grammar ----------------------------------------

FACTORS = ("x1", "x2", "y1", "y2", "y3", "w", "d", "t", "x0", "y0",
           "sgn(w)", "sgn(d)", "sgn(t)", "sgn(w+{c})", "sgn(t-{c})",
           "(x1+{c})", "(y1-{c})", "(x2-{c})", "(y2+{c})", "(w-{c})", "(d+{c})", "(t+{c})")


# Lava's stock LearningSparse models crash on a factor w, d or t (np.clip of a CSR matrix, a
# scalar added to one; float: a matrix product): with sparse_model="stock" its rules use traces only
TRACE_FACTORS = ("x1", "x2", "y1", "y2", "y3", "x0", "y0", "(x1+{c})", "(y1-{c})", "(x2-{c})", "(y2+{c})")


def random_product(rng: np.random.Generator, deps: tuple, k: int, factors: tuple = FACTORS) -> str:
    """One product: [+|-] mantissa * 2^exponent * dependency * 0..3 factors."""
    dep = str(rng.choice(deps)).replace("uk", f"u{k}")
    parts = [f"{int(rng.integers(1, 8))}*2^{int(rng.integers(-7, 9))}" if rng.random() < 0.8
             else f"2^{int(rng.integers(-7, 9))}", dep]
    for _ in range(int(rng.integers(0, 4))):
        parts.append(str(rng.choice(factors)).format(c=int(rng.integers(1, 64))))
    order = rng.permutation(len(parts)) if rng.random() < 0.3 else np.arange(len(parts))
    return " * ".join(parts[i] for i in order)


def random_rule_string(rng: np.random.Generator, k: int, factors: tuple = FACTORS) -> str:
    deps = ("x0", "y0", "uk") if rng.random() < 0.3 else ("x0", "y0")
    s = random_product(rng, deps, k, factors)
    for _ in range(int(rng.integers(0, 4))):
        s += (" - " if rng.random() < 0.5 else " + ") + random_product(rng, deps, k, factors)
    return s


def random_rule(rng: np.random.Generator, three_factor: bool, factors: tuple = FACTORS) -> LearningRuleSpec:
    """A rule Lava accepts: strings drawn until Lava's parser takes them."""
    def impulse():
        return float(rng.choice([0, 16, 127, 200, float(rng.integers(0, 64)), round(float(rng.uniform(0, 40)), 3)]))

    def tau():
        return float(rng.choice([0, 1, 4, 10, 2 ** 16 - 1, round(float(rng.uniform(0.5, 60)), 2), int(rng.integers(1, 200))]))
    while True:
        k = int(rng.integers(0, 4))
        strings = {t: random_rule_string(rng, k, factors) for t in ("dw", "dd", "dt") if rng.random() < 0.6}
        if "dw" not in strings and rng.random() < 0.7:
            strings["dw"] = random_rule_string(rng, k, factors)
        if not strings:
            continue
        kw = dict(strings, x1_impulse=impulse(), x1_tau=tau(), x2_impulse=impulse(), x2_tau=tau(),
                  t_epoch=int(rng.choice([1, 1, 2, 3, 4, 8, int(rng.integers(1, 20))])),
                  rng_seed=int(rng.integers(0, 2 ** 31 - 8)), three_factor=three_factor)
        if not three_factor:
            kw.update(y1_impulse=impulse(), y1_tau=tau(), y2_impulse=impulse(), y2_tau=tau(),
                      y3_impulse=impulse(), y3_tau=tau())
        spec = LearningRuleSpec(**kw)
        try:
            lava_rule(spec)
        except ValueError:
            continue
        return spec


def _learning_sparse(c: LearningDenseConn, syn: np.ndarray, rule, sign_mode,
                     keep_zero_weights: bool = False) -> LearningSparseConn:
    """``c`` as a LearningSparse of synapses ``syn`` (weights and tags 0 off them)."""
    return LearningSparseConn(c.name, c.pre, c.post, np.where(syn, c.weights, 0), rule, weight_exp=c.weight_exp,
                              num_weight_bits=c.num_weight_bits, sign_mode=sign_mode,
                              tag_1=np.where(syn, c.tag_1, 0), tag_2=np.where(syn, c.tag_2, 0),
                              num_message_bits=c.num_message_bits, synapses=syn, keep_zero_weights=keep_zero_weights)


def random_learning_net(rng: np.random.Generator, n_steps: int, max_size: int = 8,
                        sparse: bool = False, sparse_model: str = "stock") -> LearningNet:
    """A random network: 1-3 LIF groups (some reward neurons), a spike input, a graded reward
    input for reward groups, static Dense drives and 1-3 LearningDense connections. With
    ``sparse`` (the same draws, and more): plastic connections are also LearningSparse (random
    synapses), the input carries graded counts 0..3 (times 1, 8 or 40) and plastic connections
    from it are graded, each with a random ``GradedSpikeCfg`` (all four), and reward groups are also the Lava backend's RewardLIF (y2 decays). A LearningSparse takes
    what ``sparse_model`` runs: "stock" (Lava's model), sign mode mixed or default and rules over
    traces only; "patched" (the Lava backend's LearningSparseBitApproximate), every sign mode
    (mostly excitatory and inhibitory), rules over every factor, and every plastic connection
    that keeps a synapse is a LearningSparse."""
    if sparse_model not in SPARSE_MODELS:
        raise ValueError(f"sparse_model {sparse_model!r}: one of {SPARSE_MODELS}")
    patched = sparse and sparse_model == "patched"
    from spikecore.engine.loihi_learning import LifGroup, SpikeInput

    def decay():
        return int(rng.choice([0, 4095, 2048, int(rng.integers(0, 4096))]))
    n_groups = int(rng.integers(1, 4))
    groups = []
    for gi in range(n_groups):
        n = int(rng.integers(1, max_size + 1))
        reward = bool(rng.random() < 0.35)
        groups.append(LifGroup(
            f"g{gi}", n, decay(), decay(), int(rng.choice([0, 10, 100, 240, int(rng.integers(0, 2000))])),
            bias_mant=rng.integers(-64, 200, n) if rng.random() < 0.5 else None,
            bias_exp=rng.integers(0, 4, n) if rng.random() < 0.5 else None,
            u=rng.integers(-5000, 5000, n) if rng.random() < 0.3 else None,
            v=rng.integers(-5000, 5000, n) if rng.random() < 0.3 else None,
            reward=reward, post_tau=float(rng.choice([1, 4, 10, 33.3])),
            post_impulse=float(rng.choice([0, 16, 7.5, 40]))))
    n_in = int(rng.integers(1, max_size + 1))
    inputs = [SpikeInput("input", (rng.random((n_in, n_steps)) < rng.uniform(0.05, 0.5)).astype(int))]
    graded_input = False
    if sparse:
        for g in groups:
            if g.reward and rng.random() < 0.5:
                g.reward_model, g.y2_decay = "reward_lif", float(rng.choice([0.0, 0.5, 0.9]))
        if rng.random() < 0.4:
            graded_input = True
            inputs[0].data = inputs[0].data * rng.integers(1, 4, inputs[0].data.shape)
    sizes = {"input": n_in, **{g.name: g.size for g in groups}}
    conns = []

    def weights(n_post, n_pre, hi=300):
        w = rng.integers(-hi, hi + 1, (n_post, n_pre))
        if rng.random() < 0.4:
            w = np.abs(w)
        return w * (rng.random((n_post, n_pre)) < rng.uniform(0.3, 1.0))
    for g in groups:                       # every group driven by the input
        conns.append(DenseConn(f"drive_{g.name}", "input", g.name, np.abs(weights(g.size, n_in)),
                               weight_exp=int(rng.integers(0, 4)), num_weight_bits=int(rng.integers(4, 9))))
    if any(g.reward for g in groups):
        reward = np.zeros((max(s.size for s in groups), n_steps), dtype=int)
        on = rng.random(n_steps) < 0.1
        reward[:, on] = rng.integers(0, 20, (reward.shape[0], int(on.sum())))
        inputs.append(SpikeInput("reward", reward))
        sizes["reward"] = reward.shape[0]
        for g in groups:
            if g.reward:
                conns.append(DenseConn(f"reward_{g.name}", "reward", g.name,
                                       rng.integers(0, 30, (g.size, reward.shape[0])),
                                       num_message_bits=5, port="third_factor"))
    names = ["input"] + [g.name for g in groups]
    plastic_posts = [g.name for g in groups if g.reward]
    plastic_posts += [str(rng.choice([g.name for g in groups])) for _ in range(int(rng.integers(0, 3)))]
    if not plastic_posts:
        plastic_posts = [groups[0].name]
    for ci, post in enumerate(plastic_posts):
        pre = str(rng.choice(names))
        gpost = next(g for g in groups if g.name == post)
        three = gpost.reward and rng.random() < 0.7
        mode = [None, "mixed", "excitatory", "inhibitory"][int(rng.integers(4))]
        c = LearningDenseConn(
            f"plastic{ci}", pre, post, weights(sizes[post], sizes[pre]), random_rule(rng, three),
            weight_exp=int(rng.integers(-2, 5)), num_weight_bits=int(rng.integers(3, 9)), sign_mode=mode,
            tag_1=rng.integers(-50, 50, (sizes[post], sizes[pre])) if rng.random() < 0.3 else 0,
            tag_2=rng.integers(0, 60, (sizes[post], sizes[pre])) if rng.random() < 0.3 else 0)
        if sparse:
            if pre == "input" and graded_input and rng.random() < 0.7:
                c.num_message_bits = 5
            syn = rng.random((sizes[post], sizes[pre])) < rng.uniform(0.3, 0.9)
            if patched:
                mode = [None, "mixed", "excitatory", "inhibitory", "excitatory", "inhibitory"][int(rng.integers(6))]
                kept = truncate_weights(np.where(syn, c.weights, 0).astype(np.int32),
                                        SIGN_MODES["mixed"] if mode is None else sign_mode_code(mode, "sign_mode"),
                                        c.num_weight_bits) != 0
                if kept.any():
                    c = _learning_sparse(c, syn, random_rule(rng, c.rule.three_factor, FACTORS), mode,
                                         keep_zero_weights=True)
                conns.append(c)
                continue
            kept = truncate_weights(np.where(syn, c.weights, 0).astype(np.int32), SIGN_MODES["mixed"],
                                    c.num_weight_bits) != 0
            # (Lava's find() fails on a LearningSparse variable with no stored entry)
            if rng.random() < 0.6 and kept.any():
                rule = random_rule(rng, c.rule.three_factor, TRACE_FACTORS)
                c = _learning_sparse(c, syn, rule, [None, "mixed"][int(rng.integers(2))])
        conns.append(c)
    graded = [c for c in conns if isinstance(c, LearningDenseConn) and c.num_message_bits]
    if graded:                 # drawn last: the network above is the same draw as without them
        for c in graded:
            c.graded_spike_cfg = GRADED_SPIKE_CFGS[int(rng.integers(len(GRADED_SPIKE_CFGS)))]
        # payloads up to 120 (halved: 60), so that x1 saturates and overflows within a few spikes
        inputs[0].data = inputs[0].data * int(rng.choice([1, 8, 40]))
    return LearningNet(groups, inputs, conns)


def random_recurrent_net(rng: np.random.Generator, n_steps: int, max_size: int = 10,
                         max_delay: int = 20) -> LearningNet:
    """A plastic network with recurrent static connections that carry synaptic delays: LIF groups
    E and I driven by a spike input (Dense), recurrent E->E, E->I (excitatory) and I->E
    (inhibitory) as DelayDense or DelaySparse (random delays 0..max_delay, weight exponents, bits,
    sign modes given or inferred), and 1-2 plastic LearningDense connections (random rule strings
    inside Lava's grammar) from the input or E onto E or I, beside them."""
    from spikecore.engine.loihi_learning import LifGroup, SpikeInput

    n_e, n_i, n_in = (int(rng.integers(2, max_size + 1)), int(rng.integers(1, max_size // 2 + 1)),
                      int(rng.integers(1, max_size + 1)))

    def lif(name, n):
        return LifGroup(name, n, int(rng.choice([4095, 2048, int(rng.integers(200, 4096))])),
                        int(rng.choice([4095, 1024, int(rng.integers(100, 4096))])),
                        int(rng.choice([240, 500, 1000, int(rng.integers(100, 1500))])),
                        bias_mant=rng.integers(-20, 25, n) if rng.random() < 0.4 else None,
                        bias_exp=rng.integers(0, 3, n) if rng.random() < 0.4 else None)
    groups = [lif("E", n_e), lif("I", n_i)]
    inputs = [SpikeInput("input", (rng.random((n_in, n_steps)) < rng.uniform(0.02, 0.3)).astype(int))]
    sizes = {"input": n_in, "E": n_e, "I": n_i}

    def weights(n_post, n_pre, sign, lo=10, hi=200):
        w = rng.integers(lo, hi + 1, (n_post, n_pre)) * (rng.random((n_post, n_pre)) < rng.uniform(0.3, 1.0))
        return sign * w

    conns = [DenseConn(f"drive_{g}", "input", g, weights(sizes[g], n_in, 1), weight_exp=int(rng.integers(0, 2)),
                       num_weight_bits=int(rng.integers(5, 9)), sparse=bool(rng.random() < 0.3)) for g in ("E", "I")]
    # (pre, post, sign, sign mode, weight exponents): excitation weak enough not to run away
    for pre, post, sign, mode, exps in (("E", "E", 1, "excitatory", (-3, 0)), ("E", "I", 1, "excitatory", (-2, 1)),
                                        ("I", "E", -1, "inhibitory", (0, 3))):
        w = weights(sizes[post], sizes[pre], sign, lo=5, hi=120)
        top = int(rng.integers(1, max_delay + 1))
        d = rng.integers(0, top + 1, w.shape)
        conns.append(DenseConn(f"{pre}{post}", pre, post, w, weight_exp=int(rng.integers(*exps)),
                               num_weight_bits=int(rng.integers(4, 9)),
                               sign_mode=[None, mode, "mixed"][int(rng.integers(3))], delays=d,
                               sparse=bool(rng.random() < 0.4)))
    for ci in range(int(rng.integers(1, 3))):
        pre, post = str(rng.choice(["input", "E"])), str(rng.choice(["E", "I"]))
        w = np.abs(weights(sizes[post], sizes[pre], 1, lo=0, hi=120))
        conns.append(LearningDenseConn(
            f"plastic{ci}", pre, post, w, random_rule(rng, False), weight_exp=int(rng.integers(-1, 4)),
            num_weight_bits=int(rng.integers(4, 9)),
            sign_mode=[None, "mixed", "excitatory"][int(rng.integers(3))]))
    return LearningNet(groups, inputs, conns)
