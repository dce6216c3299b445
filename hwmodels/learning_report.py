"""The on-chip learning precision report's files: learning_precision.json (the dict
hwmodels.learning_precision returns), report.md (the minimum bits, the grid of weight and trace
bits, the two curves) and learning_precision.png (accuracy against weight bits and against trace
bits, as the paired difference to float with its confidence interval, and the grid as a map of
that difference).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .report import _clean

JSON_FILE, MD_FILE, PNG_FILE = "learning_precision.json", "report.md", "learning_precision.png"


def write_learning_report(report: dict, out: Path) -> None:
    """The three files into ``out`` (a staging directory)."""
    data = _clean(report)
    out = Path(out)
    (out / JSON_FILE).write_text(json.dumps(data, indent=1))
    (out / PNG_FILE).write_bytes(plot(data))
    (out / MD_FILE).write_text(render_markdown(data))


def _bits(b) -> str:
    return "not reached" if b is None else str(b)


def _cell(p: dict) -> str:
    if not p["representable"]:
        return "n/r"
    return f"{p['diff'] * 100:+.1f} [{p['diff_low'] * 100:+.1f}]"


def headline(data: dict) -> list:
    """The report's answer, one line each."""
    r = data["references"]
    tol = data["tolerance"] * 100
    return [f"float learning: test accuracy {data['float_accuracy']:.4f} ({data['task']}, {data['n_train']} training "
            f"samples, {data['steps']} steps, {len(data['float_accuracy_by_seed'])} seeds)",
            f"weight bits needed (traces {r['weight']['trace_bits']} bits below the impulse): "
            f"{_bits(data['min_bits']['weight'])} (mean within the band: {_bits(data['min_bits_mean']['weight'])})",
            f"trace bits needed (weights {r['trace']['weight_bits']} bits): {_bits(data['min_bits']['trace'])} "
            f"(mean within the band: {_bits(data['min_bits_mean']['trace'])})",
            f"(needed: the {data['confidence']:.0%} confidence bound of accuracy - float accuracy at or above "
            f"-{tol:g} %, at b and at the next bit count; 'mean within the band': the mean difference alone)"]


def render_markdown(data: dict) -> str:
    s = data["settings"]
    wbits, tbits = s["weight_bits"], s["trace_bits"]
    cells = {(p["weight_bits"], p["trace_bits"]): p for p in data["grid"]}
    lines = ["# On-chip learning precision (profile loihi)", ""]
    lines += [f"* {h}" for h in headline(data)]
    lines += ["", f"Outcome: {data['outcome']}; reference: {data['reference']}. Engine: {data['engine']}.", "",
              "## Accuracy minus float accuracy, % (95 % CI lower bound)", "",
              "n/r: not representable (a product scale A/I below Lava's 2^-7).", "",
              "| trace bits \\ weight bits | " + " | ".join(str(b) for b in wbits) + " | fewest weight bits |",
              "|---|" + "---|" * (len(wbits) + 1)]
    frontier = data["min_weight_bits_by_trace_bits"]
    for tb in tbits:
        row = [_cell(cells[(wb, tb)]) if (wb, tb) in cells else "" for wb in wbits]
        lines.append(f"| {tb} | " + " | ".join(row) + f" | {_bits(frontier.get(str(tb), frontier.get(tb)))} |")
    for res, key in (("weight", "weight_bits"), ("trace", "trace_bits")):
        lines += ["", f"## {res} bits (" + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                                     data["references"][res].items()) + ")", "",
                  "| bits | accuracy | 95 % CI | diff | diff CI low | weight RMSE (LSB) | float max (LSB) |",
                  "|---|---|---|---|---|---|---|"]
        for p in data["curves"][res]:
            if not p["representable"]:
                lines.append(f"| {p[key]} | not representable | | | | | |")
                continue
            lines.append(f"| {p[key]} | {p['accuracy']:.4f} | {p['ci_low']:.4f} .. {p['ci_high']:.4f} | "
                         f"{p['diff']:+.4f} | {p['diff_low']:+.4f} | {p['weight_rmse_lsb']:.2f} | "
                         f"{p['float_max_lsb']:.1f} |")
    lines += ["", f"Settings: {json.dumps(s)}",
              f"Wall time {data.get('wall_s', 0):.1f} s, jobs {data.get('jobs')}.", ""]
    return "\n".join(lines)


def plot(data: dict) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    fa, tol = data["float_accuracy"], data["tolerance"]
    for ax, res, key in ((axes[0], "weight", "weight_bits"), (axes[1], "trace", "trace_bits")):
        pts = [p for p in data["curves"][res] if p["representable"]]
        ax.axhspan(-tol * 100, tol * 100, color="0.85", label=f"within {tol * 100:g} % of float ({fa:.3f})")
        ax.axhline(0, color="0.5", lw=0.8)
        if pts:
            b = [p[key] for p in pts]
            d = np.array([p["diff"] for p in pts]) * 100
            lo = np.array([p["diff_low"] for p in pts]) * 100
            hi = np.array([p["diff_high"] for p in pts]) * 100
            ax.errorbar(b, d, yerr=[d - lo, hi - d], marker="o", capsize=3, color="C3",
                        label="Loihi fixed point (emulated), 95 % CI")
        ref = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data["references"][res].items())
        ax.set(xlabel=key.replace("_", " "), ylabel="accuracy - float accuracy (%)", title=f"{res} bits ({ref})")
        ax.legend(loc="lower right", fontsize=8)
    s = data["settings"]
    wbits, tbits = s["weight_bits"], s["trace_bits"]
    grid = np.full((len(tbits), len(wbits)), np.nan)
    for p in data["grid"]:
        if p["representable"]:
            grid[tbits.index(p["trace_bits"]), wbits.index(p["weight_bits"])] = p["diff"] * 100
    im = axes[2].imshow(grid, origin="lower", cmap="RdBu", vmin=-10, vmax=10, aspect="auto")
    axes[2].set(xticks=range(len(wbits)), xticklabels=wbits, yticks=range(len(tbits)), yticklabels=tbits,
                xlabel="weight bits", ylabel="trace bits", title="accuracy - float (%), blank: not representable")
    fig.colorbar(im, ax=axes[2])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()
