"""How each IR population becomes NEST neurons (backends/nest.py's plan; no NEST calls here).

One function per NEST target, each returning a PopulationPlan: the NEST model, its
parameters in NEST's units (population-wide, and per node where the IR has per-neuron
values), the initial state, how IR receptors route onto NEST's, the factor that turns an
IR weight into a NEST weight per target neuron, the factor that turns a current (A) into
NEST's current input per neuron, and what each monitorable IR variable is called in
NEST with its factor back to SI. docs/nest.md has the table of mappings and differences.

* leaky LIFs by synapse kind: ``lif_delta`` -> ``iaf_psc_delta``; ``lif_cuba`` ->
  ``iaf_psc_exp`` (receptors told apart by weight sign) or ``iaf_psc_exp_multisynapse``;
  ``lif_coba`` -> ``iaf_cond_exp`` (two receptors by reversal potential).
* ``izhikevich`` -> ``izhikevich``: integrator ``euler`` is consistent_integration=True,
  ``izhikevich2003`` is False; rk4 (the default) has no NEST twin and is refused naming the
  schemes to choose; a quadratic other than 0.04 v^2 + 5 v + 140 (the class1 preset) is
  refused; t_refrac > 0 is refused (NEST's izhikevich has none). NEST's I_e and current
  inputs are Izhikevich's I in mV/ms (pA with R = 1): a current of x A is x / c_m there;
  a weight (a jump in v, V) is x * 1e3 mV added to V_m.
* ``adex`` -> ``aeif_psc_exp`` (receptors by weight sign, as lif_cuba), ``adex_cond`` ->
  ``aeif_cond_exp`` (as lif_coba). NEST integrates with GSL's adaptive RKF45 whatever the
  population's integrator: spike times agree within tolerance, not identically.
* ``alif`` and ``alif_current`` have no NEST twin (NO_NEST_TWIN says why).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature
from spikecore.models import model_for

NAME = "nest"

# SI -> NEST units
MS_PER_S = 1e3
MV_PER_V = 1e3
PA_PER_A = 1e12
NS_PER_S = 1e9
PF_PER_F = 1e12

#: models NEST has no exact twin of (checked against NEST 3.10's model list), and why
NO_NEST_TWIN = {
    "alif": "NEST has no LIF with an adaptive threshold and a reset to v_reset on exponential current synapses "
            "(amat2_psc_exp/mat2_psc_exp do not reset v, eprop_iaf_adapt resets by subtraction on delta "
            "synapses, gif_psc_exp fires stochastically)",
    "alif_current": "NEST has no LIF with a spike-triggered adaptation current integrated exactly (aeif_psc_exp "
                    "with Delta_T = 0 and a = 0 has these equations but integrates them with an adaptive RKF45; "
                    "glif_psc's after-spike currents come with alpha-shaped synapses)",
}

#: the quadratic NEST's izhikevich is fixed at (k2, k1, k0)
NEST_IZHIKEVICH_QUADRATIC = (0.04, 5.0, 140.0)


@dataclass
class PopulationPlan:
    """How one IR population becomes NEST neurons (NEST units throughout)."""
    name: str
    size: int
    nest_model: str
    params: dict                       # population-wide NEST parameters
    routes: dict                       # IR receptor -> "ex" | "in" | port number (multisynapse) | None (delta)
    extra_delay_steps: int             # 1 for jumps NEST adds before its threshold test (delta, izhikevich)
    initial: dict                      # NEST state variable -> per-neuron initial values
    weight_factor: np.ndarray          # per target neuron: NEST weight = IR weight * factor (* receptor sign)
    current_factor: np.ndarray         # per neuron: NEST current input = current (A) * factor
    i_e_bias: np.ndarray               # per neuron: the model's bias as NEST's I_e
    recordables: dict                  # IR variable -> (NEST recordable, factor to SI: scalar or per neuron)
    node_params: dict = field(default_factory=dict)   # per-neuron NEST parameters (arrays)
    receptor_signs: dict = field(default_factory=dict)  # IR receptor -> sign of its NEST weights (1 or -1)

    @property
    def initial_v(self) -> np.ndarray:
        return self.initial["V_m"]


def refractory_ms(t_refrac, dt: float):
    """NEST's t_ref for the IR's t_refrac (scalar or per neuron): NEST counts from the step after
    the spike, the IR from its step."""
    if np.ndim(t_refrac):
        return np.maximum(np.rint(np.asarray(t_refrac) / dt) - 1, 0) * dt * MS_PER_S
    return max(_ir.steps(t_refrac, dt) - 1, 0) * dt * MS_PER_S


def value_chunks(edge: _ir.ProjectionEdge):
    """Chunks (j, weight, delay) holding every weight and delay of the projection (a rank-local
    stream draws no source for them: one per target when a target's synapses all carry the same
    values, nothing but the in-degrees drawn; with streams: per_target every synapse's values)."""
    if edge.is_lazy and edge.stream.rank_local:
        yield from edge.stream.value_chunks()
        return
    for _, j, w, d in edge.chunks():
        yield j, w, d


def declared_weight_signs(edge: _ir.ProjectionEdge) -> set | None:
    """The signs (+1, -1) of a rank-local projection's nonzero weights with no weight drawn: those
    its declaration allows (spikecore.ir.SynapseStream.weight_signs: a constant's sign, a
    distribution's bounds) when they are one or none, and none when it has no synapse (its
    in-degrees); None for a weight that can take both signs and for any other projection."""
    if not (edge.is_lazy and edge.stream.rank_local and edge.stream.weight_signs is not None):
        return None
    signs = edge.stream.weight_signs()
    if signs is None:
        return None
    return set(signs) if edge.n_synapses else set()


def weight_signs(edge: _ir.ProjectionEdge) -> set:
    """The signs (+1, -1) of the projection's nonzero weights: from the declaration where it
    decides them (declared_weight_signs: no weight drawn), else from the weights, read chunk by
    chunk (value_chunks: a lazy projection is not joined; a rank-local one draws no source)."""
    declared = declared_weight_signs(edge)
    if declared is not None:
        return declared
    found = set()
    for _, w, _ in value_chunks(edge):
        w = np.asarray(w)
        if (w > 0).any():
            found.add(1)
        if (w < 0).any():
            found.add(-1)
    return found


def receptor_signs(ir: _ir.IRGraph, pop: str) -> dict:
    """{receptor: set of signs (+1, -1) of the nonzero weights arriving on it} (weight_signs).

    They choose the population's NEST model (iaf_psc_exp routes by sign, else
    iaf_psc_exp_multisynapse; aeif_psc_exp needs them apart), which every MPI rank must create
    alike before any connection: every rank finds the same signs, from every projection's
    declaration or, where only the draws tell, from all of its weights."""
    signs = {r: set() for r in ir.populations[pop].receptors}
    for e in ir.projections.values():
        if e.post == pop:
            signs.setdefault(e.receptor, set()).update(weight_signs(e))
    return signs


def sign_routes(signs: dict) -> dict | None:
    """Receptors -> "ex"/"in" when NEST's routing by weight sign separates them, else None.

    Possible when every receptor receives weights of one sign, at most one receptor is
    positive and one negative; a receptor without input takes a slot left free."""
    routes, free = {}, ["ex", "in"]
    for r, s in signs.items():
        if len(s) > 1:
            return None
        if s:
            slot = "ex" if 1 in s else "in"
            if slot not in free:
                return None
            routes[r] = slot
            free.remove(slot)
    for r, s in signs.items():
        if not s:
            if not free:
                return None
            routes[r] = free.pop(0)
    return routes


def _per_neuron(value, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,)).copy()


def _split(params: dict, size: int) -> tuple:
    """(population-wide parameters, per-neuron ones): numpy arrays of the population's size go per node."""
    scalar, per_node = {}, {}
    for k, v in params.items():
        if isinstance(v, np.ndarray) and v.ndim == 1:
            per_node[k] = v.astype(float)
        elif isinstance(v, np.ndarray):
            scalar[k] = float(v)
        else:
            scalar[k] = v
    return scalar, per_node


def _check_initial(pop: _ir.PopulationNode, mapped: tuple):
    for var, values in pop.initial.items():
        if var not in mapped and np.any(np.asarray(values) != 0):
            raise UnsupportedFeature(NAME, f"a nonzero initial '{var}' (population '{pop.name}')",
                                     "NEST's models start their synaptic state at 0")


def population_plan(ir: _ir.IRGraph, pop: _ir.PopulationNode) -> PopulationPlan:
    """The NEST model, parameters and receptor routing of one population; refuses what NEST lacks."""
    if pop.model in NO_NEST_TWIN:
        raise UnsupportedFeature(NAME, f"model '{pop.model}' (population {pop.name})", NO_NEST_TWIN[pop.model])
    model = model_for(pop.model, "nest", f"population {pop.name}", NAME)
    if pop.model == "izhikevich":
        return _izhikevich_plan(ir, pop)
    if pop.model in ("adex", "adex_cond"):
        return _adex_plan(ir, pop, model.synapse)
    return _lif_plan(ir, pop, model.synapse)


def _lif_plan(ir: _ir.IRGraph, pop: _ir.PopulationNode, synapse: str) -> PopulationPlan:
    dt, pr, n = ir.dt, pop.params, pop.size
    _check_initial(pop, ("v",))
    arr = {k: (np.asarray(v, dtype=float) if np.ndim(v) else float(v)) for k, v in pr.items()}
    params = {"E_L": arr["v_leak"] * MV_PER_V, "V_th": arr["v_threshold"] * MV_PER_V,
              "V_reset": arr["v_reset"] * MV_PER_V, "t_ref": refractory_ms(arr["t_refrac"], dt)}
    initial = {"V_m": np.asarray(pop.initial["v"], dtype=float) * MV_PER_V}
    bias = _per_neuron(arr.get("bias", 0.0), n) * PA_PER_A
    current = _per_neuron(PA_PER_A, n)
    v_rec = ("V_m", 1 / MV_PER_V)
    if synapse in ("delta", "current"):
        params.update(tau_m=arr["tau_mem"] * MS_PER_S, C_m=arr["tau_mem"] / arr["r"] * PF_PER_F)
    if synapse == "delta":
        # NEST adds a jump a step later, before the decay the IR gives it: pre-decay it by one step
        factor = MV_PER_V * np.array([math.exp(-dt / t) for t in _per_neuron(arr["tau_mem"], n)])
        scalar, per_node = _split(params, n)
        return PopulationPlan(pop.name, n, "iaf_psc_delta", scalar, {"default": None}, 1, initial, factor,
                              current, bias, {"v": v_rec}, per_node)
    if synapse == "current":
        r = _per_neuron(arr["r"], n)
        tau = {rc: v["tau_syn"] * MS_PER_S for rc, v in pop.receptors.items()}
        routes = sign_routes(receptor_signs(ir, pop.name))
        syn_factor = r / PA_PER_A                          # NEST's I_syn (pA) back to the IR's drive r*I (V)
        if routes is not None and set(routes) <= set(tau):
            for rc, slot in routes.items():
                params[f"tau_syn_{slot}"] = tau[rc]
            model = "iaf_psc_exp"
        else:
            names = list(tau)
            params["tau_syn"] = [tau[rc] for rc in names]
            routes = {rc: k + 1 for k, rc in enumerate(names)}
            model = "iaf_psc_exp_multisynapse"
        rec = {"v": v_rec, **{f"syn_{rc}": (f"I_syn_{slot}", syn_factor) for rc, slot in routes.items()}}
        scalar, per_node = _split(params, n)
        return PopulationPlan(pop.name, n, model, scalar, routes, 0, initial, PA_PER_A / r, current, bias,
                              rec, per_node)
    if synapse == "conductance":
        if len(pop.receptors) > 2:
            raise UnsupportedFeature(NAME, f"lif_coba with {len(pop.receptors)} receptors (population "
                                     f"'{pop.name}': {', '.join(pop.receptors)})",
                                     "iaf_cond_exp has two, 'ex' and 'in'")
        params.update(C_m=arr["c_m"] * PF_PER_F, g_L=arr["g_l"] * NS_PER_S)
        routes, signs = _conductance_routes(pop, params)
        rec = {"v": v_rec, **{f"g_{rc}": (f"g_{slot}", 1 / NS_PER_S) for rc, slot in routes.items()}}
        scalar, per_node = _split(params, n)
        return PopulationPlan(pop.name, n, "iaf_cond_exp", scalar, routes, 0, initial, _per_neuron(NS_PER_S, n),
                              current, bias, rec, per_node, signs)
    raise UnsupportedFeature(NAME, f"model '{pop.model}' with {synapse} synapses (population '{pop.name}')",
                             "NEST's LIF models take delta, current or conductance synapses")


def _conductance_routes(pop: _ir.PopulationNode, params: dict) -> tuple:
    """The receptor of higher reversal potential on ``ex`` (+w), the other on ``in`` (-w)."""
    order = sorted(pop.receptors, key=lambda r: -pop.receptors[r]["e_rev"])
    routes, signs = {}, {}
    for r, slot in zip(order, ("ex", "in")):
        params[f"E_{slot}"] = pop.receptors[r]["e_rev"] * MV_PER_V
        params[f"tau_syn_{slot}"] = pop.receptors[r]["tau_syn"] * MS_PER_S
        routes[r], signs[r] = slot, (1.0 if slot == "ex" else -1.0)
    return routes, signs


def _izhikevich_plan(ir: _ir.IRGraph, pop: _ir.PopulationNode) -> PopulationPlan:
    from spikecore.models.izhikevich import INTEGRATORS
    pr, n = pop.params, pop.size
    method = {v: k for k, v in INTEGRATORS.items()}[int(pr["integrator"])]
    if method not in ("euler", "izhikevich2003"):
        raise UnsupportedFeature(NAME, f"izhikevich's integrator {method} (population {pop.name})",
                                 "NEST's izhikevich integrates with integrator: euler (consistent_integration "
                                 "True) or izhikevich2003 (False); choose one of them")
    for k, nest_k in zip(("k2", "k1", "k0"), NEST_IZHIKEVICH_QUADRATIC):
        if np.any(np.asarray(pr[k]) != nest_k):
            quad = ", ".join(f"{np.unique(pr[q]).tolist()}" for q in ("k2", "k1", "k0"))
            raise UnsupportedFeature(NAME, f"izhikevich's quadratic k2, k1, k0 = {quad} (population {pop.name}; "
                                     "e.g. the class1 preset)", "NEST's izhikevich is fixed at 0.04 v^2 + 5 v + 140")
    if np.any(np.asarray(pr["t_refrac"]) > 0):
        raise UnsupportedFeature(NAME, f"izhikevich with t_refrac > 0 (population {pop.name})",
                                 "NEST's izhikevich has no refractory period")
    _check_initial(pop, ("v", "u"))
    arr = {k: (np.asarray(v, dtype=float) if np.ndim(v) else float(v)) for k, v in pr.items()}
    params = {"a": arr["a"], "b": arr["b"], "c": arr["v_reset"] * MV_PER_V, "d": arr["d"],
              "V_th": arr["v_threshold"] * MV_PER_V, "consistent_integration": method == "euler"}
    initial = {"V_m": np.asarray(pop.initial["v"], dtype=float) * MV_PER_V,
               "U_m": np.asarray(pop.initial["u"], dtype=float)}
    c_m = _per_neuron(arr["c_m"], n)
    bias = _per_neuron(arr["bias"], n) / c_m              # I = bias / c_m in mV/ms, as the grid update
    scalar, per_node = _split(params, n)
    if method == "euler":
        # NEST adds the jump after the step's Euler update, before the threshold test, in the step
        # the IR adds it after its test (to count from the next update): the delay is kept, the
        # states then agree, and only a jump that itself crosses V_th fires a step earlier in NEST
        extra, weight = 0, _per_neuron(MV_PER_V, n)
    else:
        # NEST's published scheme adds the weight as a current (mV/ms) to both half-steps of v:
        # a jump of w becomes w / h over the step after the IR's, i.e. one step more delay
        extra, weight = 1, _per_neuron(MV_PER_V / (ir.dt * MS_PER_S), n)
    return PopulationPlan(pop.name, n, "izhikevich", scalar, {"default": None}, extra, initial, weight, 1.0 / c_m,
                          bias,
                          {"v": ("V_m", 1 / MV_PER_V), "u": ("U_m", 1.0)}, per_node)


def _adex_plan(ir: _ir.IRGraph, pop: _ir.PopulationNode, synapse: str) -> PopulationPlan:
    pr, n = pop.params, pop.size
    _check_initial(pop, ("v", "w", "phase", "fresh"))
    arr = {k: (np.asarray(v, dtype=float) if np.ndim(v) else float(v)) for k, v in pr.items()}
    # t_ref as given: both start the refractory period at the crossing (event location in the
    # grid update, the adaptive solver in NEST), not at the step's end
    params = {"C_m": arr["c_m"] * PF_PER_F, "g_L": arr["g_l"] * NS_PER_S, "E_L": arr["v_leak"] * MV_PER_V,
              "Delta_T": arr["delta_t"] * MV_PER_V, "V_th": arr["v_t"] * MV_PER_V, "tau_w": arr["tau_w"] * MS_PER_S,
              "a": arr["a"] * NS_PER_S, "b": arr["b"] * PA_PER_A, "V_reset": arr["v_reset"] * MV_PER_V,
              "V_peak": arr["v_threshold"] * MV_PER_V, "t_ref": arr["t_refrac"] * MS_PER_S}
    initial = {"V_m": np.asarray(pop.initial["v"], dtype=float) * MV_PER_V,
               "w": np.asarray(pop.initial["w"], dtype=float) * PA_PER_A}
    bias = _per_neuron(arr["bias"], n) * PA_PER_A
    current = _per_neuron(PA_PER_A, n)
    rec = {"v": ("V_m", 1 / MV_PER_V), "w": ("w", 1 / PA_PER_A)}
    if synapse == "current":
        routes = sign_routes(receptor_signs(ir, pop.name))
        if routes is None:
            raise UnsupportedFeature(NAME, f"adex receptors that weight signs cannot tell apart (population "
                                     f"'{pop.name}': {', '.join(pop.receptors)})",
                                     "aeif_psc_exp routes positive weights to ex and negative to in: at most one "
                                     "receptor of each sign")
        for rc, slot in routes.items():
            params[f"tau_syn_{slot}"] = pop.receptors[rc]["tau_syn"] * MS_PER_S
            # aeif_psc_exp holds I_syn_in positive (it subtracts it)
            rec[f"syn_{rc}"] = (f"I_syn_{slot}", (1.0 if slot == "ex" else -1.0) / PA_PER_A)
        scalar, per_node = _split(params, n)
        return PopulationPlan(pop.name, n, "aeif_psc_exp", scalar, routes, 0, initial, _per_neuron(PA_PER_A, n),
                              current, bias, rec, per_node)
    if len(pop.receptors) > 2:
        raise UnsupportedFeature(NAME, f"adex_cond with {len(pop.receptors)} receptors (population "
                                 f"'{pop.name}': {', '.join(pop.receptors)})", "aeif_cond_exp has two, 'ex' and 'in'")
    routes, signs = _conductance_routes(pop, params)
    rec.update({f"g_{rc}": (f"g_{slot}", 1 / NS_PER_S) for rc, slot in routes.items()})
    scalar, per_node = _split(params, n)
    return PopulationPlan(pop.name, n, "aeif_cond_exp", scalar, routes, 0, initial, _per_neuron(NS_PER_S, n),
                          current, bias, rec, per_node, signs)


def nest_weights(plan: PopulationPlan, receptor: str, w: np.ndarray, j: np.ndarray) -> np.ndarray:
    """IR weights (V for delta and current synapses, A for adex, S for conductances) onto target
    neurons ``j``, in NEST's units and signs."""
    return np.asarray(w, dtype=float) * plan.weight_factor[np.asarray(j)] * plan.receptor_signs.get(receptor, 1.0)


def nest_delays_ms(delay: np.ndarray, dt: float, extra_steps: int) -> np.ndarray:
    """NEST delays for IR delays (multiples of dt): kept, plus ``extra_steps`` (jumps NEST adds before
    its threshold test)."""
    return (_ir.delay_steps(delay, dt) + extra_steps) * dt * MS_PER_S
