"""Short-term depression and facilitation (``rule: tsodyks_markram``), as NEST's ``tsodyks2_synapse``.

Per synapse: the available resources x (st[0], starting at 1) and the release probability u
(st[1], starting at U). At each presynaptic spike (its arrival at the synapse), after the first,
with h the time since the synapse's previous spike:

    x <- 1 + (x - x*u - 1) * exp(-h/tau_rec)
    u <- U + u*(1 - U) * exp(-h/tau_fac)          (tau_fac = 0: u <- U, no facilitation)

and the spike delivers x*u*w (w, the projection's weight, does not change). The first spike
delivers U*w. These are equations 4 and 5 of Tsodyks, Uziel & Markram (2000) in the form
NEST's tsodyks2_synapse.h evaluates them (its ``send``), so the jump each spike causes at an
iaf_psc_delta (here lif_delta) target is NEST's. Brian2: the same statements in on_pre, the
delivery being x*u*w. PyNN's ``TsodyksMarkramSynapse`` maps, in
pyNN.nest, to ``tsodyks_synapse`` instead, which also filters with tau_psc: not this rule.
"""
from __future__ import annotations

from .. import units as u
from ..errors import ValidationError
from .base import Brian2Plasticity, PlasticityRule, RuleParam


class TsodyksMarkram(PlasticityRule):
    initial_last = -1        # no previous spike: the first one delivers U*w

    def check_values(self, p, where):
        if not 0.0 < p["U"] <= 1.0:
            raise ValidationError(f"{where}.U", p["U"], "a release probability in (0, 1]")
        if p["tau_fac"] < 0:
            raise ValidationError(f"{where}.tau_fac", p["tau_fac"], "a time >= 0 (0: no facilitation)")

    def check_weights(self, p, w, where):
        return 1                  # the weight is only scaled, whatever its sign

    def engine_params(self, p, sign):
        """The doubles spikecore/engine/plasticity/tsodyks_markram.h reads, in this order."""
        return [p["U"], p["tau_rec"], p["tau_fac"]]

    def initial_state(self, p):
        return 1.0, p["U"]

    def brian2_code(self, p, sign, weight_unit):
        # the first spike (tlast < 0) leaves x = 1 and u = U: its decays count as 0
        u_line = ("u = U + u*(1 - U)*exp(-(t - tlast)/tau_fac)*seen" if p["tau_fac"] > 0 else "u = U")
        on_pre = ("seen = int(tlast >= 0*second)\n"
                  "x = 1 + (x - x*u - 1)*exp(-(t - tlast)/tau_rec)*seen\n" + u_line + "\n{target}\ntlast = t")
        consts = {"U": (p["U"], "1"), "tau_rec": (p["tau_rec"], "second")}
        if p["tau_fac"] > 0:
            consts["tau_fac"] = (p["tau_fac"], "second")
        return Brian2Plasticity("x : 1\nu : 1\ntlast : second", on_pre, "", consts, deliver="x*u*w",
                                initial={"x": (1.0, "1"), "u": (p["U"], "1"), "tlast": (-1.0, "second")})


RULE = TsodyksMarkram(
    name="tsodyks_markram",
    params={
        "U": RuleParam(u.DIMENSIONLESS, 0.5, doc="release probability increment (and u's start)"),
        "tau_rec": RuleParam(u.TIME, "800 ms", positive=True, doc="recovery time constant of x"),
        "tau_fac": RuleParam(u.TIME, "0 ms", doc="facilitation time constant of u (0: none)"),
    },
    modes=("grid", "brian2"),
    doc=__doc__,
)
