"""The Lava backend: compiles the IR to Lava processes for Loihi's simulator (and Loihi 2).

``compile(ir, format=float|fixed, policy=strict|approximate, headroom=4)`` maps the
IR onto Loihi's LIF structure with hwmodels.loihi (the one source of truth for the
mapping and, in fixed point, for every integer), plans the process graph, and
returns a ``LavaExecutable``; ``run(duration)`` builds the Lava processes, runs
them under ``Loihi2SimCfg`` (floating_pt models, or the bit-accurate fixed_pt ones)
and always stops them. A network written in Loihi's integers (model ``loihi_lif``) needs
no mapping: with ``format="fixed"`` its registers, weights and delays go to Lava's
processes as written (hwmodels/loihi_plan.py ``_lava_integer_ir``), and the Result holds
the final integer u and v of every population (as every fixed-point run's does).

Process graph
-------------
* LIF: one process per group of populations that share Lava's per-process scalars
  (du, dv, vth and, in float, the refractory period) -- Lava has one du/dv/vth per
  process. Populations with refractory periods of >= 2 steps use ``LIFRefractory``
  (float only). Biases are per neuron; injected currents change them between runs.
* Connections: one process per group of projections with the same source and
  target process (float), or per projection (fixed: each projection has its own
  weight exponent and Loihi floors each projection's shifted sum separately); a
  second layer when two synapses join the same pair of neurons. ``DelaySparse`` /
  ``DelayDense`` carry delays (Loihi delay d = IR delay D, hwmodels/loihi.py); a
  layer whose delays are all 0 after the source shift below is a plain ``Sparse`` /
  ``Dense``. Dense vs Sparse by size and density: Lava's Dense model gathers the
  columns of the spiking inputs out of a full N_post x N_pre array every step,
  Sparse slices a CSR matrix (O(nnz)). Measured here at p = 0.02: 4000 x 4000 Sparse
  2.5 ms/step vs Dense 80 ms/step; 400 x 400 Dense 0.8 vs Sparse 1.2 ms/step. So
  Dense only for small matrices (<= DENSE_MAX_ELEMENTS entries, times the delay
  slots for DelayDense) or dense ones (density >= DENSE_MIN_DENSITY; both in
  hwmodels/loihi_plan.py, which lays the IR out as plain data before Lava is imported).
* Inputs: each spike or Poisson source is a ``RingBuffer`` source whose data hold
  the whole run (Poisson trains pre-generated with spikecore.ir.poisson_counts from
  the node's seed: the native engine's trains). A source's spikes are sent
  ``shift`` = its smallest synaptic delay later than a neuron's would be, so its
  projections need no delay process when their delays are uniform. Several spikes
  per step (Poisson) travel as graded messages (num_message_bits > 0).
* Learning: each plastic projection is a ``LearningDense`` of its own with the Lava rule object
  hwmodels/loihi_learning_rules.py builds (float or fixed point; every approximation a finding,
  refused under policy strict), or a ``LearningSparse`` where its synapses do not fill the
  matrix (run by the patched models of backends/_lava_models.py: Lava's own crash on
  excitatory and inhibitory weights); its target's spikes go to ``s_in_bap``. A three-factor rule's
  target runs as ``RewardLIF`` (backends/_lava_models.py), which sends the post spikes and the
  y1, y2 traces the rule reads, fed by the modulator (a Dense) or a signal (a RingBuffer). Final
  weights are read back after the run (``Result.weights``). docs/loihi_learning.md.
* Recording: SpikeRecorder/StateRecorder processes (backends/_lava_models.py) write
  to files from inside Lava; disconnected parts of the network are bridged by an
  empty Sparse so one runtime runs them all.

Timing (see hwmodels/loihi.py): Lava step t computes IR step t - 1, so a spike
recorded at Lava step t is reported at (t - 1) dt; v sampled after Lava step n is
the IR's sample at step n, u after step n + 1 gives syn at step n.

Safety: a crashed Lava process makes Lava's runtime wait forever, so runs are
started non-blocking and polled; a dead process raises, a chunk that does not finish within
``watchdog`` seconds raises LavaHangError (naming the cause when it is a known one), every process is stopped in
a ``finally`` (also on KeyboardInterrupt), hard-killed if a graceful stop does not
return, and Lava's shared-memory manager is shut down so /dev/shm is left clean.
"""
from __future__ import annotations

import importlib.util
import threading
import time
from dataclasses import dataclass

import numpy as np

from hwmodels import loihi
from spikecore import ir as _ir
from spikecore import procs
from spikecore.engine.base import ProgressBar
from spikecore.interrupts import checkpoint, deferred
from spikecore.errors import SpikecoreError, UnsupportedFeature, ValidationError
from spikecore.result import RawRun, Result

from hwmodels.loihi_plan import ConnPlan, _layers, _process_kind  # noqa: F401 (the plan's pieces, for tests)
from hwmodels.loihi_plan import FORMATS, NAME, LavaPlan, SourcePlan, plan, source_counts, state_traces  # noqa: F401
from hwmodels.loihi_plan import biases_at, change_steps, initial_biases
from . import _lava_learning
from .base import Backend, Executable

if importlib.util.find_spec("lava") is None:   # backends.get_backend turns this into BackendUnavailable
    raise ModuleNotFoundError("lava-nc is not installed (make install puts lava-nc 0.10.0 in the venv)",
                              name="lava")

CHUNK_STEPS = 500            # Lava steps per run call: paces the progress bar and current changes
POLL_S = 0.002               # how often a running chunk is checked for finished or crashed processes
STOP_TIMEOUT_S = 30.0        # a graceful stop that takes longer is turned into a hard stop
MAX_INPUT_BYTES = 2 << 30    # RingBuffer data for one run
GRADED_BITS = 8              # num_message_bits of connections from Poisson sources
LEARNING_NEURONS = ("spikecore", "LearningLIF")   # the target neuron model of a three-factor projection
DEFAULT_WATCHDOG_S = 600.0   # a chunk of CHUNK_STEPS steps that takes longer is a hang: stopped, reported
STOCK_LEARNING_LIF_HANG = ("Lava's stock LearningLIF under a three-factor rule: its models never send the post "
                           "spikes nor the y1-y3 traces the learning synapses wait for (Lava 0.10), so step 1 "
                           "never ends; deploy with the default learning_neuron=spikecore")


class LavaRunError(SpikecoreError):
    """A Lava process crashed during a run (its traceback is attached)."""


class LavaHangError(LavaRunError):
    """A Lava run made no progress for the watchdog's time: its processes were stopped."""


# ----------------------------------------------------------------------------- lava graph
def import_lava():
    """Import Lava's modules (after the Python 3.11 fix)."""
    from spikecore.compat.lava_dataclasses import install
    install()
    from . import _lava_models
    return _lava_models


@dataclass
class LavaGraph:
    plan: LavaPlan
    lifs: dict                 # group -> LIF process
    sources: dict              # source plan -> RingBuffer
    conns: dict                # conn plan name -> process
    recorders: dict            # group -> SpikeRecorder
    probes: list               # [(StateProbe, StateRecorder, path)]
    bridges: list
    spike_paths: dict          # group -> path
    n_steps: int

    @property
    def processes(self) -> list:
        return (list(self.lifs.values()) + list(self.sources.values()) + list(self.conns.values())
                + list(self.recorders.values()) + [r for _, r, _ in self.probes] + list(self.bridges))

    @property
    def anchor(self):
        return next(iter(self.lifs.values()))


def build(p: LavaPlan, n_steps: int, workdir: str, biases: dict | None = None,
          learning_neuron: str = "spikecore") -> LavaGraph:
    """Instantiate the Lava processes of a plan for a run of ``n_steps`` (nothing starts)."""
    models = import_lava()
    from lava.proc.dense.process import Dense, DelayDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF, LIFRefractory
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode
    import scipy.sparse as sp

    fixed = p.fixed
    dtype = np.int64 if fixed else float
    in_bytes = sum(s.size * n_steps * 8 for s in p.sources)
    if in_bytes > MAX_INPUT_BYTES:
        raise UnsupportedFeature(NAME, f"{in_bytes / 2**30:.1f} GiB of input spike buffers for {n_steps} steps",
                                 "run a shorter duration or use fewer source neurons")
    biases = biases if biases is not None else initial_biases(p)
    lifs = {}
    for gr in p.groups:
        kw = dict(shape=(gr.size,), du=gr.du, dv=gr.dv, vth=gr.vth, u=gr.u0.astype(dtype), v=gr.v0.astype(dtype),
                  bias_mant=biases[gr.name].astype(dtype), bias_exp=gr.bias_exp.astype(dtype), name=gr.name)
        if gr.name in p.reward_groups:
            lifs[gr.name] = _lava_learning.reward_neuron(p, gr, kw, learning_neuron)
        elif gr.refractory_period > 0:
            lifs[gr.name] = LIFRefractory(refractory_period=gr.refractory_period, **kw)
        else:
            lifs[gr.name] = LIF(**kw)
    sources = {}
    for s in p.sources:
        sources[s.name] = RingBuffer(data=source_counts(p, s, n_steps).astype(dtype))
    conns = {}
    for c in p.conns:
        pre_port = lifs[c.pre].s_out if c.pre in lifs else sources[c.pre].s_out
        kw = {"name": c.name[:60], "num_message_bits": GRADED_BITS if c.graded else 0}
        if fixed:
            kw.update(weight_exp=int(c.weight_exp), num_weight_bits=int(c.num_weight_bits),
                      sign_mode=SignMode(loihi.LAVA_SIGN_MODE[c.sign_mode]))
        w = c.weights.astype(dtype)
        if c.process == "LearningDense":
            proc = _lava_learning.learning_dense(c, w, lifs[c.post], kw)
        elif c.process == "LearningSparse":
            proc = _lava_learning.learning_sparse(c, w, lifs[c.post], kw)
        elif c.process in ("Dense", "DelayDense"):
            W = np.zeros(c.shape, dtype=dtype)
            W[c.rows, c.cols] = w
            if c.process == "Dense":
                proc = Dense(weights=W, **kw)
            else:
                D = np.zeros(c.shape, dtype=np.int64)
                D[c.rows, c.cols] = c.delays
                proc = DelayDense(weights=W, delays=D, max_delay=c.max_delay, **kw)
        else:
            W = sp.csr_matrix((w, (c.rows, c.cols)), shape=c.shape)
            if c.process == "Sparse":
                proc = Sparse(weights=W, **kw)
            else:
                D = sp.csr_matrix((c.delays, (c.rows, c.cols)), shape=c.shape)
                proc = DelaySparse(weights=W, delays=D, max_delay=c.max_delay, **kw)
        pre_port.connect(proc.s_in)
        proc.a_out.connect(lifs[c.post].a_in)
        conns[c.name] = proc
    for gname in p.reward_groups:
        _lava_learning.connect_third_factor(p, gname, lifs, sources, n_steps, dtype)
    bridges = []
    for a, b in p.bridges:
        kw = {"sign_mode": SignMode.EXCITATORY} if fixed else {}
        br = Sparse(weights=sp.csr_matrix((lifs[b].a_in.shape[0], lifs[a].s_out.shape[0]), dtype=dtype), **kw)
        lifs[a].s_out.connect(br.s_in)
        br.a_out.connect(lifs[b].a_in)
        bridges.append(br)
    recorders, spike_paths = {}, {}
    recorded = set(p.ir.recorded_populations())
    for gr in p.groups:
        if any(m[0] in recorded for m in gr.members):
            path = f"{workdir}/spikes_{gr.name}.bin"
            rec = models.SpikeRecorder(shape=(gr.size,), path=path)
            lifs[gr.name].s_out.connect(rec.a_in)
            recorders[gr.name], spike_paths[gr.name] = rec, path
    probes = []
    for k, pr in enumerate(p.probes):
        path = f"{workdir}/state_{k}.bin"
        lif = lifs[pr.group]
        var = lif.v if pr.lava_var == "v" else lif.u
        rec = models.StateRecorder(shape=var.shape, path=path, index=pr.index, every=pr.every, phase=pr.phase)
        rec.state.connect_var(var)
        probes.append((pr, rec, path))
    return LavaGraph(p, lifs, sources, conns, recorders, probes, bridges, spike_paths, n_steps)


# ----------------------------------------------------------------------------- running
class _Runtime:
    """Starts, steps and always stops one Lava runtime for a LavaGraph."""

    def __init__(self, graph: LavaGraph, watchdog_s: float = DEFAULT_WATCHDOG_S, hang_cause: str = ""):
        self.graph = graph
        self.watchdog_s = watchdog_s
        self.hang_cause = hang_cause
        self.steps_done = 0
        self.runtime = None
        self.running = False
        self.compile_s = 0.0
        self.startup_s = 0.0

    def run_cfg(self):
        from lava.magma.core.run_configs import Loihi2SimCfg
        models = import_lava()
        g = self.graph
        return Loihi2SimCfg(select_tag="fixed_pt" if g.plan.fixed else "floating_pt",
                            exception_proc_model_map=models.model_map(g.processes, g.plan.fixed))

    def start(self):
        t0 = time.perf_counter()
        exe = self.graph.anchor.compile(self.run_cfg())
        self.compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.graph.anchor.create_runtime(executable=exe)
        self.runtime = self.graph.anchor.runtime
        self.startup_s = time.perf_counter() - t0

    def step(self, n: int):
        """Run n Lava steps; raise LavaRunError if a Lava process dies meanwhile."""
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.runtime.mgmt_token_enums import MGMT_RESPONSE, enum_equal
        rt = self.runtime
        self.running = True
        rt.start(RunSteps(num_steps=int(n), blocking=False))
        ports = rt.service_to_runtime
        t0 = time.perf_counter()
        while not all(port.probe() for port in ports):
            dead = self._dead_actors()
            if dead:
                raise LavaRunError(f"a Lava process died during the run:\n{dead}")
            if time.perf_counter() - t0 > self.watchdog_s:
                raise LavaHangError(
                    f"Lava made no progress: steps {self.steps_done + 1}..{self.steps_done + n} did not finish "
                    f"in {self.watchdog_s:g} s (watchdog); its processes were stopped. Cause: "
                    + (self.hang_cause or "unknown (a process waits on a port nobody sends to); raise "
                       "watchdog if the network is just slow"))
            time.sleep(POLL_S)
        for port in ports:
            # anything but DONE means a process failed; Lava's own handling of that (join
            # every process) would wait forever on the ones still alive
            if not enum_equal(port.peek(), MGMT_RESPONSE.DONE):
                time.sleep(0.5)
                raise LavaRunError("a Lava process failed during the run:\n"
                                   + (self._dead_actors() or "(no traceback was sent)"))
        rt.wait()   # every service answered DONE: collects the answers without blocking
        self.running = False
        self.steps_done += int(n)

    def segments(self) -> list:
        """Names of the shared-memory segments of the runtime's channels."""
        smm = self.runtime._messaging_infrastructure.smm
        handles = getattr(smm, "_shared_memory_handles", [])
        return [h.name.lstrip("/") for h in handles]

    def set_bias(self, group: str, values: np.ndarray):
        self.graph.lifs[group].bias_mant.set(values)

    def _dead_actors(self) -> str:
        mi = self.runtime._messaging_infrastructure
        out = []
        for a in mi.actors:
            if not _alive(a) or a.exception is not None:
                exc = a.exception
                out.append(f"{type(exc[0]).__name__}: {exc[0]}\n{exc[1]}" if exc
                           else f"{a.name} exited with code {a.exitcode}")
        return "\n".join(out)

    def stop(self):
        """Stop every Lava process; never hangs, never raises; a signal meanwhile waits for the end."""
        with deferred():
            self._stop()

    def _stop(self):
        rt = self.runtime or getattr(self.graph.anchor, "_runtime", None)
        if rt is None:
            return
        self.runtime = rt
        if getattr(rt, "_messaging_infrastructure", None) is None:
            return    # interrupted before Lava started any process
        # Lava's own stop() needs a started runtime whose processes all wait for commands
        graceful = bool(rt._is_started) and not self.running and not self._dead_actors()
        if graceful:
            done = threading.Event()

            def _stop():
                try:
                    rt.stop()
                except Exception:   # a failed graceful stop falls through to the hard stop below
                    pass
                finally:
                    done.set()
            threading.Thread(target=_stop, daemon=True, name="lava-stop").start()
            graceful = done.wait(STOP_TIMEOUT_S) and not any(_alive(a) for a in self._actors())
        if not graceful:
            self._hard_stop()
        rt._is_started = False      # Runtime.__del__ would otherwise try to stop it again
        rt._is_running = False
        self.runtime = None

    def _actors(self):
        return list(self.runtime._messaging_infrastructure.actors)

    def _hard_stop(self):
        hard_stop(self.runtime)


def hard_stop(rt) -> None:
    """End a Lava runtime's processes without its own stop (which waits forever on a process that
    died or hangs): terminate, then kill, and join each by its process object, so that
    multiprocessing forgets them too; shut down its shared-memory manager (which unlinks every
    segment of the run) and its watchdog manager."""
    import multiprocessing as mp
    actors = list(rt._messaging_infrastructure.actors)
    for a in actors:                       # the Lava processes this runtime forked, by object
        if _alive(a):
            a.terminate()
    for a in actors:
        if _alive(a):
            mp.Process.join(a, timeout=5)
        if _alive(a):
            a.kill()
            mp.Process.join(a, timeout=5)
    mi = rt._messaging_infrastructure
    try:
        if mi.smm is not None:
            mi.smm.shutdown()              # unlinks every shared-memory segment of the run
    except Exception:
        pass
    try:
        rt._watchdog_manager.stop()
    except Exception:
        pass


def _alive(actor) -> bool:
    try:
        return actor.is_alive()
    except ValueError:      # Lava closes a process object once it has joined it
        return False


class LavaExecutable(Executable):
    run_control_instead = ("the native backend with format=loihi (Lava's fixed-point arithmetic bit for bit, "
                           "with run control): Lava keeps the state inside its process graph")
    backend = NAME

    def __init__(self, ir: _ir.IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir = ir
        self.options = options
        self.plan = plan(ir, options["format"], options["policy"], options["headroom"], weight_monitors=True)
        self.build_s = time.perf_counter() - t0
        self._ran = False

    def _run(self, duration: float, progress: bool = False) -> Result:
        n_steps = _ir.duration_steps(duration, self.ir.dt)
        if self._ran:
            raise UnsupportedFeature(NAME, "continuing a finished run",
                                     "Lava cannot resume a stopped runtime: compile again and run the whole "
                                     "duration at once")
        self._ran = True
        procs.clean_stale()
        with procs.run_dir("lava") as workdir, procs.forked_children():
            graph, raw, rt, wall, build_s, clipped_bias = self._run_in(workdir, n_steps, progress)
        p = self.plan
        extra = {"format": p.format, "policy": p.policy,
                 "lava": {"processes": _process_counts(graph), "compile_s": rt.compile_s,
                          "startup_s": rt.startup_s, "step_ms": 1e3 * wall / max(n_steps, 1)},
                 "loihi_findings": [f.line() for f in p.findings if f.severity != "error"]}
        if p.report is not None:
            extra["quantization"] = {"populations": p.report.populations, "projections": p.report.projections,
                                     "headroom": p.headroom, "bias_values_clipped": clipped_bias}
        return Result.from_run(raw, self.ir, backend=NAME, wall_s=wall, build_s=self.build_s + build_s,
                               options=dict(self.options), approximations=p.approximations, extra=extra)


    def _run_in(self, workdir, n_steps: int, progress: bool):
        """Build, start, step and always stop the Lava processes; read the spike files in ``workdir``."""
        p = self.plan
        t0 = time.perf_counter()
        rt = None
        clipped_bias = 0
        try:
            neuron = self.options["learning_neuron"]
            graph = build(p, n_steps, str(workdir), learning_neuron=neuron)
            cause = STOCK_LEARNING_LIF_HANG if (neuron == "LearningLIF" and p.reward_groups) else ""
            rt = _Runtime(graph, self.options["watchdog"], cause)
            checkpoint("compile")
            rt.start()
            procs.record_children(workdir)
            procs.record(workdir, procs.SHM_RECORD, rt.segments())
            build_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            bar = ProgressBar(n_steps, progress)
            # weight monitors: the weights at the start of IR step n are Lava's after n steps,
            # read between run calls (the runtime stops at each sample's step)
            wmons = [(m, max(1, _ir.steps(m.interval, p.ir.dt))) for m in p.ir.weight_monitors.values()]
            wsamples = {m.projection: ([], [], np.asarray(m.synapses, dtype=np.int64)) for m, _ in wmons}
            try:
                changes = {s for s in change_steps(p) if 0 < s < n_steps}
                stops = {s for _, k in wmons for s in range(k, n_steps, k)}
                bounds = sorted({0, n_steps, *changes, *stops})
                n = 0
                checkpoint("run")
                for seg_start, seg_end in zip(bounds[:-1], bounds[1:]):
                    if seg_start in changes:   # injected currents changed: new biases from this IR step on
                        biases, c = biases_at(p, seg_start)
                        clipped_bias += c
                        for gname, b in biases.items():
                            rt.set_bias(gname, b.astype(np.int64 if p.fixed else float))
                    due = [m for m, k in wmons if seg_start % k == 0]
                    if due:
                        now = (_lava_learning.initial_weights(p) if seg_start == 0
                               else _lava_learning.learned_weights(p, graph))
                        for m in due:
                            st, w, syn = wsamples[m.projection]
                            st.append(seg_start)
                            w.append(now[m.projection][syn])
                    while n < seg_end:
                        k = min(CHUNK_STEPS, seg_end - n)
                        rt.step(k)
                        n += k
                        bar.update(n)
            finally:
                bar.close()
            wall = time.perf_counter() - t1
            learned = _lava_learning.learned_weights(p, graph)
            final = _final_state(p, graph) if p.fixed else {}
        finally:
            if rt is not None:
                rt.stop()
        raw = _collect(p, graph, n_steps)
        raw.weights = learned
        raw.final_state = final
        raw.weight_samples = {proj: (np.array(st, np.int64), np.array(w).reshape(len(st), syn.size), syn.copy())
                              for proj, (st, w, syn) in wsamples.items()}
        return graph, raw, rt, wall, build_s, clipped_bias


def _final_state(p: LavaPlan, graph: LavaGraph) -> dict:
    """Fixed point: every population's integer u and v after the last step (as the native Loihi
    mode's final_state), read from the LIF processes before they stop."""
    out = {}
    for gr in p.groups:
        u = np.asarray(graph.lifs[gr.name].u.get()).astype(np.int64)
        v = np.asarray(graph.lifs[gr.name].v.get()).astype(np.int64)
        for pop, off, size in gr.members:
            out[pop] = {"u": u[off:off + size].copy(), "v": v[off:off + size].copy()}
    return out


def _process_counts(graph: LavaGraph) -> dict:
    out: dict = {}
    for proc in graph.processes:
        out[type(proc).__name__] = out.get(type(proc).__name__, 0) + 1
    return out


def _collect(p: LavaPlan, graph: LavaGraph, n_steps: int) -> RawRun:
    models = import_lava()
    dt = p.ir.dt
    spikes = {}
    recorded = p.ir.recorded_populations()
    by_group = {gname: models.read_spike_file(path) for gname, path in graph.spike_paths.items()}
    for pop in recorded:
        gname, off = p.pop_group[pop]
        t, idx = by_group[gname]
        size = p.ir.populations[pop].size
        sel = (idx >= off) & (idx < off + size)
        order = np.lexsort((idx[sel], t[sel]))
        spikes[pop] = (t[sel][order] - 1, (idx[sel][order] - off).astype(np.int64))   # Lava's step t is n + 1
    samples = {}
    for pr, _, path in graph.probes:
        samples[(pr.monitor, pr.var)] = models.read_state_file(path, pr.index.size)
    traces = state_traces(p, samples, spikes, n_steps)
    return RawRun(dt=dt, n_start=0, n_steps=n_steps, spike_steps={pop: st for pop, (st, _) in spikes.items()},
                  spike_indices={pop: i for pop, (_, i) in spikes.items()}, traces=traces)


class LavaBackend(Backend):
    name = NAME
    options = {"format": (FORMATS, "float"), "policy": (loihi.POLICIES, "strict"),
               "headroom": (None, loihi.DEFAULT_HEADROOM), "watchdog": (None, DEFAULT_WATCHDOG_S),
               "learning_neuron": (LEARNING_NEURONS, "spikecore")}

    def check_options(self, options: dict) -> dict:
        out = super().check_options(options)
        out["headroom"] = loihi.check_headroom(out["headroom"])
        wd = out["watchdog"]
        try:
            sec = float(wd) if not isinstance(wd, bool) else float("nan")   # -O watchdog=30 gives a string
        except (TypeError, ValueError):
            sec = float("nan")
        if not 0 < sec < float("inf"):
            raise ValidationError("option 'watchdog'", wd, "a positive number of seconds (a Lava chunk of "
                                  f"{CHUNK_STEPS} steps that takes longer is stopped as a hang)")
        out["watchdog"] = sec
        return out

    def compile(self, ir: _ir.IRGraph, **options) -> LavaExecutable:
        return LavaExecutable(ir, self.check_options(options))


BACKEND = LavaBackend()


# ----------------------------------------------------------------------------- deployment
def loihi2_extension_missing() -> str:
    """Empty when Lava can target Loihi 2 hardware here, else the exact reason it cannot."""
    import importlib
    import_lava()
    missing = []
    # what lava/magma/core/run_configs.py imports for Loihi2HwCfg (its fallback stub then
    # fails later with a NameError on CLoihiProcessModel)
    for mod in ("lava.magma.core.model.c.model", "lava.magma.core.model.nc.model"):
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if not missing:
        return ""
    return ("--target loihi2 needs Intel's proprietary lava-loihi extension (modules " + ", ".join(missing)
            + "), which is not installed here; Lava's Loihi2HwCfg cannot run without it. "
              "Use --target lava-sim for Lava's CPU simulator")


def _bits(values, signed: bool) -> int:
    a = np.asarray(values)
    peak = int(np.abs(a).max()) if a.size else 0
    return peak.bit_length() + (1 if signed and a.size and a.min() < 0 else 0)


def deploy(g: _ir.IRGraph, target: str = "lava-sim", format: str = "fixed", policy: str = "strict",
           headroom: float = loihi.DEFAULT_HEADROOM, duration: float | None = None) -> dict:
    """Build and compile the Lava process graph of ``g`` for ``target``; returns deploy.json's content."""
    if target not in ("lava-sim", "loihi2"):
        raise ValidationError("target", target, "lava-sim or loihi2")
    p = plan(g, format, policy, headroom)
    n_steps = max(1, _ir.steps(duration, g.dt)) if duration else 1
    procs.clean_stale()
    with procs.run_dir("deploy") as workdir:
        graph = build(p, n_steps, str(workdir))
        models = import_lava()
        if target == "loihi2":
            from lava.magma.core.run_configs import Loihi2HwCfg
            probes = list(graph.recorders.values()) + [r for _, r, _ in graph.probes]
            cfg = Loihi2HwCfg(select_tag="fixed_pt", exception_proc_model_map=models.model_map(probes, True))
            cfg_name = "Loihi2HwCfg(select_tag='fixed_pt')"
        else:
            cfg = _Runtime(graph).run_cfg()
            cfg_name = f"Loihi2SimCfg(select_tag='{'fixed_pt' if p.fixed else 'floating_pt'}')"
        t0 = time.perf_counter()
        graph.anchor.compile(cfg)
        compile_s = time.perf_counter() - t0
        model_of = models.model_map(graph.processes, p.fixed) if target == "lava-sim" else {}
        return _describe(p, graph, target, cfg_name, compile_s, model_of)


def _describe(p: LavaPlan, graph: LavaGraph, target, cfg_name, compile_s, model_of) -> dict:
    g = p.ir
    roles = {}
    for proc in graph.lifs.values():
        roles[proc] = "neurons"
    for proc in graph.sources.values():
        roles[proc] = "input"
    for proc in graph.conns.values():
        roles[proc] = "synapses"
    for proc in graph.bridges:
        roles[proc] = "bridge (empty, links disconnected parts)"
    for proc in list(graph.recorders.values()) + [r for _, r, _ in graph.probes]:
        roles[proc] = "probe"
    processes = [{"name": proc.name, "type": type(proc).__name__, "role": roles[proc],
                  "model": model_of[proc].__name__ if proc in model_of else "chosen by the run config",
                  "shape": list(_shape(proc))} for proc in graph.processes]
    groups = [{"process": gr.name, "type": type(graph.lifs[gr.name]).__name__,
               "populations": [{"name": n, "offset": o, "size": s} for n, o, s in gr.members],
               "du": gr.du, "dv": gr.dv, "vth": gr.vth, "refractory_period": gr.refractory_period}
              for gr in p.groups]
    conns = [{"process": c.name, "type": c.process, "projections": c.projections, "pre": c.pre, "post": c.post,
              "shape": list(c.shape), "synapses": int(c.rows.size), "density": c.density,
              "max_delay": c.max_delay, "graded": c.graded,
              **({"weight_exp": c.weight_exp, "num_weight_bits": c.num_weight_bits, "sign_mode": c.sign_mode}
                 if p.fixed else {})} for c in p.conns]
    sources = [{"process": s.name, "node": s.node, "size": s.size, "poisson": s.poisson, "shift_steps": s.shift}
               for s in p.sources]
    counts: dict = {}
    for x in processes:
        counts[x["type"]] = counts.get(x["type"], 0) + 1
    doc = {"spikecore_deploy": 1, "target": target, "run_config": cfg_name, "format": p.format,
           "policy": p.policy, "model": g.name, "seed": g.seed, "dt_s": g.dt, "compile_s": compile_s,
           "neurons": g.n_neurons, "synapses": g.n_synapses, "process_counts": counts, "processes": processes,
           "lif_groups": groups, "connections": conns, "sources": sources,
           "bit_usage": _bit_usage(p), "approximations": list(p.approximations),
           "findings": [f.as_dict() for f in p.findings],
           "learning_rules": {name: {"lava_class": "Loihi2FLearningRule" if lm.factors == 2 else "Loihi3FLearningRule",
                                     "dw": lm.dw, "dt": lm.dt, "t_epoch": lm.t_epoch, **lm.traces,
                                     "weight_exp": lm.weight_exp if p.fixed else None, "sign_mode": lm.sign_mode,
                                     "graded_spike_cfg": lm.graded_spike_cfg,
                                     "target_neuron": "RewardLIF" if lm.factors == 3 else "LIF"}
                              for name, lm in p.learning.items()}}
    if p.report is not None:     # quantized from a float model (a network in Loihi's integers is not)
        doc["clipped_or_truncated"] = {
            "populations": p.report.populations,
            "projections": {k: {x: v[x] for x in ("zeroed", "clipped", "max_rel_error", "n_synapses")}
                            for k, v in p.report.projections.items()},
            "findings": [f.line() for f in p.findings if f.severity in ("error", "warning")]}
    return doc


def _shape(proc) -> tuple:
    for attr in ("weights", "s_out", "a_in", "state"):
        x = getattr(proc, attr, None)
        if x is not None and hasattr(x, "shape"):
            return tuple(int(n) for n in x.shape)
    return ()


def _plain(x):
    """A register as JSON holds it: an int, or a list of ints when it is per neuron."""
    return int(x) if np.ndim(x) == 0 else [int(v) for v in np.asarray(x)]


def _bit_usage(p: LavaPlan) -> dict:
    """Per variable: its width on Loihi and how many bits this network uses."""
    out = {"populations": {}, "projections": {}}
    if p.fixed and p.report is None:    # written in Loihi's integers: the plan's IR holds d as d*dt
        delays = {name: np.rint(e.delay / p.ir.dt).astype(np.int64) for name, e in p.qir.projections.items()}
    else:
        delays = {name: sm.delay for name, sm in loihi.map_network(p.ir).synapses.items()}
    for name, d in delays.items():
        out["projections"][name] = {"delay": {"width": 6, "used": _bits(d, False),
                                              "max": int(d.max()) if d.size else 0}}
    if not p.fixed:
        for name in p.ir.populations:
            out["populations"][name] = {"state": "float64 (floating_pt: no Loihi widths apply)"}
        return out
    worst = loihi.worst_case_input(p.qir)
    for name, pop in p.qir.populations.items():
        q = pop.params
        volley = float(worst[name].max()) if worst[name].size else 0.0
        out["populations"][name] = {
            "du": {"width": 12, "value": q["du"], "used": _bits(q["du"], False)},
            "dv": {"width": 12, "value": q["dv"], "used": _bits(q["dv"], False)},
            "vth": {"width": 17, "value": q["vth"], "used": _bits(q["vth"], False)},
            "bias_mant": {"width": 13, "value": _plain(q["bias_mant"]), "used": _bits(q["bias_mant"], True)},
            "bias_exp": {"width": 3, "value": _plain(q["bias_exp"]), "used": _bits(q["bias_exp"], False)},
            "v": {"width": 24, "initial_used": _bits(pop.initial["v"], True),
                  "threshold_used": _bits(q["vth"] << loihi.VTH_SHIFT, False) + 1},
            "u": {"width": 24, "initial_used": _bits(pop.initial["u"], True),
                  "volley_used": _bits(volley * (1 << loihi.ACT_SHIFT), False) + 1},
            "a_in": {"width": 16, "volley": volley, "used": _bits(volley, False) + 1}}
    for name, e in p.qir.projections.items():
        out["projections"][name].update({
            "weight": {"width": "8 + sign mode", "sign_mode": e.attrs["sign_mode"],
                       "num_weight_bits": e.attrs["num_weight_bits"], "used": _bits(e.weight, False),
                       "min": int(e.weight.min()) if e.weight.size else 0,
                       "max": int(e.weight.max()) if e.weight.size else 0},
            "weight_exp": {"range": [loihi.WEIGHT_EXP_MIN, loihi.WEIGHT_EXP_MAX], "value": e.attrs["weight_exp"]}})
    return out
