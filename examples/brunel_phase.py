"""Brunel (2000) Fig. 8 as a sweep: the (g, nu_ext/nu_thr) plane of examples/brunel2000.yaml.

    .venv/bin/python examples/brunel_phase.py --jobs 2 --out results/brunel_phase \
        --png examples/brunel_phase.png

Runs the full-size network (10,000 + 2,500 neurons, 15.6 million synapses) at every
point of a grid of the relative inhibition g and the external drive nu_ext/nu_thr with
spikecore.sweep (the same machinery as ``spikecore sweep``), names each point's regime
with spikecore.sweep.regimes (thresholds fixed in that module before this was run),
prints the table and checks the four points of the paper's Fig. 8. By default each point
also runs at 4x the size (same in-degrees) and is named by the second classification,
spikecore.sweep.regimes.classify_scaled (finite-size scaling of the synchrony), and by
the third, regimes.classify_extrapolated (the oscillation's amplitude extrapolated to
N -> infinity from the two sizes), which decides the exit status; ``--first`` runs the
paper's size only, named by the first (regimes.classify). g moves both
inhibitory weights (-g J), nu_ext/nu_thr both external rates (C_E nu_ext, with
C_E nu_thr = 10 kHz). Exit status 0 when all four points are classified as in the paper.
The same grid on the command line (without the regime names):

    spikecore sweep examples/brunel2000.yaml --duration 1.2s --transient 200ms --jobs 2 \
        --set projections.inh_exc.weight+projections.inh_inh.weight=-0.3mV,-0.45mV,-0.5mV,-0.6mV \
        --set sources.ext_exc.rate+sources.ext_inh.rate=9kHz,20kHz,40kHz --out results/brunel_sweep
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from spikecore.sweep.cluster import open_client  # noqa: E402
from spikecore.sweep.grid import Axis, parse_set, plain_model  # noqa: E402
from spikecore.sweep.regimes import (SCALE_FACTOR, classify, classify_extrapolated, classify_scaled,  # noqa: E402
                                     extrapolate_sync)
from spikecore.sweep.report import plot_sweep  # noqa: E402
from spikecore.sweep.runner import SweepSpec, run_sweep  # noqa: E402

MODEL = ROOT / "examples" / "brunel2000.yaml"
J_MV = 0.1                 # excitatory weight J
C_NU_THR_KHZ = 10.0        # C_E nu_thr = theta / (J tau) = 20 mV / (0.1 mV * 20 ms)
#: Brunel (2000) Fig. 8: (g, nu_ext/nu_thr) -> regime
FIG8 = {(3.0, 2.0): "SR", (5.0, 2.0): "AI", (6.0, 4.0): "SI fast", (4.5, 0.9): "SI slow"}
G_VALUES = (3.0, 4.5, 5.0, 6.0)
NU_VALUES = (0.9, 2.0, 4.0)
DURATION_S = 1.2
TRANSIENT_S = 0.2


def spec_for(g_values, nu_values, duration=DURATION_S, transient=TRANSIENT_S, size_factor=1) -> SweepSpec:
    """The sweep of the grid; ``size_factor`` multiplies every population and source, in-degrees kept."""
    import yaml

    model = plain_model(yaml.safe_load(MODEL.read_text()))
    for group in ("populations", "sources"):
        for node in model[group].values():
            node["size"] = int(node["size"]) * int(size_factor)
    weights = ",".join(f"{-g * J_MV:.6g}mV" for g in g_values)
    rates = ",".join(f"{nu * C_NU_THR_KHZ:.6g}kHz" for nu in nu_values)
    axes = [parse_set(f"projections.inh_exc.weight+projections.inh_inh.weight={weights}", model),
            parse_set(f"sources.ext_exc.rate+sources.ext_inh.rate={rates}", model)]
    return SweepSpec(model, axes, duration=duration, transient=transient)


def regime_table(spec: SweepSpec, rows: list, scaled_rows: list | None = None) -> list:
    """One dict per point: g, nu, the excitatory measures and the regime.

    Without ``scaled_rows`` the regime is the first classification's (``classify``); with
    the rows of the same grid at SCALE_FACTOR times the size (``spec_for(..., size_factor=
    SCALE_FACTOR)``) it is the second's (``classify_scaled``), and the row gains
    ``sync_scaled``, ``sync_ratio``, the third classification's extrapolated ``amplitude`` and
    ``noise`` (regimes.extrapolate_sync) and its regime, ``regime_extrapolated``.
    """
    w_col, r_col = (a.column for a in spec.axes)

    def point(r):
        return round(-r[w_col] / J_MV, 6), round(r[r_col] / C_NU_THR_KHZ, 6)

    def measures(r):
        return {m: r[f"exc.{m}"] for m in ("rate_hz", "cv_isi", "sync", "fano", "freq_hz")}

    big = {point(r): measures(r) for r in scaled_rows or ()}
    out = []
    for r in rows:
        (g, nu), ms = point(r), measures(r)
        row = {"g": g, "nu": nu, **ms, "wall_s": r["wall_s"]}
        if scaled_rows is None:
            row["regime"] = classify(ms)
        else:
            scaled = big[(g, nu)]
            row["sync_scaled"] = scaled["sync"]
            row["sync_ratio"] = (None if not ms["sync"] or scaled["sync"] is None
                                 else scaled["sync"] / ms["sync"])
            row["regime"] = classify_scaled(ms, scaled)
            row["amplitude"], row["noise"] = ((None, None) if ms["sync"] is None or scaled["sync"] is None
                                              else extrapolate_sync(ms["sync"], scaled["sync"]))
            row["regime_extrapolated"] = classify_extrapolated(ms, scaled)
        out.append(row)
    return out


def plot_map(table: list, path: Path):
    gs = sorted({t["g"] for t in table})
    nus = sorted({t["nu"] for t in table})
    axes = [Axis(("g",), tuple(gs), tuple(gs)), Axis(("nu_ext/nu_thr",), tuple(nus), tuple(nus))]
    rows = [{"g": t["g"], "nu_ext/nu_thr": t["nu"], **{f"exc.{m}": t[m] for m in ("rate_hz", "cv_isi", "sync",
                                                                                      "freq_hz")}}
            for t in table]
    regime = {(t["g"], t["nu"]): t["regime"] + (f"\n(paper: {FIG8[(t['g'], t['nu'])]})"
                                                 if (t["g"], t["nu"]) in FIG8 else "") for t in table}
    return plot_sweep(axes, rows, path, "exc", annotate=lambda v: regime[v])


def fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--g", default=",".join(f"{g:g}" for g in G_VALUES), help="values of g")
    p.add_argument("--nu", default=",".join(f"{v:g}" for v in NU_VALUES), help="values of nu_ext/nu_thr")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="results/brunel_phase")
    p.add_argument("--png", default=None, help="also draw the map here")
    p.add_argument("--first", action="store_true",
                   help="only the paper's size, named by the first classification (regimes.classify); "
                        f"by default the grid also runs at {SCALE_FACTOR}x the size and is named by "
                        "regimes.classify_scaled (printed) and regimes.classify_extrapolated (exit status)")
    a = p.parse_args(argv)
    gs, nus = [float(x) for x in a.g.split(",")], [float(x) for x in a.nu.split(",")]
    spec = spec_for(gs, nus)
    t0 = time.perf_counter()
    scaled = None
    with open_client(jobs=a.jobs) as cluster:
        done = run_sweep(spec, Path(a.out) / "size_1", cluster, progress=sys.stderr.isatty())
        if not a.first:
            big = spec_for(gs, nus, size_factor=SCALE_FACTOR)
            scaled = run_sweep(big, Path(a.out) / f"size_{SCALE_FACTOR}", cluster,
                               progress=sys.stderr.isatty())["rows"]
    wall = time.perf_counter() - t0
    table = regime_table(spec, done["rows"], scaled)
    if scaled is not None:
        print(f"sync at {SCALE_FACTOR}x the size / sync at the paper's size, per point:")
        for t in table:
            print(f"  g={t['g']:g} nu={t['nu']:g}: {fmt(t['sync'], '.3f')} -> {fmt(t['sync_scaled'], '.3f')}"
                  f"  (ratio {fmt(t['sync_ratio'], '.3f')}: {t['regime']}; extrapolated amplitude "
                  f"{fmt(t['amplitude'], '.3f')}, noise {fmt(t['noise'], '.3f')}: {t['regime_extrapolated']})")
    print("   g  nu_ext/nu_thr  rate(Hz)  CV ISI   sync   Fano  freq(Hz)  wall(s)  regime  (Fig. 8)")
    ok = True
    for t in table:
        paper = FIG8.get((t["g"], t["nu"]))
        named = t.get("regime_extrapolated", t["regime"])
        mark = "" if paper is None else f"  ({paper}: {'ok' if paper == named else 'WRONG'})"
        ok &= paper is None or paper == named
        print(f"{t['g']:4g}  {t['nu']:13g}  {fmt(t['rate_hz'], '8.2f')}  {fmt(t['cv_isi'], '6.3f')}  "
              f"{fmt(t['sync'], '5.3f')}  {fmt(t['fano'], '5.1f')}  {fmt(t['freq_hz'], '8.1f')}  "
              f"{t['wall_s']:7.1f}  {named}{mark}")
    print(f"{len(table)} points ({done['ran']} run now) in {wall:.0f} s with {a.jobs} workers; "
          f"Fig. 8 points {'all classified as in the paper' if ok else 'NOT all classified as in the paper'}")
    if a.png:
        print(f"map: {plot_map(table, Path(a.png))}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
