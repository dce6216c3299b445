"""The common result of every backend: spikes, traces and a summary.

Every backend returns a ``Result``; ``Result.save(dir)`` writes the same files
whoever ran the network, so every tool that reads one reads all:

* ``summary.json`` — backend, duration_s, dt_s, wall_s, build_s, rtf, seed, sizes,
  ``populations: {NAME: {n, spikes, rate_hz, cv_isi}}``, options and the list of
  approximations the backend applied (empty unless opted in), and what a backend adds
  under its own name (the native grid engine: ``native.threads``, the threads it ran
  and why, spikecore/engine/thread_choice.py);
* ``spikes.npz`` — ``NAME.times`` (float64 s) and ``NAME.indices`` (int64) per population.
  Grid timing: times are multiples of dt (a spike of step n at n*dt). Precise timing
  (native ``timing="precise"``, recorded in summary.json ``options.timing``): times are
  the exact continuous spike times, sorted by (time, index), and ``NAME.steps`` (int64)
  adds the step n whose interval (n*dt, (n+1)*dt] holds each spike, i.e. where grid
  mode would report it (``n*dt``) — do not recover it with ``rint(times/dt)``;
* ``traces.npz`` — ``MONITOR.times``, ``MONITOR.neurons`` and ``MONITOR.VAR``
  (samples x neurons, SI units) per state monitor, when any;
* ``weights.npz`` — per plastic projection P: ``P.final`` (every synapse's weight after the
  run, SI, in the projection's synapse order) and, where a weight monitor recorded it,
  ``P.t`` (sample times, s), ``P.w`` (samples x monitored synapses) and ``P.synapses``
  (the monitored synapses' indices), when any projection is plastic;
* ``manifest.json`` — the run id, the command and every file with its size and SHA-256,
  written last (spikecore.io.results). summary.json and each .npz carry the same
  ``run_id``; ``load`` refuses a directory whose manifest is missing, whose files have
  other sizes than recorded, or whose files come from different runs.
"""
from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .io.results import RUN_ID_KEY

SUMMARY_FILE = "summary.json"
SPIKES_FILE = "spikes.npz"
TRACES_FILE = "traces.npz"
WEIGHTS_FILE = "weights.npz"


def cv_isi(times: np.ndarray, indices: np.ndarray) -> float | None:
    """Mean over neurons with at least two ISIs of std(ISI)/mean(ISI); None if no neuron qualifies."""
    if times.size < 3:
        return None
    order = np.lexsort((times, indices))
    t, i = times[order], indices[order]
    same = i[1:] == i[:-1]
    isi = np.diff(t)[same]
    owner = i[1:][same]
    if isi.size == 0:
        return None
    uniq, inv, counts = np.unique(owner, return_inverse=True, return_counts=True)
    s1 = np.bincount(inv, isi)
    s2 = np.bincount(inv, isi * isi)
    ok = counts >= 2
    if not ok.any():
        return None
    mean = s1[ok] / counts[ok]
    var = np.maximum(s2[ok] / counts[ok] - mean ** 2, 0.0)
    good = mean > 0
    return float(np.mean(np.sqrt(var[good]) / mean[good])) if good.any() else None


@dataclass
class RawRun:
    """What one run call of a simulator produced, before it becomes a Result
    (``Result.from_run``): steps [n_start, n_start + n_steps) of dt seconds.

    Spikes per population: the step n of each spike (int64) and the neuron (int64),
    sorted by (time, index); in precise timing ``spike_offsets`` adds each spike's
    offset in (0, dt] inside its step (time = n*dt + offset), else it is None (time =
    n*dt). ``traces``: per state monitor {target, neurons, times, variables{var: 2-D}}.
    ``final_state``: per population its state variables after the last step (copies),
    as the simulator names them."""
    dt: float
    n_start: int
    n_steps: int
    spike_steps: dict                   # population -> int64 steps
    spike_indices: dict                 # population -> int64 neuron indices
    spike_offsets: dict | None = None   # population -> float64 offsets in (0, dt] (precise timing)
    traces: dict = field(default_factory=dict)
    final_state: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)   # plastic projection -> every synapse's weight after the run
    # weight monitors: projection -> (steps, weights (samples x monitored synapses), synapse indices)
    weight_samples: dict = field(default_factory=dict)

    def spike_times(self, pop: str) -> np.ndarray:
        """Times (s) of the spikes of ``pop``: n*dt, plus the offset in precise timing."""
        t = self.spike_steps[pop] * self.dt
        return t + self.spike_offsets[pop] if self.spike_offsets is not None else t

    @property
    def spikes(self) -> dict:
        """population -> (times s, indices), as a Result holds them."""
        return {pop: (self.spike_times(pop), self.spike_indices[pop]) for pop in self.spike_steps}


@dataclass
class Result:
    backend: str
    duration: float                 # s simulated
    dt: float                       # s
    wall_s: float                   # simulation phase
    sizes: dict                     # population -> n
    spikes: dict                    # population -> (times s, indices)
    traces: dict = field(default_factory=dict)   # monitor -> {target, neurons, times, variables{var: 2-D}}
    build_s: float = 0.0
    seed: int | None = None
    model: str = ""
    n_synapses: int = 0
    options: dict = field(default_factory=dict)
    approximations: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    spike_steps: dict = field(default_factory=dict)  # population -> step of each spike (precise timing only)
    #: per population its state variables after the last step ({var: array}), SI units in
    #: float modes, Loihi integers (u, v) in the Loihi mode; empty where a backend cannot read them
    final_state: dict = field(default_factory=dict)
    # plastic projection P -> {"final": every synapse's weight at the end (SI, the IR's synapse order)}
    weights: dict = field(default_factory=dict)

    @classmethod
    def from_run(cls, raw: RawRun, ir, *, backend: str, wall_s: float, build_s: float, options: dict,
                 approximations=(), extra: dict | None = None) -> "Result":
        """The Result of a run of ``ir`` (an IRGraph): the recorded populations' spikes
        (spikecore.ir.IRGraph.recorded_populations, in that order), the traces, and what
        the run was; the steps of the spikes too when their times are off the grid."""
        recorded = list(dict.fromkeys(ir.recorded_populations()))
        spikes = {name: (raw.spike_times(name), raw.spike_indices[name]) for name in recorded}
        steps = {name: raw.spike_steps[name] for name in recorded} if raw.spike_offsets is not None else {}
        return cls(backend=backend, duration=raw.n_steps * ir.dt, dt=ir.dt, wall_s=wall_s,
                   sizes={name: ir.populations[name].size for name in spikes}, spikes=spikes,
                   traces=raw.traces, build_s=build_s, seed=ir.seed, model=ir.name, n_synapses=ir.n_synapses,
                   options=options, approximations=list(approximations), extra=dict(extra or {}),
                   spike_steps=steps, final_state=raw.final_state, weights=_weights_of(raw))

    @classmethod
    def joined(cls, parts: list) -> "Result":
        """One Result of consecutive runs ``parts`` (each continuing the previous one, as
        ``run(d, every=...)`` makes them): spikes, trace and weight samples concatenated,
        durations and times added, the last part's final state and weights."""
        first, last = parts[0], parts[-1]
        spikes, steps = {}, {}
        for name in first.spikes:
            spikes[name] = (np.concatenate([p.spikes[name][0] for p in parts]),
                            np.concatenate([p.spikes[name][1] for p in parts]))
            if name in first.spike_steps:
                steps[name] = np.concatenate([p.spike_steps[name] for p in parts])
        traces = {}
        for mname, m in first.traces.items():
            traces[mname] = {**m, "times": np.concatenate([p.traces[mname]["times"] for p in parts]),
                             "variables": {v: np.concatenate([p.traces[mname]["variables"][v] for p in parts])
                                           for v in m["variables"]}}
        weights = {}
        for proj, w in (last.weights or {}).items():     # weight monitor samples of every part
            weights[proj] = dict(w)
            if "t" in w:
                weights[proj]["t"] = np.concatenate([p.weights[proj]["t"] for p in parts])
                weights[proj]["w"] = np.concatenate([p.weights[proj]["w"] for p in parts])
        return cls(backend=first.backend, duration=sum(p.duration for p in parts), dt=first.dt,
                   wall_s=sum(p.wall_s for p in parts), sizes=dict(first.sizes), spikes=spikes, traces=traces,
                   build_s=first.build_s, seed=first.seed, model=first.model, n_synapses=first.n_synapses,
                   options=first.options, approximations=first.approximations, extra=last.extra,
                   spike_steps=steps, final_state=last.final_state, weights=weights)

    # -- metrics --------------------------------------------------------------------
    def rate(self, pop: str) -> float:
        return self.spikes[pop][0].size / (self.sizes[pop] * self.duration)

    def summary(self) -> dict:
        pops = {}
        for name, (t, i) in self.spikes.items():
            cv = cv_isi(t, i)
            pops[name] = {"n": int(self.sizes[name]), "spikes": int(t.size),
                          "rate_hz": float(t.size / (self.sizes[name] * self.duration)),
                          "cv_isi": None if cv is None or math.isnan(cv) else cv}
        return {
            "backend": self.backend, "model": self.model, "seed": self.seed,
            "duration_s": self.duration, "dt_s": self.dt, "wall_s": self.wall_s,
            "build_s": self.build_s, "rtf": self.wall_s / self.duration,
            "n_neurons": int(sum(self.sizes.values())), "n_synapses": int(self.n_synapses),
            "populations": pops, "options": self.options,
            "approximations": list(self.approximations), **self.extra,
        }

    # -- files ----------------------------------------------------------------------
    def save(self, out_dir) -> Path:
        """Write the result files to ``out_dir`` whole or not at all (spikecore.io.results):
        an earlier result there is replaced only once the new one is complete."""
        from .io.results import ResultDirectory

        with ResultDirectory(out_dir, "save", flag="out_dir") as staging:
            self.write_files(staging.path, staging.run_id)
        return Path(out_dir)

    def write_files(self, directory, run_id: str) -> None:
        """summary.json, spikes.npz and traces.npz into ``directory`` (a staging directory of
        spikecore.io.results), each carrying ``run_id``, which readers match against the manifest."""
        out = Path(directory)
        summary = {**self.summary(), RUN_ID_KEY: run_id}
        with open(out / SUMMARY_FILE, "w") as f:
            json.dump(summary, f, indent=2, default=_json_default)
        arrays = {RUN_ID_KEY: np.array(run_id)}
        for name, (t, i) in self.spikes.items():
            arrays[f"{name}.times"] = np.asarray(t, dtype=np.float64)
            arrays[f"{name}.indices"] = np.asarray(i, dtype=np.int64)
            if name in self.spike_steps:
                arrays[f"{name}.steps"] = np.asarray(self.spike_steps[name], dtype=np.int64)
        np.savez(out / SPIKES_FILE, **arrays)
        if self.traces:
            tr = {RUN_ID_KEY: np.array(run_id)}
            for mname, m in self.traces.items():
                tr[f"{mname}.times"] = m["times"]
                tr[f"{mname}.neurons"] = m["neurons"]
                tr[f"{mname}.target"] = np.array(m["target"])
                for var, block in m["variables"].items():
                    tr[f"{mname}.{var}"] = block
            np.savez(out / TRACES_FILE, **tr)
        if self.weights:
            ws = {RUN_ID_KEY: np.array(run_id)}
            for proj, entry in self.weights.items():
                for key, value in entry.items():
                    ws[f"{proj}.{key}"] = np.asarray(value)
            np.savez(out / WEIGHTS_FILE, **ws)

    @classmethod
    def load(cls, out_dir) -> "Result":
        """Read a result directory; every file must belong to the run its manifest names."""
        from .io.results import verify_result_directory

        out = Path(out_dir)
        manifest = verify_result_directory(out, required=(SUMMARY_FILE, SPIKES_FILE))
        s = _read_summary(out / SUMMARY_FILE, manifest)
        spikes, spike_steps = _read_spikes(out / SPIKES_FILE, s["populations"], manifest)
        traces = _read_traces(out / TRACES_FILE, manifest) if TRACES_FILE in manifest["files"] else {}
        weights = _read_weights(out / WEIGHTS_FILE, manifest) if WEIGHTS_FILE in manifest["files"] else {}
        known = {"backend", "model", "seed", "duration_s", "dt_s", "wall_s", "build_s", "rtf",
                 "n_neurons", "n_synapses", "populations", "options", "approximations", RUN_ID_KEY}
        return cls(backend=s["backend"], duration=s["duration_s"], dt=s["dt_s"], wall_s=s["wall_s"],
                   sizes={k: v["n"] for k, v in s["populations"].items()}, spikes=spikes, traces=traces,
                   build_s=s.get("build_s", 0.0), seed=s.get("seed"), model=s.get("model", ""),
                   n_synapses=s.get("n_synapses", 0), options=s.get("options", {}),
                   approximations=s.get("approximations", []),
                   extra={k: v for k, v in s.items() if k not in known}, spike_steps=spike_steps,
                   weights=weights)

    # -- display --------------------------------------------------------------------
    def table(self) -> str:
        """The human summary: one row per population, then totals and timing."""
        s = self.summary()
        rows = [("population", "neurons", "spikes", "rate (Hz)", "CV ISI")]
        for name, p in s["populations"].items():
            cv = "-" if p["cv_isi"] is None else f"{p['cv_isi']:.3f}"
            rows.append((name, str(p["n"]), str(p["spikes"]), f"{p['rate_hz']:.2f}", cv))
        total_spikes = sum(p["spikes"] for p in s["populations"].values())
        n = sum(p["n"] for p in s["populations"].values())
        rows.append(("all", str(n), str(total_spikes), f"{total_spikes / max(n, 1) / self.duration:.2f}", ""))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        fmt = "  ".join("{:<%d}" % widths[0] if c == 0 else "{:>%d}" % widths[c] for c in range(5))
        lines = [fmt.format(*rows[0]), "  ".join("-" * w for w in widths)]
        lines += [fmt.format(*r) for r in rows[1:-1]]
        lines += ["  ".join("-" * w for w in widths), fmt.format(*rows[-1])]
        lines.append(f"backend {self.backend}: {s['n_neurons']} neurons, {s['n_synapses']} synapses, "
                     f"{self.duration:g} s simulated at dt={self.dt * 1e3:g} ms")
        lines.append(f"wall {self.wall_s:.3f} s (build {self.build_s:.3f} s), real-time factor {s['rtf']:.3f}")
        threads = (self.extra.get("native") or {}).get("threads")
        if isinstance(threads, dict) and "threads" in threads:     # the native grid engine's choice
            lines.append(f"threads: {threads['threads']} ({threads.get('reason', '')})")
        return "\n".join(lines)

    def plot(self, path=None, bin_s: float = 5e-3, max_points: int = 200_000):
        """Raster, population rate, ISI distribution and monitored traces in one figure
        (spikecore.plotting); writes it to ``path`` (PNG) if given. Headless: no pyplot."""
        from .registry import implementation
        return implementation("plot_result")(self, path, bin_s=bin_s, max_points=max_points)

    def to_neo(self):
        """This result as a ``neo.Block`` (spikecore.io.neo): a SpikeTrain per neuron,
        an AnalogSignal per monitored variable, with units."""
        from .registry import implementation
        return implementation("result_to_neo")(self)


def _weights_of(raw: RawRun) -> dict:
    """Result.weights from a run: per plastic projection its final weights and, where a
    weight monitor recorded it, the sample times, samples and monitored synapses."""
    out = {p: {"final": w} for p, w in raw.weights.items()}
    for p, (steps, w, synapses) in raw.weight_samples.items():
        out.setdefault(p, {}).update({"t": steps * raw.dt, "w": w, "synapses": synapses})
    return out


def _read_summary(path: Path, manifest: dict) -> dict:
    from .io.results import check_run_id

    try:
        s = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelFileError(path, f"unreadable: {e}") from None
    if not isinstance(s, dict):
        raise ModelFileError(path, "not a result summary (expected a JSON object)")
    for key in ("backend", "duration_s", "dt_s", "wall_s", "populations"):
        if key not in s:
            raise ModelFileError(path, f"not a result summary (no '{key}')")
    pops = s["populations"]
    if not isinstance(pops, dict) or not all(isinstance(p, dict) and "n" in p for p in pops.values()):
        raise ModelFileError(path, "populations: expected {NAME: {n, spikes, ...}}")
    check_run_id(path, s.get(RUN_ID_KEY), manifest)
    return s


def _open_npz(path: Path, manifest: dict):
    """The arrays of an .npz of this run, read now, so a damaged file fails here naming itself."""
    from .io.results import check_run_id

    try:
        with np.load(path) as z:
            arrays = {key: z[key] for key in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise ModelFileError(path, f"unreadable ({type(e).__name__}: {e})") from None
    check_run_id(path, str(arrays[RUN_ID_KEY]) if RUN_ID_KEY in arrays else None, manifest)
    return arrays


def _read_spikes(path: Path, populations: dict, manifest: dict):
    sp = _open_npz(path, manifest)
    spikes, steps = {}, {}
    for name in populations:
        if f"{name}.times" not in sp or f"{name}.indices" not in sp:
            raise ModelFileError(path, f"no spikes of population '{name}', which {SUMMARY_FILE} lists")
        spikes[name] = (sp[f"{name}.times"], sp[f"{name}.indices"])
        if f"{name}.steps" in sp:
            steps[name] = sp[f"{name}.steps"]
    return spikes, steps


def _entries_by_owner(path: Path, manifest: dict, split, expected: str, fields=None):
    """(owner, field, value) for every entry of the .npz at ``path`` but its run id, its key
    cut at a dot by ``split`` (str.partition or str.rpartition); ModelFileError naming
    ``expected`` for a key with no dot or (with ``fields``) with a field not in ``fields``."""
    for key, value in _open_npz(path, manifest).items():
        if key == RUN_ID_KEY:
            continue
        owner, sep, field = split(key, ".")
        if not sep or (fields is not None and field not in fields):
            raise ModelFileError(path, f"unexpected entry '{key}' (expected {expected})")
        yield owner, field, value


def _read_weights(path: Path, manifest: dict) -> dict:
    weights = {}
    for proj, what, value in _entries_by_owner(path, manifest, str.rpartition,
                                               "PROJECTION.final, .t, .w or .synapses", ("final", "t", "w", "synapses")):
        weights.setdefault(proj, {})[what] = value
    return weights


def _read_traces(path: Path, manifest: dict) -> dict:
    traces = {}
    for mname, var, value in _entries_by_owner(path, manifest, str.partition, "MONITOR.VARIABLE"):
        m = traces.setdefault(mname, {"variables": {}})
        if var in ("times", "neurons"):
            m[var] = value
        elif var == "target":
            m["target"] = str(value)
        else:
            m["variables"][var] = value
    return traces


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
