"""``spikecore sweep MODEL --set KEY=VALUES ... --out DIR``: a parameter sweep on Dask.

Runs every point of the Cartesian grid of the ``--set`` axes (spikecore.sweep.grid)
as a full run, on a local cluster of worker processes (``--jobs``) or on a running
Dask scheduler (``--scheduler``), and writes DIR/sweep.csv, DIR/sweep.json,
DIR/sweep.png and DIR/points/ (spikecore.sweep.runner). Rerun with the same --out,
it runs only the points not stored yet. docs/sweeps.md has the whole story.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .. import units as u
from ..errors import ValidationError
from .common import quantity_arg
from .run import parse_options

DESCRIPTION = """\
Run MODEL at every point of a grid of its values, each point a full run with its own
seed, on Dask worker processes, and write DIR/sweep.csv (axes, replicate, seed, and per
population rate, CV of ISIs, synchrony, Fano factor and dominant frequency of the
population activity, and wall time), DIR/sweep.png and DIR/points/ (one file per finished
point: a rerun with the same --out skips them).

--set KEY=START:STOP:N    N values from START to STOP inclusive, e.g.
                          --set populations.exc.params.v_leak=-60mV:-50mV:3
--set KEY=v1,v2,...       listed values, e.g. --set sources.ext.rate=5Hz,10Hz,20Hz
--set KEY1+KEY2=...       tied keys: one axis, all keys set to the same value, e.g.
                          --set projections.ie.weight+projections.ii.weight=-0.3mV:-0.6mV:4

KEY is a value's dotted path in the model file; values take units as in model files.
The grid is the Cartesian product of the --set axes. Point seeds: 31 bits of the
SHA-256 of the model seed, the point's values (SI) and the replicate number, so the
same point always gets the same seed (docs/sweeps.md)."""

EXAMPLES = """\
examples:
  spikecore sweep examples/cuba.yaml --set populations.exc.params.v_leak=-55mV:-45mV:5 --out results/sweep
  spikecore sweep examples/brunel2000.yaml --duration 1.2s --transient 200ms \\
      --set projections.inh_exc.weight+projections.inh_inh.weight=-0.3mV,-0.45mV,-0.5mV,-0.6mV \\
      --set sources.ext_exc.rate+sources.ext_inh.rate=9kHz,20kHz,40kHz --jobs 2 --out results/brunel
  spikecore sweep MODEL --set ... --scheduler tcp://head-node:8786 --out DIR   on a running Dask cluster"""


def add_parser(sub):
    import argparse

    p = sub.add_parser("sweep", help="run a model over a grid of its values on Dask worker processes",
                       description=DESCRIPTION, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file (.yaml, .yml or .json)")
    p.add_argument("--set", dest="axes", action="append", default=[], metavar="KEY=VALUES",
                   help="one sweep axis (repeatable; see above)")
    p.add_argument("--seeds", type=int, default=1, help="runs per point, each with its own seed (default 1)")
    p.add_argument("--duration", help="simulated time per run, e.g. 1s (default: the model's)")
    p.add_argument("--transient", default=None,
                   help="initial time left out of the measures, e.g. 200ms (default 0)")
    p.add_argument("--backend", default="native",
                   help="native (default), brian2 or nest (Lava is refused in sweeps: it starts its own processes)")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable (e.g. -O device=cpp_standalone)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes of a local Dask cluster (default: all cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler (e.g. tcp://host:8786) instead of a local cluster")
    p.add_argument("--connect-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up on an unreachable --scheduler after this long (default 5)")
    p.add_argument("--population", default=None, help="population of the heat maps (default: the first)")
    p.add_argument("--no-plot", action="store_true", help="skip sweep.png")
    p.add_argument("--out", default=None, help="output directory (required)")
    p.set_defaults(func=main)
    return p


def load_spec(args):
    from ..io.model_files import _load_text
    from ..sweep.grid import parse_set, plain_model
    from ..sweep.runner import SweepSpec

    path = Path(args.model)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValidationError("model", str(path), "a .yaml, .yml or .json model file (--set addresses its values)")
    raw = _load_text(path)
    if not isinstance(raw, dict):
        raise ValidationError("model", str(path), "a model file with a mapping at the top level")
    model = plain_model(raw)
    if not args.axes:
        raise ValidationError("--set", None, "at least one axis, e.g. --set populations.exc.params.v_leak=-55mV:-45mV:3")
    axes = [parse_set(text, model) for text in args.axes]
    duration = quantity_arg(args.duration, u.TIME, "--duration")
    transient = 0.0 if args.transient is None else u.to_si(args.transient, u.TIME, "--transient")
    return SweepSpec(model, axes, seeds=args.seeds, duration=None if duration is None else duration.value,
                     transient=transient, backend=args.backend, options=parse_options(args.option))


def main(args) -> int:
    from ..sweep.cluster import CONNECT_TIMEOUT_S, check_backend, open_client
    from ..sweep.report import PLOT_FILE, plot_sweep
    from ..sweep.runner import check_out, check_spec, run_sweep, stored_records

    if args.out is None:
        raise ValidationError("--out", None, "an output directory for sweep.csv, sweep.png and points/")
    if args.jobs is not None and args.scheduler is not None:
        raise ValidationError("--jobs", args.jobs, "either --jobs (a local cluster) or --scheduler, not both")
    if args.connect_timeout is not None and args.scheduler is None:
        raise ValidationError("--connect-timeout", args.connect_timeout, "--scheduler with it")
    check_backend(args.backend)
    spec = load_spec(args)
    points = check_spec(spec)       # bad values fail before any worker starts
    if args.population is not None and args.population not in spec.model.get("populations", {}):
        raise ValidationError("--population", args.population,
                              "one of " + ", ".join(spec.model.get("populations", {})))
    timeout = CONNECT_TIMEOUT_S if args.connect_timeout is None else args.connect_timeout
    out = check_out(args.out)       # before any worker starts
    missing = len(points) - len(stored_records(spec, points, out))
    cluster = open_client(args.jobs, args.scheduler, timeout) if missing else None
    try:
        where = cluster.description if cluster is not None else "nothing to run"
        print(f"sweep of {len(points)} runs ({len(points) - missing} stored in {out}/), {where}", file=sys.stderr)
        done = run_sweep(spec, out, cluster, progress=sys.stderr.isatty())
    finally:
        if cluster is not None:
            cluster.close()
    png = None if args.no_plot else plot_sweep(spec.axes, done["rows"], out / PLOT_FILE, args.population)
    print(f"{len(done['rows'])} runs ({done['ran']} run now, {done['skipped']} stored before): {done['table']}")
    if not args.no_plot:
        print(f"plot: {png}" if png else "no sweep.png: plots are drawn for one or two numeric axes")
    return 0
