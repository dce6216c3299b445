"""Pair-based STDP (``rule: stdp_pair``): a presynaptic and a postsynaptic trace per synapse.

Per synapse: the weight w, the traces x_pre (st[0]) and x_post (st[1]), both dimensionless,
decaying with tau_plus and tau_minus between events. With m = sign*w (sign = -1 on an
inhibitory projection, whose weights are <= 0: the bounds apply to |w|):

presynaptic event at step n (the spike's arrival at the synapse):
    deliver w (the weight before this event) to the target
    x_pre <- x_pre*exp(-(t - t_last)/tau_plus);  x_post <- x_post*exp(-(t - t_last)/tau_minus)
    x_pre <- x_pre + 1   (pairing all_to_all)   or   1   (pairing nearest)
    m <- clip(m - A_minus*x_post, w_min, w_max)                     (additive)
    m <- clip(m - A_minus*(m - w_min)*x_post, w_min, w_max)         (multiplicative)
postsynaptic spike at step n:
    the same decays; x_post <- x_post + 1   or   1
    m <- clip(m + A_plus*x_pre, w_min, w_max)                       (additive)
    m <- clip(m + A_plus*(w_max - m)*x_pre, w_min, w_max)           (multiplicative)

with t = n*dt and t_last the time of the synapse's last event. In one step presynaptic
arrivals come before postsynaptic spikes (Brian2's default: the pre pathway's order is
-1, the post pathway's +1), so a pair that coincides in one step potentiates.

``additive``: A_plus, A_minus, w_min, w_max in the projection's weight unit (Song, Miller &
Abbott 2000; Brian2's examples/synapses/STDP.py). ``multiplicative`` (soft bounds, van
Rossum, Bi & Turrigiano 2000; NEST stdp_synapse with mu_plus = mu_minus = 1): A_plus,
A_minus dimensionless fractions of the distance to the bound.

Pairing ``nearest`` resets a trace to 1 at each spike of its side, so each postsynaptic
spike pairs with the nearest preceding presynaptic spike and each presynaptic spike with
the nearest preceding postsynaptic spike, however often they were paired before: NEST's
``stdp_nn_symm_synapse`` (Morrison, Diesmann & Gerstner 2008, fig. 7A), not
``stdp_nn_pre_centered_synapse`` nor ``stdp_nn_restr_synapse``.

``dendritic_delay_fraction`` (0 .. 1) is the part of the delay between the synapse and the
target: 0 puts the whole delay on the presynaptic (axonal) path, Brian2's convention (the
rule sees a presynaptic spike when it arrives); 1 is NEST's and PyNN's default
(dendritic_delay_fraction=1.0): the synapse then sees the presynaptic spike at once and the
postsynaptic one after the delay, as NEST's stdp_synapse. The native grid engine implements
any fraction (docs/architecture.md, plastic synapses); Brian2 only 0.

NEST's stdp_synapse sends the weight after the depression of the spike that carries it;
this rule, as Brian2's STDP example (``ge += w`` first), delivers the weight before it.
"""
from __future__ import annotations

from .. import units as u
from ..errors import ValidationError
from .base import CHOICE, WEIGHT, Brian2Plasticity, PlasticityRule, RuleParam, check_weight_bounds, pair_trace_params

PAIRINGS = ("all_to_all", "nearest")
DECAY_TABLE_TAUS = 16               # the decay tables cover this many of the longest time constant
DECAY_TABLE_MAX = 1 << 16           # entries at most (longer gaps compute exp)


def decay_table(taus, dt: float) -> list:
    """[K, exp(-k*dt/tau) for each tau, for k in 0 .. K-1]: the trace decay factors over
    whole numbers of steps, interleaved, K a power of two covering DECAY_TABLE_TAUS of the
    longest time constant (within [256, DECAY_TABLE_MAX])."""
    import numpy as np

    k = int(min(max(256, 1 << int(np.ceil(np.log2(DECAY_TABLE_TAUS * max(taus) / dt)))), DECAY_TABLE_MAX))
    steps = np.arange(k, dtype=np.float64) * dt
    return [float(k)] + np.stack([np.exp(-steps / tau) for tau in taus], axis=1).ravel().tolist()
DEPENDENCES = ("additive", "multiplicative")


class StdpPair(PlasticityRule):
    def dim_of(self, name, p, spec, weight_dim):
        if name in ("A_plus", "A_minus") and spec.get("weight_dependence") == "multiplicative":
            return u.DIMENSIONLESS
        return super().dim_of(name, p, spec, weight_dim)

    def check_values(self, p, where):
        check_weight_bounds(p, where)
        if not 0.0 <= p["dendritic_delay_fraction"] <= 1.0:
            raise ValidationError(f"{where}.dendritic_delay_fraction", p["dendritic_delay_fraction"],
                                  "a fraction in [0, 1]")

    def engine_params(self, p, sign):
        """The doubles spikecore/engine/plasticity/stdp_pair.h reads, in this order."""
        return [p["tau_plus"], p["tau_minus"], p["A_plus"], p["A_minus"], p["w_min"], p["w_max"],
                float(sign), float(p["pairing"] == "nearest"),
                float(p["weight_dependence"] == "multiplicative")]

    def engine_tables(self, p, dt):
        """The decay factors of both traces over k whole steps, k < K: [K, exp(-k*dt/tau_plus),
        exp(-k*dt/tau_minus), ...] (stdp_pair.h: a table read instead of two exp() per event)."""
        return decay_table((p["tau_plus"], p["tau_minus"]), dt)

    def brian2_code(self, p, sign, weight_unit):
        nearest = p["pairing"] == "nearest"
        mult = p["weight_dependence"] == "multiplicative"
        decay = ("xpre = xpre*exp(-(t - tlast)/tau_plus)\n"
                 "xpost = xpost*exp(-(t - tlast)/tau_minus)\n")
        if mult:
            dep = "w = sgn*clip(sgn*w - A_minus*(sgn*w - w_min)*xpost, w_min, w_max)"
            pot = "w = sgn*clip(sgn*w + A_plus*(w_max - sgn*w)*xpre, w_min, w_max)"
        else:
            dep = "w = sgn*clip(sgn*w - A_minus*xpost, w_min, w_max)"
            pot = "w = sgn*clip(sgn*w + A_plus*xpre, w_min, w_max)"
        on_pre = ("{target}\n" + decay + ("xpre = 1\n" if nearest else "xpre = xpre + 1\n")
                  + dep + "\ntlast = t")
        on_post = decay + ("xpost = 1\n" if nearest else "xpost = xpost + 1\n") + pot + "\ntlast = t"
        consts = {"tau_plus": (p["tau_plus"], "second"), "tau_minus": (p["tau_minus"], "second"),
                  "A_plus": (p["A_plus"], "1" if mult else weight_unit),
                  "A_minus": (p["A_minus"], "1" if mult else weight_unit),
                  "w_min": (p["w_min"], weight_unit), "w_max": (p["w_max"], weight_unit),
                  "sgn": (float(sign), "1")}
        return Brian2Plasticity("xpre : 1\nxpost : 1\ntlast : second", on_pre, on_post, consts)


RULE = StdpPair(
    name="stdp_pair",
    params={
        **pair_trace_params(),
        "A_plus": RuleParam(WEIGHT, doc="potentiation per pair (weight unit; a fraction if multiplicative)"),
        "A_minus": RuleParam(WEIGHT, doc="depression per pair (weight unit; a fraction if multiplicative)"),
        "w_min": RuleParam(WEIGHT, 0.0, doc="lower bound of |w|"),
        "w_max": RuleParam(WEIGHT, doc="upper bound of |w|"),
        "pairing": RuleParam(CHOICE, "all_to_all", choices=PAIRINGS),
        "weight_dependence": RuleParam(CHOICE, "additive", choices=DEPENDENCES),
        "dendritic_delay_fraction": RuleParam(u.DIMENSIONLESS, 0.0,
                                              doc="part of the delay after the synapse (0: Brian2, 1: NEST)"),
    },
    doc=__doc__,
)
