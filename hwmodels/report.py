"""Writing the precision report: precision.json, report.html (self-contained) and report.md.

``write_report(report, out_dir)`` takes the dict of hwmodels.precision.run_precision
and writes

* ``precision.json`` — everything measured: ``float_accuracy``; ``min_bits`` keyed by
  coding scheme (rate, temporal), noise condition, resource (weight, counter, clock),
  for the first profile and the primary classifier; ``by_profile`` with every profile,
  classifier, curve (accuracy, 95% CI, spikes, synaptic operations, latency per bit
  count), theory and comparison; ``continuous``: the temporal code against its
  continuous-time reference (reference checks, and per condition and clock bits the RMS,
  bias and largest error of output spike times, decision agreement, accuracy);
* ``report.html`` — one file, PNG plots embedded as base64: accuracy against bits per
  resource with the float line and the -1% band; minimum clock bits against jitter with
  the theory curve; Pareto plots of accuracy against bits and against spikes; the
  profiles side by side; the output spike-timing error of each b-bit clock against the
  continuous-time reference (hwmodels.continuous, the native engine's precise mode);
* ``report.md`` — the same tables, the plots as PNG files next to it.

``compare(a, b)`` renders two saved precision.json files side by side
(``spikecore precision compare``).
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np

from spikecore.errors import ModelFileError
from spikecore.io.results import ResultDirectory, repair_before_reading, verify_result_directory

from . import precision as P

JSON_FILE, HTML_FILE, MD_FILE = "precision.json", "report.html", "report.md"
PLOTS = ("accuracy_vs_bits", "clock_bits_vs_jitter", "pareto", "profiles", "timing_error_vs_bits")


def _clean(o):
    """JSON-safe: numpy scalars to Python, non-finite floats to None, tuples to lists."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return [_clean(v) for v in o.tolist()]
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(o) else None
    return o


def load_json(path) -> dict:
    """A precision report from its directory or its precision.json; the directory's manifest
    must list it with its size (spikecore.io.results)."""
    p = Path(path)
    repair_before_reading(p)              # a report directory a killed writer left half-swapped
    if p.is_dir():
        p = p / JSON_FILE
    else:
        repair_before_reading(p.parent)
    if not p.is_file():
        raise ModelFileError(p, "no such precision report")
    verify_result_directory(p.parent, required=(p.name,))
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise ModelFileError(p, "no such precision report") from None
    except json.JSONDecodeError as e:
        raise ModelFileError(p, f"not valid JSON: {e}") from None
    for key in ("float_accuracy", "min_bits"):
        if key not in data:
            raise ModelFileError(p, f"not a precision report (no '{key}')")
    return data


def write_report(report: dict, out_dir) -> Path:
    """Write the report files to ``out_dir`` whole or not at all (spikecore.io.results)."""
    with ResultDirectory(out_dir, "precision", flag="out_dir") as staging:
        write_report_files(report, staging.path)
    return Path(out_dir)


def write_report_files(report: dict, out: Path) -> None:
    """precision.json, report.html, report.md and the plots into ``out`` (a staging directory)."""
    data = _clean(report)
    (out / JSON_FILE).write_text(json.dumps(data, indent=1))
    pngs = make_plots(data)
    for name, png in pngs.items():
        (out / f"{name}.png").write_bytes(png)
    (out / HTML_FILE).write_text(render_html(data, pngs))
    (out / MD_FILE).write_text(render_markdown(data, list(pngs)))


# ----------------------------------------------------------------------------- tables
def _fmt_bits(b):
    return "not reached" if b is None else str(b)


def min_bits_rows(data: dict, profile=None, classifier=None) -> list:
    """(code, condition, resource, min bits, predicted) rows of one profile/classifier."""
    prof = profile or data["primary"]["profile"]
    kind = classifier or data["primary"]["classifier"]
    entry = data["by_profile"][prof][kind]
    pred = entry.get("theory", {}).get("predicted_min_bits", {})
    rows = []
    for code, conds in entry["min_bits"].items():
        for cond, res in conds.items():
            for r, b in res.items():
                p = pred.get(code, {}).get(cond) if r in ("counter", "clock") else None
                rows.append((code, cond, r, b, p, _is_series(data, cond)))
    return rows


def _is_series(data, cond):
    main = {c["name"] for c in data["settings"]["conditions"]}
    return cond not in main


def _table_md(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _table_html(header, rows) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _sections(data: dict) -> list:
    """(title, header, rows, note) of every table, shared by the HTML and the Markdown."""
    prim = data["primary"]
    entry = data["by_profile"][prim["profile"]][prim["classifier"]]
    out = []
    rows = [(c, cond, r, _fmt_bits(b), "" if p is None else str(p))
            for c, cond, r, b, p, series in min_bits_rows(data) if not series]
    out.append(("Minimum bits within {:.0%} of float ({} profile, {} classifier)".format(
        data["tolerance"], prim["profile"], prim["classifier"]),
        ("code", "condition", "resource", "min bits (measured)", "predicted from noiseless"), rows,
        "Measured: fewest bits b at which the 95% CI lower bound of accuracy(spiking) - accuracy(float) "
        "is >= -{:.0%} at b and at the next bit count (paired over {} seeds). Predicted: closed form from the noiseless requirement "
        "(log2(N+1), 1/2 log2 N for Poisson, log2(T/(sqrt(12) sigma_eff)+1) under jitter).".format(
            data["tolerance"], data["settings"]["seeds"])))
    th = entry["theory"]
    rows = [(f"{r['sigma_s'] * 1e3:g}", _fmt_bits(r["temporal_clock_bits"]), _fmt_bits(r["rate_counter_bits"]),
             _fmt_bits(r["predicted_clock_bits"]),
             "" if r["ceiling_bits"] is None else f"{r['ceiling_bits']:.2f}") for r in th["jitter_series"]]
    star = th["sigma_star"]
    note = ("sigma* measured: {}; predicted: {}. {}. The theory counts the bits one input's spike time "
            "carries; a classifier pools many inputs, so it tolerates more jitter than the per-input ceiling "
            "suggests.").format(
        "none in the series" if star["measured_s"] is None else f"{star['measured_s'] * 1e3:g} ms",
        "n/a" if star["predicted_s"] is None else f"{star['predicted_s'] * 1e3:.3g} ms", star["rule"])
    out.append(("Jitter: minimum clock bits (temporal) against counter bits (rate)",
                ("jitter sigma (ms)", "temporal clock bits", "rate counter bits", "predicted clock bits",
                 "jitter ceiling (bits)"), rows, note))
    cmp_ = entry["comparisons"]
    rows = [(r["temporal_bits"], f"{r['latency']:.1f}", f"{r['temporal_accuracy']:.4f}", _fmt_bits(r["rate_bits"]),
             "" if r["rate_accuracy"] is None else f"{r['rate_accuracy']:.4f}") for r in cmp_["equal_latency"]]
    out.append(("Equal latency (noiseless)", ("temporal clock bits", "latency (ticks)", "temporal accuracy",
                                              "rate counter bits (latency <=)", "rate accuracy"), rows,
                "For each temporal point, the rate point with the longest latency not above it."))
    rows = [(r["temporal_bits"], f"{r['spikes']:.0f}", f"{r['temporal_accuracy']:.4f}", _fmt_bits(r["rate_bits"]),
             "" if r["rate_accuracy"] is None else f"{r['rate_accuracy']:.4f}") for r in cmp_["equal_spikes"]]
    out.append(("Equal spike budget (noiseless)", ("temporal clock bits", "spikes / inference", "temporal accuracy",
                                                   "rate counter bits (spikes <=)", "rate accuracy"), rows,
                "For each temporal point, the rate point with the most spikes per inference not above it."))
    rows = []
    for code, conds in entry["curves"].items():
        for cond, ress in conds.items():
            for r, pts in ress.items():
                if r == "weight" or _is_series(data, cond):
                    continue
                for p in pts:
                    rows.append((code, cond, r, p["bits"], f"{p['accuracy']:.4f}",
                                 f"[{_num(p['ci_low'])}, {_num(p['ci_high'])}]", f"{p['diff']:+.4f}",
                                 f"{p['spikes']:.0f}", f"{p['synops']:.0f}", f"{p['latency']:.1f}"))
    out.append(("Cost per inference", ("code", "condition", "resource", "bits", "accuracy", "95% CI", "minus float",
                                       "spikes", "synaptic ops", "latency (ticks)"), rows,
                "Spikes count every spike sent (inputs, bias/reference neurons, all layers); synaptic operations "
                "every synaptic event delivered; latency is the ticks to the decision (rate: the window plus two "
                "ticks per layer; temporal: the first output spike)."))
    if data.get("continuous"):
        out.append(continuous_section(data["continuous"]))
    if len(data["profiles"]) > 1 or len(data["by_profile"][prim["profile"]]) > 1:
        header, rows = profile_table(data)
        out.append(("Profiles and classifiers side by side", header, rows,
                    "Minimum bits of each profile and classifier; float accuracy in the header."))
    return out


def _ms(x, fmt="{:.3g}"):
    return "" if x is None else fmt.format(x * 1e3)


def continuous_section(c: dict):
    """(title, header, rows, note) of the clock-against-continuous-time table."""
    rows = []
    for cond, pts in c["conditions"].items():
        for p in pts:
            rows.append((cond, "continuous" if p["bits"] is None else p["bits"], _ms(p["tick_s"]),
                         _ms(p["rms_output_s"]), _ms(p["mean_output_s"], "{:+.3g}"), _ms(p["max_output_s"]),
                         _ms(p["rms_hidden_s"]), _ms(p["first_rms_s"]), _ms(p["rms_vs_same_noise_s"]),
                         f"{p['agreement']:.4f}", f"{p['accuracy']:.4f}"))
    return ("Continuous-time reference (precise mode): temporal code, clock against ideal time",
            ("condition", "clock bits", "tick (ms)", "output RMS error (ms)", "output bias (ms)",
             "output max |error| (ms)", "hidden RMS error (ms)", "decision-time RMS error (ms)",
             "output RMS vs same noise, continuous (ms)", "decision agreement", "accuracy"), rows,
            continuous_note(c))


def continuous_note(c: dict) -> str:
    r = c["reference"]
    f = c.get("error_factor_per_bit")
    return ("Reference: the same normalised float model as a continuous-time time-to-first-spike network "
            "(hwmodels.continuous: input spikes at (1 - x) T exactly, hop delay {hop:g} ms, edges {edge:.3g} ns) "
            "run in the native engine's precise (event-driven, exact) mode; ideal profile, {kind}, {n} test samples "
            "x {seeds} seeds. Its accuracy {acc:.4f} (float {fa:.4f}); its decision agrees with the float argmax "
            "on {fag:.2%} of samples and with the construction's closed form (hidden activations clipped to "
            "[0, 1]) on {cag:.2%}; its spike times lie within {err:.3g} ns of that closed form. {sat:.1%} of "
            "samples have two or more saturated outputs (a tie by construction), {clip:.1%} a hidden "
            "activation above 1 (clipped). Errors: each b-bit clock network's (hwmodels.conversion, batch "
            "simulator) output spike times minus the reference's, in the reference's frame, over outputs that "
            "fired in both; bias = mean error (negative, up to half a tick: the grid network stamps a spike "
            "at the tick in which v crossed threshold, truncating its time, while inputs are rounded); decision time = each sample's first output spike; agreement = "
            "probability that a fair pick among the clock's winners equals one among the reference's. Under "
            "noise, 'continuous' is the same noisy input in continuous time (the noise's own share), and the last "
            "error column measures each clock against it (the clock's share). One more clock bit divides the "
            "noiseless RMS output error by {fac} (first order: 2).").format(
        hop=c["hop_s"] * 1e3, edge=c["edge_s"] * 1e9, kind=c["classifier"], n=c["samples"], seeds=c["seeds"],
        acc=r["accuracy"], fa=r["float_accuracy"], fag=r["float_agreement"], cag=r["construction_agreement"],
        err=r["construction_max_error_s"] * 1e9, sat=r["saturated_ties"], clip=r["hidden_clipped"],
        fac="n/a" if f is None else f"{f:.2f}")


def _num(x):
    return "-inf" if x is None else f"{x:.4f}"


def profile_table(data: dict):
    cols = []
    for prof, kinds in data["by_profile"].items():
        for kind, e in kinds.items():
            cols.append((prof, kind, e))
    keys = []
    for _, _, e in cols:
        for code, conds in e["min_bits"].items():
            for cond, ress in conds.items():
                if _is_series(data, cond):
                    continue
                for r in ress:
                    if (code, cond, r) not in keys:
                        keys.append((code, cond, r))
    header = ("code", "condition", "resource") + tuple(
        f"{prof}/{kind} (float {e['float_accuracy']:.3f})" for prof, kind, e in cols)
    rows = [k + tuple(_fmt_bits(e["min_bits"].get(k[0], {}).get(k[1], {}).get(k[2])) for _, _, e in cols)
            for k in keys]
    return header, rows


def _headline(data) -> str:
    prim = data["primary"]
    mb = data["min_bits"]
    r = mb.get("rate", {}).get("noiseless", {}).get("counter")
    t = mb.get("temporal", {}).get("noiseless", {}).get("clock")
    star = data["sigma_star"]["measured_s"]
    return ("Task {task} ({n_train} train / {n_test} test samples, {n_features} features, {n_classes} classes), "
            "profile {prof}, {kind} classifier: float accuracy {fa:.4f}. Noiseless minimum bits: rate code, "
            "counter: {r}; temporal code, clock: {t}. The temporal code starts needing more bits than the rate "
            "code at jitter sigma* = {star}.").format(
        task=data["task"], n_train=data["n_train"], n_test=data["n_test"], n_features=data["n_features"],
        n_classes=data["n_classes"], prof=prim["profile"], kind=prim["classifier"], fa=data["float_accuracy"],
        r=_fmt_bits(r), t=_fmt_bits(t), star="none in the series" if star is None else f"{star * 1e3:g} ms") \
        + _continuous_headline(data.get("continuous"))


def _continuous_headline(c) -> str:
    if not c:
        return ""
    rows = [p for p in c["conditions"].get("noiseless", []) if p["bits"] is not None and p["rms_output_s"]]
    if not rows:
        return ""
    top = rows[-1]
    f = c.get("error_factor_per_bit")
    return (" Against the continuous-time reference (precise mode; its decision agrees with float on {fag:.1%}), "
            "the {b}-bit clock's output spikes are off by {rms:.3g} ms RMS (agreement {ag:.3f}); each extra clock "
            "bit divides the error by {fac}.").format(
        fag=c["reference"]["float_agreement"], b=top["bits"], rms=top["rms_output_s"] * 1e3, ag=top["agreement"],
        fac="n/a" if f is None else f"{f:.2f}")


def _settings_text(data) -> str:
    s = data["settings"]
    return ("seeds {seeds}; counter bits {cb}; clock bits {kb}; weight bits {wb} at {ref} code bits; window {win:g} ms "
            "(tick = window / (2^bits - 1)); jitter series {js} ms; sweeps other than {full} stop once the "
            "criterion held {stop} bit counts in a row, or {pl} bit counts in a row stayed below the band gaining "
            "less than {pg:.1%}; {jobs} workers; {wall:.0f} s.").format(
        seeds=s["seeds"], cb=_range(s["counter_bits"]), kb=_range(s["clock_bits"]), wb=_range(s["weight_bits"]),
        ref=s["reference_bits"], win=data["window_s"] * 1e3, js=", ".join(f"{x * 1e3:g}" for x in s["jitter_series"]),
        full=", ".join(s["full_range_conditions"]), stop=s["stop_after"], pl=s["plateau_levels"],
        pg=s["plateau_gain"], jobs=data.get("jobs", "?"),
        wall=data.get("wall_s", 0.0))


def _range(bits):
    return f"{bits[0]}-{bits[-1]}" if bits == list(range(bits[0], bits[-1] + 1)) else ",".join(map(str, bits))


def render_markdown(data: dict, plot_names) -> str:
    parts = [f"# Precision report: {data['task']}", "", _headline(data), "", _settings_text(data), ""]
    for name in plot_names:
        parts += [f"![{name}]({name}.png)", ""]
    for title, header, rows, note in _sections(data):
        parts += [f"## {title}", "", _table_md(header, rows), "", note, ""]
    return "\n".join(parts)


def render_html(data: dict, pngs: dict) -> str:
    css = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
           "table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px}"
           "th{background:#f3f3f3}img{max-width:100%}.note{color:#555;font-size:90%}")
    body = [f"<h1>Precision report: {html.escape(data['task'])}</h1>", f"<p>{html.escape(_headline(data))}</p>",
            f"<p class=note>{html.escape(_settings_text(data))}</p>"]
    for name, png in pngs.items():
        b64 = base64.b64encode(png).decode()
        body.append(f'<h2>{html.escape(name.replace("_", " "))}</h2><img alt="{name}" src="data:image/png;base64,{b64}">')
    for title, header, rows, note in _sections(data):
        body.append(f"<h2>{html.escape(title)}</h2>{_table_html(header, rows)}<p class=note>{html.escape(note)}</p>")
    return f"<!doctype html><html><head><meta charset=utf-8><title>spikecore precision report</title>" \
           f"<style>{css}</style></head><body>{''.join(body)}</body></html>"


# ----------------------------------------------------------------------------- plots
def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def make_plots(data: dict) -> dict:
    import matplotlib
    matplotlib.use("Agg", force=False)

    return {"accuracy_vs_bits": plot_accuracy(data), "theory": plot_theory(data),
            "clock_bits_vs_jitter": plot_jitter(data), "pareto": plot_pareto(data),
            **({"profiles": plot_profiles(data)} if len(data["profiles"]) > 1 else {}),
            **({"timing_error_vs_bits": plot_timing_error(data)} if data.get("continuous") else {})}


def _float_band(ax, fa, tol):
    ax.axhline(fa, color="k", lw=1, label="float")
    ax.axhspan(fa - tol, fa, color="0.85", zorder=0, label=f"float - {tol:.0%}")


def plot_accuracy(data: dict, profile=None, classifier=None) -> bytes:
    import matplotlib.pyplot as plt

    prim = data["primary"]
    prof, kind = profile or prim["profile"], classifier or prim["classifier"]
    e = data["by_profile"][prof][kind]
    panels = [("rate", "counter"), ("temporal", "clock"), ("rate", "weight"), ("temporal", "weight")]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (code, res) in zip(axes.ravel(), panels):
        for k, (cond, ress) in enumerate(e["curves"].get(code, {}).items()):
            if res not in ress or _is_series(data, cond):
                continue
            pts = ress[res]
            b = [p["bits"] for p in pts]
            ax.plot(b, [p["accuracy"] for p in pts], "o-", ms=3, color=f"C{k}", label=cond)
            ax.fill_between(b, [p["ci_low"] if p["ci_low"] is not None else np.nan for p in pts],
                            [p["ci_high"] if p["ci_high"] is not None else np.nan for p in pts], color=f"C{k}", alpha=0.15)
        _float_band(ax, e["float_accuracy"], data["tolerance"])
        ax.set_ylim(max(0.0, e["float_accuracy"] - 0.25), min(1.0, e["float_accuracy"] + 0.05))
        ax.set_xlabel(f"{res} bits")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{code} code: {res} bits" + (f" ({data['settings']['reference_bits']}-bit code)" if res == "weight" else ""))
        ax.legend(fontsize="x-small", loc="lower right")
    fig.suptitle(f"{data['task']}, {prof} profile, {kind}: accuracy vs bits (mean and 95% CI over seeds)")
    fig.tight_layout()
    return _png(fig)


def plot_theory(data: dict) -> bytes:
    """Bits each resource carries (closed forms) against the bits spent, with the measured minima on them."""
    import matplotlib.pyplot as plt

    prim = data["primary"]
    e = data["by_profile"][prim["profile"]][prim["classifier"]]
    need = e["theory"]["needed_bits"]
    top = max(data["settings"]["clock_bits"] + data["settings"]["counter_bits"])
    b = np.arange(1, top + 1)
    win = data["window_s"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    a1.plot(b, [P.bits_regular(x) for x in b], "-", color="C0", label="regular count: log2(N+1)")
    a1.plot(b, [P.bits_poisson(x) for x in b], "-", color="C2", label="Poisson count: 1/2 log2 N")
    a2.plot(b, [P.bits_clock(x, 0.0, win) for x in b], "-", color="C1", label="clock: log2(T/dt+1)")
    sigmas = sorted({P._sigma_of(c) for c in e["min_bits"].get("temporal", {})} - {None, 0.0})
    for k, sg in enumerate(sigmas):
        a2.plot(b, [P.bits_clock(x, sg, win) for x in b], "--", color=f"C{k + 3}",
                label=f"clock, jitter {sg * 1e3:g} ms: log2(T/(sqrt12 s_eff)+1)")
    for ax, code, res in ((a1, "rate", "counter"), (a2, "temporal", "clock")):
        if need.get(code) is not None:
            ax.axhline(need[code], color="k", lw=0.8, ls=":", label=f"noiseless requirement: {need[code]} bits")
        for cond, ress in e["min_bits"].get(code, {}).items():
            mb = ress.get(res)
            if mb is None:
                continue
            sg = P._sigma_of(cond)
            if code == "rate":
                y = P.bits_poisson(mb) if cond == "poisson" else P.bits_regular(mb)
            else:
                y = P.bits_clock(mb, sg or 0.0, win)
            ax.plot([mb], [y], "o", ms=6, mfc="none", color="k")
            ax.annotate(cond, (mb, y), fontsize="xx-small", xytext=(3, -8), textcoords="offset points")
        ax.set_xlabel(f"{res} bits spent")
        ax.set_title(f"{code}: carried bits (lines), measured minima (circles)", fontsize="medium")
        ax.legend(fontsize="xx-small", loc="upper left")
    a1.set_ylabel("bits carried per input")
    fig.tight_layout()
    return _png(fig)


def plot_jitter(data: dict) -> bytes:
    import matplotlib.pyplot as plt

    prim = data["primary"]
    th = data["by_profile"][prim["profile"]][prim["classifier"]]["theory"]
    rows = [r for r in th["jitter_series"] if r["sigma_s"] > 0]
    fig, ax = plt.subplots(figsize=(8, 5))
    top = max(data["settings"]["clock_bits"] + data["settings"]["counter_bits"]) + 1
    if rows:
        sig = np.array([r["sigma_s"] for r in rows]) * 1e3
        t_b = [r["temporal_clock_bits"] if r["temporal_clock_bits"] is not None else top for r in rows]
        r_b = [r["rate_counter_bits"] if r["rate_counter_bits"] is not None else top for r in rows]
        ax.plot(sig, t_b, "o-", color="C1", label="temporal: min clock bits (measured)")
        ax.plot(sig, r_b, "s-", color="C0", label="rate: min counter bits (measured)")
        need = th["needed_bits"]["temporal"]
        if need is not None:
            grid = np.geomspace(sig.min() / 2, sig.max() * 2, 200)
            pred = [P.predicted_bits(need, lambda b, s=g * 1e-3: P.bits_clock(b, s, data["window_s"])) for g in grid]
            ax.plot(grid, [p if p is not None else top for p in pred], "--", color="C1",
                    label=f"theory: clock bits to carry {need} bits, log2(T/(sqrt12 sigma_eff)+1)")
            ceil = [P.jitter_ceiling(g * 1e-3, data["window_s"]) for g in grid]
            ax.plot(grid, np.minimum(ceil, top), ":", color="C3", label="jitter ceiling log2(T/(sqrt12 sigma)+1)")
        star = th["sigma_star"]["measured_s"]
        if star is not None:
            ax.axvline(star * 1e3, color="k", lw=1, ls="-.", label=f"sigma* = {star * 1e3:g} ms")
        ax.set_xscale("log")
    ax.axhline(top, color="0.6", lw=0.5)
    ax.text(ax.get_xlim()[0], top, " not reached", va="bottom", fontsize="small", color="0.4")
    ax.set_ylim(0, top + 1)
    ax.set_xlabel("input timing jitter sigma (ms)")
    ax.set_ylabel("minimum bits within 1% of float")
    ax.set_title(f"Clock bits vs jitter (window {data['window_s'] * 1e3:g} ms)")
    ax.legend(fontsize="x-small", loc="lower right")
    fig.tight_layout()
    return _png(fig)


def _pareto_front(x, y):
    """Indices of points not dominated (lower x and higher y are better)."""
    order = np.lexsort((-np.asarray(y), np.asarray(x)))
    best, keep = -np.inf, []
    for i in order:
        if y[i] > best:
            keep.append(i)
            best = y[i]
    return keep


def plot_pareto(data: dict) -> bytes:
    import matplotlib.pyplot as plt

    prim = data["primary"]
    e = data["by_profile"][prim["profile"]][prim["classifier"]]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for k, (code, res) in enumerate((("rate", "counter"), ("temporal", "clock"))):
        pts = e["curves"].get(code, {}).get("noiseless", {}).get(res, [])
        if not pts:
            continue
        bits = np.array([p["bits"] for p in pts], float)
        spk = np.array([p["spikes"] for p in pts], float)
        acc = np.array([p["accuracy"] for p in pts], float)
        for ax, x in ((a1, bits), (a2, spk)):
            ax.plot(x, acc, "o", color=f"C{k}", alpha=0.5, label=f"{code} ({res} bits)")
            front = _pareto_front(x, acc)
            ax.plot(x[front], acc[front], "-", color=f"C{k}")
    for ax, xl in ((a1, "bits (counter or clock)"), (a2, "spikes per inference")):
        _float_band(ax, e["float_accuracy"], data["tolerance"])
        ax.set_xlabel(xl)
        ax.set_ylabel("accuracy")
        ax.set_ylim(max(0.0, e["float_accuracy"] - 0.3), min(1.0, e["float_accuracy"] + 0.05))
        ax.legend(fontsize="x-small", loc="lower right")
    a2.set_xscale("log")
    fig.suptitle("Pareto: accuracy against bits and against spikes (noiseless)")
    fig.tight_layout()
    return _png(fig)


def plot_profiles(data: dict) -> bytes:
    import matplotlib.pyplot as plt

    prim = data["primary"]
    kind = prim["classifier"]
    profs = [p for p in data["profiles"] if kind in data["by_profile"].get(p, {})]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    panels = (("rate", "counter"), ("temporal", "clock"), ("temporal", "weight"))
    for ax, (code, res) in zip(axes, panels):
        for k, prof in enumerate(profs):
            pts = data["by_profile"][prof][kind]["curves"].get(code, {}).get("noiseless", {}).get(res, [])
            if pts:
                ax.plot([p["bits"] for p in pts], [p["accuracy"] for p in pts], "o-", ms=3, color=f"C{k}", label=prof)
        fa = data["by_profile"][profs[0]][kind]["float_accuracy"]
        _float_band(ax, fa, data["tolerance"])
        ax.set_ylim(max(0.0, fa - 0.25), min(1.0, fa + 0.05))
        ax.set_title(f"{code}: {res} bits (noiseless)")
        ax.set_xlabel("bits")
        ax.legend(fontsize="x-small", loc="lower right")
    fig.suptitle("Profiles side by side")
    fig.tight_layout()
    return _png(fig)


def plot_timing_error(data: dict) -> bytes:
    """RMS output spike-timing error against clock bits (log scale), per condition, next to tick/sqrt(12);
    decision agreement with the continuous-time reference on the right."""
    import matplotlib.pyplot as plt

    c = data["continuous"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ticks = None
    for k, (cond, pts) in enumerate(c["conditions"].items()):
        clk = [p for p in pts if p["bits"] is not None and p["rms_output_s"] is not None]
        if not clk:
            continue
        b = np.array([p["bits"] for p in clk])
        a1.semilogy(b, [p["rms_output_s"] * 1e3 for p in clk], "o-", ms=3, color=f"C{k}", label=f"{cond}: output RMS")
        a2.plot(b, [p["agreement"] for p in clk], "o-", ms=3, color=f"C{k}", label=cond)
        cont = [p for p in pts if p["bits"] is None and p["rms_output_s"]]
        if cont:
            a1.axhline(cont[0]["rms_output_s"] * 1e3, color=f"C{k}", ls="--", lw=1,
                       label=f"{cond}: continuous time (noise alone)")
        ticks = (b, [p["tick_s"] for p in clk])
    if ticks is not None:
        a1.semilogy(ticks[0], np.array(ticks[1]) * 1e3 / math.sqrt(12), ":", color="k", label="tick / sqrt(12)")
    a1.set_xlabel("clock bits")
    a1.set_ylabel("RMS output spike time error vs reference (ms)")
    a1.set_title("Timing error against the continuous-time reference", fontsize="medium")
    a1.legend(fontsize="xx-small")
    a2.set_xlabel("clock bits")
    a2.set_ylabel("decision agreement with the reference")
    a2.set_ylim(0, 1.02)
    a2.legend(fontsize="x-small", loc="lower right")
    fig.suptitle(f"Temporal code vs its continuous-time reference (precise mode, {c['classifier']}, "
                 f"{c['samples']} samples x {c['seeds']} seeds)")
    fig.tight_layout()
    return _png(fig)


# ----------------------------------------------------------------------------- compare
def compare(path_a, path_b) -> str:
    """Markdown comparing two precision.json files: float accuracy and every minimum-bits entry."""
    a, b = load_json(path_a), load_json(path_b)
    name_a = f"A: {a.get('task', '?')}/{a.get('primary', {}).get('profile', '?')}"
    name_b = f"B: {b.get('task', '?')}/{b.get('primary', {}).get('profile', '?')}"
    rows = [("float accuracy", "", "", f"{a['float_accuracy']:.4f}", f"{b['float_accuracy']:.4f}", "")]
    keys = []
    for d in (a, b):
        for code, conds in d["min_bits"].items():
            for cond, ress in conds.items():
                for r in ress:
                    if (code, cond, r) not in keys:
                        keys.append((code, cond, r))
    for code, cond, r in keys:
        va = a["min_bits"].get(code, {}).get(cond, {}).get(r)
        vb = b["min_bits"].get(code, {}).get(cond, {}).get(r)
        delta = "" if va is None or vb is None else f"{vb - va:+d}"
        rows.append((code, cond, r, _fmt_bits(va), _fmt_bits(vb), delta))
    sa, sb = a.get("sigma_star", {}).get("measured_s"), b.get("sigma_star", {}).get("measured_s")
    rows.append(("sigma* (ms)", "", "", "none" if sa is None else f"{sa * 1e3:g}", "none" if sb is None else f"{sb * 1e3:g}", ""))
    return f"{name_a}\n{name_b}\n\n" + _table_md(("code", "condition", "resource", "A", "B", "B - A"), rows)
