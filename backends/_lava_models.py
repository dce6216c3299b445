"""Lava processes and process models that backends/lava.py adds to Lava's own.

Imported only after spikecore.compat.lava_dataclasses.install() (backends/lava.py
does that). Four kinds:

* ``SpikeRecorder`` / ``StateRecorder``: probes that write what they see to a file
  from inside their Lava process, step by step. Lava's own Monitor and sink
  RingBuffer hand their data back through ``Var.get()``, which Lava 0.10 sends one
  element per message (lava/magma/core/model/py/model.py ``_get_var``: ~30 us per
  value here), so a 4000-neuron raster of 1000 steps would take minutes to read.
* ``LearningSparseBitApproximate`` / ``LearningSparseFloat``: Lava's LearningSparse models
  (lava/proc/sparse/models.py ``PyLearningSparseModelBitApproximate`` / ``PyLearningSparseModelFloat``)
  with the operations that fail on their CSR matrices done on the stored values instead, and
  (fixed point) the initial weights truncated without dropping the synapses that truncate to 0
  (docs/loihi_learning.md, "LearningSparse, patched"): nothing else changes.
* ``CachedDelaySparse*`` / ``CachedDelayDense*``: Lava's DelaySparse/DelayDense
  models (lava/proc/sparse/models.py, lava/proc/dense/models.py) with the one change
  that the weight matrix stacked by delay (``get_delay_wgts_mat``) is built once
  instead of every step. Weights and delays of our processes never change after
  the first step (no learning), so the arithmetic is the same, term for term;
  tests/backends/test_lava.py checks them against Lava's originals bit for bit.
  (Upstream rebuilds it each step: ~200 ms per step for 320k synapses.)
* ``RewardLIF``: the target of a three-factor rule, a LearningLIF whose models send the
  post spikes and traces the rule reads (Lava's stock LearningLIF never does).

Every process instance is mapped to its model explicitly (``model_map``) so
Lava's compiler never goes looking for models by importing sibling modules.
"""
from __future__ import annotations

import os

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.neuron import LearningNeuronModelFixed, LearningNeuronModelFloat
from lava.magma.core.model.py.ports import PyInPort, PyOutPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.dense.models import PyDelayDenseModelBitAcc, PyDelayDenseModelFloat
from lava.proc.dense.process import DelayDense
from lava.proc.lif.models import AbstractPyLifModelFixed, AbstractPyLifModelFloat
from lava.proc.lif.process import LearningLIF
from lava.proc.sparse.models import (PyDelaySparseModelBitAcc, PyDelaySparseModelFloat,
                                    PyLearningSparseModelBitApproximate, PyLearningSparseModelFloat)
from lava.proc.sparse.process import DelaySparse, LearningSparse
from lava.utils.weightutils import SignMode
from scipy.sparse import spmatrix


# ----------------------------------------------------------------------------- recorders
class SpikeRecorder(AbstractProcess):
    """Appends, for every step with spikes, int64 [time_step, count, index...] to ``path``."""

    def __init__(self, *, shape: tuple, path: str) -> None:
        super().__init__(shape=shape, path=path)
        self.a_in = InPort(shape=shape)


class StateRecorder(AbstractProcess):
    """Appends float64 [time_step, var[index]...] to ``path`` after every step t with
    t % every == phase (read in the post-management phase, i.e. after the step)."""

    def __init__(self, *, shape: tuple, path: str, index: np.ndarray, every: int, phase: int) -> None:
        super().__init__(shape=shape, path=path, index=np.asarray(index, dtype=np.int64), every=int(every),
                         phase=int(phase))
        self.state = RefPort(shape=shape)


class _SpikeRecorderModel(PyLoihiProcessModel):
    a_in = None

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._fd = None

    def run_spk(self):
        s = self.a_in.recv()
        idx = np.flatnonzero(s)
        if idx.size:
            if self._fd is None:
                self._fd = os.open(self.proc_params["path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            rec = np.empty(idx.size + 2, dtype=np.int64)
            rec[0], rec[1], rec[2:] = self.time_step, idx.size, idx
            os.write(self._fd, rec.tobytes())


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySpikeRecorderFloat(_SpikeRecorderModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySpikeRecorderFixed(_SpikeRecorderModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)


class _StateRecorderModel(PyLoihiProcessModel):
    state = None

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._fd = None

    def post_guard(self):
        return self.time_step % self.proc_params["every"] == self.proc_params["phase"]

    def run_post_mgmt(self):
        values = np.asarray(self.state.read(), dtype=np.float64)[self.proc_params["index"]]
        if self._fd is None:
            self._fd = os.open(self.proc_params["path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self._fd, np.concatenate([[float(self.time_step)], values]).tobytes())


@implements(proc=StateRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyStateRecorderFloat(_StateRecorderModel):
    state: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)


@implements(proc=StateRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyStateRecorderFixed(_StateRecorderModel):
    state: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32, precision=24)


def read_spike_file(path: str):
    """(time_steps, indices) int64 arrays from a SpikeRecorder file (empty if it never fired)."""
    if not os.path.exists(path):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    raw = np.fromfile(path, dtype=np.int64)
    steps, idx, k = [], [], 0
    while k < raw.size:
        t, n = raw[k], int(raw[k + 1])
        steps.append(np.full(n, t, dtype=np.int64))
        idx.append(raw[k + 2:k + 2 + n])
        k += 2 + n
    if not steps:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(steps), np.concatenate(idx)


def read_state_file(path: str, n_values: int):
    """(time_steps, values[samples, n_values]) from a StateRecorder file."""
    if not os.path.exists(path):
        return np.zeros(0, np.int64), np.zeros((0, n_values))
    raw = np.fromfile(path, dtype=np.float64).reshape(-1, n_values + 1)
    return raw[:, 0].astype(np.int64), raw[:, 1:]


# ----------------------------------------------------------------------------- LearningSparse
def _clip_sign_on_stored(values: spmatrix, sign_mode) -> spmatrix:
    """The sign-mode clipping of a weight accumulator, on a CSR matrix's stored values (in place):
    what ``np.maximum(0, w)`` / ``np.minimum(0, w)`` do to a dense one."""
    if sign_mode == SignMode.EXCITATORY:
        values.data = np.maximum(0, values.data)
    elif sign_mode == SignMode.INHIBITORY:
        values.data = np.minimum(0, values.data)
    return values


def _truncate_keeping_zeros(weights: spmatrix, sign_mode, num_weight_bits: int) -> spmatrix:
    """lava.utils.weightutils.truncate_weights on a CSR matrix (the stored values shifted right and
    back by 8 - num_weight_bits, plus 1 in sign mode mixed; negated around it when inhibitory),
    without its final ``eliminate_zeros``."""
    weights = weights.copy().astype(np.int32)
    bits = 8 - int(num_weight_bits) + int(sign_mode == SignMode.MIXED)
    data = -weights.data if sign_mode == SignMode.INHIBITORY else weights.data
    data = (data >> bits) << bits
    weights.data = -data if sign_mode == SignMode.INHIBITORY else data
    return weights


class _DenseFactors:
    """``_extract_applier_args`` (lava/magma/core/model/py/connection.py, both learning models)
    hands the learning-rule applier the synaptic variables as they are stored: for LearningSparse
    CSR matrices, on which a factor w, d or t fails -- the fixed-point applier
    (LearningRuleApplierBitApprox._compute_factor, then ``np.clip``) raises on any CSR matrix and
    on a constant added to one, the float applier's ``t * y2`` is a matrix product. Here they are
    handed over as dense arrays (zeros where nothing is stored), as LearningDense's are; the
    results are still written back at the stored entries only (``_apply_learning_rules``)."""

    def _extract_applier_args(self, x_traces_history, y_traces_history) -> dict:
        args = super()._extract_applier_args(x_traces_history, y_traces_history)
        for name in ("weights", "tag_1", "tag_2"):
            if isinstance(args[name], spmatrix):
                args[name] = args[name].toarray()
        return args


@implements(proc=LearningSparse, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_approximate_loihi", "fixed_pt")
class LearningSparseBitApproximate(_DenseFactors, PyLearningSparseModelBitApproximate):
    """PyLearningSparseModelBitApproximate, patched: the weight accumulator's sign-mode clipping
    (LearningConnectionModelBitApproximate._saturate_synaptic_variable_accumulator:
    ``np.maximum(0, csr)``, which scipy refuses with NotImplementedError) on the stored values,
    the rule's w, d, t factors on dense arrays (_DenseFactors), and the initial weights truncated
    keeping the synapses that truncate to 0 (lava/proc/sparse/models.py
    PyLearningSparseModelBitApproximate.run_spk calls truncate_weights, whose ``eliminate_zeros``
    drops them: they would never learn)."""

    def run_spk(self):
        # Lava's run_spk truncates the initial weights once with lava.utils.weightutils.truncate_weights,
        # which ends with ``eliminate_zeros``: a synapse whose weight truncates to 0 would leave the
        # CSR matrix and never learn. Truncated here first, the same arithmetic keeping every stored
        # entry (weights_set then skips Lava's).
        if not self.weights_set:
            self.weights = _truncate_keeping_zeros(self.weights, self.sign_mode, self.num_weight_bits)
            self.weights_set = True
        super().run_spk()

    def _saturate_synaptic_variable_accumulator(self, syn_var_name, syn_var_values):
        if syn_var_name == "weights" and isinstance(syn_var_values, spmatrix):
            return _clip_sign_on_stored(syn_var_values, self.sign_mode)
        return super()._saturate_synaptic_variable_accumulator(syn_var_name, syn_var_values)


@implements(proc=LearningSparse, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class LearningSparseFloat(_DenseFactors, PyLearningSparseModelFloat):
    """PyLearningSparseModelFloat, patched: the weights' sign-mode clipping
    (LearningConnectionModelFloat._saturate_synaptic_variable: ``np.maximum(0, csr)``) on the
    stored values, and the rule's w, d, t factors on dense arrays (_DenseFactors)."""

    def _saturate_synaptic_variable(self, synaptic_variable_name, synaptic_variable_values):
        if synaptic_variable_name == "weights" and isinstance(synaptic_variable_values, spmatrix):
            return _clip_sign_on_stored(synaptic_variable_values, self.sign_mode)
        return super()._saturate_synaptic_variable(synaptic_variable_name, synaptic_variable_values)


# ----------------------------------------------------------------------------- delay connections
class _CachedSparseStack:
    """calc_act of lava/proc/sparse/models.py AbstractPyDelaySparseModel with the stacked
    matrix built once (weights/delays are static for our processes)."""
    _stacked = None

    def calc_act(self, s_in) -> np.ndarray:
        if self._stacked is None:
            self._stacked = self.get_delay_wgts_mat(self.weights, self.delays, self.a_buff.shape[-1] - 1)
        return np.reshape(self._stacked.dot(s_in), (self.a_buff.shape[-1], self.weights.shape[0])).T


class _CachedDenseStack:
    """calc_act of lava/proc/dense/models.py AbstractPyDelayDenseModel with the stacked
    matrix built once."""
    _stacked = None

    def calc_act(self, s_in) -> np.ndarray:
        if self._stacked is None:
            self._stacked = self.get_delay_wgts_mat(self.weights, self.delays, self.a_buff.shape[-1] - 1)
        return np.reshape(np.sum(self._stacked * s_in, axis=1),
                          (self.a_buff.shape[-1], self.weights.shape[0])).T


@implements(proc=DelaySparse, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class CachedDelaySparseFloat(_CachedSparseStack, PyDelaySparseModelFloat):
    pass


@implements(proc=DelaySparse, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class CachedDelaySparseBitAcc(_CachedSparseStack, PyDelaySparseModelBitAcc):
    pass


@implements(proc=DelayDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class CachedDelayDenseFloat(_CachedDenseStack, PyDelayDenseModelFloat):
    pass


@implements(proc=DelayDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class CachedDelayDenseBitAcc(_CachedDenseStack, PyDelayDenseModelBitAcc):
    pass


# ----------------------------------------------------------------------------- learning
# RewardLIF's model follows RSTDPLIFModelFloat of Lava 0.10's tutorial
# tutorials/in_depth/three_factor_learning/utils.py (also in its tests/lava/proc/dense/test_stdp_sim.py):
#   Copyright (C) 2021-22 Intel Corporation. SPDX-License-Identifier: BSD-3-Clause.
#   Redistribution and use in source and binary forms, with or without modification, are permitted
#   provided that the conditions of the BSD 3-Clause License are met (https://spdx.org/licenses/BSD-3-Clause).
# and RSTDPLIFBitAcc (fixed point) of the same files.
# Changes: y1's decay and impulse come from proc params (not the rule object); y2 is a trace of the
# third-factor input with its own decay (0: the input itself), spikecore's modulator d times dt;
# in fixed point y1 and y2 are kept in their 7-bit ranges.


class RewardLIF(LearningLIF):
    """A LearningLIF whose model sends what a 3F rule reads: post spikes (s_out_bap), the pair
    trace y1 and the modulator trace y2. Extra keywords: y1_tau, y1_impulse (steps, trace units),
    y2_decay (per step; 0 = y2 is this step's third-factor input)."""


@implements(proc=RewardLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRewardLifModelFloat(LearningNeuronModelFloat, AbstractPyLifModelFloat):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    vth: float = LavaPyType(float, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.s_out_buff = np.zeros(proc_params["shape"])
        self._y1_decay = float(np.exp(-1.0 / proc_params["y1_tau"]))
        self._y1_impulse = float(proc_params["y1_impulse"])
        self._y2_decay = float(proc_params["y2_decay"])

    def spiking_activation(self):
        return self.v > self.vth

    def run_spk(self) -> None:
        self.y1 = self.y1 * self._y1_decay + self._y1_impulse * self.s_out_buff
        super().run_spk()
        self.y2 = self.y2 * self._y2_decay + self.a_third_factor_in.recv()
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


@implements(proc=RewardLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyRewardLifModelFixed(LearningNeuronModelFixed, AbstractPyLifModelFixed):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0
        self.s_out_buff = np.zeros(proc_params["shape"])
        self._y1_decay = float(np.exp(-1.0 / proc_params["y1_tau"]))
        self._y1_impulse = float(proc_params["y1_impulse"])
        self._y2_decay = float(proc_params["y2_decay"])

    def scale_threshold(self):
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def spiking_activation(self):
        return self.v > self.effective_vth

    def run_spk(self) -> None:
        # the traces decay in full precision here (RSTDPLIFBitAcc floors them every step, which
        # drains a small trace by 1 per step); what goes to the synapses is rounded to 7 bits
        self._y1 = getattr(self, "_y1", np.zeros(self.s_out_buff.shape))
        self._y2 = getattr(self, "_y2", np.zeros(self.s_out_buff.shape))
        self._y1 = np.minimum(self._y1 * self._y1_decay + self._y1_impulse * self.s_out_buff, 127.0)
        self.y1 = np.rint(self._y1).astype(np.int32)
        super().run_spk()
        self._y2 = np.clip(self._y2 * self._y2_decay + self.a_third_factor_in.recv(), -128.0, 127.0)
        self.y2 = np.rint(self._y2).astype(np.int32)
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


def model_table(fixed: bool, cached_delays: bool = True) -> dict:
    """Process class -> the process model we run it with, per number format."""
    from lava.proc.dense.models import (PyDenseModelBitAcc, PyDenseModelFloat)
    from lava.proc.dense.models import PyLearningDenseModelBitApproximate, PyLearningDenseModelFloat
    from lava.proc.dense.process import Dense, LearningDense
    from lava.proc.lif.models import PyLearningLIFModelFixed, PyLearningLifModelFloat
    from lava.proc.io.source import PySendModelFixed, PySendModelFloat, RingBuffer
    from lava.proc.lif.models import PyLifModelBitAcc, PyLifModelFloat, PyLifRefractoryModelFloat
    from lava.proc.lif.process import LIF, LIFRefractory
    from lava.proc.sparse.models import PySparseModelBitAcc, PySparseModelFloat
    from lava.proc.sparse.process import Sparse

    if fixed:
        return {LIF: PyLifModelBitAcc, Dense: PyDenseModelBitAcc, Sparse: PySparseModelBitAcc,
                DelayDense: CachedDelayDenseBitAcc if cached_delays else PyDelayDenseModelBitAcc,
                DelaySparse: CachedDelaySparseBitAcc if cached_delays else PyDelaySparseModelBitAcc,
                RingBuffer: PySendModelFixed, SpikeRecorder: PySpikeRecorderFixed,
                StateRecorder: PyStateRecorderFixed, LearningDense: PyLearningDenseModelBitApproximate,
                LearningSparse: LearningSparseBitApproximate,
                LearningLIF: PyLearningLIFModelFixed, RewardLIF: PyRewardLifModelFixed}
    return {LIF: PyLifModelFloat, LIFRefractory: PyLifRefractoryModelFloat, Dense: PyDenseModelFloat,
            Sparse: PySparseModelFloat,
            DelayDense: CachedDelayDenseFloat if cached_delays else PyDelayDenseModelFloat,
            DelaySparse: CachedDelaySparseFloat if cached_delays else PyDelaySparseModelFloat,
            RingBuffer: PySendModelFloat, SpikeRecorder: PySpikeRecorderFloat, StateRecorder: PyStateRecorderFloat,
            LearningDense: PyLearningDenseModelFloat, LearningSparse: LearningSparseFloat,
            LearningLIF: PyLearningLifModelFloat,
            RewardLIF: PyRewardLifModelFloat}


def model_map(processes, fixed: bool, cached_delays: bool = True) -> dict:
    """Process instance -> model class for every process we built (exact class match)."""
    table = model_table(fixed, cached_delays)
    return {p: table[type(p)] for p in processes}
