"""The native backend's Loihi mode with plastic projections: the Lava backend's fixed-point process
graph run by spikecore's emulator of Lava's learning engine (spikecore.engine.loihi_learning).

``learning_simulator(ir, options)`` lays the IR out as the Lava backend does with ``format="fixed"``
(hwmodels.loihi_plan.plan: the same quantization, LIF groups, RingBuffer sources shifted by their
shortest delay, connections, learning rules from hwmodels/loihi_learning_rules.py and the same
approximations), and turns that plan into a ``LearningNet``: a LIF group per Lava LIF process
(a three-factor projection's target as the ``RewardLIF`` model, ``reward_model="reward_lif"``),
a ``SpikeInput`` per RingBuffer, a ``DenseConn`` per Dense or Sparse (the same arithmetic in
Lava's bit-accurate models) and per DelayDense or DelaySparse (with its delays: a population's
projections, recurrent ones included, and a source's beyond its shortest delay), a
``LearningDenseConn`` or ``LearningSparseConn`` per plastic connection, and the modulator's
Dense or signal into the reward neuron's third-factor input. So ``spikecore run MODEL --backend
native --format loihi`` gives what ``--backend lava --format fixed`` gives, bit for bit: spikes,
final u and v, and the learnt weights (``Result.weights``, in SI: the mantissas times the same
conversion the Lava backend reads them back with).

State monitors are recorded by the emulator where the Lava backend's StateRecorders read (the plan's
StateProbes) and converted as it converts them (hwmodels.loihi_plan.state_traces); weight monitors
sample the emulator's weight snapshots (after Lava step n = at the start of IR step n), in SI as
the final weights (the Lava backend reads the same samples between its run calls); injected
currents become the LIF groups' bias_mant as the Lava backend sets them (hwmodels.loihi_plan
biases_at, change_steps), changing at the same steps (LifGroup.bias_changes).

Run control (``LearningSimulator``): a second run call continues as one longer run would; u and v
can be read and written between runs, and store/restore go back to a stored step.

Refused in one line (UnsupportedFeature): what the emulator does not run -- networks written in
Loihi's integers (loihi_lif) with plasticity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodels import loihi
from hwmodels.loihi_plan import LavaPlan, SourcePlan, biases_at, change_steps, plan, source_counts, state_traces
from spikecore import ir as _ir
from spikecore.engine.loihi_learning import (DenseConn, LearningDenseConn, LearningEmulator, LearningNet,
                                             LearningSparseConn, LifGroup, LifProbe, SpikeInput)
from spikecore.engine.base import ProgressBar, checked_state_values
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import MODELS
from spikecore.result import RawRun

GRADED_BITS = 8          # num_message_bits of graded connections, as backends/lava.py deploys them


@dataclass
class LearningReport:
    """What the native backend reports about a plan it ran (as Result fields, backends/native.py)."""
    approximations: list
    findings: list
    populations: dict
    projections: dict


def is_plastic(ir: _ir.IRGraph) -> bool:
    return any(e.plasticity is not None for e in ir.projections.values())


def learning_simulator(ir: _ir.IRGraph, options: dict, backend: str):
    """(simulator, LearningReport) for a plastic IR in the native engine's Loihi mode."""
    _refuse(ir, backend)
    p = plan(ir, format="fixed", policy=options["policy"], headroom=options["headroom"], backend=backend,
             weight_monitors=True)
    report = LearningReport(list(p.approximations), list(p.findings),
                            p.report.populations if p.report is not None else {},
                            p.report.projections if p.report is not None else {})
    return LearningSimulator(p, backend), report


def _refuse(ir: _ir.IRGraph, backend: str) -> None:
    what = None
    if any(getattr(MODELS.get(p.model), "synapse", None) == "integer" for p in ir.populations.values()):
        what = (f"model '{loihi.MODEL}' populations", "a float model quantized by the Loihi profile (the rules' "
                "scales are derived from its volts)")
    if what is not None:
        raise UnsupportedFeature(backend, f"{what[0]} in a network with plastic projections", what[1])


def learning_net(p: LavaPlan, n_steps: int) -> LearningNet:
    """The LearningNet of a fixed-point plan for a run of ``n_steps`` steps (backends/lava.py build)."""
    groups, inputs, conns = [], {}, []
    # biases as the Lava backend sets them: bias_mant at IR step 0, new ones from each step s at
    # which an injected current changes (set after s Lava steps: from Lava step s + 1)
    changes = [(s + 1, biases_at(p, s)[0]) for s in change_steps(p) if s < n_steps]
    initial = biases_at(p, 0)[0]
    for gr in p.groups:
        kw = dict(bias_mant=initial[gr.name], bias_exp=gr.bias_exp, u=gr.u0, v=gr.v0,
                  bias_changes=tuple((t, b[gr.name]) for t, b in changes))
        if gr.name in p.reward_groups:
            lm = p.reward_groups[gr.name]
            decay = float(np.exp(-1.0 / lm.neuron["tau_d_steps"])) if lm.neuron["kind"] == "modulator" else 0.0
            kw.update(reward=True, reward_model="reward_lif", post_tau=lm.neuron["y1_tau"],
                      post_impulse=lm.neuron["y1_impulse"], y2_decay=decay)
        groups.append(LifGroup(gr.name, gr.size, int(gr.du), int(gr.dv), int(gr.vth), **kw))
    for s in p.sources:
        inputs[s.name] = SpikeInput(s.name, source_counts(p, s, n_steps))
    for c in p.conns:
        W = np.zeros(c.shape, dtype=np.int64)
        W[c.rows, c.cols] = c.weights
        kw = dict(weight_exp=int(c.weight_exp), num_weight_bits=int(c.num_weight_bits), sign_mode=c.sign_mode,
                  num_message_bits=GRADED_BITS if c.graded else 0)
        if c.process in ("LearningDense", "LearningSparse"):
            cls = LearningSparseConn if c.process == "LearningSparse" else LearningDenseConn
            extra = {"graded_spike_cfg": c.learning.graded_spike_cfg}
            if cls is LearningSparseConn:      # the Lava backend's patched model: synapses of weight 0 stay
                extra["synapses"] = np.zeros(c.shape, dtype=bool)
                extra["synapses"][c.rows, c.cols] = True
                extra["keep_zero_weights"] = True
            conns.append(cls(c.name, c.pre, c.post, W, c.learning.lava_rule(), **kw, **extra))
        else:
            delays = None
            if c.process in ("DelayDense", "DelaySparse"):     # as backends/lava.py build() passes them
                delays = np.zeros(c.shape, dtype=np.int64)
                delays[c.rows, c.cols] = c.delays
            conns.append(DenseConn(c.name, c.pre, c.post, W, **kw, delays=delays,
                                   sparse=c.process in ("Sparse", "DelaySparse")))
    for gname in p.reward_groups:
        conns += _third_factor(p, gname, inputs, n_steps)
    return LearningNet(groups, list(inputs.values()), conns)


def _third_factor(p: LavaPlan, gname: str, inputs: dict, n_steps: int) -> list:
    """The modulator of a three-factor projection into its target's third-factor input, as
    backends/_lava_learning.py connect_third_factor deploys it: the modulator's spikes through a
    graded Dense of weight d_increment*dt (in y2 units), or a signal's value*dt per step (a
    RingBuffer straight into the port: here a graded identity Dense fed one step earlier, as a
    Dense delivers one step after it receives)."""
    lm = p.reward_groups[gname]
    size = next(gr.size for gr in p.groups if gr.name == gname)
    e = p.ir.projections[lm.projection]
    dt = p.ir.dt
    if lm.neuron["kind"] == "signal":
        times, values = e.plasticity["signal"]
        data = np.zeros((size, n_steps + 1))
        for t, v in zip(times, values):      # Lava step n + 1 computes IR step n
            data[:, min(_ir.steps(t, dt) + 1, n_steps):] = v * dt * lm.neuron["y2_gain"]
        data = np.clip(np.rint(data), -lm.neuron["y2_top"], lm.neuron["y2_top"]).astype(np.int64)
        name = f"signal_{gname}"
        inputs[name] = SpikeInput(name, np.ascontiguousarray(data[:, 1:n_steps + 1]))
        return [DenseConn(f"third_{gname}", name, gname, np.eye(size, dtype=np.int64), sign_mode="excitatory",
                          num_message_bits=GRADED_BITS, port="third_factor")]
    mod = lm.neuron["modulator"]
    if mod in p.pop_group:
        pre, off = p.pop_group[mod]
        width = next(gr.size for gr in p.groups if gr.name == pre)
        cols = off + np.arange(p.ir.populations[mod].size)
    else:
        pre = f"src_{mod}"
        if pre not in inputs:
            sp = next((s for s in p.sources if s.node == mod), None) or SourcePlan(
                pre, mod, p.ir.source_size(mod), 0, mod in p.ir.poisson_sources)
            inputs[pre] = SpikeInput(pre, source_counts(p, sp, n_steps))
        width = inputs[pre].size
        cols = np.arange(width)
    W = np.zeros((size, width))
    W[:, cols] = lm.neuron["d_increment"] * dt * lm.neuron["y2_gain"]
    return [DenseConn(f"modulator_{gname}", pre, gname, np.rint(W).astype(np.int64), sign_mode="excitatory",
                      num_message_bits=GRADED_BITS, port="third_factor")]


class LearningSimulator:
    """Runs a plan's LearningNet and reports it as the native engine's simulators do (a RawRun:
    spikes, final u and v, learnt weights in SI).

    Run control: a run continues from where the last one stopped, exactly as one longer run
    (the emulator keeps its state and its random streams' positions; the inputs are drawn for
    the whole run so far); ``set_state`` writes u or v (Loihi integers, as the LoihiSimulator);
    ``snapshot`` / ``load_snapshot`` go back to a step by running the network again from step 0
    with the same writes at the same steps (the emulator is deterministic; Loihi networks are
    small), so nothing inside the compiled kernel has to be copied."""

    #: Lava steps per emulator call when a progress bar is shown
    CHUNK_STEPS = 2000

    def __init__(self, p: LavaPlan, backend: str):
        self.plan, self.backend = p, backend
        self.dt = p.ir.dt
        self._writes = []               # (step, population, variable, int values): replayed by load_snapshot
        self._new_emulator()

    def _new_emulator(self) -> None:
        self.step = 0
        self._emu = LearningEmulator(learning_net(self.plan, 0))
        self._samples = {}              # (monitor, var) -> [(Lava steps, values)] of every run so far
        self._spikes = {}               # population -> [(steps, indices)] of every run so far

    @property
    def plastic_names(self) -> tuple:
        return tuple(self.plan.learning)

    def _advance(self, n_steps: int, snapshot_every: int = 0, probes: tuple = (), progress: bool = False):
        """The emulator's run of the next ``n_steps`` Lava steps (in chunks under a progress bar):
        (rasters by group, probe samples, weight snapshots)."""
        self._emu.extend(learning_net(self.plan, self.step + n_steps))
        chunk = self.CHUNK_STEPS if progress else max(n_steps, 1)
        bar = ProgressBar(n_steps, enabled=progress)
        rasters, samples, snaps, done = {}, [[] for _ in probes], [], 0
        try:
            while done < n_steps:
                k = min(chunk, n_steps - done)
                res = self._emu.run(k, snapshot_every=snapshot_every, probes=probes)
                for g, r in res.spikes.items():
                    rasters.setdefault(g, []).append(r)
                for out, pr in zip(samples, res.probes):
                    out.append(pr)
                snaps += res.snapshots
                done += k
                self.step += k
                bar.update(done)
        finally:
            bar.close()
        rasters = {g: np.concatenate(r) for g, r in rasters.items()}
        samples = [(np.concatenate([t for t, _ in out]) if out else np.zeros(0, np.int64),
                    np.concatenate([v for _, v in out]) if out else np.zeros((0, np.size(pr.index)), np.int64))
                   for out, pr in zip(samples, probes)]
        return rasters, samples, snaps

    def run(self, duration: float, progress: bool = False) -> RawRun:
        p = self.plan
        n_start, n_steps = self.step, _ir.duration_steps(duration, self.dt)
        n_end = n_start + n_steps
        probes = [LifProbe(pr.group, pr.lava_var, pr.index, pr.every, pr.phase) for pr in p.probes]
        monitors = {m.projection: (m, max(1, _ir.steps(m.interval, self.dt))) for m in p.ir.weight_monitors.values()}
        every = math.gcd(*[e for _, e in monitors.values()]) if monitors else 0
        # the weights at the start of IR step n_start (the LearningDense's, truncated to its bits, at 0)
        at = {n_start: self._weights_si(self._emu.weights())}
        rasters, samples, snaps = self._advance(n_steps, every, probes, progress)
        steps, indices = {}, {}
        for gr in p.groups:
            for pop, off, size in gr.members:
                st, ix = np.nonzero(rasters[gr.name][:, off:off + size])
                steps[pop], indices[pop] = st.astype(np.int64) + n_start, ix.astype(np.int64)
                self._spikes.setdefault(pop, []).append((steps[pop], indices[pop]))
        weights = self._weights_si(self._emu.weights())
        # weight monitors: the IR samples at the start of step n, i.e. after Lava step n (a snapshot)
        at.update({t: self._weights_si(ws) for t, ws in snaps})
        weight_samples = {}
        for name, (m, k) in monitors.items():
            st = np.arange(-(-n_start // k) * k, n_end, k, dtype=np.int64)
            w = np.array([at[int(n)][name][m.synapses] for n in st]).reshape(st.size, m.synapses.size)
            weight_samples[name] = (st, w, np.asarray(m.synapses, dtype=np.int64).copy())
        # the state probes' samples of every run so far, converted as the Lava backend converts its
        # StateRecorders' files, and this run's steps kept
        for pr, sample in zip(p.probes, samples):
            self._samples.setdefault((pr.monitor, pr.var), []).append(sample)
        traces = state_traces(p, self._joined_samples(), self._joined_spikes(), n_end)
        return RawRun(dt=self.dt, n_start=n_start, n_steps=n_steps, spike_steps=steps, spike_indices=indices,
                      final_state=self.state(), weights=weights, traces=_traces_from(traces, n_start, self.dt),
                      weight_samples=weight_samples)

    def _joined_samples(self) -> dict:
        return {key: (np.concatenate([t for t, _ in parts]), np.concatenate([v for _, v in parts]).astype(np.float64))
                for key, parts in self._samples.items()}

    def _joined_spikes(self) -> dict:
        return {pop: (np.concatenate([s for s, _ in parts]), np.concatenate([i for _, i in parts]))
                for pop, parts in self._spikes.items()}

    def _weights_si(self, mantissas: dict) -> dict:
        """Every plastic projection's weights in SI from its LearningDense(s)' mantissa matrices
        (conn name -> (n_post, n_pre)), as the Lava backend reads them back."""
        p, weights = self.plan, {}
        for c in p.conns:
            if c.learning is None:
                continue
            W = mantissas[c.name]
            name = c.projections[0]
            if name not in weights:
                weights[name] = np.zeros(p.ir.projections[name].n_synapses)
            weights[name][c.synapse_index] = c.learning.weights_to_si(W[c.rows, c.cols])
        return weights

    # -- run control (docs/run_control.md) --------------------------------------------------
    def state(self) -> dict:
        """Current u and v (Loihi integers, int64 copies) per population."""
        out = {}
        for gr in self.plan.groups:
            lif = self._emu.lif(gr.name)
            for pop, off, size in gr.members:
                out[pop] = {"u": lif.u[off:off + size].astype(np.int64), "v": lif.v[off:off + size].astype(np.int64)}
        return out

    def set_state(self, pop: str, var: str, values) -> None:
        """Overwrite u or v of population ``pop`` (whole numbers: Loihi's integers) before the next run."""
        vals = checked_state_values(self.state(), pop, var, values)
        if (vals != np.rint(vals)).any() or np.abs(vals).max(initial=0) > 2 ** 23 - 1:
            raise ValidationError(f"{pop}.{var}", vals.ravel().tolist()[:3],
                                  "whole numbers within +-(2**23 - 1) (Loihi's 24-bit integer state)")
        vals = vals.astype(np.int32)
        self._write(pop, var, vals)
        self._writes.append((self.step, pop, var, vals.copy()))

    def _write(self, pop: str, var: str, vals: np.ndarray) -> None:
        group, off = self.plan.pop_group[pop]
        getattr(self._emu.lif(group), var)[off:off + vals.size] = vals

    def snapshot(self) -> dict:
        """The step and the writes so far: load_snapshot replays them (class docstring)."""
        return {"step": self.step, "writes": list(self._writes)}

    def load_snapshot(self, snap: dict) -> None:
        self._new_emulator()
        self._writes = []
        for step, pop, var, vals in snap["writes"]:
            if step > self.step:
                self._advance_quietly(step - self.step)
            self._write(pop, var, vals)
            self._writes.append((step, pop, var, vals))
        if snap["step"] > self.step:
            self._advance_quietly(snap["step"] - self.step)

    def _advance_quietly(self, n_steps: int) -> None:
        """Runs on, keeping what later runs' monitors need (spikes and probe samples)."""
        p = self.plan
        probes = [LifProbe(pr.group, pr.lava_var, pr.index, pr.every, pr.phase) for pr in p.probes]
        n_start = self.step
        rasters, samples, _ = self._advance(n_steps, 0, probes)
        for gr in p.groups:
            for pop, off, size in gr.members:
                st, ix = np.nonzero(rasters[gr.name][:, off:off + size])
                self._spikes.setdefault(pop, []).append((st.astype(np.int64) + n_start, ix.astype(np.int64)))
        for pr, sample in zip(p.probes, samples):
            self._samples.setdefault((pr.monitor, pr.var), []).append(sample)

    def plastic_weights(self, projection: str, *_):
        return {projection: self._weights_si(self._emu.weights())[projection]}


def _traces_from(traces: dict, n_start: int, dt: float) -> dict:
    """State-monitor traces of steps >= n_start (the traces of the whole run so far, cut)."""
    out = {}
    for name, tr in traces.items():
        keep = np.rint(tr["times"] / dt).astype(np.int64) >= n_start
        out[name] = {**tr, "times": tr["times"][keep],
                     "variables": {var: block[keep] for var, block in tr["variables"].items()}}
    return out
