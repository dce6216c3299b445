"""``spikecore lint MODEL --target loihi2``: what the hardware will clip, truncate, wrap or approximate.

One line per finding (hwmodels/lint.py); exit status 1 when any finding is an error,
0 otherwise. Nothing is simulated.
"""
from __future__ import annotations

from .. import units as u
from .common import add_model_args, load_model, quantity_arg


def add_parser(sub):
    p = sub.add_parser("lint", help="list every value the hardware would clip, truncate, wrap or approximate",
                       description="Check MODEL against a hardware target before running it: one line per "
                                   "finding (element, value, what the hardware does, the fix); exit 1 on errors.")
    add_model_args(p, duration=False)
    p.add_argument("--target", default="loihi2", choices=("loihi2",), help="hardware target (default loihi2)")
    p.add_argument("--headroom", default=None,
                   help="Loihi: v range over the threshold distance (default 4; lower = finer weights)")
    p.add_argument("--quiet", "-q", action="store_true", help="only errors and warnings")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from hwmodels import loihi
    from hwmodels.lint import lint, summary

    net = load_model(args.model)
    g = net.to_ir(dt=quantity_arg(args.dt, u.TIME, "--dt"), seed=args.seed)
    headroom = loihi.check_headroom(args.headroom if args.headroom is not None else loihi.DEFAULT_HEADROOM)
    findings = lint(g, target=args.target, headroom=headroom)
    for f in findings:
        if not (args.quiet and f.severity == "info"):
            print(f.line())
    print(f"{g.name} on {args.target}: {summary(findings)}")
    return 1 if any(f.severity == "error" for f in findings) else 0
