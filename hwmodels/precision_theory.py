"""The precision report's closed forms and statistics (hwmodels.precision runs the sweeps).

Bits a resource carries: log2(N+1) for a regular count of at most N spikes, 1/2 log2 N
for a Poisson count, log2(T/(sqrt(12) sigma_eff) + 1) for a clock of step dt over the
window T with sigma_eff^2 = dt^2/12 + sigma^2 under jitter sigma; the predictions of
the bits each resource needs to carry what the noiseless code needed; sigma*, where
the temporal code starts to need more clock bits than the rate code needs counter
bits; and the statistics of the sweep (Student t confidence intervals over seeds, the
minimum-bits rule).
"""
from __future__ import annotations

import math

import numpy as np

from .conversion import WINDOW

CONFIDENCE = 0.95


# ----------------------------------------------------------------------------- statistics
def t_critical(n: int, confidence: float = CONFIDENCE) -> float:
    from scipy import stats
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1)) if n > 1 else float("inf")


def mean_ci(values, confidence: float = CONFIDENCE) -> tuple:
    v = np.asarray(values, float)
    m = float(v.mean())
    if v.size < 2:
        return m, float("-inf"), float("inf")
    h = t_critical(v.size, confidence) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return m, m - h, m + h


def min_bits_from_curve(points: list, tolerance: float, confirm: int = 2):
    """The fewest bits b at which the criterion (diff CI lower bound >= -tolerance) holds at b and at
    the next ``confirm - 1`` measured bit counts (fewer at the top of the sweep); None if never.

    Confirming with the next bit count keeps one lucky point from deciding, and one unlucky
    point on a plateau that sits near the band from pushing the answer to the top of the sweep."""
    pts = sorted(points, key=lambda p: p["bits"])
    ok = [p["diff_low"] >= -tolerance for p in pts]
    for k, p in enumerate(pts):
        if all(ok[k:k + confirm]):
            return p["bits"]
    return None


# ----------------------------------------------------------------------------- theory
def bits_regular(b):
    """Bits a regular count of at most N = 2^b - 1 spikes carries: log2(N + 1)."""
    return math.log2(2 ** b)


def bits_poisson(b):
    """Effective bits of a Poisson count with mean up to N = 2^b - 1: 1/2 log2 N."""
    n = 2 ** b - 1
    return 0.5 * math.log2(n) if n > 1 else 0.0


def bits_clock(b, sigma=0.0, window=WINDOW):
    """Effective bits of a b-bit clock over the window under jitter sigma: log2(T/(sqrt(12) s_eff) + 1)."""
    dt = window / (2 ** b - 1)
    s_eff = math.sqrt(dt * dt / 12.0 + sigma * sigma)
    return math.log2(window / (math.sqrt(12.0) * s_eff) + 1.0)


def jitter_ceiling(sigma, window=WINDOW):
    """Bits no clock can beat under jitter sigma: log2(T/(sqrt(12) sigma) + 1)."""
    return math.inf if sigma <= 0 else math.log2(window / (math.sqrt(12.0) * sigma) + 1.0)


def predicted_bits(need: float, carried, max_bits: int = 24):
    """Fewest hardware bits whose carried bits reach ``need`` (None if none up to max_bits)."""
    if need is None:
        return None
    for b in range(1, max_bits + 1):
        if carried(b) >= need - 1e-9:
            return b
    return None


def _sigma_of(name: str):
    if name.startswith("jitter_") and name.endswith("ms"):
        return float(name[len("jitter_"):-2]) * 1e-3
    return 0.0 if name == "noiseless" else None


def theory(min_bits: dict, curves: dict, s) -> dict:
    """Closed-form predictions from the noiseless requirement, and sigma* measured and predicted."""
    need_rate = min_bits.get("rate", {}).get("noiseless", {}).get("counter")
    need_time = min_bits.get("temporal", {}).get("noiseless", {}).get("clock")
    pred = {"rate": {}, "temporal": {}}
    for cond in min_bits.get("rate", {}):
        if cond == "poisson":
            pred["rate"][cond] = predicted_bits(need_rate and bits_regular(need_rate), bits_poisson)
        elif cond.startswith(("jitter_", "drift_")) or cond == "noiseless":
            pred["rate"][cond] = need_rate   # a count does not see spike times; drift is a gain
    for cond in min_bits.get("temporal", {}):
        sigma = _sigma_of(cond)
        if sigma is not None:
            pred["temporal"][cond] = predicted_bits(need_time and bits_regular(need_time),
                                                    lambda b, sg=sigma: bits_clock(b, sg))
    # the jitter series: measured min clock / counter bits against sigma
    series = []
    sigmas = sorted({_sigma_of(c) for c in min_bits.get("temporal", {}) if _sigma_of(c) is not None})
    for sg in sigmas:
        name = "noiseless" if sg == 0 else f"jitter_{sg * 1e3:g}ms"
        t_bits = min_bits.get("temporal", {}).get(name, {}).get("clock")
        r_bits = min_bits.get("rate", {}).get(name, {}).get("counter")
        series.append({"sigma_s": sg, "condition": name, "temporal_clock_bits": t_bits, "rate_counter_bits": r_bits,
                       "predicted_clock_bits": predicted_bits(need_time and bits_regular(need_time),
                                                              lambda b, x=sg: bits_clock(b, x)),
                       "ceiling_bits": jitter_ceiling(sg) if sg > 0 else None})
    measured_star = None
    for row in series:
        t, r = row["temporal_clock_bits"], row["rate_counter_bits"]
        t_eff = math.inf if t is None else t
        r_eff = math.inf if r is None else r
        if t_eff > r_eff or (t is None and r is not None):
            measured_star = row["sigma_s"]
            break
    predicted_star = None
    if need_time is not None and need_rate is not None:
        # smallest sigma (on a fine log grid) at which the predicted clock bits exceed the rate's counter bits
        for sg in np.geomspace(1e-6, WINDOW, 2000):
            b = predicted_bits(bits_regular(need_time), lambda x, g=sg: bits_clock(x, g))
            if b is None or b > need_rate:
                predicted_star = float(sg)
                break
    return {"needed_bits": {"rate": need_rate, "temporal": need_time}, "predicted_min_bits": pred,
            "jitter_series": series,
            "sigma_star": {"measured_s": measured_star, "predicted_s": predicted_star,
                           "rule": "smallest jitter at which the temporal code needs more clock bits than the "
                                   "rate code needs counter bits"}}


def comparisons(curves: dict) -> dict:
    """Noiseless rate vs temporal at equal latency (ticks) and at equal spike budget."""
    rate = curves.get("rate", {}).get("noiseless", {}).get("counter", [])
    temp = curves.get("temporal", {}).get("noiseless", {}).get("clock", [])
    eq_lat, eq_spk = [], []
    for t in temp:
        r_lat = [r for r in rate if r["latency"] <= t["latency"]]
        r_spk = [r for r in rate if r["spikes"] <= t["spikes"]]
        best_lat = max(r_lat, key=lambda r: r["latency"]) if r_lat else None
        best_spk = max(r_spk, key=lambda r: r["spikes"]) if r_spk else None
        eq_lat.append({"temporal_bits": t["bits"], "latency": t["latency"], "temporal_accuracy": t["accuracy"],
                       "rate_bits": best_lat and best_lat["bits"],
                       "rate_accuracy": best_lat and best_lat["accuracy"]})
        eq_spk.append({"temporal_bits": t["bits"], "spikes": t["spikes"], "temporal_accuracy": t["accuracy"],
                       "rate_bits": best_spk and best_spk["bits"],
                       "rate_accuracy": best_spk and best_spk["accuracy"]})
    return {"equal_latency": eq_lat, "equal_spikes": eq_spk}
