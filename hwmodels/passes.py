"""IR -> IR passes: a network as a chip would hold it.

``quantize(ir, profile)`` returns a new spikecore.ir.IRGraph whose weights,
thresholds, resets and time constants are the values the profile's formats can
represent (hwmodels.profiles), so the quantized network runs unchanged on the
native engine, Brian2 and Lava and every comparison is like for like. The
integer codes and formats are kept in ``attrs["hw"]`` of each projection and
population for backends that compute in fixed point (the Lava backend) and for
``state_layout``, which hands hwmodels.batch the membrane format.

What is quantized:
* weights of every projection whose ``attrs["role"]`` is not ``"control"``
  (hwmodels.conversion marks the reference synapses of its temporal code as
  control: on a chip they are a bias/threshold schedule, not stored weights);
  per-channel scales are per postsynaptic neuron;
* time constants: the per-step factor exp(-dt/tau) through the profile's decay
  format (a factor that becomes exactly 1 leaves tau as is if it already was 1,
  else tau becomes NO_DECAY_TICKS * dt; for lif_cuba the synaptic gain coef is
  kept by rescaling the weights onto that population);
* v_threshold and v_reset on the membrane's LSB grid (``state_layout``), when the
  profile has a fixed-point state;
* delays are checked against the profile's largest delay (UnsupportedFeature).

A profile with ``exact`` set (``loihi``: hwmodels.loihi.quantize, Lava's integer
arithmetic, populations of model ``loihi_lif``) hands the whole graph to that
function instead, unless ``exact=False``.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import get_model

from .profiles import Profile, get_profile
from .quantizers import round_to_int, shared_exponent

#: Ticks of a time constant whose per-step factor is exactly 1.0 in float64 (no decay).
NO_DECAY_TICKS = 2.0 ** 56


def quantize(ir: _ir.IRGraph, profile, weight_bits: int | None = None, seed: int | None = None,
             exact: bool = True) -> _ir.IRGraph:
    """A copy of ``ir`` as ``profile`` holds it; ``weight_bits`` narrows the weight format.

    ``exact``: when the profile names an exact conversion (``Profile.exact``, e.g.
    hwmodels.loihi.quantize for ``loihi``), return what it returns: called as
    ``fn(ir)`` or ``fn(ir, num_weight_bits=weight_bits)``. With ``exact=False``, or
    for profiles without one, the generic pass below: the float IR with the profile's
    formats applied, which every float backend and hwmodels.batch run."""
    if not isinstance(ir, _ir.IRGraph):
        raise ValidationError("ir", type(ir).__name__, "a spikecore.ir.IRGraph")
    prof = get_profile(profile)
    fn = prof.exact_pass() if exact else None
    if fn is not None:
        if weight_bits is not None:
            prof.weight_quantizer(weight_bits)   # the same bounds as the generic pass
            return fn(ir, num_weight_bits=weight_bits)
        return fn(ir)
    g = copy.deepcopy(ir)
    g.name = f"{ir.name}@{prof.name}" + (f"/w{weight_bits}" if weight_bits else "")
    dt = g.dt
    if prof.max_delay_steps is not None:
        for e in g.projections.values():
            d = _ir.delay_steps(e.delay, dt)
            if d.size and d.max() > prof.max_delay_steps:
                raise UnsupportedFeature(prof.name, f"delays of {int(d.max())} steps (projection {e.name})",
                                         f"at most {prof.max_delay_steps} steps")
    _quantize_decays(g, prof)
    wq = prof.weight_quantizer(weight_bits, seed=seed)
    if wq is not None:
        rng = np.random.default_rng(seed) if wq.rounding == "stochastic" else None
        for e in g.projections.values():
            if e.attrs.get("role") == "control":
                continue
            codes, scale, exp = _quantize_edge(e, g.populations[e.post].size, wq, rng)
            e.weight = codes * scale
            e.attrs["hw"] = {"profile": prof.name, "weight_bits": wq.bits, "weight_codes": codes.astype(np.int64),
                             "weight_scale": scale, "weight_exp": exp, "scale": wq.scale, "rounding": wq.rounding}
    if prof.state is not None:
        layout = state_layout(g, prof)
        for name, st in layout.items():
            p = g.populations[name]
            lsb = st["lsb"]
            vth_code = np.floor(p.params["v_threshold"] / lsb)
            vreset_code = np.floor(p.params["v_reset"] / lsb)
            # the IR holds one threshold per population: the coarsest neuron's grid decides
            p.params["v_threshold"] = float(np.max(vth_code * lsb))
            p.params["v_reset"] = float(np.min(vreset_code * lsb))
            p.attrs.setdefault("hw", {}).update({"profile": prof.name, "state": st})
    for p in g.populations.values():
        p.attrs.setdefault("hw", {})["profile"] = prof.name
    return g


def _quantize_edge(e, n_post: int, wq, rng):
    """Codes, per-synapse scale and shared exponent of one projection."""
    w = np.asarray(e.weight, float)
    lo, hi = wq.code_range
    qmax = wq.q_max
    if w.size == 0:
        return w.copy(), np.ones(0), None
    if not wq.signed and (w < 0).any():
        raise ValidationError(f"projections.{e.name}.weight", float(w.min()), "weights >= 0 for an unsigned weight format")
    exp = None
    if wq.scale == "channel":
        m = np.zeros(n_post)
        np.maximum.at(m, e.j, np.abs(w))
        scale = np.where(m > 0, m / qmax, 1.0)[e.j]
    elif wq.scale == "shared_exponent":
        # IR weights are in volts, which no chip stores: the exponent is free here and the
        # membrane LSB follows it (state_layout). exponent_range binds once weights and
        # threshold are placed in hardware units together (hwmodels.loihi, the Lava backend).
        exp = shared_exponent(float(np.max(np.abs(w))), qmax, (-1074, 1023))
        scale = np.full(w.size, 2.0 ** exp)
    else:
        m = float(np.max(np.abs(w)))
        scale = np.full(w.size, m / qmax if m > 0 else 1.0)
    codes = np.clip(round_to_int(w / scale, wq.rounding, rng), lo, hi)
    return codes, scale, exp


def _quantize_decays(g, prof: Profile):
    dq = prof.decay
    if dq.kind == "float":
        return
    dt = g.dt
    for p in g.populations.values():
        if "tau_mem" not in p.params:
            continue
        model = get_model(p.model)
        old_coef = _synaptic_coefficients(model, p, dt)
        codes = {"mem": float(dq.code(math.exp(-dt / p.params["tau_mem"])))}
        p.params["tau_mem"] = _new_tau(p.params["tau_mem"], dq, dt)
        for r, rp in p.receptors.items():
            if "tau_syn" in rp:
                codes[f"syn_{r}"] = float(dq.code(math.exp(-dt / rp["tau_syn"])))
                rp["tau_syn"] = _new_tau(rp["tau_syn"], dq, dt)
        p.attrs.setdefault("hw", {})["decay"] = {"kind": dq.kind, "bits": dq.bits, "codes": codes}
        for r, c_old in old_coef.items():   # keep each linear synapse's gain coef
            c_new = model.synaptic_coefficient(p.params, p.receptors[r], dt)
            if c_new > 0 and c_old != c_new:
                for e in g.projections.values():
                    if e.post == p.name and e.receptor == r:
                        e.weight = e.weight * (c_old / c_new)


def _synaptic_coefficients(model, p, dt: float) -> dict:
    """Receptor -> the exact gain of its variable onto v over one step, for linear synapses."""
    coefs = {r: model.synaptic_coefficient(p.params, rp, dt) for r, rp in p.receptors.items()}
    return {r: c for r, c in coefs.items() if c is not None}


def _new_tau(tau: float, dq, dt: float) -> float:
    f_old = math.exp(-dt / tau)
    f_new = float(dq(f_old))
    if f_new >= 1.0:
        return tau if f_old >= 1.0 else NO_DECAY_TICKS * dt
    if f_new <= 0.0:
        return dt * 1e-3   # decays fully within a step
    return -dt / math.log(f_new)


def state_layout(g: _ir.IRGraph, profile) -> dict:
    """Membrane format of every population for hwmodels.batch: population -> dict.

    The LSB of neuron j is the smallest weight step reaching it (times coef for
    current synapses, where v integrates the synaptic current) divided by 2^shift (Loihi:
    a_in << 6), coarsened by powers of two until the threshold fits the threshold
    mantissa and the range the code needs (``attrs["v_range"]``, default 2 thresholds)
    fits the state's bits."""
    prof = get_profile(profile)
    if prof.state is None:
        return {}
    st = prof.state
    dt = g.dt
    code_max = 2.0 ** (st.bits - 1) - 1
    thr_max = (2.0 ** prof.threshold_bits - 1) * 2.0 ** st.shift if prof.threshold_bits else code_max
    out = {}
    for name, p in g.populations.items():
        n = p.size
        step = np.full(n, np.inf)
        coef = next(iter(_synaptic_coefficients(get_model(p.model), p, dt).values()), 1.0)
        for e in g.projections.values():
            if e.post != name or e.attrs.get("role") == "control" or "hw" not in e.attrs:
                continue
            s = np.asarray(e.attrs["hw"]["weight_scale"], float)
            np.minimum.at(step, e.j, s)
        vth = p.params["v_threshold"]
        v_range = float(p.attrs.get("v_range", 2.0 * abs(vth)))
        floor_lsb = max(v_range / code_max, abs(vth) / thr_max)
        if np.isfinite(step).any():
            lsb = np.where(np.isfinite(step), step, np.nanmin(np.where(np.isfinite(step), step, np.nan)))
            lsb = lsb * coef / 2.0 ** st.shift
            k = np.ceil(np.log2(np.maximum(floor_lsb / lsb, 1.0)) - 1e-12)
            lsb = lsb * 2.0 ** np.maximum(k, 0)
        else:
            lsb = np.full(n, floor_lsb)
        dq = prof.decay
        am = math.exp(-dt / p.params["tau_mem"]) if "tau_mem" in p.params else 0.0
        kind = dq.kind
        if kind == "shift":
            param = float(dq.code(am))
        elif kind == "float":
            param = am
        else:
            param = float(dq(am))
        out[name] = {"bits": st.bits, "overflow": st.overflow, "rounding": st.rounding, "lsb": lsb,
                     "decay_kind": kind, "decay_mem": param}
    return out
