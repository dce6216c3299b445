"""``spikecore run MODEL``: simulate a model and write its results.

With ``--backend nest --mpi N`` the run goes to ``mpirun -np N``: every rank runs
this command without ``--mpi`` and writes its part (the neurons NEST placed on it)
to DIR.ranks/rank_K, then this process joins the parts into DIR. It needs a NEST
built with MPI; the PyPI wheel has none, and that path is untested here (docs/nest.md).
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .. import units as u
from ..interrupts import checkpoint
from ..io.results import ResultDirectory
from ..network import with_redrawn
from .common import add_memory_arg, add_model_args, check_memory, load_model, quantity_arg


def add_parser(sub):
    p = sub.add_parser("run", help="simulate a model and write summary.json, spikes.npz and a plot",
                       description="Simulate MODEL and write DIR/summary.json, DIR/spikes.npz, "
                                   "DIR/traces.npz (if monitored), DIR/raster.png and DIR/manifest.json. "
                                   "DIR is checked before the simulation and replaced only when the new "
                                   "result is complete.")
    add_model_args(p)
    p.add_argument("--backend", default="native", help="native (default), brian2, lava or nest")
    p.add_argument("--format", choices=("float", "fixed", "loihi"), default=None,
                   help="number format. lava: float (floating_pt models, default) or fixed (Lava's "
                        "bit-accurate Loihi fixed_pt models). native: float (default) or loihi (the same "
                        "Loihi integers as lava --format fixed, bit for bit, at native speed; 'fixed' is "
                        "accepted too)")
    p.add_argument("--policy", choices=("strict", "approximate"), default=None,
                   help="lava, and native --format loihi: refuse what Loihi cannot represent (default) "
                        "or approximate it and list it")
    p.add_argument("--out", default=None, help="output directory (default: results/<model name>)")
    p.add_argument("--device", default=None,
                   help="Brian2 device: runtime (default) or cpp_standalone (same as -O device=...)")
    p.add_argument("--no-plot", action="store_true", help="skip the raster/rate PNG")
    p.add_argument("--timing", choices=("grid", "precise"), default=None,
                   help="native engine: grid (default, times are multiples of dt) or precise "
                        "(exact spike times off the grid, lif_delta and lif_cuba)")
    p.add_argument("--threads", default=None,
                   help="native grid engine and nest: worker threads, a number or 'all' (default 1; the native "
                        "engine's 'all' may run fewer threads than cores where the network's work is small, "
                        "and says so)")
    p.add_argument("--mpi", default=None, metavar="N",
                   help="nest: run on N MPI processes under mpirun (needs a NEST built with MPI; "
                        "the PyPI wheel has none)")
    p.add_argument("--precision", choices=("float64", "float32"), default=None,
                   help="native grid engine: state and weight precision (default float64)")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable (e.g. -O device=cpp_standalone)")
    add_memory_arg(p)
    p.set_defaults(func=main)
    return p


def parse_options(pairs):
    from ..errors import ValidationError
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError("--option", pair, "KEY=VALUE")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def main(args) -> int:
    from backends import get_backend

    net = load_model(args.model)
    duration = quantity_arg(args.duration, u.TIME, "--duration")
    duration = net.duration if duration is None else duration.value
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    options = parse_options(args.option)
    for key in ("device", "format", "policy", "timing", "threads", "precision"):
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    backend = get_backend(args.backend)
    out = Path(args.out or Path("results") / net.name)
    if args.mpi is not None:
        return run_mpi(args, backend, options, out)
    rank, n_ranks = backend.mpi_rank() if hasattr(backend, "mpi_rank") else (0, 1)
    if n_ranks > 1:                   # one rank of an MPI run: its part, for run_mpi to join
        out = backend.rank_dir(out, rank)
    check_memory(args, net, duration, args.backend, options, dt)
    with ResultDirectory(out, "run", flag="--out") as staging:   # checked before any work
        g = net.to_ir(dt=dt, seed=args.seed, timing=options.get("timing", "grid"))
        checkpoint("build")
        exe = backend.compile(g, **options)
        result = with_redrawn(exe.run(duration, progress=sys.stderr.isatty()), g)
        result.write_files(staging.path, staging.run_id)
        checkpoint("save")      # half-saved: the files are staged, not yet swapped into place
        if not args.no_plot:
            result.plot(staging.path / "raster.png")
    if n_ranks > 1:
        return 0
    return report(args, result, out)


def report(args, result, out: Path) -> int:
    print(result.table())
    print(f"results in {out}/ (summary.json, spikes.npz{', traces.npz' if result.traces else ''}"
          f"{'' if args.no_plot else ', raster.png'}, manifest.json)")
    return 0


def mpi_rank_args(args, options: dict, out: Path) -> list:
    """The ``spikecore run`` arguments of every MPI rank: this command's, without --mpi, with --out fixed."""
    rank = [str(Path(args.model).resolve()), "--backend", args.backend, "--out", str(out), "--no-plot"]
    for flag, value in (("--duration", args.duration), ("--dt", args.dt), ("--seed", args.seed)):
        if value is not None:
            rank += [flag, str(value)]
    for key, value in options.items():
        rank += ["-O", f"{key}={value}"]
    return rank


def run_mpi(args, backend, options: dict, out: Path) -> int:
    """Run on ``--mpi N`` ranks under mpirun and join their parts (backend nest only)."""
    from ..errors import SpikecoreError, ValidationError
    from ..result import Result
    if not hasattr(backend, "mpirun_command"):
        raise ValidationError("--mpi", args.mpi, "--backend nest (the backend that runs across MPI processes)")
    n = backend.mpi_ranks(args.mpi)
    cmd = backend.mpirun_command(n, mpi_rank_args(args, options, out))
    backend.check_mpi(n, cmd)                 # without MPI: one line, with the command that would run
    with ResultDirectory(out, "run", flag="--out") as staging:   # checked before any work
        print("running: " + shlex.join(cmd), file=sys.stderr)
        try:
            done = subprocess.run(cmd)
        except FileNotFoundError:
            raise ValidationError("--mpi", args.mpi, f"an MPI launcher on PATH ('{cmd[0]}' was not found)") from None
        if done.returncode != 0:
            raise SpikecoreError(f"mpirun exited with status {done.returncode}")
        result = backend.merge_ranks([Result.load(backend.rank_dir(out, k)) for k in range(n)])
        shutil.rmtree(backend.rank_dir(out, 0).parent)
        result.write_files(staging.path, staging.run_id)
        if not args.no_plot:
            result.plot(staging.path / "raster.png")
    return report(args, result, out)
