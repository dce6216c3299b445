"""What the engine's three simulators share: the run loop, its spike buffer and its progress bar.

``Simulator`` is the base of GridSimulator (simulator.py), PreciseSimulator
(precise.py) and LoihiSimulator (loihi.py). Its ``run(duration)`` checks the
duration once (spikecore.ir.duration_steps), then steps the network in chunks of
at most CHUNK_STEPS steps, cut where an injected current changes (a subclass lists
those steps in ``_change_steps``), so that the subclass's ``_advance`` sees inputs
that are constant over a chunk; between chunks one progress bar moves. It returns
a ``RawRun`` (spikecore.result), which ``Result.from_run`` turns into the Result of
every backend. What a subclass provides:

* ``_advance(n, stop, spikes, rec)``: run the kernel over steps [n, stop), appending
  spikes to ``spikes`` (a SpikeBuffer) and samples to ``rec`` (a Recording);
* ``_new_spike_buffer()``: the buffer of one call (default: a fresh one);
* ``_traces(rec, n_start, n_end)``: the traces of the call (default: the grid's
  sampling, spikecore.engine.layout.collect_traces);
* ``DYNAMIC_ARRAYS``: the names in ``arrays`` that change while it runs (state, the
  delay ring, refractory counters), which ``snapshot``/``load_snapshot`` copy together
  with the step and the spike-source event cursor (run control, docs/run_control.md).
"""
from __future__ import annotations

import time

import numpy as np

from .. import ir as _ir
from ..result import RawRun
from .layout import NetLayout, collect_traces, receptor_var, recording_buffers

CHUNK_STEPS = 1000          # steps per kernel call: paces the progress bar
#: show a progress bar only for runs expected to take longer than this (s)
PROGRESS_AFTER_S = 2.0


class ProgressBar:
    """tqdm on a terminal, shown only once a run is expected to outlast PROGRESS_AFTER_S."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.bar, self.last = total, enabled, None, 0
        self.t0 = time.perf_counter()

    def update(self, done: int):
        """``done`` of ``total`` steps are finished."""
        if not self.enabled:
            return
        if self.bar is None:
            expected = (time.perf_counter() - self.t0) / max(done, 1) * self.total
            if expected < PROGRESS_AFTER_S:
                return
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, unit="step", desc="simulating", leave=False)
        self.bar.update(done - self.last)
        self.last = done

    def close(self):
        if self.bar is not None:
            self.bar.close()


class SpikeBuffer:
    """Spikes as a kernel appends them: step (int64), neuron (int32) and, in precise
    timing, the offset inside the step (float64); capacity doubles when a kernel
    reports it full. ``n`` spikes are held; ``steps``, ``indices``, ``offsets`` view them."""

    def __init__(self, capacity: int, offsets: bool = False):
        capacity = max(1, int(capacity))
        self.step = np.empty(capacity, np.int64)
        self.index = np.empty(capacity, np.int32)
        self.offset = np.empty(capacity, np.float64) if offsets else None
        self.n = 0

    @property
    def capacity(self) -> int:
        return self.step.size

    def grow(self, need: int = 0):
        """At least double the capacity (and at least ``need``), keeping the spikes held."""
        cap = max(2 * self.capacity, need)
        self.step = np.resize(self.step, cap)
        self.index = np.resize(self.index, cap)
        if self.offset is not None:
            self.offset = np.resize(self.offset, cap)

    def extend(self, steps, indices, offsets=None):
        """Append spikes given as arrays."""
        m = len(steps)
        if self.n + m > self.capacity:
            self.grow(self.n + m)
        self.step[self.n:self.n + m] = steps
        self.index[self.n:self.n + m] = indices
        if self.offset is not None:
            self.offset[self.n:self.n + m] = offsets
        self.n += m

    def clear(self):
        self.n = 0

    @property
    def steps(self) -> np.ndarray:
        return self.step[:self.n]

    @property
    def indices(self) -> np.ndarray:
        return self.index[:self.n]

    @property
    def offsets(self) -> np.ndarray | None:
        return None if self.offset is None else self.offset[:self.n]


class Recording:
    """One call's state-monitor buffer: entry e writes its samples of steps [n_start, n_end)
    from ``out[base[e]]``, advancing ``pos[e]`` (spikecore.engine.layout.recording_buffers)."""

    def __init__(self, rec_every: np.ndarray, n_start: int, n_end: int):
        self.every = rec_every
        self.base, self.out, self.pos = recording_buffers(rec_every, n_start, n_end)


def checked_state_values(state: dict, pop: str, var: str, values) -> np.ndarray:
    """``values`` for state variable ``var`` of population ``pop`` (``state`` as a simulator's
    ``state()`` gives it), checked -- a known population and variable, a scalar or one value per
    neuron, finite -- as float64, one per neuron (ValidationError naming the field otherwise)."""
    from ..errors import ValidationError
    if pop not in state:
        raise ValidationError("population", pop, "one of " + ", ".join(state))
    if var not in state[pop]:
        raise ValidationError(f"{pop}.{var}", var, "a state variable: " + ", ".join(state[pop]))
    size = state[pop][var].size
    vals = np.asarray(values, dtype=float)
    if vals.ndim > 1 or (vals.ndim == 1 and vals.size != size):
        raise ValidationError(f"{pop}.{var}", f"{vals.size} values", f"a scalar or {size} values")
    if not np.isfinite(vals).all():
        raise ValidationError(f"{pop}.{var}", values, "finite values")
    return np.broadcast_to(vals, (size,))


class Simulator:
    """Base of the engine's simulators (module docstring). A subclass sets ``ir``, ``dt``,
    ``layout`` (NetLayout), ``arrays`` (with "rec_every"), ``rec_layout``, ``step`` and
    ``_change_steps`` (sorted arrays of the steps at which an input changes)."""

    ir: _ir.IRGraph
    dt: float
    layout: NetLayout
    arrays: dict
    rec_layout: list
    step: int = 0
    _change_steps: list = []
    #: the arrays that a run changes: a snapshot copies these (module docstring)
    DYNAMIC_ARRAYS: tuple = ()

    # -- running -----------------------------------------------------------------------
    def run(self, duration: float, progress: bool = False) -> RawRun:
        """Advance by ``duration`` seconds; returns the spikes, traces and final state of this call."""
        return self.run_steps(_ir.duration_steps(duration, self.dt), progress)

    def run_steps(self, n_steps: int, progress: bool = False) -> RawRun:
        """Advance by ``n_steps`` steps (see ``run``)."""
        n_start, n_end = self.step, self.step + int(n_steps)
        rec = Recording(self.arrays["rec_every"], n_start, n_end)
        spikes = self._new_spike_buffer()
        bar = ProgressBar(n_end - n_start, enabled=progress)
        n = n_start
        # weight monitors sample between kernel calls, at the start of their steps
        wmons = [(m, max(1, _ir.steps(m.interval, self.dt))) for m in self.ir.weight_monitors.values()]
        wsamples = {m.projection: ([], [], m.synapses) for m, _ in wmons}
        try:
            while n < n_end:
                stop = min(n_end, n + CHUNK_STEPS)
                change = self._next_change(n)
                if change is not None:
                    stop = min(stop, change)
                for m, every in wmons:
                    if n % every == 0:
                        wsamples[m.projection][0].append(n)
                        wsamples[m.projection][1].append(self.plastic_weights(m.projection, n)[m.projection][m.synapses])
                    stop = min(stop, (n // every + 1) * every)
                self._advance(n, stop, spikes, rec)
                n = stop
                bar.update(n - n_start)
        finally:
            bar.close()
            self.step = n
        raw = self._collect(spikes, rec, n_start, n_end)
        raw.weight_samples = {p: (np.array(st, np.int64), np.array(w).reshape(len(st), syn.size), syn.copy())
                              for p, (st, w, syn) in wsamples.items()}
        return raw

    def _next_change(self, n: int) -> int | None:
        """The first step after n at which an input changes (None: none does)."""
        nxt = [int(st[st > n][0]) for st in self._change_steps if (st > n).any()]
        return min(nxt) if nxt else None

    def _new_spike_buffer(self) -> SpikeBuffer:
        return SpikeBuffer(max(1024, 4 * self.layout.n_neurons))

    def _advance(self, n: int, stop: int, spikes: SpikeBuffer, rec: Recording):
        raise NotImplementedError

    # -- results -----------------------------------------------------------------------
    def _spike_populations(self) -> list:
        """The populations whose spikes a run reports (the recorded ones)."""
        return list(dict.fromkeys(self.ir.recorded_populations()))

    def _collect(self, spikes: SpikeBuffer, rec: Recording, n_start: int, n_end: int) -> RawRun:
        steps, idx, offs = self._ordered_spikes(spikes)
        lay = self.layout
        out_steps, out_idx, out_offs = {}, {}, ({} if offs is not None else None)
        for name in self._spike_populations():
            s0, size = lay.population_range(name)
            if len(lay.names) == 1:      # every spike is this population's: no selection pass
                out_steps[name], out_idx[name] = steps.copy(), idx.astype(np.int64)
                if offs is not None:
                    out_offs[name] = offs.copy()
                continue
            sel = (idx >= s0) & (idx < s0 + size)
            out_steps[name], out_idx[name] = steps[sel], (idx[sel] - s0).astype(np.int64)
            if offs is not None:
                out_offs[name] = offs[sel]
        raw = RawRun(dt=self.dt, n_start=n_start, n_steps=n_end - n_start, spike_steps=out_steps,
                     spike_indices=out_idx, spike_offsets=out_offs)
        raw.traces = self._traces(rec, n_start, n_end, raw)
        raw.final_state = self.state()
        raw.weights = self.plastic_weights()
        return raw

    def _ordered_spikes(self, spikes: SpikeBuffer):
        """(steps, indices, offsets or None) of a call, sorted by (time, index)."""
        return spikes.steps, spikes.indices, spikes.offsets

    def _traces(self, rec: Recording, n_start: int, n_end: int, raw: RawRun) -> dict:
        return collect_traces(self.ir, self.rec_layout, rec.every, rec.out, rec.base, n_start, n_end, self.dt)

    def plastic_weights(self, projection: str | None = None, step: int | None = None) -> dict:
        """Per plastic projection (or only ``projection``), every synapse's weight at ``step``
        (default: now; none in modes without plasticity)."""
        return {}

    def state(self) -> dict:
        """Per population: v and each receptor's synaptic variable (the model's names,
        none for delta synapses), now (copies). The kernels of grid and precise timing
        hold them in ``v`` (by neuron) and ``syn`` (by channel)."""
        a, lay, out = self.arrays, self.layout, {}
        for p in self.ir.populations.values():
            s0, size = lay.population_range(p.name)
            st = out[p.name] = {"v": a["v"][s0:s0 + size].copy()}
            for rname in p.receptors:
                var = receptor_var(p, rname)
                if var is not None:
                    c = lay.channel_of[(p.name, rname)]
                    st[var] = a["syn"][c:c + size].copy()
        return out

    # -- run control (docs/run_control.md) ------------------------------------------------
    def set_state(self, pop: str, var: str, values) -> None:
        """Overwrite state variable ``var`` of population ``pop`` (a scalar or one value per
        neuron, SI) before the next run; ``var`` is one of ``state()[pop]``."""
        self._require_run_control("setting state variables")
        self._write_state(pop, var, checked_state_values(self.state(), pop, var, values))

    def _require_run_control(self, what: str) -> None:
        """UnsupportedFeature unless this simulator lists its dynamic arrays (DYNAMIC_ARRAYS)."""
        if not self.DYNAMIC_ARRAYS:
            from ..errors import UnsupportedFeature
            raise UnsupportedFeature("native", f"{what} in {type(self).__name__}",
                                     "the grid engine or the Loihi mode (the precise engine keeps "
                                     "pending events in its kernel, out of reach between runs)")

    def _write_state(self, pop: str, var: str, values: np.ndarray) -> None:
        """Write ``values`` (float64, one per neuron) into the arrays the kernel reads."""
        a, lay = self.arrays, self.layout
        s0, size = lay.population_range(pop)
        if var == "v":
            a["v"][s0:s0 + size] = values
            return
        p = self.ir.populations[pop]
        for rname in p.receptors:
            if receptor_var(p, rname) == var:
                c = lay.channel_of[(pop, rname)]
                a["syn"][c:c + size] = values
                return

    def snapshot(self) -> dict:
        """Everything a run changes, copied: ``load_snapshot`` of it continues bit for bit
        as the simulator would have continued from here."""
        self._require_run_control("store/restore")
        return {"step": self.step, "ev_ptr": self.kernel.ev_ptr,
                "arrays": {k: self.arrays[k].copy() for k in self.DYNAMIC_ARRAYS}}

    def load_snapshot(self, snap: dict) -> None:
        """Put the simulator back into the state of ``snap`` (from ``snapshot`` of this
        simulator, or of one compiled from the same network with other parameters or weights:
        the arrays must have the same shapes)."""
        for k, arr in snap["arrays"].items():
            if self.arrays[k].shape != arr.shape:
                raise ValueError(f"snapshot array {k} has shape {arr.shape}, the simulator {self.arrays[k].shape}")
        for k, arr in snap["arrays"].items():
            self.arrays[k][...] = arr
        self.step = int(snap["step"])
        # the next spike-source event: found from the step, so that a simulator compiled with
        # other spike-source times (run control's replace_network) continues right too
        ev_step = self.arrays.get("ev_step")
        self.kernel.ev_ptr = (int(np.searchsorted(ev_step, self.step, "left")) if ev_step is not None
                              else int(snap["ev_ptr"]))
