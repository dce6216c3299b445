"""The f-I curve of a neuron model: firing rate against a constant input current, the
rheobase, and the type of the onset of firing.

    fi = fi_curve(net, "exc", current_range("0nA:1nA:41"), duration=2.0, transient=0.5)
    save_fi(fi, "results/fi")          # fi.json and fi.png, written atomically

What is run. Population P is copied into a network of its own (no projections, sources
or currents): one neuron per current, each with the current as its ``bias`` (P's own
bias is replaced), P's scalar initial values (per-neuron ones are dropped: every copy
starts from the model's default state, which the result records). Parameters of P given
per neuron are refused: the curve is of one neuron.

What is measured (docs/fi.md):

* the rate of each neuron is 1 / mean inter-spike interval of its spikes after the
  transient (spike counts in 1.5 s would resolve only 0.67 Hz). Fewer than two spikes
  after the transient, or a neuron that stopped firing (silent for more than two mean
  intervals at the end), is a rate of 0: the smallest rate a run can measure is
  ``rate_floor_hz`` = 1 / (duration - transient);
* the rheobase is bracketed by the curve (the last silent and the first firing current)
  and narrowed by runs of ``PROBES_PER_RUN`` neurons spread across the bracket, until the
  bracket is ``REL_RESOLUTION`` of the current range wide; ``rheobase_A`` is the bracket's
  upper end (the lowest current seen firing), ``rheobase_resolution_A`` its width;
* the onset: one more run at currents I = I_lo + delta with delta from the resolution
  up over several decades (``PROBES_PER_DECADE`` per decade). With g = 1/f, the change of g
  over one decade of delta, B(delta), behaves as a power of delta whose exponent s tells
  the three onsets apart: a Type I (saddle-node on invariant circle) onset f ~ delta^beta
  has B ~ delta^-beta (s = -beta, about -1/2); a leaky integrate-and-fire's logarithmic
  onset, 1/f = t_ref + tau ln(1 + I_c/delta), has B = tau ln 10 (s = 0); a Type II (Hopf)
  jump to f_min, f = f_min + c delta^gamma, has B ~ delta^gamma (s = gamma > 0): g
  converges, f stays away from 0 however fine the resolution. s is the slope of log B
  against log delta over the lowest ``ONSET_DECADES`` decades that are clear of the
  bracket's width (delta >= 10 resolutions) and of the rate floor (f >= 3 floors);
  ``|s| <= ONSET_SLOPE`` is logarithmic. Type I reports the exponent beta of
  f ~ (I - I_c)^beta near onset with its 95 % confidence interval, fitted as
  1/f = T_0 + A (I - I_c)^-beta (I_c free; ``fit_exponent`` says why T_0), Type II the
  rate at the rheobase (``min_rate_hz``).

``drive`` functions make the measurement independent of the simulator: a callable taking
an array of currents (A) and returning the spikes (times s, neuron indices) of one neuron
per current over ``duration``. ``fi_curve`` builds one on a spikecore backend;
``measure_fi`` takes any, so the same measurement runs on NEST in the tests.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import units as u
from ..distributions import _is_distribution
from ..errors import SpikecoreError, ValidationError, nearest

#: neurons per bisection run: each run narrows the rheobase's bracket (PROBES_PER_RUN + 1)-fold
PROBES_PER_RUN = 8
#: the rheobase bracket's width to stop at, relative to the current range
REL_RESOLUTION = 1e-7
#: decades of I - I_c probed above the rheobase for the onset (at most), and points per decade
PROBE_DECADES = 12
PROBES_PER_DECADE = 8
#: decades of the onset probes that the onset statistic s and the Type I fit look at
ONSET_DECADES = 3
FIT_DECADES = 1
#: |s| at most this: a logarithmic onset (module docstring)
ONSET_SLOPE = 0.1
#: onset probes must fire at least this many times the rate floor, and lie this many
#: resolutions above the bracket's lower end, to count
FLOOR_FACTOR = 3.0
BRACKET_FACTOR = 10.0
#: a neuron silent at the end for more than this many mean intervals has stopped firing
STOPPED_INTERVALS = 2.0

ONSETS = ("type1", "type2", "logarithmic")
FI_JSON = "fi.json"
FI_PNG = "fi.png"


class NoOnset(SpikecoreError):
    """The current range does not bracket the rheobase (nothing fires, or everything does)."""


# ----------------------------------------------------------------------------- input
def current_range(text: str, field_name: str = "--currents") -> np.ndarray:
    """'0nA:1nA:41' -> 41 currents (A) from 0 to 1 nA, both ends included."""
    parts = str(text).split(":")
    if len(parts) != 3:
        raise ValidationError(field_name, text, "START:STOP:COUNT, e.g. 0nA:1nA:41 (currents with units)")
    start = u.to_si(parts[0].strip(), u.CURRENT, f"{field_name} start")
    stop = u.to_si(parts[1].strip(), u.CURRENT, f"{field_name} stop")
    try:
        count = int(parts[2])
    except ValueError:
        raise ValidationError(field_name, text, "an integer COUNT after the second ':' (e.g. 41)") from None
    return check_currents(np.linspace(start, stop, count) if count >= 1 else np.empty(0), field_name, text)


def check_currents(currents, field_name: str = "currents", shown=None) -> np.ndarray:
    """At least three finite currents, strictly increasing."""
    arr = np.asarray(getattr(currents, "value", currents), dtype=float).ravel()
    shown = currents if shown is None else shown
    if arr.size < 3:
        raise ValidationError(field_name, shown, "at least 3 currents (COUNT >= 3): the range is empty or too short")
    if not np.isfinite(arr).all():
        raise ValidationError(field_name, shown, "finite currents")
    if not (np.diff(arr) > 0).all():
        raise ValidationError(field_name, shown, "increasing currents (START below STOP): the range is reversed "
                                                 "or has repeated values")
    return arr


def check_times(duration: float, transient: float) -> None:
    if not (duration > 0 and math.isfinite(duration)):
        raise ValidationError("--duration", duration, "a positive, finite duration")
    if not (transient >= 0 and math.isfinite(transient)):
        raise ValidationError("--transient", transient, "a transient >= 0 s")
    if transient >= duration:
        raise ValidationError("--transient", f"{transient:g} s",
                              f"a transient shorter than the duration ({duration:g} s): rates are measured after it")


# ----------------------------------------------------------------------------- rates
def spike_rates(times, indices, n: int, duration: float, transient: float):
    """Per neuron: the rate (1 / mean ISI after the transient; 0 module docstring) and the first spike (s, NaN: none)."""
    times, indices = np.asarray(times, float), np.asarray(indices, np.int64)
    order = np.lexsort((times, indices))
    times, indices = times[order], indices[order]
    rates, first = np.zeros(n), np.full(n, np.nan)
    starts = np.searchsorted(indices, np.arange(n + 1))
    for k in range(n):
        t = times[starts[k]:starts[k + 1]]
        if t.size:
            first[k] = t[0]
        t = t[t >= transient]
        if t.size < 2:
            continue
        mean_isi = (t[-1] - t[0]) / (t.size - 1)
        if mean_isi > 0 and duration - t[-1] <= STOPPED_INTERVALS * mean_isi:
            rates[k] = 1.0 / mean_isi
    return rates, first


# ----------------------------------------------------------------------------- the network drive
@dataclass
class NetworkDrive:
    """Runs copies of population ``population`` of ``net``, one per current (module docstring)."""
    net: object
    population: str
    duration: float
    dt: float | None = None
    backend: str = "native"
    options: dict = field(default_factory=dict)
    dropped_initial: list = field(default_factory=list)

    def __post_init__(self):
        pops = self.net.populations
        if self.population not in pops:
            raise ValidationError("--population", self.population,
                                  "a population of the model: " + ", ".join(pops) + nearest(self.population, list(pops)))
        pop = pops[self.population]
        for key, value in pop.params.items():
            if key != "bias" and (_is_distribution(value) or _is_per_neuron(value)):
                raise ValidationError(f"populations.{self.population}.params.{key}", "per-neuron values",
                                      "a single value: the f-I curve is of one neuron")
        self.dropped_initial = sorted(k for k, v in pop.initial.items() if _is_distribution(v) or _is_per_neuron(v))
        self.model = pop.model

    def __call__(self, currents):
        from ..network import Network, Population, SpikeMonitor

        pop = self.net.populations[self.population]
        net = Network(name="fi", seed=self.net.seed, dt=u.Quantity(self.net.dt if self.dt is None else self.dt, u.TIME))
        params = {**pop.params, "bias": u.Quantity(np.asarray(currents, float), u.CURRENT)}
        initial = {k: v for k, v in pop.initial.items() if k not in self.dropped_initial}
        copy = net.add(Population(len(currents), pop.model, params, initial, name=self.population))
        net.add(SpikeMonitor(copy))
        result = net.run(u.Quantity(self.duration, u.TIME), backend=self.backend, **self.options)
        return result.spikes[self.population]


def _is_per_neuron(value) -> bool:
    if isinstance(value, (str, dict)):
        return False
    return isinstance(value, (list, tuple)) or np.ndim(getattr(value, "value", value)) > 0


# ----------------------------------------------------------------------------- measurement
class _Stages:
    """One progress bar over the runs (curve, bisection, onset probes), on a terminal only."""

    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="run", desc="fi", leave=False)

    def step(self, what: str):
        if self.bar is not None:
            self.bar.set_postfix_str(what)
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _rates(drive, currents, duration, transient):
    t, i = drive(np.asarray(currents, float))
    return spike_rates(t, i, len(currents), duration, transient)


def measure_fi(drive, currents, duration: float, transient: float, *, dt: float,
               rel_resolution: float = REL_RESOLUTION, progress: bool = False) -> dict:
    """The f-I measurement of the module docstring with any ``drive``; returns fi.json's fields
    (without ``model``); ``dt`` is the step of the runs (it bounds the precision of a rate)."""
    currents = check_currents(currents)
    check_times(duration, transient)
    span = currents[-1] - currents[0]
    resolution = rel_resolution * span
    n_bisect = max(1, math.ceil(math.log(max(np.diff(currents).max() / resolution, 1.0), PROBES_PER_RUN + 1)))
    stages = _Stages(n_bisect + 2, progress)
    floor = 1.0 / (duration - transient)
    out = {"duration_s": duration, "transient_s": transient, "dt_s": dt, "rate_floor_hz": floor,
           "currents_A": currents.tolist(), "rheobase_A": None, "rheobase_resolution_A": None,
           "rheobase_bracket_A": None, "onset": None, "onset_statistic": None, "exponent": None,
           "exponent_ci95": None, "threshold_fit_A": None, "min_rate_hz": None, "onset_probes": None, "notes": []}
    try:
        rates, first = _rates(drive, currents, duration, transient)
        stages.step("curve")
        out["rates_hz"] = rates.tolist()
        out["first_spike_s"] = [None if np.isnan(x) else float(x) for x in first]
        firing = np.nonzero(rates > 0)[0]
        if firing.size == 0:
            out["notes"].append(f"no current up to {currents[-1]:g} A fires repetitively: raise the range's STOP")
            return out
        j = firing[0]
        if j == 0:
            out["notes"].append(f"the lowest current ({currents[0]:g} A) already fires: lower the range's START "
                                "to bracket the rheobase")
            return out
        lo, hi, f_hi = _bisect(drive, currents[j - 1], currents[j], rates[j], resolution, duration, transient, stages)
        out.update(rheobase_A=hi, rheobase_resolution_A=hi - lo, rheobase_bracket_A=[lo, hi])
        out.update(_onset(drive, lo, hi, f_hi, currents[-1], duration, transient, dt, floor, stages))
    finally:
        stages.close()
    return out


def _bisect(drive, lo, hi, f_hi, resolution, duration, transient, stages):
    """Narrow [lo, hi] (lo silent, hi firing) to ``resolution`` with PROBES_PER_RUN neurons a run."""
    while hi - lo > resolution:
        probes = lo + (hi - lo) * np.arange(1, PROBES_PER_RUN + 1) / (PROBES_PER_RUN + 1)
        if not lo < probes[0] < probes[-1] < hi:      # the bracket is at the float64 spacing
            break
        rates, _ = _rates(drive, probes, duration, transient)
        stages.step("rheobase")
        firing = np.nonzero(rates > 0)[0]
        if firing.size == 0:
            lo = probes[-1]
            continue
        m = firing[0]
        hi, f_hi = probes[m], rates[m]
        if m > 0:
            lo = probes[m - 1]
    return float(lo), float(hi), float(f_hi)


def _onset(drive, lo, hi, f_hi, top, duration, transient, dt, floor, stages) -> dict:
    eps = hi - lo
    decades = min(PROBE_DECADES, math.log10((top - lo) / eps))
    out = {"min_rate_hz": None, "notes": []}
    if decades < ONSET_DECADES:
        out["notes"].append(f"the range reaches only {decades:.1f} decades of I - I_c above the rheobase's resolution; "
                            f"the onset needs {ONSET_DECADES}: raise STOP")
        return out
    delta = eps * 10.0 ** (np.arange(int(PROBES_PER_DECADE * decades) + 1) / PROBES_PER_DECADE)
    rates, _ = _rates(drive, lo + delta, duration, transient)
    stages.step("onset")
    out["onset_probes"] = {"delta_A": delta.tolist(), "currents_A": (lo + delta).tolist(), "rates_hz": rates.tolist()}
    onset, s, note = classify_onset(delta, rates, eps, floor, dt)
    out["onset_statistic"] = s
    if note:
        out["notes"].append(note)
    out["onset"] = onset
    if onset == "type1":
        beta, ci, ic = fit_exponent(lo + delta, rates, lo, eps, floor)
        out.update(exponent=beta, exponent_ci95=ci, threshold_fit_A=ic)
        out["notes"].append(f"continuous down to {f_hi:.3g} Hz, the lowest rate these runs resolve (floor "
                            f"{floor:.3g} Hz): a jump to a smaller rate needs a longer duration to be seen")
    elif onset == "type2":
        out["min_rate_hz"] = float(f_hi)
    return out


def _usable(delta, rates, eps, floor):
    return (delta >= BRACKET_FACTOR * eps * (1 - 1e-9)) & (rates >= FLOOR_FACTOR * floor)


def classify_onset(delta, rates, eps: float, floor: float, dt: float):
    """(onset, s, note) from onset probes at I_lo + delta (module docstring)."""
    delta, rates = np.asarray(delta, float), np.asarray(rates, float)
    ok = _usable(delta, rates, eps, floor)
    if not ok.any():
        return None, None, "no onset probe fires clearly above the rate floor: lengthen --duration"
    d0 = delta[ok].min()
    window = ok & (delta <= d0 * 10.0 ** ONSET_DECADES * (1 + 1e-9))
    idx = np.nonzero(window)[0]
    pairs = [(k, k + PROBES_PER_DECADE) for k in idx if k + PROBES_PER_DECADE < delta.size
             and ok[k + PROBES_PER_DECADE]]
    if len(pairs) < PROBES_PER_DECADE + 1:
        return None, None, (f"fewer than two decades of onset probes fire above {FLOOR_FACTOR:g}x the rate floor "
                            "(lengthen --duration or raise STOP)")
    k0 = np.array([a for a, _ in pairs])
    k1 = np.array([b for _, b in pairs])
    g = 1.0 / np.where(rates > 0, rates, np.inf)
    # a mean interval is known to about 2 dt: smaller changes of g are noise
    change = np.maximum(g[k0] - g[k1], 2.0 * dt)
    s = float(np.polyfit(np.log10(delta[k0]), np.log10(change), 1)[0])
    if s < -ONSET_SLOPE:
        return "type1", s, None
    if s > ONSET_SLOPE:
        return "type2", s, None
    return "logarithmic", s, None


def fit_exponent(currents, rates, lo: float, eps: float, floor: float):
    """beta, its 95 % CI and I_c of 1/f = T_0 + A (I - I_c)^-beta on the lowest FIT_DECADES usable decades.

    Near a saddle-node on an invariant circle the period is the passage through the
    saddle-node's ghost, A (I - I_c)^-beta with beta = 1/2, plus the time T_0 of the rest of
    the cycle (reset, recovery); fitting f = C (I - I_c)^beta alone would read
    beta (1 - T_0 f), well below 1/2 at measurable rates."""
    from scipy import optimize, stats

    currents, rates = np.asarray(currents, float), np.asarray(rates, float)
    delta = currents - lo
    ok = _usable(delta, rates, eps, floor)
    d0 = delta[ok].min()
    ok &= delta <= d0 * 10.0 ** FIT_DECADES * (1 + 1e-9)
    x, y = delta[ok] / d0, np.log(rates[ok])       # delta in units of the first usable one

    def model(x, ln_a, beta, c, t0):
        return -np.log(t0 + np.exp(ln_a) * (x - c) ** -beta)

    if x.size < 5:
        return None, None, None
    try:
        p, cov = optimize.curve_fit(model, x, y, p0=(-y[0], 0.5, 0.0, 0.0),
                                    bounds=([-np.inf, 0.01, -np.inf, 0.0], [np.inf, 5.0, 0.999, np.inf]))
    except (RuntimeError, ValueError):
        return None, None, None
    ic = float(lo + p[2] * d0)
    if not np.isfinite(cov[1, 1]):
        return float(p[1]), None, ic
    half = float(stats.t.ppf(0.975, x.size - 4) * math.sqrt(cov[1, 1]))
    return float(p[1]), [float(p[1] - half), float(p[1] + half)], ic


def fi_curve(net, population: str, currents, *, duration: float | None = None, transient: float = 0.5,
             dt: float | None = None, backend: str = "native", progress: bool = False,
             rel_resolution: float = REL_RESOLUTION, **options) -> dict:
    """The f-I measurement of ``population`` of ``net`` on ``backend``: fi.json's fields as a dict."""
    duration = 2.0 if duration is None else float(duration)
    currents = check_currents(currents)
    check_times(duration, float(transient))
    drive = NetworkDrive(net, population, duration, dt, backend, dict(options))
    out = measure_fi(drive, currents, duration, float(transient), dt=net.dt if dt is None else dt,
                     rel_resolution=rel_resolution, progress=progress)
    if drive.dropped_initial:
        out["notes"].append("per-neuron initial values of " + ", ".join(drive.dropped_initial)
                            + " dropped: every neuron starts from the model's default")
    if "bias" in net.populations[population].params:
        out["notes"].append("the population's own bias is replaced by the currents")
    return {"model": net.name, "population": population, "neuron_model": drive.model, "backend": backend, **out}


# ----------------------------------------------------------------------------- output
def plot_fi(fi: dict, path=None):
    """The curve (with the rheobase) and, on log axes, the onset probes against I - I_lo."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    ax, ax2 = fig.subplots(1, 2)
    pa = 1e12
    ax.plot(np.asarray(fi["currents_A"]) * pa, fi["rates_hz"], "o-", ms=3, color="C0", label="rate (1/mean ISI)")
    if fi.get("rheobase_A") is not None:
        ax.axvline(fi["rheobase_A"] * pa, color="C3", ls="--", lw=1, label=f"rheobase {fi['rheobase_A'] * pa:.4g} pA")
    ax.set_xlabel("current (pA)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"{fi.get('model')}: {fi.get('population')} ({fi.get('neuron_model')}), onset {fi.get('onset')}")
    ax.legend(loc="upper left", fontsize=8)
    probes = fi.get("onset_probes")
    if probes:
        d, r = np.asarray(probes["delta_A"]), np.asarray(probes["rates_hz"])
        fire = r > 0
        ax2.loglog(d[fire] * pa, r[fire], "o-", ms=3, color="C0", label="onset probes")
        ax2.axhline(fi["rate_floor_hz"], color="0.5", ls=":", lw=1, label="rate floor 1/(duration - transient)")
        if fi.get("exponent") is not None:
            c = fi["exponent"]
            ax2.plot([], [], " ", label=f"fit beta = {c:.3f}" + (
                f" [{fi['exponent_ci95'][0]:.3f}, {fi['exponent_ci95'][1]:.3f}]" if fi.get("exponent_ci95") else ""))
        if fi.get("min_rate_hz") is not None:
            ax2.axhline(fi["min_rate_hz"], color="C3", ls="--", lw=1, label=f"min rate {fi['min_rate_hz']:.3g} Hz")
        ax2.legend(loc="upper left", fontsize=8)
    ax2.set_xlabel("I - I_lo (pA), I_lo: the rheobase bracket's silent end")
    ax2.set_ylabel("rate (Hz)")
    ax2.set_title("onset (s = %s)" % ("-" if fi.get("onset_statistic") is None else f"{fi['onset_statistic']:.3f}"))
    fig.tight_layout()
    if path is not None:
        from ..io.results import OutputFile
        with OutputFile(path, "path") as tmp:
            fig.savefig(tmp, dpi=110)
    return fig


def write_fi_files(fi: dict, directory, plot: bool = True) -> None:
    """fi.json (and fi.png) into ``directory`` (a ResultDirectory's staging path)."""
    directory = Path(directory)
    (directory / FI_JSON).write_text(json.dumps(fi, indent=1))
    if plot:
        plot_fi(fi, directory / FI_PNG)


def save_fi(fi: dict, out, plot: bool = True) -> Path:
    """Write fi.json and fi.png into result directory ``out``, replaced only when complete."""
    from ..io.results import ResultDirectory

    with ResultDirectory(out, "fi", flag="out") as staging:
        write_fi_files(fi, staging.path, plot)
    return Path(out)
