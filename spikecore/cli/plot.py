"""``spikecore plot RESULT_DIR``: raster, population rate, ISI distribution and traces.

Reads a result directory written by ``spikecore run --out DIR`` and draws
spikecore.plotting.plot_result into one image (headless, no display needed).
"""
from __future__ import annotations

from pathlib import Path

from .. import units as u
from ..errors import ValidationError
from ..io.results import check_output_file
from .common import quantity_arg

IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def add_parser(sub):
    p = sub.add_parser("plot", help="draw raster, rate, ISI distribution and traces of a result",
                       description="Draw the spike raster, population rate, ISI distribution and monitored "
                                   "traces of RESULT_DIR (from `spikecore run --out DIR`) in one figure.")
    p.add_argument("result", metavar="RESULT_DIR", help="a result directory (summary.json, spikes.npz ...)")
    p.add_argument("--output", "-o", metavar="FILE", help="image file: .png (default RESULT_DIR/overview.png), "
                                                          ".svg, .pdf")
    p.add_argument("--bin", default="5ms", help="population-rate bin, e.g. 5ms (default) or 1ms")
    p.add_argument("--max-traces", type=int, default=5, help="neurons drawn per monitored variable (default 5)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from ..plotting import plot_result
    from ..result import Result

    source = Path(args.result)
    out = Path(args.output) if args.output else source / "overview.png"
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValidationError("--output", str(out), "an image file ending in " + ", ".join(IMAGE_SUFFIXES))
    if args.max_traces < 0:
        raise ValidationError("--max-traces", args.max_traces, "a number of neurons >= 0")
    bin_s = u.to_si(quantity_arg(args.bin, u.TIME, "--bin"), u.TIME, "--bin")
    check_output_file(out, "--output")   # before the result is read
    result = Result.load(source)
    plot_result(result, out, bin_s=bin_s, max_traces=args.max_traces)
    print(f"wrote {out}")
    return 0
