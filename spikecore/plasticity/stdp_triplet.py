"""Triplet STDP (``rule: stdp_triplet``): Pfister & Gerstner (2006), all-to-all interactions,
as NEST's ``stdp_triplet_synapse``.

Per synapse four traces, all dimensionless and incremented by 1 at the spikes of their side:
r1 (tau_plus) and r2 (tau_plus_triplet) presynaptic, o1 (tau_minus) and o2
(tau_minus_triplet) postsynaptic, decaying between events. With m = sign*w (bounds on |w|
for inhibitory projections, as in stdp_pair):

presynaptic event at step n (its arrival at the synapse): deliver w, decay the traces, then
    m <- clip(m - o1*(A2_minus + A3_minus*r2), w_min, w_max);  r1 <- r1 + 1;  r2 <- r2 + 1
postsynaptic spike: decay the traces, then
    m <- clip(m + r1*(A2_plus + A3_plus*o2), w_min, w_max);    o1 <- o1 + 1;  o2 <- o2 + 1

r2 and o2 enter before their own spike's increment (Pfister & Gerstner's "epsilon"; NEST's
``Kplus_triplet`` before ``+= 1`` and ``Kminus_triplet - 1``). The amplitudes are in the
weight unit; NEST's ``Aplus`` etc. are these divided by ``Wmax`` (its weights are relative).
``parameter_set: minimal`` is the paper's minimal model: A2_plus = A3_minus = 0 (refused if
given otherwise); ``full`` takes all four. In one step presynaptic arrivals come before
postsynaptic spikes, and the delay is axonal, as in stdp_pair.
"""
from __future__ import annotations

from .. import units as u
from ..errors import ValidationError
from .base import CHOICE, WEIGHT, Brian2Plasticity, PlasticityRule, RuleParam
from .stdp_pair import StdpPair


class StdpTriplet(PlasticityRule):
    def check_values(self, p, where):
        StdpPair.check_values(self, {**p, "A_plus": p["A2_plus"], "A_minus": p["A2_minus"]}, where)
        for k in ("A3_plus", "A3_minus"):
            if p[k] < 0:
                raise ValidationError(f"{where}.{k}", p[k], "an amplitude >= 0 (the sign is the rule's)")
        if p["parameter_set"] == "minimal":
            for k in ("A2_plus", "A3_minus"):
                if p[k] != 0:
                    raise ValidationError(f"{where}.{k}", p[k], "0 in the minimal parameter set (or parameter_set: full)")

    def engine_params(self, p, sign):
        """The doubles spikecore/engine/plasticity/stdp_triplet.h reads, in this order."""
        return [p["tau_plus"], p["tau_plus_triplet"], p["tau_minus"], p["tau_minus_triplet"], p["A2_plus"],
                p["A3_plus"], p["A2_minus"], p["A3_minus"], p["w_min"], p["w_max"], float(sign)]

    def initial_state(self, p):
        return 0.0, 0.0, 0.0, 0.0

    def brian2_code(self, p, sign, weight_unit):
        decay = ("r1 = r1*exp(-(t - tlast)/tau_plus)\nr2 = r2*exp(-(t - tlast)/tau_plus_triplet)\n"
                 "o1 = o1*exp(-(t - tlast)/tau_minus)\no2 = o2*exp(-(t - tlast)/tau_minus_triplet)\n")
        on_pre = ("{target}\n" + decay
                  + "w = sgn*clip(sgn*w - o1*(A2_minus + A3_minus*r2), w_min, w_max)\nr1 = r1 + 1\nr2 = r2 + 1\n"
                  + "tlast = t")
        on_post = (decay + "w = sgn*clip(sgn*w + r1*(A2_plus + A3_plus*o2), w_min, w_max)\no1 = o1 + 1\n"
                   + "o2 = o2 + 1\ntlast = t")
        consts = {k: (p[k], "second") for k in ("tau_plus", "tau_plus_triplet", "tau_minus", "tau_minus_triplet")}
        consts.update({k: (p[k], weight_unit) for k in ("A2_plus", "A3_plus", "A2_minus", "A3_minus", "w_min", "w_max")})
        consts["sgn"] = (float(sign), "1")
        return Brian2Plasticity("r1 : 1\nr2 : 1\no1 : 1\no2 : 1\ntlast : second", on_pre, on_post, consts)


RULE = StdpTriplet(
    name="stdp_triplet",
    params={
        "tau_plus": RuleParam(u.TIME, "16.8 ms", positive=True, doc="decay of r1 (presynaptic)"),
        "tau_plus_triplet": RuleParam(u.TIME, "101 ms", positive=True, doc="decay of r2 (presynaptic)"),
        "tau_minus": RuleParam(u.TIME, "33.7 ms", positive=True, doc="decay of o1 (postsynaptic)"),
        "tau_minus_triplet": RuleParam(u.TIME, "125 ms", positive=True, doc="decay of o2 (postsynaptic)"),
        "A2_plus": RuleParam(WEIGHT, 0.0, doc="pair potentiation"),
        "A3_plus": RuleParam(WEIGHT, 0.0, doc="triplet potentiation"),
        "A2_minus": RuleParam(WEIGHT, 0.0, doc="pair depression"),
        "A3_minus": RuleParam(WEIGHT, 0.0, doc="triplet depression"),
        "w_min": RuleParam(WEIGHT, 0.0, doc="lower bound of |w|"),
        "w_max": RuleParam(WEIGHT, doc="upper bound of |w|"),
        "parameter_set": RuleParam(CHOICE, "full", choices=("full", "minimal")),
        "dendritic_delay_fraction": RuleParam(u.DIMENSIONLESS, 0.0,
                                              doc="part of the delay after the synapse (0: Brian2, 1: NEST)"),
    },
    doc=__doc__,
)
