"""``spikecore run MODEL``: simulate a model and write its results."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import units as u
from ..io.results import ResultDirectory
from .common import add_memory_arg, add_model_args, check_memory, load_model, quantity_arg


def add_parser(sub):
    p = sub.add_parser("run", help="simulate a model and write summary.json, spikes.npz and a plot",
                       description="Simulate MODEL and write DIR/summary.json, DIR/spikes.npz, "
                                   "DIR/traces.npz (if monitored), DIR/raster.png and DIR/manifest.json. "
                                   "DIR is checked before the simulation and replaced only when the new "
                                   "result is complete.")
    add_model_args(p)
    p.add_argument("--backend", default="native", help="native (default), brian2 or lava")
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
                   help="native grid engine: worker threads, a number or 'all' (default 1)")
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
    check_memory(args, net, duration, args.backend, options, dt)
    out = Path(args.out or Path("results") / net.name)
    with ResultDirectory(out, "run", flag="--out") as staging:   # checked before any work
        g = net.to_ir(dt=dt, seed=args.seed, timing=options.get("timing", "grid"))
        exe = backend.compile(g, **options)
        result = exe.run(duration, progress=sys.stderr.isatty())
        result.write_files(staging.path, staging.run_id)
        if not args.no_plot:
            result.plot(staging.path / "raster.png")
    print(result.table())
    print(f"results in {out}/ (summary.json, spikes.npz{', traces.npz' if result.traces else ''}"
          f"{'' if args.no_plot else ', raster.png'}, manifest.json)")
    return 0
