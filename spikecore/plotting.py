"""One-figure overview of a Result: raster, population rate, ISI distribution, traces.

``plot_result(result, path=None)`` (also ``Result.plot`` and ``spikecore plot``)
draws, for every recorded population, the spike raster, the population rate
(spikes per neuron per bin), the distribution of inter-spike intervals with the
mean CV, and, when state was monitored, the traces of a few neurons per monitored
variable. It builds a ``matplotlib.figure.Figure`` directly, never pyplot, so it
works headless (Agg) and touches no global state; the Figure is returned and
written to ``path`` (PNG, SVG, PDF by suffix) when given.

Neighbours: spikecore.result (Result), spikecore.cli.plot (the command).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import units as u
from .io.neo import variable_units
from .result import cv_isi

# Display scales: the figure shows ms, mV and nS (SI inside, spikecore.units).
MS_PER_S = 1e3
DISPLAY_UNITS = {u.DIM_NAMES[u.VOLTAGE]: (1e3, "mV"), u.DIM_NAMES[u.CONDUCTANCE]: (1e9, "nS"),
                 "dimensionless": (1.0, "")}
ISI_BINS = 40           # log-spaced bins of the ISI histogram
MAX_TRACES = 5          # neurons drawn per monitored variable
MAX_PANELS = 4          # monitored variables drawn (one panel each)
RASTER_HEIGHT_PT = 250  # approximate height of the raster axes, to size spike ticks


def population_isis(times: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """All inter-spike intervals (s) of a population, neuron by neuron."""
    times, indices = np.asarray(times, dtype=float), np.asarray(indices)
    if times.size < 2:
        return np.zeros(0)
    order = np.lexsort((times, indices))
    t, i = times[order], indices[order]
    same = i[1:] == i[:-1]
    return np.diff(t)[same]


def plot_result(result, path=None, *, bin_s: float = 5e-3, max_points: int = 200_000,
                max_traces: int = MAX_TRACES, dpi: int = 120):
    """Raster, rate, ISI distribution and traces of ``result`` in one Figure."""
    from matplotlib.figure import Figure

    has_traces = any(tr["variables"] for tr in result.traces.values())
    has_weights = bool(getattr(result, "weights", None))
    heights = [3, 1.3] + [1.8] * has_traces + [1.8] * has_weights
    fig = Figure(figsize=(12, 6.5 + 2.5 * (len(heights) - 2)), layout="constrained")
    gs = fig.add_gridspec(len(heights), 2, height_ratios=heights, width_ratios=[3, 1.25])
    ax_raster = fig.add_subplot(gs[0, 0])
    ax_rate = fig.add_subplot(gs[1, 0], sharex=ax_raster)
    ax_isi = fig.add_subplot(gs[0, 1])
    ax_table = fig.add_subplot(gs[1, 1])
    colors = {name: f"C{k % 10}" for k, name in enumerate(result.spikes)}
    _raster(ax_raster, result, colors, max_points)
    _rate(ax_rate, result, colors, bin_s)
    _isi(ax_isi, result, colors)
    _table(ax_table, result)
    if has_traces:
        _traces(fig, gs[2, :], result, max_traces)
    if has_weights:
        _weights(fig, gs[len(heights) - 1, :], result)
    n = int(sum(result.sizes.values()))
    fig.suptitle(f"{result.model or 'network'} on {result.backend}: {n} neurons, "
                 f"{result.duration * MS_PER_S:g} ms at dt = {result.dt * MS_PER_S:g} ms")
    if path is not None:
        from .io.results import OutputFile
        with OutputFile(path, "path") as tmp:   # whole or not at all
            fig.savefig(tmp, dpi=dpi)
    return fig


MAX_WEIGHT_PANELS = 4
WEIGHT_BINS = 30


def _weights(fig, spec, result):
    """Per plastic projection (at most MAX_WEIGHT_PANELS): the histogram of the monitored
    weights over time (time x weight, colour = synapses), or of the final weights when no
    weight monitor recorded it."""
    projections = list(result.weights)[:MAX_WEIGHT_PANELS]
    sub = spec.subgridspec(1, len(projections))
    for k, proj in enumerate(projections):
        ax = fig.add_subplot(sub[0, k])
        entry = result.weights[proj]
        w = np.asarray(entry.get("w", np.zeros((0, 0))))
        if w.size and w.shape[0] > 1:
            t = np.asarray(entry["t"]) * MS_PER_S
            lo, hi = float(w.min()), float(w.max())
            edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, WEIGHT_BINS + 1)
            counts = np.stack([np.histogram(row, edges)[0] for row in w], axis=1)
            ax.imshow(counts, aspect="auto", origin="lower", interpolation="nearest", cmap="viridis",
                      extent=[t[0], t[-1], edges[0], edges[-1]])
            ax.set_xlabel("time (ms)")
            ax.set_title(f"{proj}: weights over time ({w.shape[1]} synapses)", fontsize=9)
        else:
            final = np.asarray(entry["final"])
            ax.hist(final, bins=WEIGHT_BINS, color="C0")
            ax.set_xlabel("final weight (SI)")
            ax.set_title(f"{proj}: final weights ({final.size} synapses)", fontsize=9)
        ax.set_ylabel("weight (SI)" if w.size and w.shape[0] > 1 else "synapses")


def _raster(ax, result, colors, max_points):
    offset = 0
    total = sum(np.asarray(t).size for t, _ in result.spikes.values())
    step = max(1, total // max(max_points, 1))      # thin very large rasters, evenly
    dense = total / max(step, 1) > 5_000
    rows = max(sum(result.sizes.values()), 1)
    # a '|' about as tall as a neuron's row (axes ~250 pt high), within readable bounds
    tick = float(np.clip((0.8 * RASTER_HEIGHT_PT / rows) ** 2, 4.0, 400.0))
    for name, (t, i) in result.spikes.items():
        t, i = np.asarray(t), np.asarray(i)
        ax.scatter(t[::step] * MS_PER_S, i[::step] + offset, s=1.0 if dense else tick, marker="." if dense else "|",
                   color=colors[name], linewidths=0 if dense else 1.0, rasterized=True, clip_on=False,
                   label=name + (f" (1 in {step} spikes)" if step > 1 else ""))
        offset += result.sizes[name]
        if len(result.spikes) > 1:
            ax.axhline(offset - 0.5, color="0.85", lw=0.6)
    ax.set_xlim(0, result.duration * MS_PER_S)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_ylabel("neuron")
    ax.set_title("Raster")
    if total == 0:
        ax.text(0.5, 0.5, "no spikes", transform=ax.transAxes, ha="center", va="center", color="0.4")
    elif len(result.spikes) > 1:
        ax.legend(loc="upper right", fontsize="small", markerscale=4 if dense else 1.5)
    ax.tick_params(labelbottom=False)


def _rate(ax, result, colors, bin_s):
    bin_s = min(bin_s, result.duration)
    edges = np.arange(0.0, result.duration + bin_s / 2, bin_s)
    if edges.size < 2:
        edges = np.array([0.0, result.duration])
    for name, (t, _) in result.spikes.items():
        counts, _ = np.histogram(np.asarray(t), edges)
        rate = counts / (np.diff(edges) * max(result.sizes[name], 1))
        ax.stairs(rate, edges * MS_PER_S, color=colors[name], label=name, lw=1.2, baseline=None)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"Population rate ({bin_s * MS_PER_S:g} ms bins)")
    if len(result.spikes) > 1:
        ax.legend(loc="upper right", fontsize="small")


def _isi(ax, result, colors):
    isis = {name: population_isis(t, i) for name, (t, i) in result.spikes.items()}
    pooled = np.concatenate(list(isis.values())) if isis else np.zeros(0)
    pooled = pooled[pooled > 0]
    ax.set_title("ISI distribution")
    ax.set_xlabel("ISI (ms)")
    ax.set_ylabel("count")
    if pooled.size == 0:
        ax.text(0.5, 0.5, "no neuron fired twice", transform=ax.transAxes, ha="center", va="center", color="0.4")
        return
    lo, hi = pooled.min() * MS_PER_S, pooled.max() * MS_PER_S
    log = hi / lo > 20
    if log:
        bins = np.geomspace(lo, hi * 1.0001, ISI_BINS + 1)
    else:   # regular firing gives one ISI value: centre it in a visible range
        pad = 0.1 * hi if hi - lo < 0.05 * hi else 0.02 * (hi - lo)
        bins = np.linspace(max(lo - pad, 0.0), hi + pad, ISI_BINS + 1)
        ax.ticklabel_format(axis="x", useOffset=False)
    for name, x in isis.items():
        x = x[x > 0]
        if x.size:
            cv = cv_isi(*result.spikes[name])
            label = f"{name}" + ("" if cv is None else f" (CV {cv:.2f})")
            ax.hist(x * MS_PER_S, bins=bins, histtype="step", color=colors[name], label=label, lw=1.2)
    if log:
        ax.set_xscale("log")
    ax.legend(loc="upper right", fontsize="small")


def _table(ax, result):
    ax.axis("off")
    s = result.summary()
    rows = [[name, str(p["n"]), str(p["spikes"]), f"{p['rate_hz']:.2f}",
             "-" if p["cv_isi"] is None else f"{p['cv_isi']:.2f}"] for name, p in s["populations"].items()]
    if not rows:
        return
    table = ax.table(cellText=rows[:8], colLabels=["population", "n", "spikes", "Hz", "CV"], loc="center",
                     cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    if len(rows) > 8:
        ax.text(0.5, 0.0, f"... {len(rows) - 8} more", transform=ax.transAxes, ha="center", fontsize=8)


def _traces(fig, spec, result, max_traces):
    """One panel per monitored variable (v, syn_exc, g_inh ...), a few neurons each."""
    panels = {}   # variable -> [(label, times, values)]
    for mon, tr in result.traces.items():
        t = np.asarray(tr["times"], dtype=float)
        neurons = np.asarray(tr["neurons"])
        for var, values in tr["variables"].items():
            values = np.asarray(values)
            shown = min(values.shape[1] if values.ndim == 2 else 0, max_traces)
            for c in range(shown):
                panels.setdefault(var, []).append((f"{tr.get('target', mon)}[{int(neurons[c])}]", t, values[:, c]))
    panels = dict(list(panels.items())[:MAX_PANELS])
    sub = spec.subgridspec(1, max(len(panels), 1))
    first = None
    for k, (var, lines) in enumerate(panels.items()):
        scale, unit = DISPLAY_UNITS.get(variable_units(var), (1.0, ""))
        ax = fig.add_subplot(sub[0, k], sharex=first)
        first = first or ax
        for label, t, y in lines:
            ax.plot(t * MS_PER_S, y * scale, lw=0.9, label=label)
        ax.set_xlabel("time (ms)")
        ax.set_ylabel(f"{var} ({unit})" if unit else var)
        ax.set_xlim(0, result.duration * MS_PER_S)
        ax.set_title(f"Trace of {var}")
        ax.legend(loc="upper right", fontsize="x-small")


__all__ = ["plot_result", "population_isis"]
