"""The plasticity-rule contract: what a rule module declares and what the rest of spikecore asks it.

One rule, one module (``spikecore/plasticity/<name>.py``), registered by one line in
``spikecore/plasticity/__init__.py``; its native-engine functions are one header
``spikecore/engine/plasticity/<name>.h`` registered in ``spikecore/engine/_plastic_rules.h``.
A projection carries ``plasticity: {rule: <name>, <param>: <value>, ...}``; the rule checks
it (``check``: unknown keys refused, units converted to SI, ranges checked) into a plain
dict that the IR holds as ``ProjectionEdge.plasticity`` (``{"rule": name, ...SI floats or
strings}``). Engines and backends ask the rule:

``modes``               where it runs ("grid", "brian2"); everywhere else refuses it
``engine_params(p, sign)``  the doubles its C functions read (``sign``: +1 for excitatory
                        projections, -1 for inhibitory ones, whose bounds are on |w|)
``engine_tables(p, dt)``  further doubles they read, after those, that depend on dt
``brian2_code(p, sign, weight_unit)``  -> ``Brian2Plasticity``: per-synapse variables,
                        on_pre and on_post statements (no brian2 import here)

Per synapse the engine keeps the weight ``w``, the rule's state variables (its traces) and
the step of its last event; their initial values come from ``initial_state(p)`` (as many
as the rule has) and ``initial_last``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import units as u
from ..errors import UnsupportedFeature, ValidationError

REQUIRED = object()
WEIGHT = "weight"          # a parameter in the projection's weight dimension
CHOICE = "choice"


@dataclass(frozen=True)
class RuleParam:
    """One parameter of a rule: its dimension (a units.Dim, WEIGHT, or CHOICE with
    ``choices``), default, and whether it must be positive."""
    dim: object
    default: object = REQUIRED
    positive: bool = False
    choices: tuple = ()
    doc: str = ""


@dataclass(frozen=True)
class Brian2Plasticity:
    """What the Brian2 backend adds to a plastic projection's Synapses: ``model`` lines
    (after ``w : <unit>``), the ``on_pre`` statements (which must include the delivery
    of ``<deliver>`` to the target, written with the placeholder ``{target}``), ``on_post``,
    and constants (name -> float, in SI)."""
    model: str
    on_pre: str
    on_post: str
    constants: dict = field(default_factory=dict)
    deliver: str = "w"                               # what {target} adds (the weight, or an efficacy)
    initial: dict = field(default_factory=dict)      # per-synapse variable -> (value, Brian2 unit name)


def pair_trace_params() -> dict:
    """The two trace time constants every pair-based rule has."""
    return {"tau_plus": RuleParam(u.TIME, "20 ms", positive=True, doc="decay of the presynaptic trace"),
            "tau_minus": RuleParam(u.TIME, "20 ms", positive=True, doc="decay of the postsynaptic trace")}


def check_weight_bounds(p: dict, where: str, amplitudes=("A_plus", "A_minus")) -> None:
    """The checks every bounded STDP-like rule shares: 0 <= w_min <= w_max (bounds on |w|:
    an inhibitory projection's weights are negative) and amplitudes >= 0."""
    if p["w_min"] < 0:
        raise ValidationError(f"{where}.w_min", p["w_min"], "a bound >= 0 on |w| (inhibitory "
                              "projections have negative weights and bounds on their magnitude)")
    if p["w_min"] > p["w_max"]:
        raise ValidationError(f"{where}.w_min", p["w_min"], f"at most w_max ({p['w_max']!r})")
    for k in amplitudes:
        if p[k] < 0:
            raise ValidationError(f"{where}.{k}", p[k], "an amplitude >= 0 (the sign is the rule's)")


@dataclass(frozen=True)
class PlasticityRule:
    name: str
    params: dict
    modes: tuple = ("grid", "brian2")
    doc: str = ""
    #: the step of every synapse's last event before the first (a negative one: none yet)
    initial_last = 0

    # -- description ------------------------------------------------------------
    def check(self, spec: dict, weight_dim, where: str) -> dict:
        """The rule's parameters from a projection's ``plasticity`` mapping, in SI."""
        extra = set(spec) - set(self.params) - {"rule"}
        if extra:
            key = sorted(extra)[0]
            raise ValidationError(f"{where}.{key}", spec[key], "one of rule, " + ", ".join(self.params))
        out = {"rule": self.name}
        for name, p in self.params.items():
            fld = f"{where}.{name}"
            value = spec.get(name, p.default)
            if value is REQUIRED:
                raise ValidationError(fld, None, f"a value for {name} ({p.doc})")
            if value is None and p.default is None:     # optional, the rule fills it in
                out[name] = None
                continue
            if p.dim == CHOICE:
                if value not in p.choices:
                    raise ValidationError(fld, value, "one of " + ", ".join(p.choices))
                out[name] = value
                continue
            dim = self.dim_of(name, p, spec, weight_dim)
            # a bare 0 needs no unit (0 mV = 0 V)
            zero = isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0
            x = 0.0 if zero else u.to_si(value, dim, fld)
            if not abs(x) < float("inf"):
                raise ValidationError(fld, value, "a finite value")
            if p.positive and not x > 0:
                raise ValidationError(fld, value, f"a positive {u.dim_name(dim)} value")
            out[name] = x
        self.check_values(out, where)
        return out

    def dim_of(self, name: str, p: RuleParam, spec: dict, weight_dim):
        """The dimension of parameter ``name`` (a rule may make it depend on another one)."""
        return weight_dim if p.dim == WEIGHT else p.dim

    def check_values(self, p: dict, where: str) -> None:
        """Relations between parameters (e.g. w_min <= w_max)."""

    def file_entries(self, p: dict) -> dict:
        """The rule's entries of ``p`` other than its ``params`` as a model file holds them
        (three_factor: its modulator or signal); none by default."""
        return {}

    def check_network(self, p: dict, spiking: list, where: str) -> None:
        """What the rule's parameters name in the network (``spiking``: its populations and
        sources added so far); nothing by default."""

    def check_weights(self, p: dict, w, where: str) -> int:
        """The projection's sign (+1, or -1 for an inhibitory projection, all weights <= 0);
        refuses weights of both signs."""
        import numpy as np

        w = np.asarray(w, dtype=float)
        if w.size and (w < 0).any() and (w > 0).any():
            raise ValidationError(f"{where}.weight", f"[{w.min()!r} .. {w.max()!r}]",
                                  "weights of one sign on a plastic projection (bounds apply to |w|)")
        return -1 if w.size and (w < 0).any() else 1

    def require(self, mode: str, where: str, engine: str):
        if mode not in self.modes:
            raise UnsupportedFeature(engine, f"plasticity rule '{self.name}' ({where})",
                                     "it runs in: " + ", ".join(self.modes))
        return self

    # -- engines ---------------------------------------------------------------
    def engine_params(self, p: dict, sign: int) -> list:
        raise NotImplementedError

    def engine_tables(self, p: dict, dt: float) -> list:
        """Doubles the C functions read after ``engine_params`` that depend on the time step
        (stdp_pair: its trace decay factors per whole number of steps); none by default."""
        return []

    def initial_state(self, p: dict) -> tuple:
        """The initial values of every synapse's state variables (their number is the rule's)."""
        return 0.0, 0.0

    def brian2_code(self, p: dict, sign: int, weight_unit: str) -> Brian2Plasticity:
        raise NotImplementedError
