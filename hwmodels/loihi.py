"""The Loihi profile: how spikecore's IR maps onto Loihi's LIF neuron, in floats and in integers.

This module is the one source of truth for that mapping. backends/lava.py uses it
for both number formats, hwmodels/lint.py reports what it finds, and ``quantize``
is the IR -> IR pass that other backends (e.g. a bit-accurate native mode) run.

Loihi's LIF and synapses, as Lava 0.10 implements them bit for bit
(lava/proc/lif/models.py ``AbstractPyLifModelFixed.subthr_dynamics``,
``PyLifModelBitAcc``; lava/proc/dense/models.py ``AbstractPyDenseModelBitAcc.run_spk``,
``PyDelayDenseModelBitAcc``; lava/utils/weightutils.py ``clip_weights``,
``truncate_weights``), one step::

    a_in = (sum_i w_i s_i) << weight_exp     (>> -weight_exp when negative: floors the sum)
    u <- trunc0(u (4096 - (du + 1)) / 4096) + (a_in << 6)      u 24-bit, wraps
    v <- trunc0(v (4096 - dv) / 4096) + u + (bias_mant << bias_exp)   v saturates at +-(2**23 - 1)
    spike if v > (vth << 6); then v <- 0 (u is not reset)

with trunc0 rounding toward zero, du, dv 12-bit, vth 17-bit, bias_mant 13-bit signed,
bias_exp 0..7, weights 8-bit magnitude with a sign mode (excitatory [0, 255],
inhibitory [-255, 0], mixed [-256, 254] in steps of 2 because mixed weights spend
one bit on the sign), a shared weight exponent per projection, and a synaptic
delay d <= 63: a spike at step t reaches the next neuron's ``a_in`` at t + 1 + d.
Lava's float model is the same structure in floats:
``u <- u (1 - du) + a_in; v <- v (1 - dv) + u + bias; spike if v > vth``.

Mapping the IR (spikecore/ir.py) onto that structure is exact in floating point:

* time: Lava's step t (its 1-based ``time_step``) computes IR step n = t - 1;
* V = v - v_reset (Loihi resets to 0); vth = v_threshold - v_reset;
* dv = 1 - exp(-dt/tau_mem); bias = (drive - v_reset) * dv with drive = v_leak + r I
  (the exact propagator of tau_mem dv/dt = drive - v over one step);
* current synapses (lif_cuba): du = 1 - exp(-dt/tau_syn) and u = coef * syn, where coef =
  tau_syn/(tau_syn - tau_mem) (exp(-dt/tau_syn) - exp(-dt/tau_mem)) is the exact
  contribution of syn(t) to v(t+dt) (spikecore.models.lif_cuba.synaptic_coefficient), so a
  weight w (V) becomes coef * w; u's initial value is coef syn0 / (1 - du);
* delta synapses (lif_delta): du = 1, so u = a_in, and a weight w becomes
  exp(-dt/tau_mem) w (the IR applies the jump after the threshold; Loihi adds it one
  step later, decayed);
* delays: an IR delay of D steps (D >= 1) is a Loihi synaptic delay d = D. In the IR a
  spike at n changes the target's synaptic variable at n + D and first shows in v at
  n + D + 1; in Lava a spike at t reaches u *and* v at t + 1 + d (one step of latency
  per hop), so both latencies are D + 1 steps. Spike sources follow the same rule
  (a source spike of IR step m is sent by Lava at step m + 1).
* refractory period R steps (float only): Lava's ``LIFRefractory`` freezes v for
  ``refractory_period`` steps after the spike step, so refractory_period = R - 1; R <= 1
  is no refractory period at all in the IR's rules.

Known difference that no parametrisation removes (delta synapses only): the IR
discards a jump that arrives in the step its target spikes (reset wins; also Brian2's
order), Loihi keeps it and adds it after the reset. Reported as a warning.

Fixed-point inputs: each projection floors its own shifted sum. For every projection and
delay value, (sum of mantissa * spike count) is shifted by the projection's weight_exp
(Lava's ``>>`` floors for negative exponents) in the step the spikes are emitted, and
reaches a_in D + 1 steps later (``reference_run`` is the executable statement).

Fixed-point scale (the choice this module makes, per population)
----------------------------------------------------------------
Volts map to integers by one factor ``scale`` [LSB per volt] per population::

    v_int = round((v - v_reset) * scale)       u_int = round(u_volts * scale)
    vth_mant << 6 = (v_threshold - v_reset) * scale
    a_in unit = 64 LSB = 64 / scale volts;  weight mantissa m, exponent e: m * 2**e units

``scale`` is set so that the threshold sits at 1/``headroom`` of v's 24-bit range:
vth_mant = 2**23 / headroom / 64 (32768 for the default headroom 4), leaving room for v
to go ``headroom - 1`` threshold-distances above threshold and ``headroom``
below the reset before it saturates. A smaller headroom buys weight resolution (a
weight is resolved to 1/vth_mant of the threshold distance at best) at the price of
saturation margin. Decays round to nearest: du + 1 = round(4096 (1 - exp(-dt/tau_syn))),
dv = round(4096 (1 - exp(-dt/tau_mem))), which for dt << tau are
du ~ 4096 dt/tau_syn - 1, dv ~ 4096 dt/tau_mem. The bias takes the smallest exponent
in 0..7 whose 13-bit mantissa holds every bias the population will see (constant
drive and injected currents): bias_mant << bias_exp = bias * scale. bias_exp = 6 is
the exponent at which bias_mant is in the same units as the threshold and weight
mantissas, i.e. Lava's float-model scale; smaller exponents are chosen when they
fit because they are more precise. Each projection gets its own weight exponent
(the smallest in -8..7 whose mantissas fit the sign mode's range) and its
mantissas are rounded to nearest on the grid Lava's truncation keeps, so Lava's own
``clip_weights``/``truncate_weights`` change nothing.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
# the integer neuron model's registers and widths live with the model (spikecore.models.loihi_lif)
from spikecore.models import MODELS, get_model, loihi_lif, models_for
from spikecore.models.lif_cuba import synaptic_coefficient  # noqa: F401 (re-exported)
from spikecore.models.loihi_lif import (  # noqa: F401 (re-exported)
    A_IN_BITS, ACT_SHIFT, BIAS_EXP_MAX, BIAS_EXP_MIN, BIAS_MANT_BITS, BIAS_MANT_MAX, BIAS_MANT_MIN, DECAY_MAX,
    DECAY_SHIFT, DECAY_UNITY, DU_OFFSET, DV_OFFSET, MAX_DELAY, STATE_BITS, STATE_MAX, VTH_BITS, VTH_MAX, VTH_SHIFT,
    WEIGHT_BITS, WEIGHT_EXP_MAX, WEIGHT_EXP_MIN, bias_for_drive, bias_mantissa, effective_decay, u_to_syn,
    v_to_volts)

# ----------------------------------------------------------------------------- hardware constants
DEFAULT_HEADROOM = 4.0
SIGN_MODES = ("exc", "inh", "mixed")
# Lava's SignMode enum values (lava/utils/weightutils.py), for building processes
LAVA_SIGN_MODE = {"mixed": 1, "exc": 2, "inh": 3}

MODEL = loihi_lif.MODEL.name     # model name of quantized populations
POLICIES = ("strict", "approximate")


# ----------------------------------------------------------------------------- findings
@dataclass
class Finding:
    """One thing Loihi cannot do exactly as the IR says.

    ``severity`` is "error" for what Loihi cannot represent (policy strict raises
    UnsupportedFeature; policy approximate applies ``approximation`` and lists it),
    "warning" for representable but lossy values (rounded, truncated, at risk of
    overflow), "info" for facts worth knowing (process counts)."""
    severity: str
    rule: str
    element: str
    value: str
    hardware: str
    fix: str
    approximation: str = ""

    def line(self) -> str:
        return f"{self.severity}: {self.element}: {self.rule}: {self.value} -> {self.hardware}; fix: {self.fix}"

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("severity", "rule", "element", "value", "hardware", "fix",
                                                "approximation")}


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValidationError("policy", policy, "one of " + ", ".join(POLICIES))
    return policy


def apply_policy(findings: list, policy: str, backend: str = "lava") -> list:
    """Raise UnsupportedFeature for the first error under 'strict'; return the
    approximations applied (one line each) under 'approximate'."""
    _check_policy(policy)
    errors = [f for f in findings if f.severity == "error"]
    if errors and policy == "strict":
        f = errors[0]
        more = f"; {len(errors) - 1} more such finding(s)" if len(errors) > 1 else ""
        raise UnsupportedFeature(backend, f"{f.rule} in {f.element} ({f.value})",
                                 f"{f.fix}; or pass policy=approximate to {f.approximation}{more}")
    return [f"{f.element}: {f.rule}: {f.approximation}" for f in errors]


# ----------------------------------------------------------------------------- float mapping
@dataclass
class NeuronMap:
    """A population on Loihi's LIF structure, in volts (Lava's floating_pt parameters)."""
    population: str
    size: int
    model: str                 # the IR model it came from
    kind: str                  # "cuba" (u integrates) | "delta" (du = 1: u = a_in)
    du: float
    dv: float
    vth: float                 # V above v_reset
    v_reset: float
    v_leak: float
    drive_gain: float          # bias (V/step) per volt of drive = dv
    current_gain: float        # volts of drive per ampere injected (r, or 1/g_l)
    v0: np.ndarray             # V above v_reset
    u0: np.ndarray             # V per step
    refractory_steps: int      # the IR's R (Lava refractory_period = R - 1 when R >= 2)
    weight_gain: dict          # receptor -> u (V/step) per unit of IR weight
    syn_gain: dict             # receptor -> u per unit of the receptor's state var (None: not separable)
    tau_mem: float
    tau_syn: float | None      # the one synaptic time constant used (None for delta)

    @property
    def bias(self) -> np.ndarray:
        """Bias (V per step) of the constant drive v_leak, per neuron."""
        return np.full(self.size, (self.v_leak - self.v_reset) * self.drive_gain)

    def bias_for_drive(self, drive: np.ndarray) -> np.ndarray:
        return (np.asarray(drive, dtype=float) - self.v_reset) * self.drive_gain

    @property
    def lava_refractory_period(self) -> int:
        return self.refractory_steps - 1 if self.refractory_steps >= 2 else 0


@dataclass
class SynapseMap:
    """A projection on Loihi: per-synapse u increments (V/step) and synaptic delays (steps)."""
    projection: str
    pre: str
    post: str
    receptor: str
    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray         # V per step added to the target's u, per spike
    delay: np.ndarray          # int64 Loihi delay d (= IR delay steps, clipped to 63 if approximated)
    graded: bool               # several spikes per step possible (Poisson source): graded messages


@dataclass
class NetworkMap:
    """A whole IR on Loihi's structure plus everything that did not map exactly."""
    dt: float
    neurons: dict              # population -> NeuronMap
    synapses: dict             # projection -> SynapseMap
    findings: list = field(default_factory=list)
    fixed: bool = False


def _unknown_parameters(pop) -> list:
    out = []
    model = MODELS.get(pop.model)
    if model is None or not model.supports("lava"):
        reason = model.unsupported_reason("lava") if model is not None else ""
        return [Finding("error", "unknown model", f"population {pop.name}",
                        f"{pop.model}: {reason}" if reason else pop.model, "Loihi's LIF cannot run it", "use " + " or ".join(
                            m for m in models_for("lava") if MODELS[m].synapse != "conductance"),
                        "nothing: it cannot be approximated")]
    for key in sorted(set(pop.params) - set(model.params)):
        out.append(Finding("error", "unknown parameter", f"population {pop.name}", f"{key}={pop.params[key]!r}",
                           "Lava accepts unknown parameters silently and ignores them",
                           f"remove it (known for {pop.model}: {', '.join(sorted(model.params))})",
                           "ignore it"))
    for rname, rp in pop.receptors.items():
        for key in sorted(set(rp) - set(model.receptor_params)):
            out.append(Finding("error", "unknown parameter", f"population {pop.name}",
                               f"receptor {rname}: {key}={rp[key]!r}",
                               "Lava accepts unknown parameters silently and ignores them",
                               "remove it", "ignore it"))
    return out


def map_network(g: _ir.IRGraph, fixed: bool = False) -> NetworkMap:
    """Map every population and projection of ``g`` onto Loihi's LIF structure.

    Always returns a mapping; what Loihi cannot represent is mapped to its nearest
    representable form and listed as an "error" finding (``apply_policy`` decides
    whether that is allowed). ``fixed`` adds the rules that only hold in fixed
    point (no refractory period)."""
    dt = g.dt
    findings: list = []
    neurons = {}
    incoming: dict = {}
    for e in g.projections.values():
        incoming.setdefault(e.post, []).append(e)
    for pop in g.populations.values():
        unknown = _unknown_parameters(pop)
        findings += unknown
        if any(f.rule == "unknown model" for f in unknown):
            continue
        neurons[pop.name] = _map_population(pop, dt, fixed, incoming.get(pop.name, []), findings)
    synapses = {}
    for e in g.projections.values():
        if e.post not in neurons:
            continue
        synapses[e.name] = _map_projection(g, e, neurons[e.post], findings)
    return NetworkMap(dt=dt, neurons=neurons, synapses=synapses, findings=findings, fixed=fixed)


#: what Loihi's LIF (Lava's process) holds per neuron: the bias only; du, dv, vth and the
#: refractory period are one value per process
LOIHI_PER_NEURON = frozenset({"bias"})


def per_neuron_findings(pop, el: str, findings: list) -> dict:
    """An error finding per parameter the population has per neuron that Loihi holds once per
    process (time constants, thresholds, ...); returns the parameters with those replaced by
    their mean (the approximation the approximate policy applies)."""
    p = dict(pop.params)
    for k, x in pop.params.items():
        if k in LOIHI_PER_NEURON or not np.ndim(x):
            continue
        x = np.asarray(x, dtype=float)
        findings.append(Finding("error", f"per-neuron {k}", el, f"{k} from {x.min():g} to {x.max():g}",
                                "Loihi's LIF (Lava's LIF process) holds du, dv, vth and the refractory period "
                                "once per population; only the bias is per neuron",
                                f"give {k} one value per population", f"the mean {k}"))
        p[k] = float(x.mean())
    return p


def _map_population(pop, dt, fixed, incoming, findings) -> NeuronMap:
    el = f"population {pop.name}"
    p = per_neuron_findings(pop, el, findings)
    v_reset, vth = p["v_reset"], p["v_threshold"]
    model = get_model(pop.model)
    structure = model.loihi_structure(p, pop.receptors)
    for rule, value, hardware, fix, approximation in structure.inexact:
        findings.append(Finding("error", rule, el, value, hardware, fix, approximation))
    tau_mem, current_gain = structure.tau_mem, structure.current_gain
    am = math.exp(-dt / tau_mem)
    dv = 1.0 - am
    ref_steps = _ir.steps(p.get("t_refrac", 0.0), dt)
    if fixed and ref_steps >= 2:
        findings.append(Finding(
            "error", "refractory period in fixed point", el,
            f"t_refrac = {p['t_refrac'] * 1e3:g} ms ({ref_steps} steps)",
            "Loihi's bit-accurate LIF has no refractory period", "set t_refrac to 0 or run --format float",
            "drop the refractory period"))
        ref_steps = 0
    v0 = np.asarray(pop.initial["v"], dtype=float) - v_reset
    weight_gain, syn_gain = {}, {}
    if model.synapse == "delta":
        kind, du, tau_syn = "delta", 1.0, None
        weight_gain["default"] = am
        syn_gain["default"] = None
        u0 = np.zeros(pop.size)
    else:
        kind = "cuba"
        taus = {r: rp["tau_syn"] for r, rp in pop.receptors.items()}
        distinct = sorted(set(taus.values()))
        if len(distinct) > 1:
            # one du per neuron: keep the receptor that carries most charge (sum |w| tau)
            charge = {r: 0.0 for r in taus}
            for e in incoming:
                charge[e.receptor] += float(np.abs(e.weight).sum()) * taus[e.receptor]
            keep = max(taus, key=lambda r: (charge[r], -taus[r]))
            tau_syn = taus[keep]
            findings.append(Finding(
                "error", "two synaptic time constants", el,
                ", ".join(f"tau_syn[{r}] = {t * 1e3:g} ms" for r, t in taus.items()),
                "a Loihi LIF process has one current decay du for all its inputs",
                "give all receptors one tau_syn, or split the neurons by input",
                f"use tau_syn = {tau_syn * 1e3:g} ms (receptor {keep}) for all receptors and scale "
                "each receptor's weights by tau_k/tau_syn so every spike delivers the same charge"))
        else:
            tau_syn = distinct[0]
        du = 1.0 - math.exp(-dt / tau_syn)
        coef = synaptic_coefficient(dt, tau_mem, tau_syn)
        separable = len(taus) == 1
        u_init = np.zeros(pop.size)
        for r, t in taus.items():
            k = t / tau_syn                      # charge-preserving factor (1 when exact)
            drive = structure.receptor_gain[r]
            weight_gain[r] = coef * k * drive
            syn_gain[r] = coef * k * drive if separable else None
            var = model.receptor_var(r)
            if var in pop.initial:
                u_init += weight_gain[r] * np.asarray(pop.initial[var], dtype=float)
        if np.any(u_init != 0) and du >= 1.0:
            findings.append(Finding("error", "initial synaptic state", el, "syn != 0 with tau_syn << dt",
                                    "u cannot hold a value that decays fully in one step",
                                    "start with syn = 0", "start with syn = 0"))
            u0 = np.zeros(pop.size)
        else:
            u0 = u_init / (1.0 - du) if du < 1.0 else u_init
    if kind == "delta":
        findings.append(Finding(
            "warning", "delta synapse at reset", el, "jumps arriving in a spike step",
            "Loihi keeps a jump that arrives in the step its target spikes and adds it after the reset "
            "(the IR and Brian2 discard it)", "use lif_cuba with a short tau_syn if this matters"))
    return NeuronMap(population=pop.name, size=pop.size, model=pop.model, kind=kind, du=du, dv=dv,
                     vth=vth - v_reset, v_reset=v_reset, v_leak=_resting_drive(p, current_gain, el, findings),
                     drive_gain=dv,
                     current_gain=current_gain, v0=v0, u0=u0, refractory_steps=ref_steps,
                     weight_gain=weight_gain, syn_gain=syn_gain, tau_mem=tau_mem, tau_syn=tau_syn)


def _resting_drive(p, current_gain, el, findings) -> float:
    """v_leak plus the bias current's drive (volts per ampere: the structure's current gain). A
    per-neuron bias is mapped as its mean, with an error finding (the mapping keeps one drive
    per population; Loihi's own bias is per neuron)."""
    bias = np.asarray(p.get("bias", 0.0), dtype=float)
    if bias.ndim and not np.all(bias == bias.flat[0]):
        findings.append(Finding("error", "per-neuron bias", el, f"bias from {bias.min():g} to {bias.max():g} A",
                                "this mapping keeps one bias per population", "use one bias per population",
                                "the mean bias"))
    b = float(bias.mean()) if bias.ndim else float(bias)
    return p["v_leak"] + current_gain * b if b != 0.0 else p["v_leak"]


def _map_projection(g, e, nm: NeuronMap, findings) -> SynapseMap:
    from spikecore.network import check_delays
    # an IR lowered for precise timing may hold delays off the grid; Loihi counts whole steps
    check_delays(e.delay, g.dt, f"projections.{e.name}.delay")
    d = _ir.delay_steps(e.delay, g.dt)
    if d.size and d.max() > MAX_DELAY:
        n_over = int((d > MAX_DELAY).sum())
        findings.append(Finding(
            "error", "delay over 63 steps", f"projection {e.name}",
            f"{n_over} synapse(s) up to {int(d.max())} steps ({float(e.delay.max()) * 1e3:g} ms)",
            "Loihi's synaptic delay is 6 bits (0..63 steps)",
            "use a larger dt or shorter delays, or relay through an extra neuron",
            "clip those delays to 63 steps"))
        d = np.minimum(d, MAX_DELAY)
    gain = nm.weight_gain[e.receptor]
    return SynapseMap(projection=e.name, pre=e.pre, post=e.post, receptor=e.receptor, i=e.i.copy(), j=e.j.copy(),
                      weight=np.asarray(e.weight, dtype=float) * gain, delay=d.astype(np.int64),
                      graded=e.pre in g.poisson_sources)


# ----------------------------------------------------------------------------- integers
def decay_du(du: float) -> int:
    """Loihi's du for a float decay fraction: du + 1 = round(4096 du), du in [0, 4095]."""
    return int(min(max(round(DECAY_UNITY * du) - DU_OFFSET, 0), DECAY_MAX))


def decay_dv(dv: float) -> int:
    return int(min(max(round(DECAY_UNITY * dv) - DV_OFFSET, 0), DECAY_MAX))


def vth_mantissa(headroom: float) -> int:
    """Threshold mantissa that puts vth << 6 at 1/headroom of v's range (at most 17 bits)."""
    return int(min(VTH_MAX, round((STATE_MAX + 1) / headroom / (1 << VTH_SHIFT))))


def check_headroom(headroom) -> float:
    try:
        h = float(headroom)
    except (TypeError, ValueError):
        raise ValidationError("headroom", headroom, "a number >= 1 (v's range over the threshold distance)") from None
    if not (math.isfinite(h) and h >= 1.0 and 1 <= vth_mantissa(h) <= VTH_MAX):
        raise ValidationError("headroom", headroom,
                              f"a number in [1, {(STATE_MAX + 1) / 64:g}] (threshold mantissa 1..{VTH_MAX})")
    return h


def choose_weight_exp(units: np.ndarray, sign_mode: str, num_weight_bits: int = WEIGHT_BITS):
    """Smallest exponent whose rounded mantissas fit; returns (exp, mantissas, clipped?)."""
    step = 1 << (WEIGHT_BITS - num_weight_bits + (sign_mode == "mixed"))
    lo, hi = weight_range(sign_mode, num_weight_bits)
    peak = float(np.abs(units).max()) if units.size else 0.0
    if peak == 0.0:
        return 0, np.zeros(units.size, np.int64), False
    e = max(WEIGHT_EXP_MIN, math.floor(math.log2(peak / max(hi, -lo))) - 1)
    while True:
        mant = np.rint(units / 2.0 ** e / step).astype(np.int64) * step
        if (mant.min() >= lo and mant.max() <= hi) or e >= WEIGHT_EXP_MAX:
            break
        e += 1
    clipped = bool(mant.min() < lo or mant.max() > hi)
    return e, np.clip(mant, lo, hi), clipped


def weight_range(sign_mode: str, num_weight_bits: int = WEIGHT_BITS):
    """Mantissa range after Lava's clip_weights + truncate_weights (lava/utils/weightutils.py)."""
    step = 1 << (WEIGHT_BITS - num_weight_bits + (sign_mode == "mixed"))
    top = ((1 << WEIGHT_BITS) - 1) // step * step
    if sign_mode == "exc":
        return 0, top
    if sign_mode == "inh":
        return -top, 0
    return -(1 << WEIGHT_BITS), top


def sign_mode_of(w: np.ndarray) -> str:
    if w.size == 0 or w.min() >= 0:
        return "exc"
    if w.max() <= 0:
        return "inh"
    return "mixed"


def _bias_exp(peak_lsb: float) -> tuple:
    for e in range(BIAS_EXP_MIN, BIAS_EXP_MAX + 1):
        if round(peak_lsb / 2 ** e) <= BIAS_MANT_MAX:
            return e, False
    return BIAS_EXP_MAX, True


@dataclass
class QuantizationReport:
    """What ``quantize`` did: findings, approximations applied, and per-element statistics."""
    findings: list
    approximations: list
    populations: dict          # name -> {"scale", "vth", "du", "dv", "bias_exp", "bias_mant", ...}
    projections: dict          # name -> {"weight_exp", "sign_mode", "zeroed", "clipped", "max_rel_error", ...}

    def as_dict(self) -> dict:
        return {"findings": [f.as_dict() for f in self.findings], "approximations": list(self.approximations),
                "populations": self.populations, "projections": self.projections}


def _drive_peak(g, pop, nm: NeuronMap) -> float:
    """Largest |bias| (V/step) the population can see: constant drive plus every current at its extreme."""
    extra = 0.0
    for c in g.currents.values():
        if c.target == pop.name and len(c.amplitudes):
            extra += float(np.abs(c.amplitudes).max()) * nm.current_gain
    return (abs(nm.v_leak - nm.v_reset) + extra) * nm.drive_gain


def quantize_with_report(g: _ir.IRGraph, policy: str = "strict", headroom: float = DEFAULT_HEADROOM,
                         num_weight_bits: int = WEIGHT_BITS, backend: str = "lava"):
    """IR -> (IR with Loihi integers, QuantizationReport). See the module docstring for the scale.

    Populations become model ``loihi_lif`` with integer params du, dv, vth, bias_mant,
    bias_exp (refractory_steps 0) and integer initial u, v; attrs keep what converts
    back to volts (scale, v_reset, drive_gain, current_gain, syn_gain). Projections
    carry integer weight mantissas and attrs weight_exp, num_weight_bits, sign_mode,
    graded; delays stay in seconds (IR delay D steps = Loihi delay d = D). Sources,
    currents and monitors are copied unchanged. ``backend`` is the name a refusal under
    policy strict gives (UnsupportedFeature)."""
    _check_policy(policy)
    headroom = check_headroom(headroom)
    integer = [p for p in g.populations.values() if getattr(MODELS.get(p.model), "synapse", None) == "integer"]
    if integer:   # already Loihi's integers: nothing to quantize, and no half-quantized network
        other = next((p for p in g.populations.values() if p not in integer), None)
        raise UnsupportedFeature(backend, f"model '{MODEL}' (population {integer[0].name})"
                                 + (f" together with model '{other.model}' (population {other.name})" if other else
                                    " in the quantization pass"),
                                 "every population in Loihi's integers (run as written), or none (quantized)")
    if not (isinstance(num_weight_bits, (int, np.integer)) and 1 <= num_weight_bits <= WEIGHT_BITS):
        raise ValidationError("num_weight_bits", num_weight_bits, f"an integer in 1..{WEIGHT_BITS}")
    nmap = map_network(g, fixed=True)
    findings = list(nmap.findings)
    vth = vth_mantissa(headroom)
    out = _ir.IRGraph(name=g.name, dt=g.dt, seed=g.seed, version=g.version, redrawn=dict(g.redrawn))
    pop_stats, proj_stats = {}, {}
    for name, nm in nmap.neurons.items():
        pop = g.populations[name]
        el = f"population {name}"
        scale = vth * (1 << VTH_SHIFT) / nm.vth
        du_i = DECAY_MAX if nm.kind == "delta" else decay_du(nm.du)
        dv_i = decay_dv(nm.dv)
        _decay_findings(nm, du_i, dv_i, g.dt, el, findings)
        peak = _drive_peak(g, pop, nm) * scale
        bias_exp, bias_clip = _bias_exp(peak)
        if bias_clip:
            findings.append(Finding(
                "error", "bias beyond 13 bits", el, f"{peak / scale * 1e3:.4g} mV per step",
                f"bias_mant is 13-bit signed and bias_exp at most {BIAS_EXP_MAX}",
                "lower v_leak - v_reset or the injected current, or raise headroom", "clip the bias"))
        bias_m = int(np.clip(round(nm.bias[0] * scale / 2 ** bias_exp), BIAS_MANT_MIN, BIAS_MANT_MAX)) \
            if nm.size else 0
        if nm.bias[0] != 0:
            err = abs(bias_m * 2 ** bias_exp - nm.bias[0] * scale) / abs(nm.bias[0] * scale)
            if err > 0.01:
                findings.append(Finding("warning", "bias rounding", el,
                                        f"bias {nm.bias[0] * scale:.1f} LSB -> {bias_m} << {bias_exp}",
                                        f"{err:.1%} off", "raise the bias or lower headroom"))
        v_int = np.rint(nm.v0 * scale)
        u_int = np.rint(nm.u0 * scale)
        n_sat = int((np.abs(v_int) > STATE_MAX).sum())
        if n_sat:
            findings.append(Finding("warning", "initial v beyond 24 bits", el, f"{n_sat} neuron(s)",
                                    "v saturates at +-(2**23 - 1)", "start closer to the reset or raise headroom"))
        n_wrap = int((np.abs(u_int) > STATE_MAX).sum())
        if n_wrap:
            findings.append(Finding("warning", "initial u beyond 24 bits", el, f"{n_wrap} neuron(s)",
                                    "u wraps around", "start with smaller synaptic state"))
        params = {"du": du_i, "dv": dv_i, "vth": vth, "bias_mant": bias_m, "bias_exp": bias_exp,
                  "refractory_steps": 0}
        attrs = {"scale": scale, "v_reset": nm.v_reset, "v_leak": nm.v_leak, "drive_gain": nm.drive_gain,
                 "current_gain": nm.current_gain, "syn_gain": dict(nm.syn_gain), "source_model": pop.model,
                 "kind": nm.kind, "headroom": headroom, "tau_mem": nm.tau_mem, "tau_syn": nm.tau_syn,
                 "weight_gain": dict(nm.weight_gain)}
        out.populations[name] = _ir.PopulationNode(
            name=name, size=pop.size, model=MODEL, params=params,
            receptors={r: dict(v) for r, v in pop.receptors.items()},
            initial={"u": np.clip(u_int, -STATE_MAX, STATE_MAX).astype(np.int64),
                     "v": np.clip(v_int, -STATE_MAX, STATE_MAX).astype(np.int64)},
            attrs=attrs)
        pop_stats[name] = {"scale_lsb_per_volt": scale, "vth_mant": vth, "du": du_i, "dv": dv_i,
                           "bias_mant": bias_m, "bias_exp": bias_exp, "source_model": pop.model}
    for name, sm in nmap.synapses.items():
        e = g.projections[name]
        post_q = out.populations[sm.post]
        units = sm.weight * post_q.attrs["scale"] / (1 << ACT_SHIFT)
        mode = sign_mode_of(units)
        wexp, mant, clipped = choose_weight_exp(units, mode, num_weight_bits)
        el = f"projection {name}"
        stats = _weight_findings(el, units, mant, wexp, mode, clipped, num_weight_bits, findings)
        delay = (e.delay.copy() if np.array_equal(_ir.delay_steps(e.delay, g.dt), sm.delay)
                 else sm.delay * g.dt)   # clipped to 63 steps (approximate policy)
        out.projections[name] = _ir.ProjectionEdge(
            name=name, pre=e.pre, post=e.post, receptor=e.receptor, synapse=e.synapse, i=e.i.copy(), j=e.j.copy(),
            weight=mant, delay=delay,
            attrs={"weight_exp": wexp, "num_weight_bits": int(num_weight_bits), "sign_mode": mode,
                   "graded": sm.graded})
        proj_stats[name] = {"weight_exp": wexp, "sign_mode": mode, "num_weight_bits": int(num_weight_bits), **stats}
    _state_findings(out, findings)
    for table in ("spike_sources", "poisson_sources", "currents", "spike_monitors", "state_monitors"):
        getattr(out, table).update(copy.deepcopy(getattr(g, table)))
    approximations = apply_policy(findings, policy, backend)
    return out, QuantizationReport(findings, approximations, pop_stats, proj_stats)


def quantize(g: _ir.IRGraph, policy: str = "strict", headroom: float = DEFAULT_HEADROOM,
             num_weight_bits: int = WEIGHT_BITS) -> _ir.IRGraph:
    """The IR -> IR pass: populations become ``loihi_lif`` with integer parameters (see
    ``quantize_with_report``)."""
    return quantize_with_report(g, policy, headroom, num_weight_bits)[0]


def _decay_findings(nm: NeuronMap, du_i, dv_i, dt, el, findings):
    if nm.kind == "cuba":
        raw = DECAY_UNITY * nm.du - DU_OFFSET
        if raw < -0.5:
            findings.append(Finding(
                "error", "12-bit current decay", el, f"tau_syn = {nm.tau_syn * 1e3:g} ms (du = {raw:.2f})",
                f"du + 1 is at least 1/4096 per step: tau_syn at most ~{DECAY_UNITY * dt * 1e3:g} ms",
                "shorten tau_syn or use a larger dt", "clip du to 0 (the longest tau_syn)"))
        else:
            _tau_rounding(nm.tau_syn, effective_decay(du_i, DU_OFFSET), dt, "tau_syn", f"du = {du_i}", el, findings)
    raw = DECAY_UNITY * nm.dv
    if raw > DECAY_MAX + 0.5:
        findings.append(Finding(
            "error", "12-bit voltage decay", el, f"tau_mem = {nm.tau_mem * 1e3:g} ms (dv = {raw:.1f})",
            "dv is at most 4095 (decay to 1/4096 per step)", "use a smaller dt or a longer tau_mem",
            "clip dv to 4095"))
    elif dv_i == 0 and nm.dv > 0:
        findings.append(Finding(
            "warning", "12-bit voltage decay", el, f"tau_mem = {nm.tau_mem * 1e3:g} ms",
            "dv rounds to 0: no leak at all", "use a larger dt or a shorter tau_mem"))
    else:
        _tau_rounding(nm.tau_mem, effective_decay(dv_i, DV_OFFSET), dt, "tau_mem", f"dv = {dv_i}", el, findings)


def _tau_rounding(tau, decay, dt, what, reg, el, findings):
    if decay <= 0 or decay >= 1:
        return
    tau_eff = -dt / math.log(decay)
    err = tau_eff / tau - 1
    if abs(err) > 0.01:
        findings.append(Finding("warning", "12-bit decay rounding", el,
                                f"{what} = {tau * 1e3:g} ms -> {reg} (effective {tau_eff * 1e3:.4g} ms, {err:+.1%})",
                                "the time constant is rounded to the 12-bit decay grid",
                                "use a smaller dt (finer decay steps) or accept the rounding"))


def _weight_findings(el, units, mant, wexp, mode, clipped, nwb, findings) -> dict:
    eff = mant * 2.0 ** wexp
    nz = units != 0
    zeroed = int((nz & (mant == 0)).sum())
    rel = np.abs(eff[nz] - units[nz]) / np.abs(units[nz]) if nz.any() else np.zeros(0)
    max_rel = float(rel.max()) if rel.size else 0.0
    n_clip = 0
    if clipped:
        lo, hi = weight_range(mode, nwb)
        n_clip = int(((np.rint(units / 2.0 ** wexp) < lo) | (np.rint(units / 2.0 ** wexp) > hi)).sum())
        findings.append(Finding(
            "error", "weights beyond 8 bits", el, f"{n_clip} weight(s) up to {float(np.abs(units).max()):.4g} units",
            f"mantissa {mode} range {weight_range(mode, nwb)} with weight exponent at most {WEIGHT_EXP_MAX}",
            "scale the weights down or raise headroom", "clip them to the largest mantissa"))
    if zeroed:
        findings.append(Finding(
            "warning", "weights truncated to zero", el, f"{zeroed} of {int(nz.sum())} non-zero weight(s)",
            f"below half a mantissa step at weight exponent {wexp}: those synapses vanish",
            "narrow the weight distribution, split the projection, or lower headroom"))
    lost = rel[rel > 0.01].size if rel.size else 0
    if mode == "mixed" and nz.any():
        findings.append(Finding(
            "warning", "mixed-sign 8-bit weights", el, f"weights of both signs (exponent {wexp})",
            "the sign takes a bit: mantissas are even, 7 bits of magnitude", "split into an excitatory and an "
            "inhibitory projection (8 bits each)"))
    if lost:
        findings.append(Finding(
            "warning", "weight LSBs lost", el, f"{lost} weight(s) off by > 1% (worst {max_rel:.1%})",
            f"mantissas rounded to the {nwb}-bit grid at weight exponent {wexp}",
            "lower headroom for more resolution or use weights on a coarser grid"))
    if wexp < 0 and nz.any():
        findings.append(Finding(
            "info", "negative weight exponent", el, f"weight_exp = {wexp}",
            f"the summed input is shifted right by {-wexp} bits each step (floored)",
            "lower headroom to make weights larger in hardware units"))
    return {"zeroed": zeroed, "clipped": n_clip, "max_rel_error": max_rel,
            "n_synapses": int(units.size), "mantissa_min": int(mant.min()) if mant.size else 0,
            "mantissa_max": int(mant.max()) if mant.size else 0}


def worst_case_input(qg: _ir.IRGraph) -> dict:
    """Per population: the largest |a_in| (units) one volley can deliver to one neuron, i.e. every
    excitatory (or every inhibitory) input spiking in the same step, Poisson inputs once."""
    out = {}
    for name, pop in qg.populations.items():
        pos, neg = np.zeros(pop.size), np.zeros(pop.size)
        for e in qg.projections.values():
            if e.post != name or e.n_synapses == 0:
                continue
            w = np.asarray(e.weight, dtype=float) * 2.0 ** e.attrs["weight_exp"]
            pos += np.bincount(e.j, weights=np.maximum(w, 0), minlength=pop.size)
            neg += np.bincount(e.j, weights=np.maximum(-w, 0), minlength=pop.size)
        out[name] = np.maximum(pos, neg)
    return out


def _state_findings(qg, findings):
    for name, tot in worst_case_input(qg).items():
        if tot.size == 0:
            continue
        pop = qg.populations[name]
        el = f"population {name}"
        peak = float(tot.max())
        if peak >= 1 << (A_IN_BITS - 1):
            findings.append(Finding(
                "warning", "16-bit input overflow risk", el, f"one volley of all same-sign inputs: {peak:.0f} units",
                "a_in is 16 bits on Loihi (Lava's Python model does not wrap it)",
                "lower weights or fan-in, or raise headroom"))
        u_peak = peak * (1 << ACT_SHIFT)
        if u_peak > STATE_MAX:
            findings.append(Finding(
                "warning", "24-bit state overflow risk", el,
                f"one volley of all same-sign inputs adds {u_peak:.3g} to u (> 2**23 - 1)",
                "u wraps around (its sign flips)", "raise headroom, lower weights or fan-in"))


def lif_groups(populations: dict, key) -> list:
    """Populations grouped by ``key(pop)``: Lava needs one LIF process per group (du, dv, vth scalar)."""
    groups: dict = {}
    for p in populations.values():
        groups.setdefault(key(p), []).append(p.name)
    return list(groups.values())


# ----------------------------------------------------------------------------- executable specification
def _trunc_decay(x: np.ndarray, keep: int) -> np.ndarray:
    """trunc0(x * keep / 4096): Lava's np.sign(p) * (abs(p) >> 12)."""
    p = x * keep
    return np.sign(p) * (np.abs(p) >> DECAY_SHIFT)


def reference_run(qg: _ir.IRGraph, n_steps: int) -> dict:
    """Run a quantized IR (``quantize``) with Loihi's integer rules in plain numpy.

    The executable statement of what the quantized IR means, step for step, as the
    Lava backend runs it (tests/backends/test_lava.py checks the two agree bit for
    bit). Slow (Python loop over steps); meant for tests and small networks.

    IR step n: a_in is what arrives at n; u, v update as in the module docstring;
    spikes of step n (neurons, spike sources, Poisson counts) with delay D reach a_in
    of step n + 1 + D. Each projection floors its own sum: for every delay value,
    (sum of w * count) is shifted by the projection's weight_exp (arithmetic shift,
    flooring when negative) before it is added to the target. Weights are Lava's
    (``loihi_lif.projection_integers``: clipped and truncated by sign mode and
    num_weight_bits; a projection's own Loihi delays, ``loihi_lif.loihi_delays``); a
    source's several spikes in one step count on graded projections only. Injected
    currents change bias_mant at their change steps (``bias_mantissa``), in populations
    quantized from a float model; a population written in Loihi's integers keeps its
    bias_mant << bias_exp and takes no current.

    Returns {population: (steps int64, indices int64)} and final u, v."""
    dt = qg.dt
    pops = qg.populations
    where = "hwmodels.loihi.reference_run"
    ints = {k: loihi_lif.population_integers(p, where) for k, p in pops.items()}
    for c in qg.currents.values():
        if c.target in pops and "v_leak" not in pops[c.target].attrs:
            raise UnsupportedFeature(where, f"current input '{c.name}' into integer population '{c.target}'",
                                     "a population quantized by hwmodels.loihi.quantize, or a bias instead")
    u = {k: ints[k]["u"].copy() for k in pops}
    v = {k: ints[k]["v"].copy() for k in pops}
    projs = []
    for e in qg.projections.values():
        if e.n_synapses == 0:
            continue
        q = loihi_lif.projection_integers(e, qg.source_size(e.pre), pops[e.post].size, dt, where)
        projs.append((e, q, np.unique(q["delay"])))
    max_d = 1 + max([int(q["delay"].max()) for _, q, _ in projs if q["delay"].size] or [0])
    ring = {k: np.zeros((max_d + 1, p.size), dtype=np.int64) for k, p in pops.items()}
    src_steps = {k: (np.rint(s.times / dt).astype(np.int64), s.indices) for k, s in qg.spike_sources.items()}
    pois = {k: _ir.poisson_counts(s, dt, 0, n_steps).astype(np.int64) for k, s in qg.poisson_sources.items()}
    changes = sorted({0, *[int(x) for c in qg.currents.values() for x in _ir.current_at_steps(c, dt)[0]]})
    bias = {k: loihi_lif.effective_bias(ints[k]["bias_mant"], ints[k]["bias_exp"]).astype(np.int64)
            for k in pops}
    out_t = {k: [] for k in pops}
    out_i = {k: [] for k in pops}
    for n in range(n_steps):
        if n in changes:
            for k, p in pops.items():
                if "v_leak" not in p.attrs:     # written in Loihi's integers: its own bias
                    continue
                drive = np.full(p.size, p.attrs["v_leak"])
                for c in qg.currents.values():
                    if c.target == k:
                        st, amps = _ir.current_at_steps(c, dt)
                        j = np.searchsorted(st, n, side="right") - 1
                        if j >= 0:
                            drive[c.neurons] += amps[j] * p.attrs["current_gain"]
                mant, _ = bias_mantissa(p, bias_for_drive(p, drive))
                bias[k] = mant << p.params["bias_exp"]
        spikes = {}
        slot = n % (max_d + 1)
        for k, p in pops.items():
            q = ints[k]
            a_in = ring[k][slot].copy()
            ring[k][slot] = 0
            uu = _trunc_decay(u[k], DECAY_UNITY - (q["du"] + DU_OFFSET)) + (a_in << ACT_SHIFT)
            uu = np.where(uu > STATE_MAX + 1, uu - (1 << STATE_BITS), uu)
            uu = np.where(uu <= -(STATE_MAX + 1), uu + (1 << STATE_BITS), uu)
            vv = _trunc_decay(v[k], DECAY_UNITY - (q["dv"] + DV_OFFSET)) + uu + bias[k]
            vv = np.clip(vv, -STATE_MAX, STATE_MAX)
            s = vv > (q["vth"] << VTH_SHIFT)
            vv[s] = 0
            u[k], v[k] = uu, vv
            spikes[k] = s.astype(np.int64)
            idx = np.flatnonzero(s)
            out_t[k].append(np.full(idx.size, n, np.int64))
            out_i[k].append(idx)
        for k, (st, si) in src_steps.items():
            cnt = np.zeros(qg.spike_sources[k].size, np.int64)
            np.add.at(cnt, si[st == n], 1)
            spikes[k] = cnt
        for k, c in pois.items():
            spikes[k] = c[n]
        for e, q, uniq in projs:
            s = spikes[e.pre][q["i"]]
            if not q["graded"]:
                s = np.minimum(s, 1)
            if not s.any():
                continue
            d, w, exp = q["delay"], q["w"], q["weight_exp"]
            for dd in uniq:
                sel = (d == dd) & (s != 0)
                if not sel.any():
                    continue
                acc = np.bincount(q["j"][sel], weights=(w[sel] * s[sel]).astype(float),
                                  minlength=pops[e.post].size).astype(np.int64)
                acc = (acc << exp) if exp >= 0 else (acc >> -exp)
                ring[e.post][(n + 1 + int(dd)) % (max_d + 1)] += acc
    return {"spikes": {k: (np.concatenate(out_t[k]), np.concatenate(out_i[k])) for k in pops},
            "u": u, "v": v}
