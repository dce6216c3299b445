"""Plastic projections as Lava learning rules: spikecore's ``stdp_pair`` and ``three_factor`` (and a
raw Lava rule string, rule ``lava_rule``) translated to Lava 0.10's ``Loihi2FLearningRule`` /
``Loihi3FLearningRule``, in floating point and in Loihi's fixed point, with every approximation
as a ``hwmodels.loihi.Finding``.

This module is the one source of truth for that translation: backends/lava.py deploys the rule
objects ``LearningMap.lava_rule()`` returns (``LearningDense`` with them), hwmodels/lint.py reports
the findings, and an emulator of Lava's learning engine can consume the same rule objects.

Lava's learning engine (lava/magma/core/model/py/connection.py, learning_rule_applier.py,
product_series.py), per epoch of ``t_epoch`` steps (1 here: learning every step)::

    x1 += x1_impulse at each presynaptic spike, decays by exp(-1/x1_tau) per step
    y1 += y1_impulse at each postsynaptic spike (the ``s_in_bap`` port), decays by exp(-1/y1_tau)
    w  += sum over products  C * dependency * traces   (C = s_mant * 2**s_exp, s_mant in -8..7,
                                                        s_exp in -7..8: the rule string's literals)

``x0``/``y0`` are "a pre/post spike in this epoch"; a trace in a product gated by ``x0`` is read at
the pre spike's step (after that step's impulses), one gated by ``y0`` at the post spike's step.

stdp_pair (additive, pairing all_to_all) becomes, with m = sign*w (weights in Lava's units)::

    dw = sign*C_plus * x1 * y0  -  sign*C_minus * y1 * x0

with impulses I_x, I_y such that C_plus*I_x = A_plus and C_minus*I_y = A_minus (in Lava weight
units). Float: C = 1 and the impulses are the amplitudes, exact; taus = tau/dt steps, exact.
Fixed: traces are 7-bit integers (0..127) with impulses on a 1/256 grid, decayed and incremented
with stochastic rounding; the weight update is accumulated with 7 fractional bits and
stochastically rounded to the weight mantissa's LSB; weights saturate at the 8-bit sign-mode
range, so w_max becomes 255 mantissas at the projection's weight exponent.

three_factor becomes Lava's reward-modulated STDP (``Loihi3FLearningRule``): the eligibility c is
the synaptic tag ``t`` and the modulator d the postsynaptic neuron's third-factor trace ``y2``::

    dt = C*x1*y0 - C*y1*x0 - t*u0*2**-k      (c decays by Euler steps of 2**-k ~ dt/tau_c)
    dw = u0 * t * y2                         (y2 = d*dt - baseline*dt, from the neuron model)

In Lava's 3F rules the post traces come from the neuron (``s_out_y1..y3``), so the neuron model
must send them: Lava's stock ``LearningLIF`` does not (its run hangs, docs/loihi_learning.md).
In fixed point t is 9 bits (LSB max(A_plus, A_minus)/16), y2 7 bits with a gain chosen so that
``dw = m*2^e * t * y2 >> 5`` is the change per step, and a decay below 2^-7 is decimated (u_j).

Findings are ``error`` for each approximation (policy strict refuses it, approximate applies it and
lists it, as for neurons) and ``warning``/``info`` for facts that depend on the activity.
"""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field

import numpy as np

from spikecore import ir as _ir
from spikecore.errors import ValidationError

from .loihi import WEIGHT_EXP_MAX, WEIGHT_EXP_MIN, Finding

# Lava 0.10's learning-engine widths (lava/magma/core/learning/constants.py)
TRACE_BITS = 7                 # W_TRACE: traces are 0..127
TRACE_MAX = (1 << TRACE_BITS) - 1
IMPULSE_FRAC_BITS = 8          # W_TRACE_FRACTIONAL_PART: impulses on a 1/256 grid
TAU_MAX = 255                  # x1_tau .. y3_tau are 8-bit registers (steps)
EPOCH_BITS = 6                 # W_EPOCH_TIME: within-epoch spike times, t_epoch <= 63
T_EPOCH_MAX = (1 << EPOCH_BITS) - 1
WEIGHT_MANT_MAX = 255          # W_WEIGHTS_U: 8-bit magnitude (exc / inh sign modes)
S_MANT_RANGE = (-8, 7)         # scaling constant of a product: s_mant * 2**s_exp
S_EXP_RANGE = (-7, 8)
ACCUMULATOR_FRAC_BITS = 7      # W_ACCUMULATOR_S - W_WEIGHTS_S: fractional bits of a weight update
IMPULSE_TARGET = 16.0          # largest impulse chosen in fixed point (Lava's STDPLoihi default):
                               # leaves 3 bits for all-to-all accumulation before the trace saturates
LEARNING_RULES = ("stdp_pair", "three_factor", "lava_rule")
MODULATOR_PILE_UP = 4          # fixed-point three_factor: y2's 7 bits hold 4 modulator spikes' d at once


@dataclass
class LearningMap:
    """One plastic projection as a Lava learning rule, plus what the backend needs around it."""
    projection: str
    rule: str                      # spikecore rule name
    factors: int                   # 2 (Loihi2FLearningRule) or 3 (Loihi3FLearningRule)
    dw: str
    dt: str | None
    traces: dict                   # x1_impulse, x1_tau, y1_impulse, y1_tau, ... (Lava's keywords)
    t_epoch: int
    rng_seed: int
    sign: int                      # +1, or -1 for an inhibitory projection
    fixed: bool
    weight_to_lava: float          # SI weight * this = Lava weight (float) or mantissa (fixed)
    weight_exp: int = 0            # fixed: the projection's weight exponent
    sign_mode: str = "exc"
    neuron: dict = field(default_factory=dict)   # 3F: what the postsynaptic neuron model computes
    graded_spike_cfg: str = "use_regular_impulse"   # Lava's GradedSpikeCfg (lava_rule on a graded projection)

    def lava_rule(self):
        """Lava's own rule object (imports Lava)."""
        from spikecore.compat.lava_dataclasses import install
        install()
        from lava.magma.core.learning.learning_rule import Loihi2FLearningRule, Loihi3FLearningRule
        cls = Loihi2FLearningRule if self.factors == 2 else Loihi3FLearningRule
        kw = {k: v for k, v in self.traces.items()}
        return cls(dw=self.dw, dt=self.dt, t_epoch=self.t_epoch, rng_seed=self.rng_seed, **kw)

    def weights_to_si(self, lava_w: np.ndarray) -> np.ndarray:
        """Lava's weights (float, or mantissas in fixed point) back to SI."""
        return np.asarray(lava_w, dtype=float) / self.weight_to_lava


def literal(c: float) -> str:
    """A constant as Lava's grammar writes it, exactly: m * 2^e (m an integer in -8..7)."""
    if c == 0:
        return "0"
    m, e = _mant_exp(c)
    return f"({m}) * 2 ^ {e}" if e else f"({m})"


def _mant_exp(c: float):
    m, e = math.frexp(c)             # c = m * 2**e, 0.5 <= |m| < 1
    # the smallest integer mantissa that holds c exactly (c is a power of two times a small int)
    for bits in range(1, 4):
        mi = m * (1 << bits)
        if mi == int(mi):
            return int(mi), e - bits
    raise ValueError(c)


def _choose_scaling(a: float, fixed: bool, impulse_max: float = IMPULSE_TARGET, integer: bool = False):
    """(C, impulse, relative error) with C * impulse ~ a: C a product scaling (s_mant * 2**s_exp)
    and impulse the trace increment (float: C = 1, exact; fixed: impulse on the 1/256 grid, or whole
    with ``integer``, in [1, impulse_max], largest C*impulse accuracy, then the largest impulse)."""
    if a == 0:
        return 1.0, 0.0, 0.0
    if not fixed:
        return 1.0, a, 0.0
    best = None
    q = 1.0 if integer else float(1 << IMPULSE_FRAC_BITS)
    for s_exp in range(S_EXP_RANGE[0], S_EXP_RANGE[1] + 1):
        for s_mant in range(1, S_MANT_RANGE[1] + 1):
            c = s_mant * 2.0 ** s_exp
            imp = a / c
            if not 1.0 / q <= imp <= impulse_max:
                continue
            iq = round(imp * q) / q
            err = abs(c * iq - a) / a
            key = (round(err, 12), -iq)
            if best is None or key < best[0]:
                best = (key, c, iq, err)
    if best is None:     # outside the grid: the nearest end
        c = 2.0 ** S_EXP_RANGE[0] if a < 1 else S_MANT_RANGE[1] * 2.0 ** S_EXP_RANGE[1]
        iq = min(max(round(a / c * q) / q, 0.0), TRACE_MAX)
        return c, iq, abs(c * iq - a) / a
    return best[1], best[2], best[3]


def _tau_steps(tau: float, dt: float, fixed: bool, what: str, el: str, findings: list) -> float:
    steps = tau / dt
    if not fixed:
        return steps
    r = int(min(max(round(steps), 1), TAU_MAX))
    if r != steps:
        rel = r / steps - 1
        over = steps > TAU_MAX + 0.5
        findings.append(Finding(
            "error", "trace decay", el, f"{what} = {tau * 1e3:g} ms = {steps:.4g} steps",
            f"an 8-bit trace time constant of whole steps (1..{TAU_MAX})" + (": clipped" if over else ""),
            "use a time constant that is a whole number of steps" + (f" at most {TAU_MAX} steps" if over else ""),
            f"decay with tau = {r} steps ({rel:+.1%})"))
    return float(r)


def learning_weight_exp(units_max: float) -> int:
    """The weight exponent of a plastic projection in fixed point: the smallest whose 8-bit
    mantissa holds ``units_max`` (the larger of the initial weights and w_max, in a_in units)."""
    for e in range(WEIGHT_EXP_MIN, WEIGHT_EXP_MAX + 1):
        if units_max <= WEIGHT_MANT_MAX * 2.0 ** e:
            return e
    return WEIGHT_EXP_MAX


def map_learning(g: _ir.IRGraph, weight_gain: dict, fixed: bool, unit_scale: dict | None = None,
                 rng_seed: int | None = None) -> tuple:
    """(projection -> LearningMap, findings) for every plastic projection of ``g``.

    ``weight_gain``: projection -> the factor from its SI weights to Lava's float weights
    (hwmodels.loihi's NeuronMap.weight_gain of its receptor); ``unit_scale`` (fixed point):
    projection -> LSB per volt of its target population / 64 (a_in units per float unit).
    Non-plastic projections are skipped."""
    maps, findings = {}, []
    seed = int(g.seed if rng_seed is None else rng_seed) % (2 ** 31 - 4) + 1
    for name, e in g.projections.items():
        p = e.plasticity
        if p is None or name not in weight_gain:
            continue
        el = f"projection {name}"
        rule = p["rule"]
        if rule not in LEARNING_RULES:
            findings.append(Finding(
                "error", "rule the learning engine cannot express", el, f"rule {rule}",
                "Lava's learning engine runs sum-of-products rules over traces x1, x2, y1..y3",
                "use stdp_pair, three_factor, or write the Lava rule string (rule lava_rule)",
                "keep the weights fixed"))
            continue
        w = np.asarray(e.weight, dtype=float)
        sign = -1 if w.size and (w < 0).any() else 1
        gain = weight_gain[name]
        to_lava = gain
        wexp = 0
        if fixed:
            us = unit_scale[name]
            peak = max(float(np.abs(w).max()) if w.size else 0.0, p.get("w_max", 0.0) or 0.0) * gain * us
            wexp = learning_weight_exp(peak)
            to_lava = gain * us / 2.0 ** wexp
        lm = LearningMap(projection=name, rule=rule, factors=2, dw="", dt=None, traces={}, t_epoch=1,
                         rng_seed=seed, sign=sign, fixed=fixed, weight_to_lava=to_lava, weight_exp=wexp,
                         sign_mode="inh" if sign < 0 else "exc")
        if e.pre in g.poisson_sources:
            findings.append(Finding(
                "error", "several spikes in one step", el, f"Poisson source {e.pre}",
                "a learning synapse adds one trace impulse and one pairing per step, whatever the count of a "
                "graded (Poisson) spike", "use rates low enough for one spike per step, or spike sources",
                "count a step's Poisson spikes as one for learning"))
        if rule == "lava_rule":
            _map_raw(lm, p, g.dt, el, findings)
            lm.graded_spike_cfg = p.get("graded_spike_cfg", lm.graded_spike_cfg)
            if lm.graded_spike_cfg != "use_regular_impulse" and e.pre not in g.poisson_sources:
                raise ValidationError(f"projections.{name}.plasticity.graded_spike_cfg", lm.graded_spike_cfg,
                                      "use_regular_impulse: only a Poisson source's spikes are graded "
                                      f"(here pre is {e.pre!r})")
        else:
            _map_pair_traces(lm, p, g, e, el, findings)
            _map_bounds(lm, p, el, findings, w, _pair_reach(g, e, p) if rule == "stdp_pair" and not fixed else None)
            if rule == "three_factor":
                _map_three_factor(lm, p, g.dt, el, findings)
        maps[name] = lm
    return maps, findings


def _pair_reach(g, e, p: dict):
    """(largest total potentiation, largest total depression) per synapse of a pair rule whose
    presynaptic side is a spike source, in the projection's weight unit; None for a population or
    Poisson source (their spike counts are not known before the run).

    At most one postsynaptic spike per step: at a post spike the potentiation is A_plus * x with
    x = sum over arrivals so far of exp(-(t - t_i)/tau_plus), so over all post spikes a pre spike
    contributes at most A_plus * sum_k exp(-k dt/tau_plus) = A_plus / (1 - exp(-dt/tau_plus));
    likewise each pre arrival depresses by at most A_minus / (1 - exp(-dt/tau_minus)). Both hold
    for spikecore's pairing and for Lava's (which also pairs within the step)."""
    if e.pre not in g.spike_sources or not e.n_synapses:
        return None
    src = g.spike_sources[e.pre]
    n = np.bincount(np.asarray(src.indices, dtype=np.int64), minlength=src.size)[np.asarray(e.i)]
    pot = p["A_plus"] * n / -math.expm1(-g.dt / p["tau_plus"])
    dep = p["A_minus"] * n / -math.expm1(-g.dt / p["tau_minus"])
    return pot, dep


def _pre_spikes(g, e) -> bool:
    """Whether the projection's presynaptic side can spike at all (a spike source may be empty)."""
    if e.pre in g.spike_sources:
        src = g.spike_sources[e.pre]
        return bool(np.isin(np.asarray(e.i), np.asarray(src.indices)).any())
    return True


def _spike_source_pile_up(g, e):
    """(neuron, step) of a spike-source neuron of the projection with two spikes in one step, or None."""
    if e.pre not in g.spike_sources:
        return None
    src = g.spike_sources[e.pre]
    idx = np.asarray(src.indices, dtype=np.int64)
    used = np.isin(idx, np.unique(np.asarray(e.i)))
    key = np.stack([idx[used], np.rint(np.asarray(src.times)[used] / g.dt).astype(np.int64)], axis=1)
    if key.shape[0] < 2:
        return None
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    if (counts > 1).any():
        i, s = uniq[np.argmax(counts > 1)]
        return int(i), int(s)
    return None


def _map_pair_traces(lm: LearningMap, p: dict, g, e, el: str, findings: list) -> None:
    """x1/y1 traces and the pair products of stdp_pair and three_factor (into the weight, or for
    three_factor into the tag t: in fixed point t's LSB is max(A_plus, A_minus)/16, so that a pair
    adds at most 16 of its 9 bits)."""
    fixed, sign, dt = lm.fixed, lm.sign, g.dt
    tag = p["rule"] == "three_factor" and fixed
    if p.get("pairing", "all_to_all") != "all_to_all":
        findings.append(Finding(
            "error", "rule the learning engine cannot express", el, f"pairing {p['pairing']}",
            "Lava's traces add their impulse at each spike; none resets to a value",
            "use pairing all_to_all", "pair all to all"))
    if p.get("weight_dependence", "additive") != "additive":
        findings.append(Finding(
            "error", "rule the learning engine cannot express", el, f"weight_dependence {p['weight_dependence']}",
            "deployed rules here are additive (a multiplicative rule needs a w factor per product)",
            "use weight_dependence additive, or write it as a lava_rule string", "use the additive rule"))
    if p.get("dendritic_delay_fraction", 0.0) != 0.0:
        findings.append(Finding(
            "error", "dendritic delay", el, f"dendritic_delay_fraction {p['dendritic_delay_fraction']}",
            "the learning synapse sees a spike where it arrives (axonal delay only)",
            "use dendritic_delay_fraction 0", "treat the whole delay as axonal"))
    if tag:
        lm.neuron["tag_lsb"] = max(p["A_plus"], p["A_minus"]) / IMPULSE_TARGET
        unit, what_unit = 1.0 / lm.neuron["tag_lsb"], "tag LSB"
    else:
        unit, what_unit = abs(lm.weight_to_lava), "weight LSB"
    a_plus = p["A_plus"] * unit
    a_minus = p["A_minus"] * unit
    c_plus, i_x, err_p = _choose_scaling(a_plus, fixed)
    c_minus, i_y, err_m = _choose_scaling(a_minus, fixed)
    # a trace whose impulse is 0 stays 0: its time constant and decay cannot matter (no finding)
    used = {"x1": i_x > 0, "y1": i_y > 0}
    lm.traces.update(x1_impulse=i_x, x1_tau=_tau_steps(p["tau_plus"], dt, fixed, "tau_plus", el,
                                                       findings if used["x1"] else []),
                     y1_impulse=i_y, y1_tau=_tau_steps(p["tau_minus"], dt, fixed, "tau_minus", el,
                                                       findings if used["y1"] else []))
    for what, a, c, imp, err in (("A_plus", a_plus, c_plus, i_x, err_p), ("A_minus", a_minus, c_minus, i_y, err_m)):
        if err > 1e-12:
            findings.append(Finding(
                "error", "learning-rate rounding", el,
                f"{what} = {a:.6g} {what_unit} per pair -> {literal(c)} * impulse {imp:g} = {c * imp:.6g}",
                f"a product's scale is m * 2^e (m in {S_MANT_RANGE}, e in {S_EXP_RANGE}) and the "
                f"impulse is on a 1/{1 << IMPULSE_FRAC_BITS} grid",
                "pick amplitudes on that grid", f"use {c * imp:.6g} ({(c * imp - a) / a:+.2%})"))
        if fixed and imp > 0 and imp < 1:
            findings.append(Finding(
                "warning", "trace width", el, f"{what}: impulse {imp:g} < 1",
                f"a {TRACE_BITS}-bit trace holds integers; a fractional impulse is added by stochastic rounding",
                "raise the amplitude or lower the weight exponent"))
    imp_max = max(i_x, i_y)
    if fixed and imp_max > 0:
        n = TRACE_MAX / imp_max
        findings.append(Finding(
            "warning", "trace width", el, f"impulses {i_x:g} (x1), {i_y:g} (y1)",
            f"{TRACE_BITS}-bit traces saturate at {TRACE_MAX}: after ~{n:.0f} spikes within a time constant",
            "lower the input rates or the impulses (amplitudes)"))
    decaying = [k for k in ("x1", "y1") if used[k]]
    if fixed and decaying:
        # a nonzero integer trace times exp(-1/tau) is never an integer: every decay rounds
        taus = ", ".join(f"{k} tau {lm.traces[k + '_tau']:g}" for k in decaying)
        findings.append(Finding(
            "error", "trace decay", el, f"traces {', '.join(decaying)} ({taus} steps)",
            f"{TRACE_BITS}-bit integer traces decay by exp(-1/tau) per step with stochastic rounding",
            "use format float", "decay the traces in 7-bit integers (Lava's fixed_pt model)"))
    # an update C * trace (trace an integer) is a whole number of mantissas when C is an integer; the
    # three-factor weight update t * y2 >> 5 always rounds
    fractional = [what for what, c, k in (("A_plus", c_plus, "x1"), ("A_minus", c_minus, "y1"))
                  if used[k] and c != int(c)]
    if fixed and (fractional or p["rule"] == "three_factor"):
        findings.append(Finding(
            "error", "weight precision after learning", el, f"weight exponent {lm.weight_exp}"
            + (f" ({', '.join(fractional)}: a fraction of the LSB per unit of trace)" if fractional else ""),
            f"each update is rounded stochastically to the 8-bit mantissa's LSB ({2.0 ** lm.weight_exp:g} "
            f"a_in units = {1 / lm.weight_to_lava:.4g} in the projection's weight unit)",
            "use format float", "round every weight update to the mantissa grid"))
    if p["A_minus"] != 0 and _pre_spikes(g, e):
        # the difference is Lava's extra depression A_minus * (the post impulse): none when A_minus = 0
        findings.append(Finding(
            "error", "same-step pairs", el, "a pre and a post spike in one step",
            "Lava evaluates the epoch's depression with the post impulse of the same step (spikecore pairs "
            "the arrival first: potentiation only)", "avoid exactly coincident spikes (they are rare), or "
            "use A_minus 0", "depress such pairs by A_minus too"))
    pile = _spike_source_pile_up(g, e)
    if pile is not None:
        findings.append(Finding(
            "error", "several spikes in one step", el, f"spike source {e.pre} neuron {pile[0]}: "
            f"two spikes in step {pile[1]}",
            "a learning synapse adds one trace impulse and one pairing per step",
            "give each source neuron at most one spike per step", "count a step's spikes as one for learning"))
    d = _ir.delay_steps(e.delay, dt) if e.n_synapses else np.zeros(0, np.int64)
    if e.pre in g.populations and d.size:
        findings.append(Finding(
            "error", "delay on a learning synapse", el, f"{int(d.min())}..{int(d.max())} steps from population {e.pre}",
            "Lava's LearningDense has no synaptic delay (0: one step latency)",
            "feed the plastic projection from a spike or Poisson source (its delay is then exact)",
            "deliver after one step, learning with the spike's emission time"))
    elif d.size and d.min() != d.max():
        findings.append(Finding(
            "error", "delay on a learning synapse", el, f"delays {int(d.min())}..{int(d.max())} steps",
            "Lava's LearningDense has no synaptic delay; one delay per source is exact (the source is shifted)",
            "use one delay per source", f"use {int(d.min())} steps for all"))
    sgn = "" if sign > 0 else "-"
    nsg = "-" if sign > 0 else "+"
    pot = f"{sgn}{literal(c_plus)} * x1 * y0"
    dep = f" {nsg} {literal(c_minus)} * y1 * x0"
    lm.dw = pot + dep


def _map_bounds(lm: LearningMap, p: dict, el: str, findings: list, w: np.ndarray, reach) -> None:
    """Weight-bound findings, unless the bound cannot be reached: ``reach`` (``_pair_reach``) bounds
    how far spikecore's learning can move each synapse (float only: Lava's stochastic rounding in
    fixed point may go beyond it); without it (a population or Poisson source, three_factor, fixed
    point) only a zero amplitude of stdp_pair rules a bound out."""
    m0 = np.abs(np.asarray(w, dtype=float))
    if reach is not None:
        top_reach = float((m0 + reach[0]).max()) if m0.size else 0.0
        low_reach = float((m0 - reach[1]).min()) if m0.size else 0.0
    else:
        top_reach = float(m0.max()) if m0.size and p["rule"] == "stdp_pair" and p["A_plus"] == 0 else math.inf
        low_reach = float(m0.min()) if m0.size and p["rule"] == "stdp_pair" and p["A_minus"] == 0 else -math.inf
    if p["w_min"] != 0.0 and low_reach < max(p["w_min"], 0.0):
        findings.append(Finding(
            "error", "weight bounds", el, f"w_min = {p['w_min']:g}",
            "Lava clips learned weights at 0 (the sign mode) and the 8-bit range only",
            "use w_min 0", "let |w| fall to 0"))
    if lm.fixed:
        top = WEIGHT_MANT_MAX / lm.weight_to_lava
        if abs(top - p["w_max"]) > 1e-9 * p["w_max"] and top_reach > min(top, p["w_max"]):
            findings.append(Finding(
                "error", "weight bounds", el, f"w_max = {p['w_max']:g}",
                f"learned weights saturate at the 8-bit mantissa: {WEIGHT_MANT_MAX} << {lm.weight_exp} "
                f"= {top:.6g} in the projection's weight unit",
                f"use w_max = {top:.6g} (or a headroom that puts it on the mantissa range)",
                f"saturate at {top:.6g} ({top / p['w_max'] - 1:+.2%})"))
    elif top_reach > p["w_max"]:
        findings.append(Finding(
            "error", "weight bounds", el, f"w_max = {p['w_max']:g}",
            "Lava's floating-point learning does not clip weights from above",
            "use format fixed (its weights saturate) or keep the weights below w_max",
            "leave |w| unbounded above"))


def _map_three_factor(lm: LearningMap, p: dict, dt: float, el: str, findings: list) -> None:
    """three_factor as reward-modulated STDP: the pair products go to the tag t (eligibility c), the
    weight moves by t * y2 with y2 = d*dt from the neuron model (fixed point: y2 on a 7-bit grid of
    ``y2_gain`` per unit of d*dt, t in LSBs of ``tag_lsb``)."""
    lm.factors = 3
    pair = lm.dw
    # eligibility decay: Euler steps t -= 2**-K t, 2**-K the power of two nearest dt/tau_c; in fixed
    # point a product's exponent is at least -7, so the rest is decimation: 2**-k every 2**j steps (u_j)
    big = max(0, round(math.log2(p["tau_c"] / dt)))
    k, j = (min(big, -S_EXP_RANGE[0]), max(0, big + S_EXP_RANGE[0])) if lm.fixed else (big, 0)
    tau_eff = dt * 2.0 ** big
    findings.append(Finding(
        "error", "trace decay", el, f"tau_c = {p['tau_c'] * 1e3:g} ms",
        "the eligibility (tag t) decays by Euler steps t -= 2^-k t" + (f" every {2 ** j} steps" if j else
                                                                         " once per step"),
        "accept the decay grid", f"decay c by 2^-{big} per step (tau {tau_eff * 1e3:.4g} ms, Euler)"))
    lm.dt = pair + f" - {literal(2.0 ** -k)} * t * u{j}"
    if p.get("baseline", 0.0) != 0.0:
        findings.append(Finding(
            "error", "rule the learning engine cannot express", el, f"baseline = {p['baseline']:g} Hz",
            "the neuron's y2 here is the modulator trace; a constant offset is not added",
            "use baseline 0", "drop the baseline"))
    findings.append(Finding(
        "error", "third-factor integration", el, "dm/dt = c (d - baseline)",
        "the weight moves by t * y2 (Euler) " + (f"every {2 ** j} steps" if j else "every step")
        + ", not by spikecore's closed form between events", "accept a per-step integration",
        "integrate by Euler steps"))
    # in a 3F rule the post traces come from the neuron model: y1 as the pair trace, y2 = d*dt
    lm.neuron.update(y1_impulse=lm.traces.pop("y1_impulse"), y1_tau=lm.traces.pop("y1_tau"), dt=dt)
    if "signal" in p:
        lm.neuron.update(kind="signal")
        peak = max((abs(v) for v in p["signal"][1]), default=0.0) * dt
    else:
        lm.neuron.update(kind="modulator", tau_d_steps=p["tau_d"] / dt, d_increment=p["d_increment"],
                         modulator=p["modulator"])
        peak = MODULATOR_PILE_UP * p["d_increment"] * dt    # room for a few modulator spikes in tau_d
    if not lm.fixed:
        lm.dw = f"u{j} * t * y2"
        lm.neuron["y2_gain"] = 1.0
        return
    # fixed: dw (mantissas) = t * y2 * C >> 5 (Lava's product of 9 + 7 + 4 bits keeps 15) every 2**j
    # steps; it must be t * tag_lsb * (y2 / y2_gain) * 2**j * weight_to_lava; y2's grid peak in 1..127
    want = lm.neuron["tag_lsb"] * 2.0 ** j * lm.weight_to_lava * 32.0
    best = None
    for top in range(1, TRACE_MAX + 1):
        gain = top / peak if peak > 0 else 1.0
        for s_exp in range(S_EXP_RANGE[0], S_EXP_RANGE[1] + 1):
            for s_mant in range(1, S_MANT_RANGE[1] + 1):
                c = s_mant * 2.0 ** s_exp
                err = abs(c * gain - want) / want
                key = (round(err, 3), -top)       # within 0.1 %: the finest y2
                if best is None or key < best[0]:
                    best = (key, c, gain, top, err)
    _, c, gain, top, err = best
    lm.dw = f"{literal(c)} * u{j} * t * y2"
    lm.neuron.update(y2_gain=gain, y2_top=top, tau_d_steps=lm.neuron.get("tau_d_steps"))
    if err > 1e-9:
        findings.append(Finding(
            "error", "learning-rate rounding", el, f"modulation d*dt -> y2 = {gain:.6g} per unit (peak {top})",
            f"dw = {literal(c)} * t * y2 >> 5: the scale is m * 2^e", "accept the rounding",
            f"modulate {err:.2%} off"))
    findings.append(Finding(
        "error", "trace width", el, f"eligibility in the 9-bit tag (LSB {lm.neuron['tag_lsb']:.4g}), "
                                    f"modulator in 7-bit y2 (peak {top})",
        "the tag saturates at -256..255 LSB, y2 at 127" + ("" if "signal" in p else
                                                           f" ({MODULATOR_PILE_UP} modulator spikes' d)")
        + "; products t*y2 lose 5 bits (floored)",
        "use format float", "learn with 9-bit eligibility and 7-bit modulator"))


def _map_raw(lm: LearningMap, p: dict, dt: float, el: str, findings: list) -> None:
    """A user's Lava rule string: passed through; only its epoch granularity is judged here."""
    lm.dw = p["dw"]
    lm.dt = p.get("dt") or None
    lm.t_epoch = int(p.get("t_epoch", 1))
    for k in ("x1_impulse", "x1_tau", "x2_impulse", "x2_tau", "y1_impulse", "y1_tau"):
        lm.traces[k] = float(p.get(k, 0.0))
        if k.endswith("_impulse") and lm.fixed and lm.traces[k] > TRACE_MAX:
            findings.append(Finding(
                "error", "trace width", el, f"{k} = {lm.traces[k]:g}",
                f"{TRACE_BITS}-bit traces hold at most {TRACE_MAX}", f"use an impulse <= {TRACE_MAX}",
                f"saturate the trace at {TRACE_MAX}"))
    if lm.t_epoch > T_EPOCH_MAX:
        findings.append(Finding(
            "error", "epoch granularity", el, f"t_epoch = {lm.t_epoch}",
            f"within-epoch spike times are {EPOCH_BITS} bits: t_epoch at most {T_EPOCH_MAX}",
            f"use t_epoch <= {T_EPOCH_MAX}", f"use t_epoch {T_EPOCH_MAX}"))
        lm.t_epoch = T_EPOCH_MAX
    if lm.t_epoch > 1:
        findings.append(Finding(
            "info", "epoch granularity", el, f"t_epoch = {lm.t_epoch}",
            "weights change once per epoch; the dependencies x0, y0 see whether a neuron spiked in the epoch "
            "(its traces get one impulse per spike)", "use t_epoch 1 for per-step learning"))
    if importlib.util.find_spec("lava") is None:    # linting without Lava: its parser is not here
        return
    try:
        lm.lava_rule()
    except (ValueError, SyntaxError, KeyError, AttributeError, TypeError, IndexError) as exc:
        # Lava's parser answers an unknown name with an AttributeError about a NoneType
        raise ValidationError(f"projections.{lm.projection}.plasticity.dw", p["dw"],
                              f"a rule string Lava accepts ({type(exc).__name__}: {exc})") from None
