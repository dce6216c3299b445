"""``loihi_lif``: Loihi's integer LIF neuron, as Lava 0.10 implements it bit for bit.

Two ways in: hwmodels.loihi.quantize writes it from a float model (IR -> IR), or a user
describes a population in Loihi's own integers (``Network``, model files; docs/models.md).
The native engine's Loihi mode (spikecore/engine/loihi.py) and the Lava backend with
``format="fixed"`` run it; every other mode refuses it. One step
(lava/proc/lif/models.py ``AbstractPyLifModelFixed.subthr_dynamics``, ``PyLifModelBitAcc``)::

    u <- trunc0(u (4096 - (du + 1)) / 4096) + (a_in << 6)      u 24-bit, wraps
    v <- trunc0(v (4096 - dv) / 4096) + u + (bias_mant << bias_exp)   v saturates at +-(2**23 - 1)
    spike if v > (vth << 6); then v <- 0 (u is not reset)

with trunc0 rounding toward zero. Parameters (``params``, or the population's ``attrs``,
which win): ``du``, ``dv`` (0..4095) and ``vth`` (0..2**17-1), one value per population;
``bias_mant`` (-4096..4095) and ``bias_exp`` (0..7), scalars or per-neuron arrays;
``refractory_steps`` 0 (the bit-accurate LIF has none). State ``u``, ``v`` (24-bit).

A population quantized from a float model keeps in ``attrs`` what converts back to
volts (``scale`` LSB per volt, ``v_reset``, ``drive_gain``, ``current_gain``, ``syn_gain``);
``bias_for_drive``, ``bias_mantissa``, ``v_to_volts`` and ``u_to_syn`` are those
conversions, shared by the quantization pass, the Lava backend and the native Loihi mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir as _ir
from .. import units as u
from ..errors import UnsupportedFeature, ValidationError
from .base import NeuronModel, ParamSpec

ENGINE = "native --format loihi"   # who refuses an integer IR it cannot hold (engines pass their own name)

# lava/proc/lif/models.py, PyLifModelBitAcc docstring and AbstractPyLifModelFixed: du, dv
# unsigned 12-bit; vth unsigned 17-bit; bias_mant signed 13-bit; bias_exp unsigned 3-bit;
# u, v 24-bit. Lava does not enforce these widths; spikecore refuses values outside them.
DECAY_SHIFT = 12                 # decays are fractions of 2**12
DECAY_UNITY = 1 << DECAY_SHIFT   # AbstractPyLifModelFixed: decay_unity
DECAY_MAX = DECAY_UNITY - 1      # du, dv are unsigned 12-bit
DU_OFFSET = 1                    # Lava's ds_offset: effective current decay is du + 1
DV_OFFSET = 0                    # Lava's dm_offset
VTH_SHIFT = 6                    # spike if v > vth << 6
ACT_SHIFT = 6                    # u += a_in << 6
VTH_BITS = 17
VTH_MAX = (1 << VTH_BITS) - 1
STATE_BITS = 24
STATE_MAX = (1 << (STATE_BITS - 1)) - 1   # v saturates at +-STATE_MAX; u wraps beyond 2**23
BIAS_MANT_BITS = 13
BIAS_MANT_MIN, BIAS_MANT_MAX = -(1 << (BIAS_MANT_BITS - 1)), (1 << (BIAS_MANT_BITS - 1)) - 1
BIAS_EXP_MIN, BIAS_EXP_MAX = 0, 7
WEIGHT_BITS = 8
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7     # Loihi's weight exponent register (Lava does not check it)
A_IN_BITS = 16                   # a_in port width (Lava's Python models do not wrap it)
MAX_DELAY = 63                   # 6-bit synaptic delay (DelayDense/DelaySparse)
WEIGHT_EXP_RANGE = (WEIGHT_EXP_MIN, WEIGHT_EXP_MAX)
NUM_WEIGHT_BITS_RANGE = (1, WEIGHT_BITS)
# a step's sum of weights per (projection, target, delay) must fit int32 before its flooring
# shift, as Lava's DelaySparse accumulates in int32 (Dense in int64): 256 * fan-in <= 2**31
MAX_FAN_IN = 2**23
#: a projection attr of the integer IR: its IR delay counts the step Lava's Dense adds, so
#: Loihi's synaptic delay is d = delay/dt - 1 (0..63 for IR delays of 1..64 steps). The
#: description layer writes it (a Loihi delay d is the IR delay (d + 1) dt, never below dt);
#: without it (the quantization pass, hand-built integer IR) d = delay/dt.
DENSE_STEP_IN_DELAY = "delay_includes_dense_step"

#: the integer ranges the native Loihi mode checks a loihi_lif population against
RANGES = {
    "du": (0, DECAY_MAX), "dv": (0, DECAY_MAX), "vth": (0, VTH_MAX),
    "bias_mant": (BIAS_MANT_MIN, BIAS_MANT_MAX), "bias_exp": (BIAS_EXP_MIN, BIAS_EXP_MAX),
    "u": (-(1 << (STATE_BITS - 1)), 1 << (STATE_BITS - 1)), "v": (-(1 << (STATE_BITS - 1)), 1 << (STATE_BITS - 1)),
}


def effective_decay(d_int: int, offset: int) -> float:
    """Per-step decay factor of a 12-bit decay register."""
    return (DECAY_UNITY - (d_int + offset)) / DECAY_UNITY


def bias_mantissa(pop_q, bias_volts) -> tuple:
    """Bias (V per step) of a quantized population -> (13-bit mantissas, how many were clipped)."""
    scale, e = pop_q.attrs["scale"], pop_q.params["bias_exp"]
    m = np.rint(np.asarray(bias_volts, dtype=float) * scale / 2 ** e).astype(np.int64)
    clipped = int(((m < BIAS_MANT_MIN) | (m > BIAS_MANT_MAX)).sum())
    return np.clip(m, BIAS_MANT_MIN, BIAS_MANT_MAX), clipped


def bias_for_drive(pop_q, drive_volts) -> np.ndarray:
    """Bias (V per step) for a drive (v_leak + r I, in V) of a quantized population."""
    a = pop_q.attrs
    return (np.asarray(drive_volts, dtype=float) - a["v_reset"]) * a["drive_gain"]


def v_to_volts(pop_q, v_int) -> np.ndarray:
    return np.asarray(v_int, dtype=float) / pop_q.attrs["scale"] + pop_q.attrs["v_reset"]


def u_to_syn(pop_q, receptor: str, u_int):
    """A receptor's synaptic variable from u (None when receptors share one u)."""
    gain = pop_q.attrs["syn_gain"].get(receptor)
    if gain is None:
        return None
    return np.asarray(u_int, dtype=float) / pop_q.attrs["scale"] / gain


# lava/utils/weightutils.py, SignMode; "exc"/"inh" as hwmodels.loihi writes them
SIGN_MODES = {"null": 0, "mixed": 1, "excitatory": 2, "inhibitory": 3}
SIGN_MODE_NAMES = {v: k for k, v in SIGN_MODES.items()}
SIGN_MODE_ALIASES = {"exc": "excitatory", "inh": "inhibitory"}


# -- Lava's conversions, reproduced ---------------------------------------------------------

def effective_bias(bias_mant: np.ndarray, bias_exp: np.ndarray) -> np.ndarray:
    """lava/proc/lif/models.py, AbstractPyLifModelFixed.scale_bias (mantissa int16, exponent int16)."""
    mant = np.asarray(bias_mant).astype(np.int16).astype(np.int32)
    exp = np.asarray(bias_exp).astype(np.int16)
    with np.errstate(all="ignore"):
        return np.where(exp >= 0, np.left_shift(mant, exp), np.right_shift(mant, -exp)).astype(np.int32)


def sign_mode_code(value, field: str) -> int | None:
    """A sign mode given as a name, a SignMode code or Lava's SignMode; None stays None."""
    if value is None:
        return None
    if hasattr(value, "name") and hasattr(value, "value"):     # lava.utils.weightutils.SignMode
        value = value.name
    if isinstance(value, str):
        name = SIGN_MODE_ALIASES.get(value.lower(), value.lower())
        if name in SIGN_MODES:
            return SIGN_MODES[name]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and int(value) in SIGN_MODE_NAMES:
        return int(value)
    raise ValidationError(field, value, "a sign mode: " + ", ".join([*SIGN_MODES, *SIGN_MODE_ALIASES]) + " (or 0..3)")


def determine_sign_mode(weights: np.ndarray, has_implicit_zeros: bool) -> int:
    """lava/utils/weightutils.py, determine_sign_mode, on the whole (n_post, n_pre) matrix
    (whose entries without a synapse are zeros)."""
    lo = int(weights.min()) if weights.size else 0
    hi = int(weights.max()) if weights.size else 0
    if has_implicit_zeros:
        lo, hi = min(lo, 0), max(hi, 0)
    if lo >= 0:
        return SIGN_MODES["excitatory"]
    if hi <= 0:
        return SIGN_MODES["inhibitory"]
    return SIGN_MODES["mixed"]


def clip_weights(weights: np.ndarray, mode: int, num_bits: int = 8) -> np.ndarray:
    """lava/utils/weightutils.py, clip_weights (learning_simulation=False)."""
    w = weights.astype(np.int32)
    mixed = int(mode == SIGN_MODES["mixed"])
    inhibitory = mode == SIGN_MODES["inhibitory"]
    if inhibitory:
        w = -w
    w = np.clip(w, (-2 ** num_bits) * mixed, 2 ** num_bits - 1)
    return -w if inhibitory else w


def truncate_weights(weights: np.ndarray, mode: int, num_weight_bits: int, max_num_weight_bits: int = 8):
    """lava/utils/weightutils.py, truncate_weights: drop LSBs (arithmetic shifts, so negative
    mixed weights round toward -inf; inhibitory ones are negated around it)."""
    w = weights.astype(np.int32)
    inhibitory = mode == SIGN_MODES["inhibitory"]
    if inhibitory:
        w = -w
    k = max_num_weight_bits - num_weight_bits + int(mode == SIGN_MODES["mixed"])
    w = (w >> k) << k
    return -w if inhibitory else w



def _integers(value, field: str, lo: int, hi: int, size: int | None = None) -> np.ndarray:
    """Integer values in [lo, hi] as int64, a scalar (size None) or broadcast to ``size``."""
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValidationError(field, value, f"integers in [{lo}, {hi}]")
    if size is None and arr.ndim != 0:
        if arr.size == 1:
            arr = arr.reshape(())
        else:
            raise ValidationError(field, value, "one value for the whole population (Lava's LIF has one)")
    if size is not None and arr.ndim != 0 and arr.shape != (size,):
        raise ValidationError(field, f"array of shape {arr.shape}", f"a scalar or {size} values")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))].flat[0] if arr.ndim else arr.item()
        raise ValidationError(field, bad, "integer values (run the Loihi quantization pass, "
                                          "hwmodels.loihi.quantize, on a float model first)")
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = arr.min() if arr.min() < lo else arr.max()
        raise ValidationError(field, bad.item(), f"an integer in [{lo}, {hi}] (Loihi's width)")
    arr = arr.astype(np.int64)
    if size is not None:
        arr = np.broadcast_to(arr, (size,)).copy()
    return arr


def population_integers(pop, engine: str = ENGINE) -> dict:
    """du, dv, vth (ints) and bias_mant, bias_exp, u, v (int64 arrays) of a loihi_lif population."""
    if pop.model != MODEL.name:
        raise UnsupportedFeature(engine, f"population '{pop.name}' of model '{pop.model}'",
                                 f"quantize the network for Loihi first (model '{MODEL.name}')")
    out = {}
    for key in ("du", "dv", "vth", "bias_mant", "bias_exp"):
        if key in pop.attrs:
            value = pop.attrs[key]
        elif key in pop.params:
            value = pop.params[key]
        elif key in ("bias_mant", "bias_exp"):
            value = 0
        else:
            raise ValidationError(f"populations.{pop.name}.params.{key}", None, "an integer (required)")
        lo, hi = RANGES[key]
        size = pop.size if key.startswith("bias") else None
        arr = _integers(value, f"populations.{pop.name}.{key}", lo, hi, size)
        out[key] = int(arr) if size is None else arr
    for key in ("u", "v"):
        lo, hi = RANGES[key]
        out[key] = _integers(pop.initial.get(key, 0), f"populations.{pop.name}.initial.{key}", lo, hi, pop.size)
    refr = pop.params.get("refractory_steps", 0)
    if refr:
        raise UnsupportedFeature(engine, f"a refractory period ({refr} steps) in population '{pop.name}'",
                                 "none: Lava's bit-accurate LIF (PyLifModelBitAcc) has no refractory period")
    return out


def loihi_delays(e, dt: float, n: int, engine: str = ENGINE) -> np.ndarray:
    """Loihi's synaptic delays d (int64, 0..63) of a projection of the integer IR: a spike at
    step t reaches the target's a_in at t + 1 + d (DENSE_STEP_IN_DELAY says how the IR's
    delay counts it)."""
    where = f"projections.{e.name}"
    delay = np.broadcast_to(np.asarray(e.delay, dtype=float), (n,))
    steps = np.rint(delay / dt).astype(np.int64)
    off_grid = np.abs(delay / dt - steps) > _ir.GRID_TOLERANCE
    if off_grid.any():
        raise ValidationError(f"{where}.delay", f"{float(delay[off_grid][0])!r} s", f"a multiple of dt ({dt!r} s)")
    offset = 1 if e.attrs.get(DENSE_STEP_IN_DELAY, False) else 0
    d = steps - offset
    if d.size and (d.min() < 0 or d.max() > MAX_DELAY):
        bad = int(d.min() if d.min() < 0 else d.max())
        raise UnsupportedFeature(engine, f"a Loihi delay of {bad} steps in projection '{e.name}'",
                                 f"Loihi's synaptic delays of 0..{MAX_DELAY} steps"
                                 + (" (IR delays of 1..64 steps: the IR's delay counts Dense's step)" if offset else ""))
    return d


def projection_integers(e, n_pre: int, n_post: int, dt: float, engine: str = ENGINE) -> dict:
    """Synapses of one projection as Lava holds them: i, j, clipped/truncated weights (int64),
    Loihi delays d (steps), weight_exp, sign mode, and whether spike counts multiply weights."""
    where = f"projections.{e.name}"
    wexp = int(_integers(e.attrs.get("weight_exp", 0), f"{where}.weight_exp", *WEIGHT_EXP_RANGE))
    nwb = int(_integers(e.attrs.get("num_weight_bits", 8), f"{where}.num_weight_bits", *NUM_WEIGHT_BITS_RANGE))
    mode = sign_mode_code(e.attrs.get("sign_mode"), f"{where}.sign_mode")
    graded = e.attrs.get("graded", False)
    if not isinstance(graded, (bool, np.bool_)):
        raise ValidationError(f"{where}.graded", graded, "true or false")
    i = np.asarray(e.i, dtype=np.int64)
    j = np.asarray(e.j, dtype=np.int64)
    if i.size and (i.min() < 0 or i.max() >= n_pre or j.min() < 0 or j.max() >= n_post):
        raise ValidationError(f"{where}.i/j", "out of range", f"indices below {n_pre} (pre) and {n_post} (post)")
    w = _integers(e.weight, f"{where}.weight", np.iinfo(np.int32).min, np.iinfo(np.int32).max, i.size)
    steps = loihi_delays(e, dt, i.size, engine)
    if mode is None:
        pairs = np.unique(j * n_pre + i).size
        mode = determine_sign_mode(w, has_implicit_zeros=pairs < n_pre * n_post)
    if wexp < 0 and not graded and j.size and np.bincount(j, minlength=n_post).max() > MAX_FAN_IN:
        raise UnsupportedFeature(engine, f"a fan-in above {MAX_FAN_IN} in projection '{e.name}'",
                                 "smaller fan-in (Lava's int32 sums would overflow)")
    # lava/proc/dense/models.py, AbstractPyDenseModelBitAcc.run_spk (first step):
    # clip_weights(num_bits=8) then truncate_weights(num_weight_bits), entry by entry
    wq = truncate_weights(clip_weights(w, mode, 8), mode, nwb)
    keep = wq != 0
    return {"i": i[keep], "j": j[keep], "w": wq[keep].astype(np.int64), "delay": steps[keep],
            "weight_exp": wexp, "sign_mode": SIGN_MODE_NAMES[mode], "num_weight_bits": nwb, "graded": bool(graded)}


# -- the description layer's projections onto loihi_lif (spikecore.network) -----------------

def check_projection_registers(pr, spec, fld: str):
    """weight_exp and num_weight_bits: Lava's registers, only for projections onto """
    for key, (lo, hi) in (("weight_exp", WEIGHT_EXP_RANGE),
                          ("num_weight_bits", NUM_WEIGHT_BITS_RANGE)):
        value = getattr(pr, key)
        if value is None:
            continue
        if spec.synapse != "integer":
            raise ValidationError(f"{fld}.{key}", value, f"nothing: {key} is Lava's, for projections onto "
                                  f"{MODEL.name} populations ({spec.name} has {spec.synapse} synapses)")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValidationError(f"{fld}.{key}", value, f"an integer in [{lo}, {hi}]")


def ir_delays(d, n: int, dt: float, fld: str) -> np.ndarray:
    """IR delays (s) of Loihi synaptic delays d (steps, 0..63): (d + 1) dt. The IR's delay counts
    the step Lava's Dense adds (a spike at step n reaches the target's a_in at n + 1 + d), so
    that it is never below dt; the edge's attr DENSE_STEP_IN_DELAY says so."""
    d = np.zeros(n) if d is None else np.asarray(d, dtype=float)
    bad = ~np.isfinite(d) | (d != np.round(d)) | (d < 0) | (d > MAX_DELAY)
    if bad.any():
        raise ValidationError(f"{fld}.delay", d[bad][0].item(),
                              f"Loihi synaptic delays: integers in [0, {MAX_DELAY}] steps (DelayDense's d)")
    return (d + 1) * dt


def projection_attrs(pr, i, j, w, n_pre: int, n_post: int, graded: bool, fld: str) -> dict:
    """The integer IR's projection attrs (spikecore/engine/loihi.py); weights must be integers that
    Lava holds exactly: within the sign mode's range and on the grid num_weight_bits keeps (Lava
    would clip or truncate the others silently)."""
    nwb = 8 if pr.num_weight_bits is None else int(pr.num_weight_bits)
    bad = ~np.isfinite(w) | (w != np.round(w))
    if bad.any():
        raise ValidationError(f"{fld}.weight", w[bad][0].item(), "integer weight mantissas (Loihi's units)")
    mode = determine_sign_mode(w, has_implicit_zeros=np.unique(j * n_pre + i).size < n_pre * n_post)
    held = truncate_weights(clip_weights(w.astype(np.int64), mode, 8), mode, nwb)
    off = held != w
    if off.any():
        name = SIGN_MODE_NAMES[mode]
        step = 1 << (WEIGHT_BITS - nwb + (name == "mixed"))
        lo, hi = {"mixed": (-256, 256 - step), "excitatory": (0, 256 - step), "inhibitory": (step - 256, 0)}[name]
        raise ValidationError(f"{fld}.weight", w[off][0].item(),
                              f"a multiple of {step} in [{lo}, {hi}] ({name} weights with num_weight_bits={nwb}"
                              + (": the sign takes a bit" if name == "mixed" else "") + ")")
    return {"weight_exp": 0 if pr.weight_exp is None else int(pr.weight_exp), "num_weight_bits": nwb,
            "sign_mode": SIGN_MODE_NAMES[mode], "graded": bool(graded),
            DENSE_STEP_IN_DELAY: True}


@dataclass(frozen=True)
class LoihiLif(NeuronModel):
    """Integer model: no float maths; its update is the native engine's _loihi_update.h."""

    def initial_value(self, var: str, si_params: dict):
        return 0.0          # u = v = 0: Lava's LIF defaults

    def check_state(self, var: str, values: np.ndarray, field: str) -> None:
        lo, hi = -STATE_MAX, STATE_MAX
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < lo) | (values > hi)
        if bad.any():
            raise ValidationError(field, float(values[bad][0]),
                                  f"an integer in [{lo}, {hi}] ({var} is {STATE_BITS}-bit on Loihi)")

    def unsupported_reason(self, mode: str) -> str:
        return ("its parameters are Loihi's integer registers (du, dv, vth, bias mantissa/exponent), "
                "which only Loihi's fixed-point arithmetic runs: native --format loihi or lava --format fixed")


def _register(lo_hi, doc, default=None):
    kw = {} if default is None else {"default": default}
    return ParamSpec(u.DIMENSIONLESS, bounds=lo_hi, doc=doc, **kw)


MODEL = LoihiLif(
    name="loihi_lif",
    synapse="integer",
    params={"du": _register(RANGES["du"], "current decay register (effective decay du + 1 of 4096)"),
            "dv": _register(RANGES["dv"], "voltage decay register (decay dv of 4096)"),
            "vth": _register(RANGES["vth"], "threshold mantissa: spike when v > vth << 6"),
            "bias_mant": _register(RANGES["bias_mant"], "bias mantissa", 0),
            "bias_exp": _register(RANGES["bias_exp"], "bias exponent", 0),
            "refractory_steps": _register((0, 0), "none: the bit-accurate LIF has no refractory period", 0)},
    receptor_params={},
    weight_dims=(u.DIMENSIONLESS,),
    state={"u": u.DIMENSIONLESS, "v": u.DIMENSIONLESS},
    default_receptors=("default",),
    doc="Loihi's integer LIF (Lava PyLifModelBitAcc), in Loihi's units; hwmodels.loihi.quantize writes it too",
    modes=frozenset({"loihi", "lava"}),
    per_neuron_params=frozenset({"bias_mant", "bias_exp"}),
)
