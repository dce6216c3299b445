"""The precision report: how many bits of weight, counter and clock a task needs, per code.

``run_precision`` trains float classifiers on a task (scikit-learn's digits by
default, iris as a smoke test, or the user's (X, y)), converts them to spiking
networks (hwmodels.conversion), quantizes them for each hardware profile
(hwmodels.passes), and simulates every test sample as a spiking network
(hwmodels.batch) while sweeping one resource at a time:

* weight bits 1-8 (the code at ``reference_bits``), counter bits 1-12 (rate code:
  window and counter of N = 2^b - 1 spikes), clock bits 1-12 (temporal code: a clock
  of 2^b ticks over the window);
* under noise conditions: regular vs Poisson rate generation, timing jitter,
  spike loss, clock drift; and a series of jitter levels for the comparison of the
  two codes (sigma*, below);
* over ``seeds`` (each seed its own stratified train/test split, training run,
  Poisson/jitter/loss draws).

Minimum bits: the fewest bits b such that, at b and at the next bit count
measured, the 95% confidence interval (Student t over seeds) of the paired
difference accuracy(spiking, b) - accuracy(float classifier) has its lower bound
at or above -``tolerance`` (1%). Accuracy counts a tie among k classes as 1/k.
Sweeps of noisy conditions go up one bit count at a time and stop there, or
once three bit counts in a row sit clearly below the band without gaining
(``Sweep``); the noiseless ones measure every bit count.

Profiles: each profile's formats are applied to the float IR (hwmodels.passes,
``exact=False``) and its membrane arithmetic run by hwmodels.batch, so
``--profile loihi`` measures Loihi's precisions (8-bit+sign weights with a shared
exponent and dropped LSBs, 24-bit saturating v, 12-bit decays) on the IR's step
semantics; Lava's exact integer pipeline (hwmodels.loihi, one more step per hop) is
what ``quantize(ir, "loihi")`` returns outside the report.

Theory next to measurement (``theory``, in hwmodels/precision_theory.py): bits a resource carries -- log2(N+1) for
a regular count, 1/2 log2 N for a Poisson count, log2(T/dt + 1) for a clock,
log2(T/(sqrt(12) sigma_eff) + 1) with sigma_eff^2 = dt^2/12 + sigma^2 under jitter --
and the bits each would need to carry the B bits the noiseless code needed.
sigma* is the smallest jitter at which the temporal code needs more clock bits
than the rate code needs counter bits.

Continuous-time reference (``continuous_job``, ``Settings.continuous*``): per seed, the
primary classifier's temporal code is built in continuous time and run in the native
engine's precise mode (hwmodels.continuous); every clock of ``continuous_bits`` under
each of ``continuous_conditions`` (noiseless, jitter, drift) is measured against it:
RMS / bias / largest error of output and hidden spike times, agreement of the decision.
It runs next to the sweeps, on the ideal profile (the clock's error alone).

hwmodels.report turns the returned dict into precision.json, report.html and
report.md; spikecore.cli.precision is the command line.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from spikecore.errors import ValidationError

from . import conversion as conv
from .batch import BatchNet
from .coding import RateCode, TemporalCode, check_code, expected_accuracy
from .passes import quantize, state_layout
# the closed forms and statistics, also read from here by hwmodels.report as precision.<name>
from .precision_theory import (CONFIDENCE, _sigma_of, bits_clock, bits_poisson, bits_regular,  # noqa: F401
                               comparisons, jitter_ceiling, mean_ci, min_bits_from_curve, predicted_bits,
                               t_critical, theory)
from .profiles import get_profile

TASKS = ("digits", "iris")
CLASSIFIERS = ("logreg", "mlp")
RESOURCES = {"rate": ("counter", "weight"), "temporal": ("clock", "weight")}
CODING_RESOURCE = {"rate": "counter", "temporal": "clock"}
#: Samples simulated per kernel call: bounds the memory of a 12-bit rate code's events.
CHUNK = 96


@dataclass(frozen=True)
class Condition:
    """A noise condition: which codes it applies to and what it does to spikes."""
    name: str
    generation: str = "regular"     # rate code spike generation
    jitter: float = 0.0             # s, standard deviation of every input spike time
    loss: float = 0.0               # probability that a data spike is lost
    drift_ppm: float = 0.0          # receiving clock runs fast by this much
    codes: tuple = ("rate", "temporal")


def condition(kind: str, value=None) -> Condition:
    """Named conditions: noiseless, poisson, jitter (value in s), loss (probability), drift (ppm)."""
    if kind == "noiseless":
        return Condition("noiseless")
    if kind == "poisson":
        return Condition("poisson", generation="poisson", codes=("rate",))
    if kind == "jitter":
        return Condition(f"jitter_{value * 1e3:g}ms", jitter=float(value))
    if kind == "loss":
        return Condition(f"loss_{value:g}", loss=float(value))
    if kind == "drift":
        return Condition(f"drift_{value:g}ppm", drift_ppm=float(value))
    raise ValidationError("condition", kind, "noiseless, poisson, jitter, loss or drift")


@dataclass
class Settings:
    seeds: int = 5
    classifiers: tuple = CLASSIFIERS
    counter_bits: tuple = tuple(range(1, 13))
    clock_bits: tuple = tuple(range(1, 13))
    weight_bits: tuple = tuple(range(1, 9))
    reference_bits: int = 8          # code bits while weight bits are swept
    conditions: tuple = (condition("noiseless"), condition("poisson"), condition("jitter", 8e-3),
                         condition("loss", 0.1), condition("drift", 20000))
    weight_conditions: tuple = ("noiseless", "loss_0.1")
    # spread from far below to far above the noiseless requirement's ceiling (sigma ~ T / (sqrt(12) 2^B))
    jitter_series: tuple = (1e-3, 2e-3, 4e-3, 8e-3, 16e-3, 32e-3)
    series_classifier: str = "mlp"
    full_range_conditions: tuple = ("noiseless",)   # others stop once the criterion has held stop_after times
    stop_after: int = 2
    # ... or once plateau_levels bit counts in a row sit below the band (CI upper bound < -tolerance)
    # gaining less than plateau_gain accuracy: more bits of the same resource cannot reach the band
    plateau_levels: int = 3
    plateau_gain: float = 0.005
    test_size: float = 0.3
    max_test: int | None = None
    tolerance: float = 0.01
    hidden: int = 64
    # the continuous-time reference (hwmodels.continuous, precise mode): clock bits measured
    # against it (None: clock_bits), the noise it is measured under, test samples per seed (None: all)
    continuous: bool = True
    continuous_bits: tuple | None = None
    continuous_conditions: tuple = (condition("noiseless"), condition("jitter", 8e-3), condition("drift", 20000))
    continuous_samples: int | None = None

    @classmethod
    def quick(cls) -> "Settings":
        """About a minute on two cores for digits: fewer bits, conditions and samples; still 5 seeds."""
        return cls(classifiers=("mlp",), counter_bits=tuple(range(1, 9)), clock_bits=tuple(range(1, 9)),
                   weight_bits=tuple(range(1, 7)), reference_bits=8,
                   conditions=(condition("noiseless"), condition("poisson"), condition("jitter", 8e-3),
                               condition("loss", 0.1)),
                   weight_conditions=("noiseless",), jitter_series=(4e-3, 16e-3), max_test=300,
                   continuous_samples=100)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["conditions"] = [asdict(c) for c in self.conditions]
        d["continuous_conditions"] = [asdict(c) for c in self.continuous_conditions]
        return d


# ----------------------------------------------------------------------------- task and training
def load_task(task, seed: int, test_size: float = 0.3, max_test: int | None = None):
    """(X_train, X_test, y_train, y_test, name): features min-max scaled to [0, 1] on the training split."""
    from sklearn.model_selection import train_test_split

    if isinstance(task, str):
        if task not in TASKS:
            raise ValidationError("task", task, "one of " + ", ".join(TASKS) + ", or an (X, y) pair")
        from sklearn import datasets
        X, y = (datasets.load_digits if task == "digits" else datasets.load_iris)(return_X_y=True)
        name = task
    else:
        X, y = check_xy(task)
        name = "user"
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    lo, hi = Xtr.min(axis=0), Xtr.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    Xtr = np.clip((Xtr - lo) / span, 0, 1)
    Xte = np.clip((Xte - lo) / span, 0, 1)
    if max_test is not None and yte.size > max_test:
        Xte, yte = Xte[:max_test], yte[:max_test]
    return Xtr, Xte, ytr, yte, name


def check_xy(task):
    if not (isinstance(task, (tuple, list)) and len(task) == 2):
        raise ValidationError("task", type(task).__name__, "'digits', 'iris' or an (X, y) pair")
    X = np.asarray(task[0], dtype=float)
    y = np.asarray(task[1])
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValidationError("X", f"array of shape {X.shape}", "a 2-D array (samples, features)")
    if not np.isfinite(X).all():
        raise ValidationError("X", "non-finite values", "finite features")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValidationError("y", f"{y.size} labels" if y.ndim == 1 else f"array of shape {y.shape}",
                              f"one label per row of X ({X.shape[0]})")
    classes, y_idx = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValidationError("y", f"{classes.size} class", "at least two classes")
    if np.bincount(y_idx).min() < 2:
        raise ValidationError("y", "a class with one sample", "at least two samples per class (stratified split)")
    return X, y_idx


def train(kind: str, Xtr, ytr, seed: int, hidden: int = 64) -> conv.FloatModel:
    """A float classifier: ``logreg`` (one layer) or ``mlp`` (``hidden`` ReLU units)."""
    if kind not in CLASSIFIERS:
        raise ValidationError("classifier", kind, "one of " + ", ".join(CLASSIFIERS))
    context_before = mp.get_start_method(allow_none=True)
    try:
        return conv.FloatModel.from_sklearn(_fit(kind, Xtr, ytr, seed, hidden))
    finally:
        # joblib's Parallel (inside LogisticRegression.fit) fixes the process-wide default
        # multiprocessing context; Lava's import then fails on its set_start_method('fork').
        # Leave the process as it was.
        if context_before is None and mp.get_start_method(allow_none=True) is not None:
            mp.set_start_method(None, force=True)


def _fit(kind, Xtr, ytr, seed, hidden):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if kind == "logreg":
            est = LogisticRegression(max_iter=2000, random_state=seed).fit(Xtr, ytr)
        else:
            est = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=300, learning_rate_init=3e-3,
                                random_state=seed).fit(Xtr, ytr)
    return est


def _train_job(args):
    task, kind, seed, s = args
    Xtr, Xte, ytr, yte, _ = load_task(task, seed, s.test_size, s.max_test)
    model = train(kind, Xtr, ytr, seed, s.hidden)
    float_acc = float(np.mean(model.predict(Xte) == yte))
    return {"classifier": kind, "seed": seed, "model": conv.normalize(model, Xtr), "X": Xte, "y": yte,
            "float_accuracy": float_acc, "n_train": int(ytr.size), "n_test": int(yte.size)}


# ----------------------------------------------------------------------------- one sweep point
@dataclass
class Point:
    """One sweep point of one seed: the unit of work sent to a worker."""
    profile: str
    classifier: str
    seed: int
    code: str
    condition: Condition
    resource: str
    bits: int
    reference_bits: int
    series: bool = False
    trained: dict = field(default=None, repr=False)

    @property
    def cost(self) -> float:
        b = self.reference_bits if self.resource == "weight" else self.bits
        return 2.0 ** b * (3.0 if self.code == "rate" else 1.0)


def _sub_seed(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


def simulate_point(model: conv.FloatModel, X, y, profile, code: str, cond: Condition, code_bits: int,
                   weight_bits: int | None, seed: int) -> dict:
    """Accuracy, spikes, synaptic operations and latency of one sweep point (every sample simulated)."""
    prof = get_profile(profile)
    check_code(code)
    if code == "rate":
        enc = RateCode(code_bits, generation=cond.generation, jitter=cond.jitter, drift_ppm=cond.drift_ppm)
        net = conv.build_rate_network(model, enc.ticks)
        n_steps = conv.rate_steps(model, enc.ticks)
    else:
        enc = TemporalCode(code_bits, jitter=cond.jitter, drift_ppm=cond.drift_ppm)
        net = conv.build_temporal_network(model, enc.ticks)
        n_steps = conv.temporal_steps(model, enc.ticks)
    # exact=False: the batch simulator runs the float IR with the profile's formats and state
    # arithmetic; the exact Loihi pipeline (integer IR, one more step per hop) is hwmodels.loihi's
    g = quantize(conv.to_ir(net), prof, weight_bits=weight_bits, seed=_sub_seed(seed, "w"), exact=False)
    if code == "temporal":
        conv.finalize_temporal(g)
    bn = BatchNet(g, state=state_layout(g, prof))
    credit, spikes, synops, latency = [], [], [], []
    for k0 in range(0, y.size, CHUNK):
        Xc, yc = X[k0:k0 + CHUNK], y[k0:k0 + CHUNK]
        enc_seed = _sub_seed(seed, "enc", k0)
        if code == "rate":
            enc = RateCode(code_bits, generation=cond.generation, jitter=cond.jitter, drift_ppm=cond.drift_ppm,
                           seed=enc_seed)
            res = bn.run(enc.encode(Xc), n_steps, p_loss=cond.loss, seed=_sub_seed(seed, "loss", k0))
            winners = enc.decide(res.counts, prof.counter_overflow)
            latency.append(np.full(yc.size, float(n_steps)))
        else:
            enc = TemporalCode(code_bits, jitter=cond.jitter, drift_ppm=cond.drift_ppm, seed=enc_seed)
            res = bn.run(enc.encode(Xc), n_steps, stop_on_output=True, p_loss=cond.loss,
                         seed=_sub_seed(seed, "loss", k0))
            winners = enc.decide(res.first)
            latency.append(res.steps.astype(float))
        credit.append(expected_accuracy(winners, yc))
        spikes.append(res.spikes)
        synops.append(res.synops)
    return {"accuracy": float(np.mean(np.concatenate(credit))), "spikes": float(np.mean(np.concatenate(spikes))),
            "synops": float(np.mean(np.concatenate(synops))), "latency": float(np.mean(np.concatenate(latency)))}


def run_point(pt: Point) -> dict:
    t = pt.trained
    if pt.resource == "weight":
        code_bits, weight_bits = pt.reference_bits, pt.bits
    else:
        code_bits, weight_bits = pt.bits, None
    res = simulate_point(t["model"], t["X"], t["y"], pt.profile, pt.code, pt.condition, code_bits, weight_bits,
                         _sub_seed(pt.seed, pt.code, pt.condition.name, pt.resource, pt.bits))
    return {"profile": pt.profile, "classifier": pt.classifier, "seed": pt.seed, "code": pt.code,
            "condition": pt.condition.name, "resource": pt.resource, "bits": int(pt.bits), "series": pt.series,
            "float_accuracy": t["float_accuracy"], **res}


# ----------------------------------------------------------------------------- continuous-time reference
def continuous_job(args) -> dict:
    """One seed's clock-against-continuous-time comparison (hwmodels.continuous), ideal profile.

    The reference is the noiseless continuous-time network run in precise mode; every
    b-bit clock of ``continuous_bits`` runs under every ``continuous_conditions`` entry and
    is measured against it. Under noise, the continuous network with the same noisy input
    times (bits None) is the noise's own effect, and each clock is also measured against it
    (``rms_vs_same_noise_s``: the clock's share)."""
    from . import continuous as ct

    t, s = args
    t0 = time.process_time()
    model, X, y, seed = t["model"], t["X"], t["y"], t["seed"]
    if s.continuous_samples is not None:
        X, y = X[:s.continuous_samples], y[:s.continuous_samples]
    ref = ct.continuous_reference(model, X)
    closed = ct.construction_times(model, X)
    win = ref.decide()
    pred = model.predict(X)
    acts = ct.clipped_activations(model, X)
    errs = [np.abs(a - b)[~np.isnan(a) & ~np.isnan(b)] for a, b in zip(ref.times, closed)]
    rec = {"seed": seed, "n": int(y.size), "accuracy": float(np.mean(expected_accuracy(win, y))),
           "float_accuracy": float(np.mean(pred == y)),
           "float_agreement": float(np.mean(win[np.arange(y.size), pred] / win.sum(axis=1))),
           "construction_agreement": ct.agreement(win, ct.first_winners(closed[-1])),
           "construction_max_error_s": float(max((e.max() for e in errs if e.size), default=0.0)),
           "saturated_ties": float(np.mean((acts[-1] >= 1.0).sum(axis=1) >= 2)),
           "hidden_clipped": float(np.mean(np.any(np.concatenate([a > 1.0 for a in acts[:-1]], axis=1), axis=1)))
           if len(acts) > 1 else 0.0, "points": []}
    for cond in s.continuous_conditions:
        enc_seed = _sub_seed(seed, "continuous", cond.name)
        noisy = cond.jitter > 0 or cond.drift_ppm != 0
        same = ref
        if noisy:
            same = ct.continuous_reference(model, X, jitter=cond.jitter, drift_ppm=cond.drift_ppm, seed=enc_seed)
            rec["points"].append(_continuous_point(cond, None, None, same, ref, y, None))
        for b in (s.continuous_bits or s.clock_bits):
            clk = ct.clock_times(model, X, b, jitter=cond.jitter, drift_ppm=cond.drift_ppm, seed=enc_seed)
            rec["points"].append(_continuous_point(cond, b, clk.tick, clk, ref, y, same if noisy else None))
    rec["cpu_s"] = time.process_time() - t0
    return rec


def _continuous_point(cond, bits, tick, other, ref, y, same) -> dict:
    from . import continuous as ct

    e = ct.timing_error(other, ref)
    hidden = [lay["rms_s"] for lay in e["layers"][:-1] if lay["rms_s"] is not None]
    return {"condition": cond.name, "bits": bits, "tick_s": tick, "rms_output_s": e["output"]["rms_s"],
            "mean_output_s": e["output"]["mean_s"], "max_output_s": e["output"]["max_abs_s"],
            "unmatched_output": e["output"]["unmatched"],
            "rms_hidden_s": float(np.sqrt(np.mean(np.square(hidden)))) if hidden else None,
            "first_rms_s": e["first_rms_s"], "agreement": e["agreement"],
            "accuracy": float(np.mean(expected_accuracy(other.decide(), y))),
            "rms_vs_same_noise_s": None if same is None else ct.timing_error(other, same)["output"]["rms_s"]}


CONTINUOUS_KEYS = ("rms_output_s", "mean_output_s", "max_output_s", "unmatched_output", "rms_hidden_s", "first_rms_s",
                   "agreement", "accuracy", "rms_vs_same_noise_s")


def summarize_continuous(records: list, s: Settings, classifier: str) -> dict:
    """Means over seeds of every comparison point, and the reference's own checks."""
    from . import continuous as ct

    conds = {}
    for c in s.continuous_conditions:
        rows = []
        for b in [None] + list(s.continuous_bits or s.clock_bits):
            pts = [p for r in records for p in r["points"] if p["condition"] == c.name and p["bits"] == b]
            if not pts:
                continue
            row = {"bits": b, "tick_s": pts[0]["tick_s"], "n_seeds": len(pts)}
            for key in CONTINUOUS_KEYS:
                vals = [p[key] for p in pts if p[key] is not None]
                row[key] = float(np.mean(vals)) if vals else None
            row["agreement_ci"] = mean_ci([p["agreement"] for p in pts])[1:]
            rows.append(row)
        conds[c.name] = rows
    ref = {key: float(np.mean([r[key] for r in records]))
           for key in ("accuracy", "float_accuracy", "float_agreement", "construction_agreement", "saturated_ties",
                       "hidden_clipped")}
    ref["construction_max_error_s"] = float(max(r["construction_max_error_s"] for r in records))
    return {"profile": "ideal", "classifier": classifier, "samples": int(records[0]["n"]), "seeds": len(records),
            "window_s": conv.WINDOW, "edge_s": ct.EDGE_FRACTION * conv.WINDOW, "hop_s": ct.HOP_FRACTION * conv.WINDOW,
            "reference": ref, "conditions": conds,
            "error_factor_per_bit": error_factor_per_bit(conds.get("noiseless", [])),
            "cpu_s": float(sum(r["cpu_s"] for r in records))}


def error_factor_per_bit(rows: list):
    """2^-slope of a least-squares line through log2(RMS output error) against clock bits (None if
    fewer than two bit counts with an error > 0): by how much one more bit divides the error."""
    pts = [(r["bits"], r["rms_output_s"]) for r in rows if r["bits"] is not None and r["rms_output_s"]]
    if len(pts) < 2:
        return None
    b, e = np.array(pts, float).T
    slope = np.polyfit(b, np.log2(e), 1)[0]
    return float(2.0 ** -slope)


# ----------------------------------------------------------------------------- the whole report
@dataclass
class Sweep:
    """One curve: a resource swept for one profile, classifier, code and condition, over all seeds.

    ``adaptive`` sweeps go up one bit count at a time and stop once the criterion has
    held at ``stop_after`` consecutive bit counts (more bits cannot lower the minimum),
    or once ``plateau_levels`` bit counts in a row are all clearly below the band
    (CI upper bound) and gain less than ``plateau_gain`` (more bits of this resource do
    not reach it: the noise, not the resolution, limits the code); the others measure
    every bit count."""
    profile: str
    classifier: str
    code: str
    condition: Condition
    resource: str
    bits: tuple
    adaptive: bool
    series: bool = False
    next: int = 0
    passes: int = 0
    done: dict = field(default_factory=dict)    # bits -> {seed: record}
    history: list = field(default_factory=list)  # (mean accuracy, diff CI upper bound) per bit count

    @property
    def key(self):
        return (self.profile, self.classifier, self.code, self.condition.name, self.resource)


def plan(profiles, s: Settings) -> list:
    sweeps = []
    for prof in profiles:
        maxw = get_profile(prof).max_weight_bits
        wbits = tuple(b for b in s.weight_bits if maxw is None or b <= maxw)
        for kind in s.classifiers:
            for cond in s.conditions:
                for code in cond.codes:
                    bits = s.counter_bits if code == "rate" else s.clock_bits
                    sweeps.append(Sweep(prof, kind, code, cond, CODING_RESOURCE[code], tuple(bits),
                                        adaptive=cond.name not in s.full_range_conditions))
                    if cond.name in s.weight_conditions and wbits:
                        sweeps.append(Sweep(prof, kind, code, cond, "weight", wbits, adaptive=False))
            if kind == s.series_classifier:
                named = {c.name for c in s.conditions}
                for sigma in s.jitter_series:
                    cond = condition("jitter", sigma)
                    if cond.name in named:
                        continue
                    for code in ("rate", "temporal"):
                        bits = s.counter_bits if code == "rate" else s.clock_bits
                        sweeps.append(Sweep(prof, kind, code, cond, CODING_RESOURCE[code], tuple(bits),
                                            adaptive=True, series=True))
    return sweeps


def check_profiles(profiles) -> list:
    if isinstance(profiles, str):
        profiles = [p.strip() for p in profiles.split(",") if p.strip()]
    if not profiles:
        raise ValidationError("profile", profiles, "at least one profile name")
    return [get_profile(p).name if not str(p).endswith((".yaml", ".yml")) else str(p) for p in profiles]


def run_precision(task="digits", profiles=("ideal",), quick: bool = False, settings: Settings | None = None,
                  jobs: int | None = None, scheduler: str | None = None, progress: bool = False) -> dict:
    """Run the sweeps and return the report dict (hwmodels.report writes it out)."""
    t0 = time.perf_counter()
    if isinstance(task, str) and task not in TASKS:
        raise ValidationError("task", task, "one of " + ", ".join(TASKS) + ", or an (X, y) pair")
    if not isinstance(task, str):
        check_xy(task)
    profiles = check_profiles(profiles)
    s = settings or (Settings.quick() if quick else Settings())
    _check_settings(s)
    n_jobs = _check_jobs(jobs)
    runner = _Runner(n_jobs, scheduler)
    try:
        trained = {}
        train_args = [(task, kind, seed, s) for kind in s.classifiers for seed in range(s.seeds)]
        for res in runner.run_all(_train_job, train_args, progress, "training"):
            trained[(res["classifier"], res["seed"])] = res
        # the continuous-time reference runs next to the sweeps (one job per seed)
        ref_kind = _primary_classifier(s)
        cont_jobs = [runner.submit(continuous_job, (trained[(ref_kind, seed)], s))
                     for seed in range(s.seeds)] if s.continuous else []
        records = _run_sweeps(runner, plan(profiles, s), s, trained, progress)
        cont_records = [f.result() for f in cont_jobs]
    finally:
        runner.close()
    first = trained[(s.classifiers[0], 0)]
    meta = {"task": task if isinstance(task, str) else "user", "profiles": profiles, "quick": bool(quick),
            "n_train": first["n_train"], "n_test": first["n_test"], "n_features": int(first["X"].shape[1]),
            "n_classes": int(first["model"].n_classes), "settings": s.to_dict(), "window_s": conv.WINDOW,
            "float_accuracy_by_seed": {k: [trained[(k, i)]["float_accuracy"] for i in range(s.seeds)]
                                       for k in s.classifiers}}
    report = summarize(records, meta, s)
    if cont_records:
        report["continuous"] = summarize_continuous(cont_records, s, ref_kind)
    report["wall_s"] = time.perf_counter() - t0
    report["jobs"] = n_jobs if scheduler is None else f"dask:{scheduler}"
    return report


def _run_sweeps(runner, sweeps: list, s: Settings, trained: dict, progress: bool) -> list:
    """Run every sweep point, submitting adaptive sweeps one bit count at a time."""
    total = sum(len(sw.bits) for sw in sweeps) * s.seeds
    bar = _bar(total, progress, "simulating")
    pending = {}
    records = []

    def submit(sw: Sweep, b: int):
        for seed in range(s.seeds):
            pt = Point(sw.profile, sw.classifier, seed, sw.code, sw.condition, sw.resource, b, s.reference_bits,
                       sw.series, trained[(sw.classifier, seed)])
            pending[runner.submit(run_point, pt)] = (sw, b)

    # expensive sweeps first, so the last minutes are not one long job on one core
    order = sorted(sweeps, key=lambda sw: -(2.0 ** max(sw.bits) * (3 if sw.code == "rate" else 1)))
    for sw in order:
        if sw.adaptive:
            submit(sw, sw.bits[0])
        else:
            for b in sw.bits:
                submit(sw, b)
    try:
        while pending:
            for fut in runner.wait_any(list(pending)):
                sw, b = pending.pop(fut)
                rec = fut.result()
                records.append(rec)
                bar.update(1)
                got = sw.done.setdefault(b, {})
                got[rec["seed"]] = rec
                if not sw.adaptive or len(got) < s.seeds:
                    continue
                diff = [r["accuracy"] - r["float_accuracy"] for r in got.values()]
                _, low, high = mean_ci(diff)
                sw.passes = sw.passes + 1 if low >= -s.tolerance else 0
                sw.history.append((float(np.mean([r["accuracy"] for r in got.values()])), high))
                sw.next += 1
                last = sw.history[-s.plateau_levels:]
                plateau = (len(last) == s.plateau_levels and all(h < -s.tolerance for _, h in last)
                           and last[-1][0] - last[0][0] < s.plateau_gain)
                if sw.passes >= s.stop_after or plateau or sw.next >= len(sw.bits):
                    bar.skip((len(sw.bits) - sw.next) * s.seeds)
                else:
                    submit(sw, sw.bits[sw.next])
    finally:
        bar.close()
    return records


def _check_settings(s: Settings):
    if isinstance(s.seeds, bool) or not isinstance(s.seeds, int) or s.seeds < 2:
        raise ValidationError("seeds", s.seeds, "at least 2 seeds (a confidence interval needs them)")
    for name in ("counter_bits", "clock_bits", "weight_bits"):
        bits = getattr(s, name)
        if not bits:
            raise ValidationError(name, bits, "at least one bit count")
        for b in bits:
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b <= 0:
                raise ValidationError(name, b, "bit counts >= 1")
        if list(bits) != sorted(set(bits)):
            raise ValidationError(name, bits, "increasing bit counts")
    if isinstance(s.reference_bits, bool) or not isinstance(s.reference_bits, int) or s.reference_bits <= 0:
        raise ValidationError("reference_bits", s.reference_bits, "bits >= 1")
    for k in s.classifiers:
        if k not in CLASSIFIERS:
            raise ValidationError("classifier", k, "one of " + ", ".join(CLASSIFIERS))
    if not 0 < s.tolerance < 1:
        raise ValidationError("tolerance", s.tolerance, "a fraction in (0, 1)")
    if s.continuous_bits is not None:
        if not s.continuous_bits:
            raise ValidationError("continuous_bits", s.continuous_bits, "at least one bit count, or None")
        for b in s.continuous_bits:
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 1 <= b <= 20:
                raise ValidationError("continuous_bits", b, "clock bit counts in 1-20")
    for c in s.continuous_conditions:
        if not isinstance(c, Condition) or c.loss or c.generation != "regular":
            raise ValidationError("continuous_conditions", getattr(c, "name", c),
                                  "noiseless, jitter or drift conditions (the reference measures spike times)")
    if s.continuous_samples is not None and (isinstance(s.continuous_samples, bool)
                                             or not isinstance(s.continuous_samples, int)
                                             or s.continuous_samples < 1):
        raise ValidationError("continuous_samples", s.continuous_samples, "a positive number of samples, or None")


def _check_jobs(jobs) -> int:
    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValidationError("--jobs", jobs, "a positive number of worker processes")
    return jobs


class _Done:
    """A finished call in this process, shaped like a future."""

    def __init__(self, fn, arg):
        self.value = fn(arg)

    def result(self):
        return self.value


class _Runner:
    """Runs calls in this process (1 job), in worker processes, or on a Dask cluster (``scheduler``)."""

    def __init__(self, n_jobs: int, scheduler: str | None):
        self.pool = None
        self.client = None
        self.cluster = None
        if scheduler is not None:
            # the sweeps' Dask machinery: a short connect timeout, one thread and a cache per worker
            from spikecore.sweep.cluster import open_client
            self.cluster = open_client(scheduler=scheduler)
            self.client = self.cluster.client
        elif n_jobs > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor
            _warm_up()   # compile (or load) the kernels once; forked workers inherit them
            self.pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("fork"))

    def submit(self, fn, arg):
        if self.client is not None:
            return self.client.submit(fn, arg, pure=False)
        if self.pool is not None:
            return self.pool.submit(fn, arg)
        return _Done(fn, arg)

    def wait_any(self, futures):
        """Some finished futures among ``futures`` (at least one)."""
        if self.client is not None:
            from distributed import as_completed
            first = next(as_completed(futures, loop=self.client.loop))   # this client's, not a default one
            return [first] + [f for f in futures if f is not first and f.done()]
        if self.pool is not None:
            from concurrent.futures import FIRST_COMPLETED, wait
            return list(wait(futures, return_when=FIRST_COMPLETED).done)
        return futures[:1]

    def run_all(self, fn, items, progress: bool, desc: str):
        bar = _bar(len(items), progress, desc)
        pending = [self.submit(fn, it) for it in items]
        try:
            while pending:
                for fut in self.wait_any(pending):
                    pending.remove(fut)
                    bar.update(1)
                    yield fut.result()
        finally:
            bar.close()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.cluster is not None:
            self.cluster.close()


class _Bar:
    """tqdm progress bar on stderr (or nothing); ``skip`` removes work an adaptive sweep will not do."""

    def __init__(self, total, progress, desc):
        self.bar = None
        if progress:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="point", leave=False, dynamic_ncols=True)

    def update(self, n):
        if self.bar is not None:
            self.bar.update(n)

    def skip(self, n):
        if self.bar is not None and n:
            self.bar.total -= n
            self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _bar(total, progress, desc):
    return _Bar(total, progress, desc)


def _warm_up():
    """Compile (or load from numba's cache) the batch kernels with a one-sample run of each code."""
    model = conv.FloatModel([(np.ones((2, 2)), np.zeros(2))])
    for code in ("rate", "temporal"):
        simulate_point(model, np.array([[0.5, 0.25]]), np.array([0]), "ideal", code, condition("noiseless"), 2,
                       None, 0)


def _primary_classifier(s: Settings) -> str:
    return s.series_classifier if s.series_classifier in s.classifiers else s.classifiers[0]


def summarize(records: list, meta: dict, s: Settings) -> dict:
    groups = {}
    for r in records:
        key = (r["profile"], r["classifier"], r["code"], r["condition"], r["resource"], r["bits"])
        groups.setdefault(key, []).append(r)
    curves = {}
    for key, rs in sorted(groups.items(), key=lambda kv: kv[0]):
        prof, kind, code, cond, res, bits = key
        rs = sorted(rs, key=lambda r: r["seed"])
        acc = [r["accuracy"] for r in rs]
        diff = [r["accuracy"] - r["float_accuracy"] for r in rs]
        m, lo, hi = mean_ci(acc)
        dm, dlo, dhi = mean_ci(diff)
        point = {"bits": bits, "accuracy": m, "ci_low": lo, "ci_high": hi, "diff": dm, "diff_low": dlo,
                 "diff_high": dhi, "n_seeds": len(rs), "series": rs[0]["series"],
                 "spikes": float(np.mean([r["spikes"] for r in rs])),
                 "synops": float(np.mean([r["synops"] for r in rs])),
                 "latency": float(np.mean([r["latency"] for r in rs]))}
        curves.setdefault(prof, {}).setdefault(kind, {}).setdefault(code, {}).setdefault(cond, {}) \
            .setdefault(res, []).append(point)
    by_profile = {}
    for prof, kinds in curves.items():
        by_profile[prof] = {}
        for kind, codes in kinds.items():
            fa = meta["float_accuracy_by_seed"][kind]
            mb = {code: {cond: {res: min_bits_from_curve(pts, s.tolerance, s.stop_after) for res, pts in ress.items()}
                         for cond, ress in conds.items()} for code, conds in codes.items()}
            by_profile[prof][kind] = {"float_accuracy": float(np.mean(fa)), "float_accuracy_ci": mean_ci(fa)[1:],
                                      "min_bits": mb, "curves": codes}
            by_profile[prof][kind]["theory"] = theory(mb, codes, s)
            by_profile[prof][kind]["comparisons"] = comparisons(codes)
    primary_prof = meta["profiles"][0]
    primary_kind = _primary_classifier(s)
    prim = by_profile[primary_prof][primary_kind]
    main_conditions = {c.name for c in s.conditions}
    min_bits = {code: {cond: v for cond, v in conds.items() if cond in main_conditions}
                for code, conds in prim["min_bits"].items()}
    return {"version": 1, **meta, "primary": {"profile": primary_prof, "classifier": primary_kind},
            "float_accuracy": prim["float_accuracy"], "tolerance": s.tolerance, "confidence": CONFIDENCE,
            "min_bits": min_bits, "sigma_star": prim["theory"]["sigma_star"], "by_profile": by_profile}
