"""``spikecore compare MODEL --backends native,brian2``: run one model on several backends and judge agreement.

The metrics and tolerances live in spikecore.compare; this module runs the
backends, prints the table, writes DIR/compare.json (and each run's result files
under DIR/<backend>/) and sets the exit status: 0 when every judged metric is
within tolerance, 1 otherwise (2 for a user error, as every subcommand).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import units as u
from ..compare import MODES, Tolerances, compare_runs, format_table
from ..errors import ValidationError
from ..io.results import ResultDirectory
from .common import add_memory_arg, add_model_args, check_memory, load_model, quantity_arg


def add_parser(sub):
    p = sub.add_parser("compare", help="run a model on several backends and check that they agree",
                       description="Run MODEL on each backend (same realised network, same seed), print a "
                                   "per-population agreement table and write DIR/compare.json. Exit status "
                                   "0 when every judged metric is within tolerance, 1 otherwise.")
    add_model_args(p)
    p.add_argument("--backends", default="native,brian2",
                   help="comma-separated backends; the first is the reference (default: native,brian2)")
    p.add_argument("--out", default=None, help="output directory (default: results/<model name>-compare)")
    p.add_argument("--exact", action="store_true",
                   help="also require spike-level agreement (matched fraction, van Rossum): for deterministic "
                        "networks; chaotic ones agree only statistically")
    p.add_argument("--option", "-O", action="append", default=[], metavar="BACKEND:KEY=VALUE",
                   help="option for one backend, repeatable (e.g. -O brian2:device=cpp_standalone)")
    p.add_argument("--rate-tol", type=float, default=Tolerances.rate_rel,
                   help="largest relative difference of population rates (default %(default)g)")
    p.add_argument("--cv-tol", type=float, default=Tolerances.cv_abs,
                   help="largest absolute difference of mean CV ISI (default %(default)g)")
    p.add_argument("--alpha", type=float, default=Tolerances.hist_alpha,
                   help="smallest p of the rate-histogram test (default %(default)g)")
    add_memory_arg(p)
    p.set_defaults(func=main)
    return p


def parse_backend_options(pairs, backends):
    out = {b: {} for b in backends}
    for pair in pairs:
        if ":" not in pair or "=" not in pair:
            raise ValidationError("--option", pair, "BACKEND:KEY=VALUE, e.g. brian2:device=cpp_standalone")
        backend, kv = pair.split(":", 1)
        backend = backend.strip()
        if backend not in out:
            raise ValidationError("--option", pair, "a backend listed in --backends: " + ", ".join(backends))
        k, v = kv.split("=", 1)
        out[backend][k.strip()] = v.strip()
    return out


def _estimated(net, duration, name, options, dt) -> int:
    from ..engine.memory import estimate
    return estimate(net, duration, name, options[name], None if dt is None else dt.value).total


def main(args) -> int:
    from backends import get_backend

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if len(backends) < 2 or len(set(backends)) != len(backends):
        raise ValidationError("--backends", args.backends, "at least two different backends, e.g. native,brian2")
    for name, value, lo, hi in (("--rate-tol", args.rate_tol, 0, None), ("--cv-tol", args.cv_tol, 0, None),
                                ("--alpha", args.alpha, 0, 1)):
        if not (value >= lo and (hi is None or value <= hi)):
            raise ValidationError(name, value, f"a number >= {lo}" + (f" and <= {hi}" if hi is not None else ""))
    options = parse_backend_options(args.option, backends)
    compiled = [(name, get_backend(name)) for name in backends]   # unknown/missing backends fail before any run
    net = load_model(args.model)
    duration = quantity_arg(args.duration, u.TIME, "--duration")
    duration = net.duration if duration is None else duration.value
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    # the backends run one after another: the largest of them sets the peak
    largest = max(backends, key=lambda name: _estimated(net, duration, name, options, dt))
    check_memory(args, net, duration, largest, options[largest], dt)
    out = Path(args.out or Path("results") / f"{net.name}-compare")
    results = []
    with ResultDirectory(out, "compare", flag="--out") as staging:   # checked before any work
        g = net.to_ir(dt=dt, seed=args.seed)
        for name, backend in compiled:
            print(f"running {net.name} on {name} ...", file=sys.stderr)
            exe = backend.compile(g, **options[name])
            result = exe.run(duration, progress=sys.stderr.isatty())
            result.write_files(staging.subdirectory(name), staging.run_id)
            results.append(result)
        tol = Tolerances(rate_rel=args.rate_tol, cv_abs=args.cv_tol, hist_alpha=args.alpha)
        doc = compare_runs(results, tol, mode=MODES[1] if args.exact else MODES[0])
        with open(staging.path / "compare.json", "w") as f:
            json.dump(doc, f, indent=2, default=float)
    print(format_table(doc))
    for r in results:
        print(f"{r.backend}: wall {r.wall_s:.3f} s, build {r.build_s:.3f} s")
    verdict = "agree" if doc["agree"] else "DISAGREE"
    print(f"{', '.join(backends)}: {verdict} ({out}/compare.json)")
    return 0 if doc["agree"] else 1
