"""``spikecore deploy MODEL --target lava-sim|loihi2 --out DIR``: build the Lava process graph.

Maps MODEL onto Loihi (hwmodels.loihi), builds and compiles the Lava processes
(backends/lava.py) and writes DIR/deploy.json: processes, neurons, synapses,
per-variable bit usage, approximations and the values clipped or truncated.
``--target loihi2`` compiles with Loihi2HwCfg, which needs Intel's proprietary
lava-loihi extension; without it the command says so and exits non-zero.
"""
from __future__ import annotations

from pathlib import Path

from .. import units as u
from ..io.results import ResultDirectory
from .common import add_memory_arg, add_model_args, check_memory, load_model, quantity_arg


def add_parser(sub):
    p = sub.add_parser("deploy", help="build the Lava process graph and write deploy.json",
                       description="Map MODEL onto Loihi, build and compile its Lava processes and write "
                                   "DIR/deploy.json (processes, bit usage, approximations, clipped values).")
    add_model_args(p)
    p.add_argument("--target", required=True, choices=("lava-sim", "loihi2"),
                   help="lava-sim: Lava's CPU simulator (Loihi2SimCfg); loihi2: Loihi 2 hardware (Loihi2HwCfg)")
    p.add_argument("--out", required=True, help="output directory for deploy.json")
    p.add_argument("--format", choices=("float", "fixed"), default="fixed",
                   help="number format (default fixed; loihi2 is fixed point only)")
    p.add_argument("--policy", choices=("strict", "approximate"), default="strict",
                   help="refuse what Loihi cannot represent (default) or approximate it and list it")
    p.add_argument("--headroom", default=None, help="Loihi: v range over the threshold distance (default 4)")
    add_memory_arg(p)
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    import json

    from backends import get_backend
    from hwmodels import loihi

    from ..errors import BackendUnavailable, ValidationError

    get_backend("lava")   # BackendUnavailable with the reason when Lava is missing
    from backends import lava as lava_backend

    if args.target == "loihi2":
        if args.format != "fixed":
            raise ValidationError("--format", args.format, "fixed for --target loihi2 (the chip is fixed point)")
        missing = lava_backend.loihi2_extension_missing()
        if missing:
            raise BackendUnavailable(missing)
    net = load_model(args.model)
    duration = quantity_arg(args.duration, u.TIME, "--duration") or net.duration
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    check_memory(args, net, getattr(duration, "value", duration), "lava", {"format": args.format}, dt)
    out = Path(args.out)
    with ResultDirectory(out, "deploy", flag="--out") as staging:   # checked before building anything
        g = net.to_ir(dt=dt, seed=args.seed)
        headroom = loihi.check_headroom(args.headroom if args.headroom is not None else loihi.DEFAULT_HEADROOM)
        doc = lava_backend.deploy(g, target=args.target, format=args.format, policy=args.policy,
                                  headroom=headroom, duration=duration)
        with open(staging.path / "deploy.json", "w") as f:
            json.dump(doc, f, indent=2, default=_json_default)
    procs = ", ".join(f"{n} {k}" for k, n in doc["process_counts"].items())
    print(f"{g.name} -> {args.target} ({args.format}): {doc['neurons']} neurons, {doc['synapses']} synapses, "
          f"{len(doc['processes'])} processes ({procs}); {len(doc['approximations'])} approximation(s), "
          f"{sum(1 for x in doc['findings'] if x['severity'] == 'warning')} warning(s)")
    print(f"compiled for {doc['run_config']} in {doc['compile_s']:.2f} s; wrote {out / 'deploy.json'}")
    return 0


def _json_default(o):
    import numpy as np
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
