"""Run a sweep's points on a Dask cluster, store each on completion, write the table.

``run_sweep(spec, out, cluster)`` runs every point of ``plan(spec)`` not already stored
under ``out``, as one Dask task each (``run_task``: the point's model built from its
model mapping, run on the backend, reduced to spikecore.sweep.measures on the worker),
and stores each result the moment it arrives as ``out/points/<KEY>.json``, written to
a temporary file and renamed (spikecore.io.results.OutputFile: a file there is complete). KEY is the SHA-256 of
everything the result depends on (the point's model mapping with its seed, duration,
transient, backend, options, the measures' version), so a rerun with the same
``--out`` skips the points it finds and recomputes nothing else; a changed model
or setting gets new keys.

A worker that dies mid-sweep loses only the points it was running: the Dask
scheduler gives them to another worker (a local cluster's nanny also restarts the
dead one); a point that kills ``distributed.scheduler.allowed-failures`` (3) workers
in a row fails the sweep, naming it. Results are deterministic, so the retried
points are identical.

Finally ``out/sweep.csv`` (one row per point and replicate, in grid order: the axes'
values, replicate, seed, then per population ``POP.rate_hz``, ``POP.cv_isi``,
``POP.sync``, ``POP.fano``, ``POP.freq_hz``, and ``wall_s``, the point's wall time on
its worker) and ``out/sweep.json`` (the specification) are written, then
``out/manifest.json`` (spikecore.io.results: every file, points included, with its
size and SHA-256; ``verify_result_directory`` checks it), and spikecore.sweep.report
draws ``out/sweep.png``, which joins the manifest.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import units as u
from ..errors import SpikecoreError, ValidationError
from ..io.results import new_run_id, write_manifest, write_text_file
from .grid import Point, grid, point_model
from .measures import MEASURES, activity_measures

#: Bump when what a stored point holds changes: old stored points are then recomputed.
MEASURES_VERSION = 1
POINTS_DIR = "points"
TABLE_FILE = "sweep.csv"
SPEC_FILE = "sweep.json"


@dataclass
class SweepSpec:
    """What to sweep: the model mapping (alias-free), the axes, replicates and run settings."""
    model: dict
    axes: list
    seeds: int = 1
    duration: float | None = None      # s; None: the model's
    transient: float = 0.0              # s left out of the measures
    backend: str = "native"
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"model_name": self.model.get("name"), "model_seed": self.model.get("seed", 0),
                "axes": [{"keys": list(a.keys), "values": list(a.values), "unit": a.unit} for a in self.axes],
                "seeds": self.seeds, "duration_s": self.duration, "transient_s": self.transient,
                "backend": self.backend, "options": self.options}


def plan(spec: SweepSpec) -> list:
    return grid(spec.axes, int(spec.model.get("seed", 0) or 0), spec.seeds)


def point_task(spec: SweepSpec, point: Point) -> dict:
    """Everything a worker needs to run ``point`` (plain data, small)."""
    return {"model": point_model(spec.model, spec.axes, point), "duration": spec.duration,
            "transient": spec.transient, "backend": spec.backend, "options": dict(spec.options),
            "version": MEASURES_VERSION}


def task_key(task: dict) -> str:
    text = json.dumps(task, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def run_task(task: dict) -> dict:
    """Run one point (on a worker, or here): {'populations': {POP: measures}, 'wall_s': s}."""
    from ..io.model_files import network_from_dict

    t0 = time.perf_counter()
    net = network_from_dict(task["model"])
    duration = None if task["duration"] is None else u.Quantity(float(task["duration"]), u.TIME)
    result = net.run(duration, backend=task["backend"], **task["options"])
    measures = activity_measures(result, task["transient"])
    return {"populations": measures, "wall_s": time.perf_counter() - t0}


def check_spec(spec: SweepSpec) -> list:
    """Validate what can be validated here, cheaply, and return the points.

    Every point's model is read as a Network (a description: nothing is realised), so a
    value of the wrong kind fails here with the model file's own message, not on a worker.
    """
    from ..io.model_files import network_from_dict
    from .cluster import check_backend, find_backend

    check_backend(spec.backend)
    find_backend(spec.backend)      # an unknown or uninstalled backend fails here, not on a worker
    if not spec.axes:
        raise ValidationError("--set", None, "at least one axis (--set KEY=VALUES)")
    points = plan(spec)
    for p in points:
        if p.replicate:
            continue
        net = network_from_dict(point_model(spec.model, spec.axes, p))
        duration = spec.duration if spec.duration is not None else net.duration
        if duration is None:
            raise ValidationError("--duration", None, "a duration (the model file has none)")
        if not 0 <= spec.transient < duration:
            raise ValidationError("--transient", spec.transient, f"a time in [0, duration) = [0, {duration!r} s)")
    return points


def load_stored(out: Path, key: str) -> dict | None:
    path = out / POINTS_DIR / f"{key}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None     # unreadable: recompute it


def check_out(out) -> Path:
    """``out`` as a Path, usable as a sweep directory: not a file, and writable (checked by a probe)."""
    from ..io.results import check_output_file

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError("--out", str(out), "a directory (a file of that name exists)")
    check_output_file(out / TABLE_FILE, "--out")
    return out


def stored_records(spec: SweepSpec, points: list, out) -> dict:
    """{point index: stored record} of the points already finished under ``out``."""
    found = {}
    for p in points:
        record = load_stored(Path(out), task_key(point_task(spec, p)))
        if record is not None:
            found[p.index] = record
    return found


def run_sweep(spec: SweepSpec, out, cluster=None, progress: bool = False, on_stored=None) -> dict:
    """Run the sweep (module docstring); returns {'rows': [...], 'ran': n, 'skipped': n, 'table': path}.

    ``cluster`` is a spikecore.sweep.cluster.Cluster; ``on_stored(point, record)`` is
    called after each point is stored (progress hooks, tests).
    """
    out = check_out(out)
    points = check_spec(spec)
    tasks = {p.index: point_task(spec, p) for p in points}
    keys = {i: task_key(t) for i, t in tasks.items()}
    records = stored_records(spec, points, out)
    todo = [p for p in points if p.index not in records]
    (out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    write_text_file(out / SPEC_FILE, json.dumps({**spec.to_dict(), "points": len(points)}, indent=2) + "\n", "--out")
    if todo:
        if cluster is None:
            raise ValidationError("cluster", None, "a Dask cluster to run the points on")
        _run_points(spec, todo, tasks, keys, records, out, cluster, progress, on_stored)
    rows = [table_row(spec.axes, p, records[p.index]) for p in points]
    table = write_table(out, spec.axes, rows)
    write_manifest(out, new_run_id(), "sweep")     # every file, points included, with size and SHA-256
    return {"rows": rows, "ran": len(todo), "skipped": len(points) - len(todo), "table": table,
            "points": points}


def _run_points(spec, todo, tasks, keys, records, out, cluster, progress, on_stored):
    from distributed import as_completed

    client = cluster.client
    cluster.prepare(spec.backend)
    futures = {client.submit(run_task, tasks[p.index], key=f"spikecore-point-{keys[p.index]}", pure=False): p
               for p in todo}
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc="sweep", unit="point", dynamic_ncols=True)
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            p = futures[fut]
            try:
                result = fut.result()
            except SpikecoreError:
                raise
            except Exception as e:   # noqa: BLE001 -- a failed point is named, not a traceback
                raise PointFailed(spec.axes, p, e) from None
            record = {"point": {a.name: v for a, v in zip(spec.axes, p.values)}, "replicate": p.replicate,
                      "seed": p.seed, **result}
            write_text_file(out / POINTS_DIR / f"{keys[p.index]}.json", json.dumps(record) + "\n", "--out")
            records[p.index] = record
            if bar is not None:
                bar.update(1)
            if on_stored is not None:
                on_stored(p, record)
    finally:
        if bar is not None:
            bar.close()
        for fut in futures:
            if not fut.done():
                fut.cancel()


class PointFailed(SpikecoreError):
    """A point's run raised something that is not a user mistake (or killed its workers)."""

    def __init__(self, axes, point, error):
        where = ", ".join(f"{a.name}={v}" for a, v in zip(axes, point.values))
        reason = str(error).splitlines()[0] if str(error) else ""
        super().__init__(f"point {point.index} ({where}, replicate {point.replicate}, seed {point.seed}) failed: "
                         f"{type(error).__name__}: {reason[:200]}")


# ----------------------------------------------------------------------------- the table
def columns(axes: list, populations: list) -> list:
    return ([a.column for a in axes] + ["replicate", "seed"]
            + [f"{pop}.{m}" for pop in populations for m in MEASURES] + ["wall_s"])


def table_row(axes: list, point: Point, record: dict) -> dict:
    row = {a.column: v for a, v in zip(axes, point.shown)}
    row["replicate"] = point.replicate
    row["seed"] = point.seed
    for pop, ms in record["populations"].items():
        for m in MEASURES:
            row[f"{pop}.{m}"] = ms.get(m)
    row["wall_s"] = record["wall_s"]
    return row


def write_table(out: Path, axes: list, rows: list) -> Path:
    pops = []
    for r in rows:
        for k in r:
            if k.endswith(".rate_hz") and k[:-len(".rate_hz")] not in pops:
                pops.append(k[:-len(".rate_hz")])
    cols = columns(axes, pops)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: _cell(r.get(c)) for c in cols})
    path = out / TABLE_FILE
    write_text_file(path, buf.getvalue(), "--out")
    return path


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v


def read_table(path) -> list:
    """sweep.csv as a list of dicts (numbers as floats, empty cells as None)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        row = {}
        for k, v in r.items():
            if v == "":
                row[k] = None
                continue
            try:
                row[k] = float(v)
            except ValueError:
                row[k] = v
        out.append(row)
    return out
