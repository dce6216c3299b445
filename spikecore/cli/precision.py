"""``spikecore precision``: how many bits a task needs, per resource and coding scheme.

    spikecore precision [--task digits|iris] [--profile loihi[,xylo,ideal]] [--quick]
                        [--jobs N] [--scheduler ADDRESS] [--no-continuous] --out DIR
    spikecore precision compare A/precision.json B/precision.json
    spikecore precision --learning [--task digits] [--quick] [--seeds N] [--jobs N] --out DIR

Runs hwmodels.precision (sweeps of weight, counter and clock bits under a rate
and a temporal code, simulated as spiking networks) and writes DIR/precision.json,
DIR/report.html and DIR/report.md with hwmodels.report, including the temporal code measured against its
continuous-time reference (hwmodels.continuous, the native engine's precise mode).

``--learning`` measures on-chip learning instead (hwmodels.learning_precision, profile loihi): the
weight and trace bits an STDP-trained classifier needs on Lava's fixed-point learning engine
(emulated bit for bit) to reach its floating-point learning's test accuracy within 1 %; it writes
DIR/learning_precision.json, DIR/learning_precision.png and DIR/report.md.
"""
from __future__ import annotations

import sys
import time

from ..errors import ValidationError


def add_parser(sub):
    p = sub.add_parser(
        "precision", help="bits of weight, counter and clock a task needs under rate and temporal codes",
        description="Train float classifiers on a task, convert them to spiking networks, quantize them for "
                    "hardware profiles and sweep weight, counter and clock bits under a rate and a temporal "
                    "code. Writes DIR/precision.json, DIR/report.html and DIR/report.md. "
                    "'spikecore precision compare A.json B.json' compares two saved reports.")
    p.add_argument("action", nargs="*", metavar="compare A B",
                   help="'compare' and two precision.json files (or report directories)")
    p.add_argument("--task", default="digits", help="digits (default, scikit-learn load_digits) or iris (smoke test)")
    p.add_argument("--profile", default=None,
                   help="hardware profile(s), comma-separated: ideal (default), loihi, xylo, spinnaker, or a "
                        ".yaml file (--learning: loihi, its default and only profile)")
    p.add_argument("--learning", action="store_true",
                   help="on-chip learning: weight and trace bits an STDP-trained classifier needs on Loihi's "
                        "learning engine (emulated) to reach its float accuracy within 1%%")
    p.add_argument("--quick", action="store_true", help="fewer bits, conditions and samples (about a minute)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="address of a Dask scheduler to run the sweeps on")
    p.add_argument("--seeds", type=int, default=None, help="seeds (default 5)")
    p.add_argument("--no-continuous", action="store_true",
                   help="skip the continuous-time reference of the temporal code (precise mode)")
    p.add_argument("--out", default=None, help="output directory (required unless comparing)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    if args.action:
        if args.action[0] != "compare":
            raise ValidationError("precision", " ".join(args.action), "no positional arguments, or 'compare A B'")
        if len(args.action) != 3:
            raise ValidationError("precision compare", args.action[1:], "two precision.json files")
        from hwmodels.report import compare
        print(compare(args.action[1], args.action[2]))
        return 0
    if args.learning:
        return _learning(args)
    if args.out is None:
        raise ValidationError("--out", None, "an output directory for precision.json, report.html and report.md")
    from hwmodels.precision import Settings, TASKS, check_profiles, run_precision
    from hwmodels.report import write_report_files

    from ..io.results import ResultDirectory

    if args.task not in TASKS:
        raise ValidationError("--task", args.task, "one of " + ", ".join(TASKS))
    profiles = check_profiles(args.profile or "ideal")
    settings = Settings.quick() if args.quick else Settings()
    if args.seeds is not None:
        settings.seeds = args.seeds
    if args.no_continuous:
        settings.continuous = False
    t0 = time.perf_counter()
    with ResultDirectory(args.out, "precision", flag="--out") as staging:   # checked before the sweeps
        report = run_precision(args.task, profiles, quick=args.quick, settings=settings, jobs=args.jobs,
                               scheduler=args.scheduler, progress=sys.stderr.isatty())
        write_report_files(report, staging.path)
    out = args.out
    wall = time.perf_counter() - t0
    from hwmodels.report import _fmt_bits
    print(f"float accuracy {report['float_accuracy']:.4f} ({report['primary']['classifier']}, {args.task})")
    for code, conds in report["min_bits"].items():
        for cond, res in conds.items():
            items = ", ".join(f"{r} {_fmt_bits(b)}" for r, b in res.items())
            print(f"  {code:8s} {cond:16s} min bits: {items}")
    star = report["sigma_star"]["measured_s"]
    print(f"  sigma* (temporal needs more clock bits than rate needs counter bits): "
          f"{'none in the series' if star is None else f'{star * 1e3:g} ms'}")
    c = report.get("continuous")
    if c:
        ref = c["reference"]
        print(f"  continuous-time reference (precise mode): accuracy {ref['accuracy']:.4f}, agrees with float on "
              f"{ref['float_agreement']:.2%}, within {ref['construction_max_error_s'] * 1e9:.3g} ns of the closed form")
        for p in c["conditions"].get("noiseless", []):
            if p["rms_output_s"] is not None:
                print(f"    {p['bits']:2d}-bit clock: output timing error {p['rms_output_s'] * 1e3:8.3g} ms RMS "
                      f"(bias {p['mean_output_s'] * 1e3:+.3g} ms), decision agreement {p['agreement']:.4f}")
    print(f"report in {out}/ (precision.json, report.html, report.md) after {wall:.1f} s")
    return 0


def _learning(args) -> int:
    """``spikecore precision --learning``: hwmodels.learning_precision, written by hwmodels.learning_report."""
    if args.out is None:
        raise ValidationError("--out", None, "an output directory for learning_precision.json, .png and report.md")
    if args.profile not in (None, "loihi"):
        raise ValidationError("--profile", args.profile, "loihi (on-chip learning is measured on Loihi's learning "
                                                         "engine only)")
    from hwmodels.learning_precision import TASKS, LearningSettings, run_learning_precision
    from hwmodels.learning_report import headline, write_learning_report

    from ..io.results import ResultDirectory

    if args.task not in TASKS:
        raise ValidationError("--task", args.task, "one of " + ", ".join(TASKS))
    settings = LearningSettings.quick() if args.quick else LearningSettings()
    if args.seeds is not None:
        settings.seeds = args.seeds
    t0 = time.perf_counter()
    with ResultDirectory(args.out, "precision", flag="--out") as staging:
        report = run_learning_precision(args.task, settings, jobs=args.jobs, scheduler=args.scheduler,
                                        progress=sys.stderr.isatty())
        write_learning_report(report, staging.path)
    for line in headline(report):
        print(line)
    print(f"report in {args.out}/ (learning_precision.json, learning_precision.png, report.md) after "
          f"{time.perf_counter() - t0:.1f} s")
    return 0
