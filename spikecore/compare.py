"""Agreement between two runs of one network on different backends.

``compare_results(reference, other)`` computes, for every recorded population,
the metrics the conformance suite (tests/conformance) and ``spikecore compare``
(spikecore/cli/compare.py) judge backends by, each with its tolerance:

* population rate: relative difference <= ``rate_rel`` (5%);
* mean CV of the ISIs: absolute difference <= ``cv_abs`` (0.05);
* firing-rate histogram: the per-neuron rates of the two runs compared by the
  Anderson-Darling k-sample test (midrank form, made for discrete data with
  ties, which spike counts are); alike when p >= ``hist_alpha`` (0.01). Chosen
  over Kolmogorov-Smirnov because it weighs the tails (silent and bursting
  neurons), where an integration error shows first, and handles ties properly;
  over chi-square because it needs no binning. The two samples are paired (the
  same neurons with the same inputs), which makes the test conservative: a
  rejection means the distributions really differ.
* fraction of spikes matched within one dt: each neuron's trains are matched
  one to one, greedily in time, pairs at most one step apart;
  fraction = 2 * matched / (n_reference + n_other);
* van Rossum distance (tau = ``vr_tau``, 10 ms), per neuron, averaged over the
  population: D^2 = (1/tau) * integral (f - g)^2 with f, g the trains filtered
  by exp(-t/tau), computed exactly from spike times. Its tolerance is the
  distance that shifting every spike by ``vr_steps`` steps would give,
  sqrt(n * (1 - exp(-vr_steps*dt/tau))) for a neuron with n spikes (an upper
  bound: nearby spikes make a shifted train closer), consistent with matching
  spikes within one dt.

Chaotic networks diverge spike by spike after a while even between two exact
integrators (rounding differs), so in the default ``statistical`` mode the
spike-level metrics (matched fraction, van Rossum, first mismatch) are reported
but not judged; ``exact`` mode also requires matched >= ``matched_min`` and
mean van Rossum within its tolerance, for deterministic networks.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from .errors import ValidationError
from .result import Result, cv_isi

MODES = ("statistical", "exact")


@dataclass(frozen=True)
class Tolerances:
    rate_rel: float = 0.05
    cv_abs: float = 0.05
    hist_alpha: float = 0.01
    matched_min: float = 0.99
    vr_steps: float = 1.0      # van Rossum no larger than shifting every spike by this many steps
    vr_tau: float = 10e-3      # s


# ----------------------------------------------------------------------------- metrics
def _trains(times: np.ndarray, indices: np.ndarray, n: int):
    """Per-neuron sorted spike times as (sorted times, start offsets of each neuron)."""
    order = np.lexsort((times, indices))
    t, i = np.asarray(times, float)[order], np.asarray(indices, np.int64)[order]
    starts = np.searchsorted(i, np.arange(n + 1))
    return t, starts


def matched_spikes(ta: np.ndarray, tb: np.ndarray, window: float) -> int:
    """Greedy one-to-one matching of two sorted trains: pairs at most ``window`` apart."""
    k = m = matched = 0
    while k < ta.size and m < tb.size:
        d = ta[k] - tb[m]
        if abs(d) <= window:
            matched += 1
            k += 1
            m += 1
        elif d < 0:
            k += 1
        else:
            m += 1
    return matched


def _exp_sum(t: np.ndarray, tau: float) -> float:
    """sum over i, j of exp(-|t_i - t_j|/tau) for a sorted train, in O(n)."""
    if t.size == 0:
        return 0.0
    # m_k = sum_{j<k} exp(-(t_k - t_j)/tau), by the recursion m_k = e_k (1 + m_{k-1})
    e = np.exp(-np.diff(t) / tau)
    m, total = 0.0, 0.0
    for x in e:
        m = x * (1.0 + m)
        total += m
    return t.size + 2.0 * total


def _cross_sum(ta: np.ndarray, tb: np.ndarray, tau: float) -> float:
    """sum over i, j of exp(-|a_i - b_j|/tau)."""
    if ta.size == 0 or tb.size == 0:
        return 0.0
    if ta.size * tb.size <= 4096:
        return float(np.exp(-np.abs(ta[:, None] - tb[None, :]) / tau).sum())
    # merge both trains; a running sum of the other train's filtered trace gives each pair once
    t = np.concatenate([ta, tb])
    src = np.concatenate([np.zeros(ta.size, np.int64), np.ones(tb.size, np.int64)])
    order = np.argsort(t, kind="stable")
    t, src = t[order], src[order]
    total = 0.0
    trace = [0.0, 0.0]           # filtered trains a, b at the last event
    last = t[0]
    for x, s in zip(t.tolist(), src.tolist()):
        decay = math.exp(-(x - last) / tau)
        trace[0] *= decay
        trace[1] *= decay
        total += trace[1 - s]     # pairs with earlier spikes of the other train
        trace[s] += 1.0
        last = x
    return total


def van_rossum(ta: np.ndarray, tb: np.ndarray, tau: float) -> float:
    """Van Rossum (2001) distance between two sorted trains, D^2 = (1/tau) int (f-g)^2 dt."""
    d2 = 0.5 * (_exp_sum(ta, tau) + _exp_sum(tb, tau) - 2.0 * _cross_sum(ta, tb, tau))
    return math.sqrt(max(d2, 0.0))


def rate_histogram_pvalue(rates_a: np.ndarray, rates_b: np.ndarray) -> float:
    """p-value of the Anderson-Darling k-sample test that two rate samples share a distribution.

    scipy caps the reported p to [0.001, 0.25]; both ends are far from the 0.01 threshold."""
    from scipy.stats import anderson_ksamp

    a, b = np.asarray(rates_a, float), np.asarray(rates_b, float)
    if np.array_equal(np.sort(a), np.sort(b)):
        return 1.0
    if np.unique(np.concatenate([a, b])).size < 2:
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = anderson_ksamp([a, b], midrank=True)
    return float(getattr(res, "pvalue", res.significance_level))


def first_mismatch(ta_all, ia_all, tb_all, ib_all, dt: float, steps_a=None, steps_b=None):
    """Time of the earliest spike present in one run but not (at the same step) in the other; None if identical.

    Steps are rint(t/dt) for grid results; precise-timing results carry their own (Result.spike_steps)."""
    sa = np.rint(np.asarray(ta_all) / dt).astype(np.int64) if steps_a is None else np.asarray(steps_a, np.int64)
    sb = np.rint(np.asarray(tb_all) / dt).astype(np.int64) if steps_b is None else np.asarray(steps_b, np.int64)
    a = set(zip(sa.tolist(), np.asarray(ia_all).tolist()))
    b = set(zip(sb.tolist(), np.asarray(ib_all).tolist()))
    diff = a ^ b
    if not diff:
        return None
    return min(s for s, _ in diff) * dt


# ----------------------------------------------------------------------------- comparison
@dataclass
class Check:
    value: float | None
    tolerance: str | None       # e.g. "<= 0.05"; None: reported, not judged
    ok: bool

    def as_dict(self):
        return {"value": self.value, "tolerance": self.tolerance, "ok": self.ok}


def _check_le(value, limit, judged=True):
    if not judged:
        return Check(value, None, True)
    return Check(value, f"<= {limit:g}", value is None or value <= limit)


def _check_ge(value, limit, judged=True):
    if not judged:
        return Check(value, None, True)
    return Check(value, f">= {limit:g}", value is None or value >= limit)


def compare_populations(ref: Result, other: Result, tol: Tolerances = Tolerances(),
                        mode: str = "statistical") -> dict:
    """Metrics and checks per population common to both results."""
    if mode not in MODES:
        raise ValidationError("mode", mode, "one of " + ", ".join(MODES))
    if not math.isclose(ref.dt, other.dt, rel_tol=1e-12) or not math.isclose(ref.duration, other.duration,
                                                                              rel_tol=1e-9):
        raise ValidationError("results", f"dt {other.dt}, duration {other.duration}",
                              f"the same dt ({ref.dt}) and duration ({ref.duration}) as the reference")
    exact = mode == "exact"
    dt = ref.dt
    out = {}
    for pop in ref.spikes:
        if pop not in other.spikes:
            continue
        n = int(ref.sizes[pop])
        (ta, ia), (tb, ib) = ref.spikes[pop], other.spikes[pop]
        ra, rb = ref.rate(pop), other.rate(pop)
        mean_rate = 0.5 * (ra + rb)
        rate_rel = abs(ra - rb) / mean_rate if mean_rate > 0 else 0.0
        cva, cvb = cv_isi(ta, ia), cv_isi(tb, ib)
        cv_abs = None if cva is None or cvb is None else abs(cva - cvb)
        counts_a = np.bincount(ia, minlength=n) / ref.duration
        counts_b = np.bincount(ib, minlength=n) / other.duration
        p_hist = rate_histogram_pvalue(counts_a, counts_b) if ta.size + tb.size else 1.0
        sa, starts_a = _trains(ta, ia, n)
        sb, starts_b = _trains(tb, ib, n)
        matched = 0
        vr = np.zeros(n)
        window = dt * (1 + 1e-6)
        for k in range(n):
            xa, xb = sa[starts_a[k]:starts_a[k + 1]], sb[starts_b[k]:starts_b[k + 1]]
            if xa.size == 0 and xb.size == 0:
                continue
            matched += matched_spikes(xa, xb, window)
            vr[k] = van_rossum(xa, xb, tol.vr_tau)
        mean_count = 0.5 * (np.diff(starts_a) + np.diff(starts_b))
        vr_limit = float(np.mean(np.sqrt(mean_count * -np.expm1(-tol.vr_steps * dt / tol.vr_tau)))) * (1 + 1e-9)
        total = ta.size + tb.size
        frac = 2.0 * matched / total if total else 1.0
        mismatch = first_mismatch(ta, ia, tb, ib, dt, ref.spike_steps.get(pop), other.spike_steps.get(pop))
        checks = {
            "rate": _check_le(rate_rel, tol.rate_rel),
            "cv_isi": Check(cv_abs, f"<= {tol.cv_abs:g}", True) if cv_abs is None else _check_le(cv_abs, tol.cv_abs),
            "rate_histogram": _check_ge(p_hist, tol.hist_alpha),
            "matched_fraction": _check_ge(frac, tol.matched_min, judged=exact),
            "van_rossum": _check_le(float(vr.mean()), vr_limit, judged=exact),
        }
        if cv_abs is None and (cva is None) != (cvb is None):
            checks["cv_isi"] = Check(None, f"<= {tol.cv_abs:g}", False)   # one run has ISIs, the other none
        out[pop] = {
            "n": n,
            "rate_hz": {ref.backend: ra, other.backend: rb},
            "cv_isi": {ref.backend: cva, other.backend: cvb},
            "rate_rel_diff": rate_rel, "cv_abs_diff": cv_abs, "rate_hist_p": p_hist,
            "matched_fraction": frac, "van_rossum": float(vr.mean()), "first_mismatch_s": mismatch,
            "checks": {k: c.as_dict() for k, c in checks.items()},
            "agree": all(c.ok for c in checks.values()),
        }
    return out


def compare_runs(results: list, tol: Tolerances = Tolerances(), mode: str = "statistical") -> dict:
    """Compare every result against the first: the document ``spikecore compare`` writes as compare.json."""
    if len(results) < 2:
        raise ValidationError("backends", [r.backend for r in results], "at least two backends to compare")
    ref = results[0]
    pops: dict = {}
    agree = True
    for other in results[1:]:
        per_pop = compare_populations(ref, other, tol, mode)
        for pop, metrics in per_pop.items():
            entry = pops.setdefault(pop, {"n": metrics["n"], "rate_hz": {}, "cv_isi": {}, "comparisons": {}})
            entry["rate_hz"].update(metrics.pop("rate_hz"))
            entry["cv_isi"].update(metrics.pop("cv_isi"))
            metrics.pop("n")
            entry["comparisons"][other.backend] = metrics
            agree = agree and metrics["agree"]
        missing = set(ref.spikes) ^ set(other.spikes)
        if missing:
            agree = False
            for pop in missing:
                pops.setdefault(pop, {"comparisons": {}})["comparisons"][other.backend] = {
                    "agree": False, "error": "population recorded by only one backend"}
    return {
        "agree": bool(agree),
        "backends": [r.backend for r in results],
        "reference": ref.backend,
        "mode": mode,
        "model": ref.model,
        "duration_s": ref.duration,
        "dt_s": ref.dt,
        "seed": ref.seed,
        "tolerances": asdict(tol),
        "runs": {r.backend: {"wall_s": r.wall_s, "build_s": r.build_s, "options": r.options} for r in results},
        "populations": pops,
    }


def format_table(doc: dict) -> str:
    """The human agreement table: one row per population and compared backend."""
    ref = doc["reference"]
    head = ("population", "backend", f"rate {ref}", "rate", "d rate", "CV", "d CV", "hist p",
            "matched", "vR", "agree")
    rows = [head]

    def mark(check):
        return "" if check["tolerance"] is None or check["ok"] else " !"

    for pop, entry in doc["populations"].items():
        for backend, m in entry.get("comparisons", {}).items():
            if "checks" not in m:
                rows.append((pop, backend, "-", "-", "-", "-", "-", "-", "-", "-", "no"))
                continue
            c = m["checks"]
            cv = entry["cv_isi"].get(backend)
            rows.append((
                pop, backend, f"{entry['rate_hz'][ref]:.3f}", f"{entry['rate_hz'][backend]:.3f}",
                f"{100 * m['rate_rel_diff']:.2f}%" + mark(c["rate"]),
                "-" if cv is None else f"{cv:.3f}",
                ("-" if m["cv_abs_diff"] is None else f"{m['cv_abs_diff']:.3f}") + mark(c["cv_isi"]),
                f"{m['rate_hist_p']:.3f}" + mark(c["rate_histogram"]),
                f"{m['matched_fraction']:.3f}" + mark(c["matched_fraction"]),
                f"{m['van_rossum']:.3f}" + mark(c["van_rossum"]),
                "yes" if m["agree"] else "no"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = ["  ".join(x.ljust(w) if k < 2 else x.rjust(w) for k, (x, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    t = doc["tolerances"]
    judged = "rate, CV, histogram" + (", matched, van Rossum" if doc["mode"] == "exact" else "")
    lines.append(f"mode {doc['mode']}: judged {judged}; tolerances: rate {100 * t['rate_rel']:g}%, "
                 f"CV {t['cv_abs']:g}, histogram p >= {t['hist_alpha']:g} (Anderson-Darling)"
                 + (f", matched >= {t['matched_min']:g}, van Rossum (tau {t['vr_tau'] * 1e3:g} ms) <= that of "
                    f"every spike shifted by {t['vr_steps']:g} step(s)" if doc["mode"] == "exact" else
                    f"; matched and van Rossum (tau {t['vr_tau'] * 1e3:g} ms) reported only"))
    lines.append("'!' marks a metric out of tolerance")
    return "\n".join(lines)
