"""``sweep.png``: a sweep's measures drawn over its axes.

One numeric axis: curves of rate, CV of ISIs, synchrony and dominant frequency
against it, one line per population (mean over replicates, their spread as error
bars). Two numeric axes: heat maps of the same four measures for one population
(mean over replicates), the first axis down, the second across, one cell per grid
value. Other sweeps (three or more axes, names as values) get no plot.
Headless: matplotlib's Figure and Agg canvas, no pyplot.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PLOT_FILE = "sweep.png"
PANELS = (("rate_hz", "rate (Hz)"), ("cv_isi", "CV of ISIs"), ("sync", "synchrony"),
          ("freq_hz", "dominant frequency (Hz)"))


def _mean_by_point(axes, rows, column):
    """{tuple of axis values: (mean, std)} of ``column`` over replicates (None values left out)."""
    groups = {}
    for r in rows:
        key = tuple(r[a.column] for a in axes)
        v = r.get(column)
        groups.setdefault(key, [])
        if v is not None:
            groups[key].append(float(v))
    return {k: ((float(np.mean(v)), float(np.std(v))) if v else (np.nan, np.nan)) for k, v in groups.items()}


def populations(rows) -> list:
    pops = []
    for k in rows[0]:
        if k.endswith(".rate_hz"):
            pops.append(k[:-len(".rate_hz")])
    return pops


def plot_sweep(axes, rows, path, population: str | None = None, annotate=None) -> Path | None:
    """Draw ``rows`` (sweep.csv rows) over ``axes`` into ``path``; None if the sweep has no plot.

    ``annotate(values) -> str`` may label each heat-map cell (e.g. a regime name).
    """
    if not rows or not 1 <= len(axes) <= 2 or not all(a.numeric for a in axes):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pops = populations(rows)
    fig = Figure(figsize=(10, 7.5))
    FigureCanvasAgg(fig)
    grid = fig.subplots(2, 2)
    if len(axes) == 1:
        a = axes[0]
        x = list(a.shown)
        for ax, (m, label) in zip(grid.ravel(), PANELS):
            for pop in pops:
                stats = _mean_by_point(axes, rows, f"{pop}.{m}")
                mean = [stats[(v,)][0] for v in x]
                std = [stats[(v,)][1] for v in x]
                ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=pop)
            ax.set_xlabel(a.column)
            ax.set_ylabel(label)
        grid[0, 0].legend()
    else:
        a, b = axes
        pop = population or pops[0]
        for ax, (m, label) in zip(grid.ravel(), PANELS):
            stats = _mean_by_point(axes, rows, f"{pop}.{m}")
            z = np.array([[stats[(va, vb)][0] for vb in b.shown] for va in a.shown], dtype=float)
            im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
            ax.set_xticks(range(len(b.shown)), [f"{v:g}" for v in b.shown], rotation=45)
            ax.set_yticks(range(len(a.shown)), [f"{v:g}" for v in a.shown])
            ax.set_xlabel(b.column, fontsize=8)
            ax.set_ylabel(a.column, fontsize=8)
            ax.set_title(f"{pop}: {label}", fontsize=10)
            fig.colorbar(im, ax=ax)
            if annotate is not None:
                for i, va in enumerate(a.shown):
                    for j, vb in enumerate(b.shown):
                        text = annotate((va, vb))
                        if text:
                            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white")
    fig.tight_layout()
    from ..io.results import OutputFile

    with OutputFile(path, "--out") as tmp:      # whole or not at all; joins the directory's manifest
        fig.savefig(tmp, dpi=80, format="png")
    return Path(path)
