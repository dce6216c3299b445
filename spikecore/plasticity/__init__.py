"""Synaptic plasticity rules: one module each (``spikecore/plasticity/<name>.py``), a registry,
and the check of a projection's ``plasticity:`` mapping. The contract is the docstring of
``spikecore.plasticity.base``."""
from __future__ import annotations

from ..errors import UnsupportedFeature, ValidationError
from ..models.registry import add_once
from . import lava_rule, stdp_pair, stdp_triplet, three_factor, tsodyks_markram
from .base import Brian2Plasticity, PlasticityRule

RULES: dict = {}


def register(rule: PlasticityRule) -> PlasticityRule:
    return add_once(RULES, rule, "plasticity rule")


register(stdp_pair.RULE)
register(stdp_triplet.RULE)
register(tsodyks_markram.RULE)
register(three_factor.RULE)
register(lava_rule.RULE)


def get_rule(name, where: str = "plasticity") -> PlasticityRule:
    if not isinstance(name, str) or name not in RULES:
        raise ValidationError(f"{where}.rule", name, "one of " + ", ".join(sorted(RULES)))
    return RULES[name]


def check_plasticity(spec, weight_dim, synapse: str, where: str) -> dict:
    """A projection's ``plasticity`` mapping, checked and in SI (the IR's
    ``ProjectionEdge.plasticity``)."""
    if not isinstance(spec, dict):
        raise ValidationError(where, spec, "a mapping with a 'rule' and its parameters")
    rule = get_rule(spec.get("rule"), where)
    return rule.check(spec, weight_dim, where)


def rule_for(plasticity: dict, mode: str, where: str, engine: str) -> PlasticityRule:
    """The rule of an IR projection's plasticity when it runs in ``mode``; else UnsupportedFeature."""
    rule = RULES.get(plasticity.get("rule"))
    if rule is None:
        raise UnsupportedFeature(engine, f"plasticity rule {plasticity.get('rule')!r} ({where})",
                                 "one of " + ", ".join(sorted(RULES)))
    return rule.require(mode, where, engine)


__all__ = ["RULES", "register", "get_rule", "check_plasticity", "rule_for", "PlasticityRule",
           "Brian2Plasticity"]


def refuse_plastic(g, engine: str, hint: str = "") -> None:
    """UnsupportedFeature for the first plastic projection of IR ``g`` (engines without plasticity)."""
    for e in g.projections.values():
        if e.plasticity is not None:
            raise UnsupportedFeature(engine, f"plasticity (projection {e.name}: rule '{e.plasticity['rule']}')",
                                     hint or "plastic projections run on the native grid engine and on brian2")
