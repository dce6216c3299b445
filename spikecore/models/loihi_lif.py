"""``loihi_lif``: Loihi's integer LIF neuron, as Lava 0.10 implements it bit for bit.

The model of quantized populations: hwmodels.loihi.quantize writes it (IR -> IR), the
native engine's Loihi mode (spikecore/engine/loihi.py) runs it. Not describable in model
files yet: a network is written in a float model and quantized. One step
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

from .. import units as u
from .base import NeuronModel, ParamSpec

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


@dataclass(frozen=True)
class LoihiLif(NeuronModel):
    """Integer model: no float maths; its update is the native engine's _loihi_update.h."""


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
    doc="Loihi's integer LIF (Lava PyLifModelBitAcc); written by hwmodels.loihi.quantize",
    modes=frozenset({"loihi"}),
    describable=False,
)
