"""Precision of on-chip learning: how many weight bits and trace bits an STDP-trained classifier
needs, under the ``loihi`` profile (Lava 0.10's fixed-point learning engine), to reach the
accuracy its floating-point learning reaches, within 1 %.

The task (``classifier_net``): scikit-learn's digits (8x8 images, 10 classes), each seed its own
stratified train/test split (hwmodels.precision.load_task: features min-max scaled to [0, 1]).
Training is supervised STDP on Loihi's learning engine, run bit for bit by
spikecore.engine.loihi_learning (the native emulator of ``PyLearningDenseModelBitApproximate``):

* 64 input neurons (a ``SpikeInput``) and 10 output LIF neurons; each training sample is shown for
  ``present`` steps followed by ``gap`` silent steps, in a shuffled order (seeded);
* latency code: pixel i with intensity x_i > 0 spikes once, at step round(x_i * (present - 1)) of
  the window (brighter pixels later, closer to the teacher spike); x_i = 0 never spikes;
* a teacher input makes the output neuron of the sample's class spike once, at step ``present``
  of the window (a Dense of weight 255 << 7 onto a LIF with du = dv = 4095 and vth = 16384);
* the plastic ``LearningDense`` (inputs -> outputs, sign mode excitatory, weights from 0) learns by
  ``dw = A+/I * x1 * y0 - A-/I * y1 * x0`` with traces x1, y1 of impulse I and time constant
  ``tau`` steps, t_epoch 1. Its weights never make an output spike (at most 64 * 255 >> b a_in
  against a threshold of 16384 << 6): the output spikes are the teacher's in every run, so that the
  learned weights are the only thing the precision changes (``run_point`` checks it).

The outcome: the test accuracy of the learned weights W (10 x 64) read out as
``argmax_j (W_j . x) / sum_i W_ji`` (the class whose learned template, normalized by its total
weight, matches the test image best; a tie among k classes counts 1/k, an all-zero row never
wins). Floating-point learning is the same rule in real numbers (``float_weights``): traces
``x <- x * exp(-1/tau) + I * spike`` without rounding or clipping, every update added exactly,
weights clipped at 0 (the sign mode) -- the limit of the fixed-point arithmetic as its bits grow,
and what Lava's floating-point learning model computes on this network (tested against Lava 0.10,
``floating_pt``), so that the same spikes and the same rule differ only by the precision.

The resources, measured on the grid of both (the report's curves are each at the other's
reference: weight bits at ``reference_trace_bits``, trace bits at ``reference_weight_bits``):

* weight bits b (1..8): the learned weights span b bits of the 8-bit mantissa. The rule's
  amplitude is A+ = 2^(b-8) * A8, with A8 the largest power of two for which the float run's
  largest weight stays <= 255 (calibrated per seed): at b bits the float outcome's largest weight
  lies in [2^(b-1), 2^b). The weight exponent is -b (num_weight_bits b), so that the synaptic
  range in a_in units is the same at every b (Loihi's way to trade range for resolution).
* trace bits p (0..6): the trace impulse I = 2^p (the product scale A/I keeps the amplitude):
  p bits of trace below one spike's impulse and 7 - p bits of headroom in Lava's 7-bit traces.

A point is not representable when a product scale A/I falls below Lava's smallest, 2^-7 (the
accumulator's 7 fractional bits: one trace LSB moves the weight by less than that); the report
lists such points instead of measuring them.

Minimum bits: the fewest bits b such that at b and at the next measured bit count the 95 %
confidence interval (Student t over seeds) of the paired difference accuracy(fixed, b) -
accuracy(float) has its lower bound at or above -``tolerance`` (hwmodels.precision_theory,
as the precision report). ``run_learning_precision`` returns the report dict;
hwmodels.report writes it (``write_learning_report``) and spikecore.cli.precision
(``--learning``) is the command line.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from spikecore.errors import ValidationError

from .precision import _check_jobs, _Runner, load_task
from .precision_theory import CONFIDENCE, mean_ci, min_bits_from_curve

TASKS = ("digits", "iris")
WEIGHT_MANT_MAX = 255
S_MIN = 2.0 ** -7                   # Lava's smallest product scale: mantissa 1, exponent -7
S_EXP_RANGE = (-7, 8)
TEACHER_WEIGHT, TEACHER_EXP = 255, 7
OUT_VTH = 16384                     # teacher: 255 << 7 = 32640 a_in; plastic at most 64 * 255 >> b <= 8160
N_CLASSES_MAX = 64


@dataclass
class LearningSettings:
    """What ``run_learning_precision`` sweeps. Steps are Loihi time steps."""
    seeds: int = 10                    # the difference to float varies by about 1 % from seed to seed
    weight_bits: tuple = tuple(range(1, 9))
    trace_bits: tuple = tuple(range(0, 7))
    reference_weight_bits: int = 8
    reference_trace_bits: int = 4      # Lava's STDPLoihi default impulse (16): 3 bits of headroom
    present: int = 8
    gap: int = 8
    tau: int = 4
    minus_ratio: float = 0.5           # A- = minus_ratio * A+ (a power of two)
    test_size: float = 0.3
    max_train: int | None = None
    max_test: int | None = None
    tolerance: float = 0.01

    @classmethod
    def quick(cls) -> "LearningSettings":
        """Seconds: 3 seeds, 300 training and 200 test samples, fewer bit counts."""
        return cls(seeds=3, weight_bits=(5, 6, 7, 8), trace_bits=(2, 4, 6), max_train=300, max_test=200)

    def to_dict(self) -> dict:
        return asdict(self)


def check_settings(s: LearningSettings) -> None:
    if isinstance(s.seeds, bool) or not isinstance(s.seeds, int) or s.seeds < 2:
        raise ValidationError("seeds", s.seeds, "at least 2 seeds (a confidence interval needs them)")
    for name, lo, hi in (("weight_bits", 1, 8), ("trace_bits", 0, 6)):
        bits = getattr(s, name)
        if not bits or list(bits) != sorted(set(bits)):
            raise ValidationError(name, bits, "increasing bit counts")
        for b in bits:
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not lo <= b <= hi:
                raise ValidationError(name, b, f"bit counts in {lo}..{hi}")
    if s.reference_weight_bits not in range(1, 9):
        raise ValidationError("reference_weight_bits", s.reference_weight_bits, "1..8")
    if s.reference_trace_bits not in range(0, 7):
        raise ValidationError("reference_trace_bits", s.reference_trace_bits, "0..6")
    for name in ("present", "tau"):
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, int) or not 2 <= v <= 255:
            raise ValidationError(name, v, "a whole number of steps in 2..255")
    if isinstance(s.gap, bool) or not isinstance(s.gap, int) or s.gap < 1:
        raise ValidationError("gap", s.gap, "a whole number of steps >= 1")
    r = s.minus_ratio
    if not (r == 0 or (r > 0 and math.log2(r) == round(math.log2(r)))):
        raise ValidationError("minus_ratio", r, "0 or a power of two (A- stays a product scale m * 2^e)")
    if not 0 < s.tolerance < 1:
        raise ValidationError("tolerance", s.tolerance, "a fraction in (0, 1)")


# ----------------------------------------------------------------------------- the task
def encode(X: np.ndarray, y: np.ndarray, n_classes: int, s: LearningSettings):
    """(pixels (n_in, steps) uint8, teacher (n_classes, steps) uint8): the latency code and the
    teacher's spikes, one window of ``present + gap`` steps per sample (SpikeInput columns)."""
    n, n_in = X.shape
    L = s.present + s.gap
    pixels = np.zeros((n_in, n * L), dtype=np.uint8)
    teacher = np.zeros((n_classes, n * L), dtype=np.uint8)
    rows, cols = np.nonzero(X > 0)
    at = np.rint(X[rows, cols] * (s.present - 1)).astype(np.int64)
    pixels[cols, rows * L + at] = 1
    teacher[y, np.arange(n) * L + s.present - 1] = 1
    return pixels, teacher


def classifier_net(pixels, teacher, rule, weight_bits: int):
    """The LearningNet: inputs and teacher SpikeInputs, the output LIF group, the teacher's Dense
    and the plastic LearningDense (weights from 0, excitatory, weight exponent -weight_bits)."""
    from spikecore.engine.loihi_learning import DenseConn, LearningDenseConn, LearningNet, LifGroup, SpikeInput
    n_in, n_out = pixels.shape[0], teacher.shape[0]
    return LearningNet(
        groups=[LifGroup("out", n_out, du=4095, dv=4095, vth=OUT_VTH)],
        inputs=[SpikeInput("pixels", pixels), SpikeInput("teacher", teacher)],
        conns=[DenseConn("teach", "teacher", "out", TEACHER_WEIGHT * np.eye(n_out, dtype=np.int64),
                         weight_exp=TEACHER_EXP, sign_mode="excitatory"),
               LearningDenseConn("plastic", "pixels", "out", np.zeros((n_out, n_in), dtype=np.int64), rule,
                                 weight_exp=-int(weight_bits), num_weight_bits=int(weight_bits),
                                 sign_mode="excitatory")])


def literal(c: float) -> str:
    """A product scale as Lava's grammar writes it: a power of two times 1 (A is a power of two)."""
    e = round(math.log2(c))
    if 2.0 ** e != c or not S_EXP_RANGE[0] <= e <= S_EXP_RANGE[1]:
        raise ValueError(c)
    return f"2 ^ {e}"


def representable(a_plus: float, trace_bits: int, minus_ratio: float) -> bool:
    """Whether the product scales A+/I and A-/I (I = 2^trace_bits) are Lava's: 2^-7 .. 2^8."""
    scales = [a_plus] + ([a_plus * minus_ratio] if minus_ratio else [])
    return all(S_MIN <= a / 2.0 ** trace_bits <= 2.0 ** S_EXP_RANGE[1] for a in scales)


def rule_spec(a_plus: float, trace_bits: int, s: LearningSettings, rng_seed: int):
    """dw = A+/I * x1 * y0 - A-/I * y1 * x0, impulses I = 2^trace_bits, taus ``s.tau``."""
    from spikecore.engine.loihi_learning import LearningRuleSpec
    imp = 2.0 ** trace_bits
    dw = f"{literal(a_plus / imp)} * x1 * y0"
    if s.minus_ratio:
        dw += f" - {literal(a_plus * s.minus_ratio / imp)} * y1 * x0"
    return LearningRuleSpec(dw=dw, x1_impulse=imp, x1_tau=s.tau, y1_impulse=imp, y1_tau=s.tau, t_epoch=1,
                            rng_seed=int(rng_seed))


def float_weights(pixels, post, s: LearningSettings, a_plus: float = 1.0) -> np.ndarray:
    """The rule in real numbers on the same spikes: (n_out, n_in) weights in mantissas.

    Per step t (Lava's order within an epoch of one step): x <- x e^(-1/tau) + pre_t,
    y <- y e^(-1/tau) + post_t (traces in units of the impulse), then
    w <- max(0, w + A+ * post_t x^T - A- * y pre_t^T)."""
    decay = math.exp(-1.0 / s.tau)
    n_in, n_steps = pixels.shape
    n_out = post.shape[1]
    x = np.zeros(n_in)
    y = np.zeros(n_out)
    w = np.zeros((n_out, n_in))
    a_minus = a_plus * s.minus_ratio
    pre_steps = np.flatnonzero(pixels.any(axis=0))
    post_steps = np.flatnonzero(post.any(axis=1))
    events = np.union1d(pre_steps, post_steps)
    last = -1
    for t in events:                      # between events the traces only decay
        k = t - last
        x *= decay ** k
        y *= decay ** k
        last = t
        pre = pixels[:, t].astype(float)
        po = post[t].astype(float)
        x += pre
        y += po
        if po.any():
            w += a_plus * np.outer(po, x)
        if a_minus and pre.any():
            w -= a_minus * np.outer(y, pre)
        np.maximum(w, 0.0, out=w)
    return w


def readout_accuracy(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of argmax_j (W_j . x) / sum_i W_ji (rows of zero weight never win; a tie among
    k classes counts 1/k)."""
    W = np.asarray(W, dtype=float)
    total = W.sum(axis=1)
    score = np.where(total > 0, (X @ W.T) / np.where(total > 0, total, 1.0), -np.inf)
    best = score.max(axis=1, keepdims=True)
    top = (score == best) & np.isfinite(score)
    k = top.sum(axis=1)
    hit = top[np.arange(y.size), y]
    return float(np.mean(np.where(k > 0, hit / np.maximum(k, 1), 0.0)))


# ----------------------------------------------------------------------------- one seed, one point
def prepare(task, seed: int, s: LearningSettings) -> dict:
    """The seed's split, spikes, teacher-driven output spikes, float weights and the calibrated A8."""
    Xtr, Xte, ytr, yte, name = load_task(task, seed, s.test_size, s.max_test)
    classes, ytr_i = np.unique(ytr, return_inverse=True)
    yte_i = np.searchsorted(classes, yte)
    order = np.random.default_rng([seed, 19]).permutation(ytr.size)
    if s.max_train is not None:
        order = order[:s.max_train]
    Xtr, ytr_i = Xtr[order], ytr_i[order]
    pixels, teacher = encode(Xtr, ytr_i, classes.size, s)
    # the output spikes are the teacher's, one step later (the Dense's latency)
    post = np.zeros((pixels.shape[1], classes.size), dtype=bool)
    tt, tc = np.nonzero(teacher.T)
    post[tt + 1, tc] = True
    w1 = float_weights(pixels, post, s, 1.0)
    a8 = 2.0 ** math.floor(math.log2(WEIGHT_MANT_MAX / w1.max()))      # largest float weight in [128, 255]
    return {"seed": seed, "task": name, "Xte": Xte, "yte": yte_i, "pixels": pixels, "teacher": teacher,
            "post": post, "float_w": w1 * a8, "a8": a8, "n_train": int(ytr_i.size), "n_test": int(yte_i.size),
            "float_accuracy": readout_accuracy(w1, Xte, yte_i), "classes": classes.size}


def run_point(args) -> dict:
    """One (seed, weight bits, trace bits) point through the emulator: (prepare()'s dict, weight bits,
    trace bits, settings)."""
    from spikecore.engine.loihi_learning import LearningEmulator, compile_rule
    prep, wbits, tbits, s = args
    a_plus = prep["a8"] * 2.0 ** (wbits - 8)
    base = {"seed": prep["seed"], "weight_bits": wbits, "trace_bits": tbits, "float_accuracy": prep["float_accuracy"]}
    if not representable(a_plus, tbits, s.minus_ratio):
        return dict(base, representable=False, accuracy=None)
    rule = compile_rule(rule_spec(a_plus, tbits, s, rng_seed=1000 + prep["seed"]))
    net = classifier_net(prep["pixels"], prep["teacher"], rule, wbits)
    t0 = time.perf_counter()
    res = LearningEmulator(net).run(prep["pixels"].shape[1])
    wall = time.perf_counter() - t0
    if not np.array_equal(res.spikes["out"], prep["post"]):
        raise RuntimeError("the output spikes are not the teacher's: the outcome would mix neuron dynamics "
                           "into the precision (learning_precision.classifier_net's invariant)")
    W = res.conns["plastic"]["weights"].astype(float)
    fw = prep["float_w"] * 2.0 ** (wbits - 8)
    err = np.abs(W - fw)
    return dict(base, representable=True, accuracy=readout_accuracy(W, prep["Xte"], prep["yte"]),
                weight_rmse_lsb=float(np.sqrt(np.mean(err ** 2))), float_max_lsb=float(fw.max()),
                saturated=int((W >= WEIGHT_MANT_MAX).sum()), wall_s=wall, steps=int(prep["pixels"].shape[1]))


# ----------------------------------------------------------------------------- the report
def plan(s: LearningSettings) -> list:
    """Every (weight bits, trace bits) of the grid."""
    return [(wb, tb) for tb in s.trace_bits for wb in s.weight_bits]


def run_learning_precision(task="digits", settings: LearningSettings | None = None, quick: bool = False,
                           jobs: int | None = None, scheduler: str | None = None, progress: bool = False) -> dict:
    """Run the grid of weight and trace bits and return the report dict (profile ``loihi``)."""
    t0 = time.perf_counter()
    if task not in TASKS:
        raise ValidationError("task", task, "one of " + ", ".join(TASKS))
    s = settings or (LearningSettings.quick() if quick else LearningSettings())
    check_settings(s)
    n_jobs = _check_jobs(jobs)
    runner = _Runner(n_jobs, scheduler)
    try:
        preps = list(runner.run_all(_prepare_job, [(task, seed, s) for seed in range(s.seeds)], progress,
                                    "float learning"))
        preps.sort(key=lambda p: p["seed"])
        args = [(p, wb, tb, s) for p in preps for wb, tb in plan(s)]
        records = list(runner.run_all(run_point, args, progress, "emulating"))
    finally:
        runner.close()
    report = summarize(records, preps, s, task)
    report["wall_s"] = time.perf_counter() - t0
    report["jobs"] = n_jobs if scheduler is None else f"dask:{scheduler}"
    return report


def _prepare_job(args):
    task, seed, s = args
    return prepare(task, seed, s)


def _point(rs: list, wb: int, tb: int) -> dict:
    if not all(r["representable"] for r in rs):
        return {"weight_bits": wb, "trace_bits": tb, "representable": False, "n_seeds": len(rs)}
    acc = [r["accuracy"] for r in rs]
    diff = [r["accuracy"] - r["float_accuracy"] for r in rs]
    m, lo, hi = mean_ci(acc)
    dm, dlo, dhi = mean_ci(diff)
    return {"weight_bits": wb, "trace_bits": tb, "representable": True, "accuracy": m, "ci_low": lo, "ci_high": hi,
            "diff": dm, "diff_low": dlo, "diff_high": dhi, "n_seeds": len(rs),
            "weight_rmse_lsb": float(np.mean([r["weight_rmse_lsb"] for r in rs])),
            "float_max_lsb": float(np.mean([r["float_max_lsb"] for r in rs])),
            "saturated": int(sum(r["saturated"] for r in rs)),
            "wall_s": float(np.mean([r["wall_s"] for r in rs]))}


def _min_bits(points: list, key: str, tolerance: float, on: str = "diff_low"):
    """min_bits_from_curve over the representable points, bits read from ``key``; ``on="diff"``
    judges the mean difference instead of its confidence bound."""
    pts = [dict(p, bits=p[key], diff_low=p[on]) for p in points if p["representable"]]
    return min_bits_from_curve(pts, tolerance) if pts else None


def summarize(records: list, preps: list, s: LearningSettings, task: str) -> dict:
    fa = [p["float_accuracy"] for p in preps]
    grid = []
    for wb, tb in plan(s):
        rs = sorted((r for r in records if r["weight_bits"] == wb and r["trace_bits"] == tb), key=lambda r: r["seed"])
        if rs:
            grid.append(_point(rs, wb, tb))
    rw, rt = s.reference_weight_bits, s.reference_trace_bits
    curves = {"weight": [p for p in grid if p["trace_bits"] == rt],
              "trace": [p for p in grid if p["weight_bits"] == rw]}
    min_bits = {"weight": _min_bits(curves["weight"], "weight_bits", s.tolerance),
                "trace": _min_bits(curves["trace"], "trace_bits", s.tolerance)}
    # the fewest weight bits at each trace width (None: not within the band in the measured range)
    # the same judged on the mean difference alone (no confidence bound): a weaker, descriptive answer
    min_bits_mean = {"weight": _min_bits(curves["weight"], "weight_bits", s.tolerance, "diff"),
                     "trace": _min_bits(curves["trace"], "trace_bits", s.tolerance, "diff")}
    frontier = {tb: _min_bits([p for p in grid if p["trace_bits"] == tb], "weight_bits", s.tolerance)
                for tb in s.trace_bits}
    p0 = preps[0]
    return {"version": 1, "kind": "learning", "task": task, "profile": "loihi",
            "engine": "spikecore.engine.loihi_learning (Lava 0.10 PyLearningDenseModelBitApproximate, bit for bit)",
            "outcome": "test accuracy of the learned weights read out as argmax_j (W_j . x) / sum_i W_ji",
            "reference": "the same rule on the same spikes in real numbers (learning_precision.float_weights)",
            "n_train": p0["n_train"], "n_test": p0["n_test"], "n_classes": p0["classes"],
            "steps": int(p0["pixels"].shape[1]), "a8_by_seed": [p["a8"] for p in preps],
            "float_accuracy": float(np.mean(fa)), "float_accuracy_ci": list(mean_ci(fa)[1:]),
            "float_accuracy_by_seed": fa, "tolerance": s.tolerance, "confidence": CONFIDENCE,
            "settings": s.to_dict(), "grid": grid, "curves": curves, "min_bits": min_bits,
            "min_bits_mean": min_bits_mean,
            "min_weight_bits_by_trace_bits": frontier,
            "references": {"weight": {"trace_bits": rt}, "trace": {"weight_bits": rw}}}
