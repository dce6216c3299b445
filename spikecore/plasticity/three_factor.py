"""Three-factor learning (``rule: three_factor``): pair STDP into an eligibility trace per
synapse, turned into weight change by a neuromodulator (dopamine), as Izhikevich (2007),
"Solving the distal reward problem through linkage of STDP and dopamine signaling", and
NEST's ``stdp_dopamine_synapse``.

Per synapse: the weight w, the pair-STDP traces x_pre and x_post (dimensionless), the
eligibility trace c (in the weight unit) and the neuromodulator concentration d (1/s).
With m = sign*w (sign = -1 on an inhibitory projection, whose bounds are on |w|):

    dx_pre/dt  = -x_pre/tau_plus   + sum_pre  delta(t - t_pre)
    dx_post/dt = -x_post/tau_minus + sum_post delta(t - t_post)
    dc/dt      = -c/tau_c + A_plus*x_pre(t) sum_post delta(t - t_post)
                          - A_minus*x_post(t) sum_pre delta(t - t_pre)
    dd/dt      = -d/tau_d + d_increment * sum_mod delta(t - t_mod - modulator_delay)
    dm/dt      = c * (d - baseline),     m kept in [w_min, w_max]

``modulator: <population>``: d is the trace of the spikes of that population (neurons or a
spike source; every spike of any of its neurons adds d_increment, default 1/tau_d, NEST's
volume_transmitter with its n += 1/tau_n), arriving modulator_delay after the spike.
``signal: {times: [...], values: [...]}`` instead: d is piecewise constant, values[k] from
times[k] on (0 before times[0]); tau_d and d_increment are not used. Exactly one of the two.

The weight is integrated exactly and lazily, as NEST does: at each event of a synapse (a
presynaptic arrival, a postsynaptic spike, a modulator arrival or a signal change) the
interval since its last event is integrated in closed form (c and d decay exponentially
between events), with el = t - t_last, taus = tau_c*tau_d/(tau_c + tau_d):

    m <- clip(m + c*(d*K_d - baseline*K_c), w_min, w_max),
    K_c = -tau_c*expm1(-el/tau_c),  K_d = -taus*expm1(-el/taus)   (signal: K_d = K_c)
    c <- c*exp(-el/tau_c);  d <- d*exp(-el/tau_d) (signal: unchanged);  the x decay as in stdp_pair

then the event: presynaptic arrival: deliver w (the integrated weight), c <- c - A_minus*x_post,
x_pre <- x_pre + 1; postsynaptic spike: c <- c + A_plus*x_pre, x_post <- x_post + 1; modulator
arrival: d <- d + d_increment; signal change: d <- the new value. In one step presynaptic
and modulator arrivals (which commute) come before postsynaptic spikes, as in stdp_pair.
Weights read between events (final weights, weight monitors) are the weights integrated to
the time of reading (``weight_now``), which leaves the synapse's state unchanged.

Relation to NEST's stdp_dopamine_synapse (Potjans, Morrison & Diesmann 2010): the same
equations and the same closed form (its update_weight_: tau_n = tau_d, b = baseline, n = d,
n += 1/tau_n per dopamine spike = d_increment's default); A_plus, A_minus, tau_plus, w_min,
w_max alike (NEST's tau_minus is the postsynaptic neuron's; here the synapse keeps its own
x_post, the same numbers). NEST integrates at presynaptic spikes and at each delivery of
its volume transmitter (every deliver_interval), walking the postsynaptic and dopamine spikes
in between, so it integrates over the same pieces — cut at post spikes and dopamine spikes
— and clips at the ends of the same pieces: the weights agree up to rounding. Differences:
NEST's STDP delay is dendritic (a pre spike and a post spike are paired at the soma, the
post spike shifted by the delay); this rule's is axonal (``dendritic_delay_fraction: 0``,
Brian2's convention: paired where the pre spike arrives). NEST skips facilitation by a post
spike at the pre spike's own time; here an arrival and a post spike in one step potentiate.
Izhikevich (2007; its code dastdp.m) integrates the same equations by Euler steps: traces
every 1 ms, c and w every 10 ms (c *= 0.99, w += (0.002 + DA)*c): in this rule's terms a tonic
``baseline: -0.2 Hz`` and ``d_increment: 50 Hz`` per 0.5 of DA (examples/distal_reward.py).

A reward that depends on the network's own activity (reward after a chosen coincidence) is
given through run control: ``exe.run(d, every=..., callback=f)`` runs the kernel between
stops with no Python per step, ``exe.last_result`` holds the spikes of the last piece and
``exe.modulate(projection)`` is a modulator arrival now on every synapse of the projection
(examples/distal_reward.py, docs/run_control.md).
"""
from __future__ import annotations

import numpy as np

from .. import units as u
from ..errors import ValidationError
from ..ir import steps
from .base import WEIGHT, Brian2Plasticity, PlasticityRule, RuleParam, check_weight_bounds, pair_trace_params

_OWN_KEYS = ("modulator", "signal")


class ThreeFactor(PlasticityRule):
    #: the per-synapse state in the engine's order (st[0..3] of three_factor.h)
    state_names = ("x_pre", "x_post", "c", "d")

    def check(self, spec, weight_dim, where):
        own = {k: spec[k] for k in _OWN_KEYS if k in spec and spec[k] is not None}
        out = super().check({k: v for k, v in spec.items() if k not in _OWN_KEYS}, weight_dim, where)
        if ("modulator" in own) == ("signal" in own):
            raise ValidationError(f"{where}.modulator", own.get("modulator"),
                                  "exactly one of modulator (the name of a population whose spikes are the "
                                  "neuromodulator) and signal ({times: [...], values: [...]})")
        if "modulator" in own:
            if not isinstance(own["modulator"], str) or not own["modulator"]:
                raise ValidationError(f"{where}.modulator", own["modulator"], "the name of a population")
            out["modulator"] = own["modulator"]
            if out["d_increment"] is None:
                out["d_increment"] = 1.0 / out["tau_d"]
        else:
            out["signal"] = _check_signal(own["signal"], f"{where}.signal")
        return out

    def check_values(self, p, where):
        check_weight_bounds(p, where)
        if p["dendritic_delay_fraction"] != 0.0:
            raise ValidationError(f"{where}.dendritic_delay_fraction", p["dendritic_delay_fraction"],
                                  "0 (the delay is axonal, Brian2's convention)")

    def file_entries(self, p):
        if "modulator" in p:
            return {"modulator": p["modulator"]}
        times, values = p["signal"]
        return {"signal": {"times": [f"{t!r} s" for t in times], "values": [f"{v!r} Hz" for v in values]}}

    def check_network(self, p, spiking: list, where: str) -> None:
        """The modulator names a population or source of the network, added before the projection."""
        if "modulator" in p and p["modulator"] not in spiking:
            raise ValidationError(f"{where}.modulator", p["modulator"],
                                  "the name of a population or source added before it: " + ", ".join(spiking))

    # -- engines ---------------------------------------------------------------
    def engine_params(self, p, sign):
        """The doubles spikecore/engine/plasticity/three_factor.h reads, in this order: then, for
        a signal, its number of pieces, their first steps are not here (the engine cuts its runs
        at them) and their values."""
        signal = "signal" in p
        return [p["tau_plus"], p["tau_minus"], p["A_plus"], p["A_minus"], p["w_min"], p["w_max"],
                float(sign), p["tau_c"], 0.0 if signal else p["tau_d"],
                0.0 if signal else p["d_increment"], p["baseline"]]

    def initial_state(self, p):
        return 0.0, 0.0, 0.0, 0.0

    def modulator_delay_steps(self, p, dt) -> int:
        return max(1, steps(p["modulator_delay"], dt))

    def weight_now(self, p, sign, w, state: dict, elapsed):
        """The weights integrated over ``elapsed`` (s, per synapse) since each synapse's last
        event, without changing it (state: c and d per synapse)."""
        w = np.asarray(w, dtype=float)
        el = np.asarray(elapsed, dtype=float)
        c, d = np.asarray(state["c"], dtype=float), np.asarray(state["d"], dtype=float)
        tc = p["tau_c"]
        kc = -tc * np.expm1(-el / tc)
        if "signal" in p:
            kd = kc
        else:
            taus = tc * p["tau_d"] / (tc + p["tau_d"])
            kd = -taus * np.expm1(-el / taus)
        m = sign * w + c * (d * kd - p["baseline"] * kc)
        return sign * np.clip(m, p["w_min"], p["w_max"])

    def modulated(self, p, sign, v: dict, now: float) -> dict:
        """A modulator spike arriving at time ``now`` (s) at synapses with variables ``v`` (w,
        xpre, xpost, c, d, tlast: arrays, SI): their new values, in three_factor.h's order."""
        el = now - v["tlast"]
        w = self.weight_now(p, sign, v["w"], v, el)
        return {"w": w, "c": v["c"] * np.exp(-el / p["tau_c"]),
                "d": v["d"] * np.exp(-el / p["tau_d"]) + p["d_increment"],
                "xpre": v["xpre"] * np.exp(-el / p["tau_plus"]), "xpost": v["xpost"] * np.exp(-el / p["tau_minus"]),
                "tlast": np.full_like(el, now)}

    def signal_steps(self, p, dt, where: str = "plasticity"):
        """(first step of each piece, its value) of a signal; None with a modulator population."""
        if "signal" not in p:
            return None
        times, values = p["signal"]
        at = np.array([steps(t, dt) for t in times], np.int64)
        if (np.diff(at) < 1).any():
            raise ValidationError(f"{where}.signal.times", times, f"times at least one step ({dt!r} s) apart")
        return at, np.asarray(values, float)

    def brian2_code(self, p, sign, weight_unit):
        signal = "signal" in p
        on_pre = _integrate("", signal) + "{target}\nc = c - A_minus*xpost\nxpre = xpre + 1"
        on_post = _integrate("", signal) + "c = c + A_plus*xpre\nxpost = xpost + 1"
        consts = {"tau_plus": (p["tau_plus"], "second"), "tau_minus": (p["tau_minus"], "second"),
                  "A_plus": (p["A_plus"], weight_unit), "A_minus": (p["A_minus"], weight_unit),
                  "w_min": (p["w_min"], weight_unit), "w_max": (p["w_max"], weight_unit),
                  "sgn": (float(sign), "1"), "tau_c": (p["tau_c"], "second"),
                  "baseline": (p["baseline"], "hertz")}
        if "signal" in p:
            consts.update(tau_d=(0.0, "second"), taus=(p["tau_c"], "second"), d_increment=(0.0, "hertz"))
        else:
            taus = p["tau_c"] * p["tau_d"] / (p["tau_c"] + p["tau_d"])
            consts.update(tau_d=(p["tau_d"], "second"), taus=(taus, "second"),
                          d_increment=(p["d_increment"], "hertz"))
        model = (f"xpre : 1\nxpost : 1\nc : {weight_unit}\nd : hertz\ntlast : second")
        return Brian2Plasticity(model, on_pre, on_post, consts)

    def brian2_modulation(self, p) -> str:
        """on_pre of the Synapses from the modulator population onto the plastic Synapses
        (Brian2's synapses on synapses: the target's variables carry _post); for a signal,
        from a generator that fires at its changes, each synapse holding its piece's ``value``."""
        if "signal" in p:
            return _integrate("_post", True) + "d_post = value"
        return _integrate("_post", False) + "d_post = d_post + d_increment"


def _integrate(sfx: str, signal: bool) -> str:
    """The closed-form integration from the synapse's last event to t (module docstring), in
    the order three_factor.h computes it."""
    decay_d = "" if signal else f"d{sfx} = d{sfx}*exp(-el/tau_d)\n"
    return (f"el = t - tlast{sfx}\n"
            f"w{sfx} = sgn*clip(sgn*w{sfx} + c{sfx}*(d{sfx}*(-taus*expm1(-el/taus)) - baseline*(-tau_c*expm1(-el/tau_c))), w_min, w_max)\n"
            f"c{sfx} = c{sfx}*exp(-el/tau_c)\n" + decay_d +
            f"xpre{sfx} = xpre{sfx}*exp(-el/tau_plus)\n"
            f"xpost{sfx} = xpost{sfx}*exp(-el/tau_minus)\n"
            f"tlast{sfx} = t\n")


def _check_signal(sig, where: str):
    """(times in s, values in 1/s) of a piecewise-constant signal."""
    if not isinstance(sig, dict) or set(sig) != {"times", "values"}:
        raise ValidationError(where, sig, "a mapping {times: [...], values: [...]}")
    times, values = sig["times"], sig["values"]
    if not isinstance(times, (list, tuple)) or not isinstance(values, (list, tuple)) or not times \
            or len(times) != len(values):
        raise ValidationError(f"{where}.times", times, "a non-empty list with one time per value")
    ts = [u.to_si(t, u.TIME, f"{where}.times") if not _zero(t) else 0.0 for t in times]
    vs = [u.to_si(v, u.FREQUENCY, f"{where}.values") if not _zero(v) else 0.0 for v in values]
    if any(t < 0 for t in ts) or any(b <= a for a, b in zip(ts, ts[1:])):
        raise ValidationError(f"{where}.times", times, "increasing times >= 0")
    if not all(abs(v) < float("inf") for v in vs):
        raise ValidationError(f"{where}.values", values, "finite values")
    return ts, vs


def _zero(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0


RULE = ThreeFactor(
    name="three_factor",
    params={
        **pair_trace_params(),
        "A_plus": RuleParam(WEIGHT, doc="eligibility added per pre->post pair (weight unit)"),
        "A_minus": RuleParam(WEIGHT, doc="eligibility removed per post->pre pair (weight unit)"),
        "tau_c": RuleParam(u.TIME, "1 s", positive=True, doc="decay of the eligibility trace"),
        "tau_d": RuleParam(u.TIME, "200 ms", positive=True, doc="decay of the modulator trace"),
        "d_increment": RuleParam(u.FREQUENCY, None, doc="modulator added per modulator spike (default 1/tau_d)"),
        "baseline": RuleParam(u.FREQUENCY, 0.0, doc="subtracted from the modulator (NEST's b)"),
        "modulator_delay": RuleParam(u.TIME, "1 ms", positive=True,
                                     doc="from a modulator spike to its arrival at the synapses"),
        "w_min": RuleParam(WEIGHT, 0.0, doc="lower bound of |w|"),
        "w_max": RuleParam(WEIGHT, doc="upper bound of |w|"),
        "dendritic_delay_fraction": RuleParam(u.DIMENSIONLESS, 0.0, doc="0: the delay is axonal"),
    },
    doc=__doc__,
)
