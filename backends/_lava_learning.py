"""The Lava backend's learning processes: a plastic projection's LearningDense or LearningSparse, the
neuron model of a three-factor rule's target and its modulator input, and the learned weights read
back after a run.

The rules themselves come from hwmodels/loihi_learning_rules.py (``ConnPlan.learning``);
backends/lava.py calls these while it builds and runs the process graph (after import_lava()).
docs/loihi_learning.md describes the deployment.
"""
from __future__ import annotations

import numpy as np

from hwmodels import loihi
from spikecore import ir as _ir

from hwmodels.loihi_plan import ConnPlan, LavaPlan, SourcePlan, source_counts

GRADED_BITS = 8              # num_message_bits of the modulator's Dense (spike counts)


def learning_dense(c: ConnPlan, w: np.ndarray, post, kw: dict):
    """The LearningDense of a plastic projection, its post spikes (and for a 3F rule the post
    traces the neuron model sends) connected from ``post``."""
    from lava.proc.dense.process import LearningDense
    W = np.zeros(c.shape, dtype=w.dtype)
    W[c.rows, c.cols] = w
    proc = LearningDense(weights=W, learning_rule=c.learning.lava_rule(), **_sign_mode(c, kw))
    _connect_post(c, proc, post)
    return proc


def learning_sparse(c: ConnPlan, w: np.ndarray, post, kw: dict):
    """The LearningSparse of a plastic projection whose synapses do not fill its matrix: weights
    and both tags stored at the synapses only, explicit zeros included (a tag starts at 0, and so
    may a weight), run by the patched model (backends/_lava_models.py
    ``LearningSparseBitApproximate`` / ``LearningSparseFloat``; in fixed point it keeps a synapse
    whose initial weight truncates to 0, which Lava's own model drops)."""
    from lava.proc.sparse.process import LearningSparse
    proc = LearningSparse(weights=_stored(c, w), tag_1=_stored(c, np.zeros_like(w)),
                          tag_2=_stored(c, np.zeros_like(w)), learning_rule=c.learning.lava_rule(),
                          **_sign_mode(c, kw))
    _connect_post(c, proc, post)
    return proc


def _stored(c: ConnPlan, values: np.ndarray):
    """A CSR matrix holding ``values`` at the connection's synapses, zeros included."""
    import scipy.sparse as sp
    m = sp.csr_matrix((values, (c.rows, c.cols)), shape=c.shape)
    m.sort_indices()
    return m


def _sign_mode(c: ConnPlan, kw: dict) -> dict:
    """The process keywords of a plastic connection: its sign mode and Lava's GradedSpikeCfg."""
    from lava.magma.core.learning.constants import GradedSpikeCfg
    from lava.utils.weightutils import SignMode
    return dict(kw, sign_mode=SignMode(loihi.LAVA_SIGN_MODE[c.sign_mode]),
                graded_spike_cfg=GradedSpikeCfg[c.learning.graded_spike_cfg.upper()])


def _connect_post(c: ConnPlan, proc, post) -> None:
    if c.learning.factors == 2:
        post.s_out.connect(proc.s_in_bap)
    else:                      # a 3F rule reads the post traces the neuron model sends
        post.s_out_bap.connect(proc.s_in_bap)
        post.s_out_y1.connect(proc.s_in_y1)
        post.s_out_y2.connect(proc.s_in_y2)
        post.s_out_y3.connect(proc.s_in_y3)


def reward_neuron(p: LavaPlan, gr, kw: dict, learning_neuron: str):
    """The LIF process of a three-factor projection's target: spikecore's RewardLIF (its model
    sends the post spikes and the y1, y2 traces the 3F rule reads), or Lava's stock LearningLIF
    (``learning_neuron="LearningLIF"``: it never sends them, and the run hangs in its first step;
    kept to show that quirk)."""
    from . import _lava_models as models
    from lava.proc.lif.process import LearningLIF
    lm = p.reward_groups[gr.name]
    rule = lm.lava_rule()
    if learning_neuron == "LearningLIF":
        return LearningLIF(learning_rule=rule, **kw)
    decay = float(np.exp(-1.0 / lm.neuron["tau_d_steps"])) if lm.neuron["kind"] == "modulator" else 0.0
    return models.RewardLIF(learning_rule=rule, y1_tau=lm.neuron["y1_tau"], y1_impulse=lm.neuron["y1_impulse"],
                            y2_decay=decay, **kw)


def connect_third_factor(p: LavaPlan, gname: str, lifs: dict, sources: dict, n_steps: int, dtype):
    """The modulator of a three-factor projection into its target's third-factor input: the
    modulator's spikes through a Dense of weight d_increment*dt (one step of latency: the
    modulator delay of one step), or a signal's value*dt per step from a RingBuffer."""
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    lm = p.reward_groups[gname]
    post = lifs[gname]
    size = post.a_in.shape[0]
    e = p.ir.projections[lm.projection]
    dt = p.ir.dt
    if lm.neuron["kind"] == "signal":
        times, values = e.plasticity["signal"]
        data = np.zeros((size, n_steps))
        for t, v in zip(times, values):      # Lava step n + 1 computes IR step n
            data[:, min(_ir.steps(t, dt) + 1, n_steps):] = v * dt * lm.neuron["y2_gain"]
        if p.fixed:
            data = np.clip(np.rint(data), -lm.neuron["y2_top"], lm.neuron["y2_top"])
        src = RingBuffer(data=data.astype(dtype))
        src.s_out.connect(post.a_third_factor_in)
        sources[f"signal_{gname}"] = src
        return
    mod = lm.neuron["modulator"]
    if mod in p.pop_group:
        mg, off = p.pop_group[mod]
        out, width = lifs[mg].s_out, lifs[mg].s_out.shape[0]
        cols = off + np.arange(p.ir.populations[mod].size)
    else:
        name = f"src_{mod}"
        if name not in sources:
            sp = next((s for s in p.sources if s.node == mod), None) or SourcePlan(name, mod, p.ir.source_size(mod),
                                                                                   0, mod in p.ir.poisson_sources)
            sources[name] = RingBuffer(data=source_counts(p, sp, n_steps).astype(dtype))
        out, width = sources[name].s_out, sources[name].s_out.shape[0]
        cols = np.arange(width)
    W = np.zeros((size, width))
    W[:, cols] = lm.neuron["d_increment"] * dt * lm.neuron["y2_gain"]     # fixed: y2_top, a whole number
    kw = {}
    if p.fixed:
        from lava.utils.weightutils import SignMode
        W, kw = np.rint(W), {"sign_mode": SignMode.EXCITATORY}
    conn = Dense(weights=W.astype(dtype), num_message_bits=GRADED_BITS, **kw)
    out.connect(conn.s_in)
    conn.a_out.connect(post.a_third_factor_in)
    sources[f"modulator_{gname}"] = conn


def learned_weights(p: LavaPlan, graph) -> dict:
    """Per plastic projection every synapse's weight after the run, in SI (the IR's synapse order)."""
    out = {}
    for c in p.conns:
        if c.learning is None:
            continue
        proc = graph.conns[c.name]
        if c.process == "LearningSparse":
            held = stored_values(proc, proc.weights, c)
        else:
            held = np.asarray(proc.weights.get())[c.rows, c.cols]
        name = c.projections[0]
        if name not in out:
            out[name] = np.zeros(p.ir.projections[name].n_synapses)
        out[name][c.synapse_index] = c.learning.weights_to_si(held)
    return out


def initial_weights(p: LavaPlan) -> dict:
    """Per plastic projection the weights a run starts from, in SI (the IR's synapse order): the
    deployed mantissas as the learning model holds them for its first step -- in fixed point
    truncated to num_weight_bits with the connection's sign mode, never clipped
    (``PyLearningDenseModelBitApproximate.run_spk``'s first call; the native emulator's
    ``_Plastic`` does the same) -- and as they are in floating point."""
    from spikecore.engine.loihi import SIGN_MODES, sign_mode_code, truncate_weights
    out = {}
    for c in p.conns:
        if c.learning is None:
            continue
        held = np.asarray(c.weights)
        if p.fixed:
            mode = sign_mode_code(c.sign_mode, f"{c.name}.sign_mode")
            held = truncate_weights(held.astype(np.int32), SIGN_MODES["mixed"] if mode is None else mode,
                                    int(c.num_weight_bits))
        name = c.projections[0]
        if name not in out:
            out[name] = np.zeros(p.ir.projections[name].n_synapses)
        out[name][c.synapse_index] = c.learning.weights_to_si(held)
    return out


def stored_values(proc, var, c: ConnPlan) -> np.ndarray:
    """A LearningSparse variable's values at the connection's synapses (``c.rows``, ``c.cols``).
    Lava's ``Var.get()`` pairs the model's stored values, explicit zeros included, with the
    initial matrix's nonzero entries, so it misplaces them (or raises) where a synapse started at
    0: the model's raw values are read instead -- every synapse's, in row-major order (the CSR's)."""
    values = np.asarray(proc.runtime.get_var(var.id), dtype=float)
    if values.size != c.rows.size:
        raise RuntimeError(f"LearningSparse {c.name}: {values.size} stored values for {c.rows.size} synapses")
    order = np.lexsort((c.cols, c.rows))
    out = np.empty(c.rows.size)
    out[order] = values
    return out
