"""A raw Lava learning rule (``rule: lava_rule``): for plasticity spikecore has no rule of its own,
the rule string and trace parameters of Lava 0.10's ``Loihi2FLearningRule``, deployed as given by
the Lava backend (``--backend lava``) and nowhere else.

    plasticity: {rule: lava_rule, dw: "2^-2 * x1 * y0 - 2^-2 * y1 * x0",
                 x1_impulse: 16, x1_tau: 20, y1_impulse: 16, y1_tau: 20, t_epoch: 1}

Everything is in Lava's own units, not spikecore's: ``dw`` (and the optional ``dt`` for the tag)
in Lava's rule grammar (sums of products of a constant m*2^e, a dependency x0, y0 or u<k>, and
traces x1, x2, y1, y2, y3, w, t, d), acting on the synapse's Lava weight: the weight mapped onto
Loihi's LIF in floating point, the 8-bit mantissa in fixed point
(docs/loihi_learning.md, "Deploying to Lava"); impulses in trace units (fixed point: 7-bit
traces, impulses on a 1/256 grid); ``*_tau`` in steps; ``t_epoch`` in steps. The string is checked
by Lava's own parser when the network is compiled for Lava.

``graded_spike_cfg`` (Lava's ``GradedSpikeCfg``, on a projection whose spikes are graded: from a
Poisson source, whose step counts are the payloads): ``use_regular_impulse`` (default: a spike
adds the impulses), ``overwrite`` (x1 = payload/2 at a spike), ``add_with_saturation`` (x1 +=
payload/2, at most 127), ``add_without_saturation`` (x1 += payload/2 keeping only what passes
127; only such spikes count for x0 and x2). Lava then sets ``x1_impulse`` to 0.
"""
from __future__ import annotations

from .. import units as u
from ..errors import ValidationError
from .base import CHOICE, PlasticityRule, RuleParam

TEXT = "text"
TRACE_KEYS = ("x1_impulse", "x1_tau", "x2_impulse", "x2_tau", "y1_impulse", "y1_tau")
# Lava's GradedSpikeCfg (lava/magma/core/learning/constants.py), in the order of its values 0..3:
# how a graded presynaptic spike's payload updates the trace x1
GRADED_SPIKE_CFGS = ("use_regular_impulse", "overwrite", "add_with_saturation", "add_without_saturation")


class LavaRule(PlasticityRule):
    def check(self, spec, weight_dim, where):
        extra = set(spec) - set(self.params) - {"rule"}
        if extra:
            key = sorted(extra)[0]
            raise ValidationError(f"{where}.{key}", spec[key], "one of rule, " + ", ".join(self.params))
        out = {"rule": self.name}
        for name in ("dw", "dt"):
            v = spec.get(name)
            if v is None and name == "dt":
                out[name] = None
                continue
            if not isinstance(v, str) or not v.strip():
                raise ValidationError(f"{where}.{name}", v,
                                      "a Lava rule string, e.g. '2^-2 * x1 * y0 - 2^-2 * y1 * x0'")
            out[name] = v.strip()
        for name in TRACE_KEYS:
            v = spec.get(name, 0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
                raise ValidationError(f"{where}.{name}", v, "a number >= 0 (trace units or steps, as Lava has it)")
            out[name] = float(v)
        t = spec.get("t_epoch", 1)
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ValidationError(f"{where}.t_epoch", t, "a whole number of steps >= 1")
        out["t_epoch"] = t
        cfg = spec.get("graded_spike_cfg", GRADED_SPIKE_CFGS[0])
        if cfg not in GRADED_SPIKE_CFGS:
            raise ValidationError(f"{where}.graded_spike_cfg", cfg, "one of " + ", ".join(GRADED_SPIKE_CFGS))
        out["graded_spike_cfg"] = cfg
        return out


RULE = LavaRule(
    name="lava_rule",
    params={
        "dw": RuleParam(TEXT, doc="Lava rule string for the weight"),
        "dt": RuleParam(TEXT, None, doc="Lava rule string for the tag (optional)"),
        **{k: RuleParam(u.DIMENSIONLESS, 0.0, doc="Lava trace parameter (trace units or steps)") for k in TRACE_KEYS},
        "t_epoch": RuleParam(u.DIMENSIONLESS, 1, doc="learning epoch (steps)"),
        "graded_spike_cfg": RuleParam(CHOICE, GRADED_SPIKE_CFGS[0], choices=GRADED_SPIKE_CFGS,
                                      doc="Lava's GradedSpikeCfg: how a graded (Poisson-count) spike updates x1"),
    },
    modes=("lava",),
    doc=__doc__,
)
