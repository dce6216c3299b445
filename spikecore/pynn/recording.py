"""PyNN's Recorder on spikecore: what a population records becomes IR monitors, and each
run's Result is appended to the current segment's data (spikes; state-variable samples,
closed by the state at the present time, as PyNN's AnalogSignals of n + 1 samples want)."""
from __future__ import annotations

import numpy as np
from pyNN import recording

from .. import ir as _ir
from . import simulator
from .simulator import MS


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population=None, file=None):
        recording.Recorder.__init__(self, population, file)
        self._clear_simulator()

    def _record(self, variable, new_ids, sampling_interval=None):
        if simulator.state.ir is not None and new_ids:
            raise NotImplementedError("starting to record after run() on spikecore (call reset() first)")
        self.sampling_interval = sampling_interval or self._simulator.state.dt

    def _monitored(self, variable) -> np.ndarray:
        return np.sort(np.fromiter(self.recorded[variable], dtype=np.int64)) - self.population.first_id

    def _add_to_ir(self, g):
        pop = self.population
        for variable in self.recorded:
            if not self.recorded[variable]:
                continue
            if variable.name == "spikes":
                if pop.celltype.spikecore is not None:
                    for part, _ in pop.ir_parts():
                        g.spike_monitors[f"{part}_spikes"] = _ir.SpikeMonitorNode(f"{part}_spikes", part)
                continue
            var, _ = pop.celltype.spikecore.state[variable.name]
            interval = self.sampling_interval * MS
            for part, _, _, local in pop.ir_split(self._monitored(variable)):
                name = f"{part}_{variable.name}"
                g.state_monitors[name] = _ir.StateMonitorNode(name, part, (var,), local, interval)

    def _store_result(self, result):
        """Append what a run recorded of this population."""
        pop = self.population
        name = type(pop.celltype).__name__
        if name == "SpikeSourceArray" or name == "SpikeSourcePoisson":
            self._spikes.append(self._source_spikes(result))
        else:
            for part, idx in pop.ir_parts():
                if part in result.spikes:
                    t, i = result.spikes[part]
                    self._spikes.append((idx[np.asarray(i, dtype=np.int64)] + pop.first_id, np.asarray(t) / MS))
        for variable in self.recorded:
            if variable.name == "spikes" or pop.celltype.spikecore is None:
                continue
            var, _ = pop.celltype.spikecore.state[variable.name]
            monitored, columns = self._monitored(variable), []
            for part, _, positions, _ in pop.ir_split(monitored):
                mon = result.traces.get(f"{part}_{variable.name}")
                if mon is not None:
                    columns.append((positions, mon["variables"][var]))
            if columns:      # the IR populations' samples, in the order of the monitored neurons
                values = np.empty((columns[0][1].shape[0], monitored.size))
                for positions, samples in columns:
                    values[:, positions] = samples
                self._samples.setdefault(variable.name, []).append(values)

    def _source_spikes(self, result):
        """The spikes a spike source sent during the run that made ``result``."""
        pop, dt = self.population, simulator.state.dt * MS
        g = simulator.state.ir
        n1 = int(round(simulator.state.t * MS / dt)) + int(round(result.duration / dt))
        n0 = n1 - int(round(result.duration / dt))
        if pop.ir_name in g.spike_sources:
            node = g.spike_sources[pop.ir_name]
            steps = np.rint(node.times / dt).astype(np.int64)
            sel = (steps >= n0) & (steps < n1)
            return node.indices[sel] + pop.first_id, steps[sel] * dt / MS
        node = g.poisson_sources[pop.ir_name]
        counts = _ir.poisson_counts(node, dt, n0, n1 - n0)
        steps, idx = np.nonzero(counts)
        return idx.astype(np.int64) + pop.first_id, (steps + n0) * dt / MS

    def _spike_arrays(self):
        if not self._spikes:
            return np.zeros(0, np.int64), np.zeros(0)
        return (np.concatenate([i for i, _ in self._spikes]), np.concatenate([t for _, t in self._spikes]))

    def _get_spiketimes(self, requested_ids, clear=False):
        ids, times = self._spike_arrays()
        mask = np.isin(ids, np.asarray(requested_ids, dtype=np.int64))
        if clear:
            self._spikes = []
        return ids[mask], times[mask].copy()

    def _get_all_signals(self, variable, ids, clear=False):
        pop = self.population
        monitored = self._monitored(variable)
        var, scale = pop.celltype.spikecore.state[variable.name]
        pieces = list(self._samples.get(variable.name, []))
        exe = simulator.state.exe
        step_every = int(round(self.sampling_interval / simulator.state.dt))
        n_now = int(round(simulator.state.t / simulator.state.dt))
        if exe is not None and n_now % step_every == 0:
            now = np.empty((1, monitored.size))
            for part, _, positions, local in pop.ir_split(monitored):
                now[0, positions] = exe.get(part, var)[local]
            pieces.append(now)
        values = np.concatenate(pieces) if pieces else np.zeros((0, monitored.size))
        cols = np.searchsorted(monitored, np.asarray(ids, dtype=np.int64) - pop.first_id)
        if clear:
            self._samples = {}
        per_pynn_unit = pop.per_neuron_scale(scale)[monitored][cols]   # per neuron where r is
        return values[:, cols] / per_pynn_unit, None

    def _local_count(self, variable, filter_ids=None):
        ids, _ = self._spike_arrays()
        counts = np.bincount(ids - self.population.first_id, minlength=self.population.size)
        return {int(i): int(counts[int(i) - self.population.first_id])
                for i in self.filter_recorded(variable, filter_ids)}

    def _clear_simulator(self):
        self._spikes, self._samples = [], {}

    def _reset(self):
        pass
