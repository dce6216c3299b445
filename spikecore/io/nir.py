"""NIR graphs to and from spikecore networks (the ``.nir`` model format).

NIR (the Neuromorphic Intermediate Representation, package ``nir``) is how
snnTorch, Norse, Sinabs, Rockpool, Lava-dl, SpiNNaker2 and Xylo exchange
spiking networks: a graph of named nodes (neurons, linear maps, delays) and
``(src, dst)`` edges, each node defined by continuous-time equations
(nir/ir/neuron.py, nir/ir/linear.py, nir/ir/delay.py). ``to_nir`` writes the
realised IR of a network as such a graph, ``from_nir`` reads one back into a
``Network``; ``load_nir``/``save_nir`` are the ``.nir`` entries of
spikecore.io.MODEL_LOADERS/MODEL_SAVERS, so ``spikecore run FILE.nir`` and
``Network.load/save`` work. Neighbours: spikecore.models (our equations),
spikecore.ir (step semantics), spikecore.io.model_files (the YAML format).

Why one long file: it is the NIR mapping table in both directions (the table below,
export, import), kept together so that export divides by exactly what import
multiplies by; each model's side of it is its ``nir_kind`` (spikecore.models).

Units
-----
NIR numbers carry no units. We read them as SI numbers, each scale a named
constant: tau and delays in seconds (``NIR_TIME_UNIT``, what snnTorch, Norse and
Rockpool write), voltages in volts (``NIR_VOLTAGE_UNIT``), ``r`` in ohms
(``NIR_RESISTANCE_UNIT``), so an input current or an Affine bias is in amperes
(``NIR_CURRENT_UNIT``). A spike is a Dirac delta of unit area (in NIR time
units), so a weight W on a spike edge is a charge: it moves the input I by
W·δ(t - t_k). Dynamics do not depend on the voltage scale; traces do.
Discrete-time exporters mean a spike to be 1 during one of their steps instead
(snnTorch writes r = tau/dt with dt = 1e-4 s; Norse steps with its dt): pass
``from_nir(..., spike_area=their dt)`` for those, or each spike is 1/dt stronger.

Node mapping (N = node, W = summed weight of a spike path, all in NIR numbers)
--------------------------------------------------------------------------------
================  ============================================  ==================================
NIR node          spikecore population                          one spike through W changes
================  ============================================  ==================================
LIF               lif_delta(tau_mem=tau, r, v_leak, v_threshold,  v by r·W/tau (the delta synapse)
                  v_reset)
CubaLIF           lif_cuba(tau_mem, tau_syn on receptor "syn",    syn (= r·I, volts) by
                  r, v_leak, v_threshold, v_reset)                r·w_in·W/tau_syn
IF                lif_delta(tau_mem=NO_LEAK_TAU, v_leak=0, ...)   v by r·W
LI                lif_delta(..., v_threshold=NO_THRESHOLD,        v by r·W/tau
                  v_reset=v_leak)
CubaLI            lif_cuba(..., v_threshold=NO_THRESHOLD)         syn by r·w_in·W/tau_syn
I (Integrator)    lif_delta(tau_mem=NO_LEAK_TAU, v_leak=0,        v by r·W
                  v_threshold=NO_THRESHOLD, v_reset=0)
LI_k -> LIF/LI    lif_cuba with one receptor per LI_k (tau_syn =     syn_k by r·r_k·W/tau_k
(LIs feeding      tau_k): NIR's own decomposition of CubaLIF,
only the          "LI; Linear; LIF", one synaptic filter per
membrane)         current. to_nir writes populations with several
                  receptors this way (filters named POP_syn_RECEPTOR)
Input             SpikeSource (stimulus: ``inputs=``, or the metadata we wrote, else silent)
Affine, Linear,   composed along each path from a spiking node to a neuron node into
Scale, Flatten    explicit synapses (zero entries are no synapse); Affine biases become
                  constant inputs (below)
Delay             adds its delay to the synapses of the path (a multiple of dt)
Output            after LI/CubaLI/I: a StateMonitor of v; otherwise only marks an output
================  ============================================  ==================================

The limiting parameters are exact, not approximations: the engine and Brian2
decay v by exp(-dt/tau_mem), and for tau_mem = NO_LEAK_TAU = 1e300 s that is
exactly 1.0 in float64 for every dt below 1e284 s, so with v_leak = 0 the update
``v_leak + (v - v_leak)·1.0`` returns v unchanged: no leak, as IF and I demand.
``v > NO_THRESHOLD`` (the largest float64) is false for every finite v, so LI,
CubaLI and I never fire, as they have no threshold.

Constant input: an Affine bias b reaching a neuron adds r·b to its drive. For
LIF/LI that is exactly a shift of the resting potential, v_leak + r·b (neurons
with different biases become separate populations). For CubaLIF/CubaLI the bias
passes through the synaptic filter, r·w_in·b·(1 - exp(-t/tau_syn)) from I(0)=0:
the constant part shifts v_leak and the syn variable starts at -r·w_in·b, whose
exact decay supplies the transient (v and spikes are exact; syn is offset by the
constant r·w_in·b). A bias into IF/I (a ramp) or through a Delay raises
UnsupportedFeature. Initial state (NIR defines none): v = v_leak (without the
bias), I = 0, unless our own metadata says otherwise.

Time grid: every delay must be a multiple of dt. A NIR edge transmits a spike
instantly; the IR's smallest synaptic delay is one step (spikecore.ir), so an
edge with NIR delay tau becomes a synapse of delay tau + dt: every path gets the
same one-step latency of the grid, and ``to_nir`` writes delay d as tau = d - dt.
So a spike-source spike at t0 through NIR delay tau is felt from t0 + tau + 2·dt
on (IR step semantics), and a neuron's spike at step n from step n + tau/dt + 2.

What NIR cannot hold is refused with UnsupportedFeature naming it: on import
Conv1d/Conv2d, pooling, Threshold (a level H(v - θ) without reset, not spikes),
weights with more than two dimensions, continuous signals between neurons (an
LI's v feeding another node), readouts of weighted sums (Output after an
Affine), loops of linear nodes, biases into IF/I or synaptic filters; on export
lif_coba and t_refrac > 0 (unless ``keep_refractory=True``, which keeps it in
spikecore metadata that other NIR tools ignore). Population attrs (hwmodels
pass data) are not exported: NIR has no place for them.

Metadata: ``to_nir`` stores, as a JSON string under graph metadata
"spikecore", what NIR has no field for but a spikecore run needs: name, seed,
dt, duration, stimulus (spike sources, Poisson sources, currents), monitors,
initial states, receptor and projection names, and t_refrac when kept. NIR
graphs stay self-contained without it: other tools ignore it, and ``from_nir``
uses it only when present and consistent with the graph.

Round trip: ``from_nir(to_nir(net))`` realises the same IR: same populations,
parameters and initial states bit for bit (the unit constants are 1.0), the
same synapses (pre, post, delay), weights to within one rounding (w → w/s → s·w
with s = r/tau or r/tau_syn). ``to_nir`` writes one dense matrix per projection
and delay, so two synapses with the same (pre, post, delay) are merged (weights
added) and zero weights vanish; neither changes the dynamics.
"""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .. import ir as _ir
from .. import network as nw
from .. import units as u
from ..errors import ModelFileError, SpikecoreError, UnsupportedFeature, ValidationError
from .results import OutputFile
from ..models import MODELS, get_model, model_for_nir
from ..plasticity import refuse_plastic

# Unit convention: SI value = NIR number * unit.
NIR_TIME_UNIT = 1.0          # s
NIR_VOLTAGE_UNIT = 1.0       # V
NIR_RESISTANCE_UNIT = 1.0    # ohm
NIR_CURRENT_UNIT = NIR_VOLTAGE_UNIT / NIR_RESISTANCE_UNIT   # A

# Limiting parameters that make our LIF models exactly NIR's IF, LI and I (see above).
NO_LEAK_TAU = 1e300                 # s: exp(-dt/tau) == 1.0 in float64
NO_THRESHOLD = sys.float_info.max   # V: v > NO_THRESHOLD never holds for finite v

# NIR stores weights as dense matrices (nir.Linear): past this many entries per matrix
# (512 MiB of float64) to_nir refuses instead of exhausting memory.
MAX_DENSE_ENTRIES = 2**26

METADATA_KEY = "spikecore"
METADATA_VERSION = 1
DEFAULT_RECEPTOR = "syn"
FORMAT = "nir"   # the name UnsupportedFeature reports


# ============================================================================ helpers
def _nir():
    import nir
    return nir


def _unsupported(feature: str, hint: str = "") -> UnsupportedFeature:
    return UnsupportedFeature(FORMAT, feature, hint)


def _identifier(name: str) -> str:
    """A NIR node name ('lif.1', '0') as a spikecore name ('lif_1', 'n_0')."""
    s = re.sub(r"\W", "_", str(name))
    if not s or not s.isidentifier():
        s = "n_" + s
    return s


def _unique(name: str, taken: set) -> str:
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    taken.add(out)
    return out


def _input_scale(kind: str, n: int, p: dict) -> np.ndarray:
    """Jump of the neuron's spike-driven variable (NIR volts) per unit of W, per neuron.

    The one formula both directions use, so export divides by exactly what import multiplies by."""
    if kind in ("LIF", "LI"):
        return p["r"] / p["tau"]
    if kind in ("IF", "I"):
        return p["r"] * np.ones(n)
    return p["r"] * p["w_in"] / p["tau_syn"]   # CubaLIF, CubaLI


def _receptor_scale(r_mem, r_filter, tau_filter) -> np.ndarray:
    """Jump of syn_k (= r_mem * x_k, NIR volts) per unit W for a synaptic-filter LI feeding a membrane."""
    return r_mem * (r_filter / tau_filter)


# ============================================================================ export
def to_nir(network, *, dt=None, seed=None, duration=None, keep_refractory: bool = False):
    """The NIR graph of ``network`` (a Network, realised with ``dt``/``seed``, or an IRGraph).

    Raises UnsupportedFeature for what NIR cannot express (module docstring)."""
    nir = _nir()
    if isinstance(network, _ir.IRGraph):
        g = network
        net_duration = None
    else:
        g = network.to_ir(dt=dt, seed=seed)
        net_duration = network.duration
    if duration is not None:
        net_duration = u.to_si(duration, u.TIME, "duration")
    refuse_plastic(g, "NIR", "NIR graphs have no plasticity")
    taken = set(g.populations) | set(g.spike_sources) | set(g.poisson_sources) | set(g.projections)
    nodes, edges = {}, []
    outgoing = {e.pre for e in g.projections.values()}
    kinds, targets, meta_pops = {}, {}, {}
    for name, p in g.populations.items():
        kinds[name], targets[name], meta_pops[name] = _population_to_nodes(p, name in outgoing, keep_refractory,
                                                                           nodes, edges, taken)
    for name, s in list(g.spike_sources.items()) + list(g.poisson_sources.items()):
        nodes[name] = nir.Input(input_type={"input": np.array([s.size])})
    proj_nodes = {}
    for name, e in g.projections.items():
        target, scale = targets[e.post][e.receptor]
        for node_name in _projection_to_nodes(e, g, target, scale, nodes, edges, taken):
            proj_nodes[node_name] = name
    # Outputs: what is recorded (all populations when no spike monitor says otherwise),
    # and the leaves, which NIR would give Outputs itself.
    recorded = set(g.recorded_populations())
    watched = {m.target for m in g.state_monitors.values() if kinds[m.target] in ("LI", "CubaLI", "I")}
    for name in g.populations:
        if name in recorded or name in watched or name not in outgoing:
            out = _unique(f"{name}_output", taken)
            nodes[out] = nir.Output(output_type={"output": np.array([g.populations[name].size])})
            edges.append((name, out))
    placeholders = []
    if not any(isinstance(nodes[a], nir.Input) for a, _ in edges):
        # nir.NIRGraph's type inference starts from an edge out of an Input: give it one
        # that connects to nothing (an all-zero weight, which from_nir reads as no synapse).
        first = next(iter(g.populations.values()))
        target, _ = next(iter(targets[first.name].values()))
        inp, lin = _unique("input", taken), _unique("input_weight", taken)
        nodes[inp] = nir.Input(input_type={"input": np.array([1])})
        nodes[lin] = nir.Linear(weight=np.zeros((first.size, 1)))
        edges += [(inp, lin), (lin, target)]
        placeholders = [inp, lin]
    ours = set(nodes)
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=True)
    # NIR's type inference gives every root node without an Input an Input of its own
    # (an identity edge); those are no stimulus of ours, so from_nir skips them.
    placeholders += [k for k in graph.nodes if k not in ours]
    meta = _metadata(g, net_duration, meta_pops, proj_nodes, placeholders)
    graph.metadata = {METADATA_KEY: json.dumps(meta)}
    return graph


def _population_to_nodes(p: _ir.PopulationNode, has_outgoing: bool, keep_refractory: bool, nodes, edges, taken):
    """Add the NIR node(s) of population ``p``.

    Returns (NIR kind, {receptor: (node its spikes enter, input scale per neuron)}, metadata)."""
    nir = _nir()
    where = f"population '{p.name}'"
    model = MODELS.get(p.model)
    if model is not None and model.synapse == "conductance":
        raise _unsupported(f"{where}: model {p.model} (conductance synapses)",
                           "NIR has current-based neurons only (LIF, CubaLIF, IF, LI)")
    if model is None or not model.supports("nir"):
        raise _unsupported(f"{where}: model {p.model}")
    if np.any(np.asarray(p.params.get("bias", 0.0)) != 0):
        raise _unsupported(f"{where}: a bias current", "bias 0 (its LIF nodes would need v_leak + r*bias; "
                           "write that v_leak instead)")
    per_neuron = sorted(k for k, x in p.params.items() if np.ndim(x))
    if per_neuron:
        raise _unsupported(f"{where}: per-neuron {', '.join(per_neuron)}",
                           "this export writes one value per population")
    prm = p.params
    extra = {}
    if prm["t_refrac"] > 0:
        if not keep_refractory:
            raise _unsupported(f"{where}: t_refrac = {prm['t_refrac']!r} s",
                               "NIR neurons have no refractory period; keep_refractory=True "
                               "(CLI --keep-refractory) stores it in spikecore metadata, "
                               "which other NIR tools ignore")
        extra["t_refrac"] = prm["t_refrac"]
    extra["initial"] = {var: [float(x) for x in arr] for var, arr in p.initial.items()}
    n = p.size
    full = lambda x: np.full(n, float(x))  # noqa: E731
    r = full(prm["r"] / NIR_RESISTANCE_UNIT)
    vleak = full(prm["v_leak"] / NIR_VOLTAGE_UNIT)
    vth = full(prm["v_threshold"] / NIR_VOLTAGE_UNIT)
    vreset = full(prm["v_reset"] / NIR_VOLTAGE_UNIT)
    tau = full(prm["tau_mem"] / NIR_TIME_UNIT)
    no_leak = prm["tau_mem"] == NO_LEAK_TAU and prm["v_leak"] == 0.0
    # Without outgoing synapses a never-firing population is NIR's LI; with them it must
    # stay a LIF, since an edge from an LI would carry v, not spikes.
    silent = prm["v_threshold"] == NO_THRESHOLD and prm["v_reset"] == prm["v_leak"] and not has_outgoing
    if model.nir_kind == "delta":
        if no_leak:
            kind = "I" if silent else "IF"
            nodes[p.name] = nir.I(r=r) if silent else nir.IF(r=r, v_threshold=vth, v_reset=vreset)
        else:
            kind = "LI" if silent else "LIF"
            nodes[p.name] = (nir.LI(tau=tau, r=r, v_leak=vleak) if silent else
                             nir.LIF(tau=tau, r=r, v_leak=vleak, v_threshold=vth, v_reset=vreset))
        return kind, {"default": (p.name, _input_scale(kind, n, {"r": r, "tau": tau}))}, extra
    if len(p.receptors) == 1:
        (rname, rec), = p.receptors.items()
        tau_syn = full(rec["tau_syn"] / NIR_TIME_UNIT)
        w_in = np.ones(n)
        kind = "CubaLI" if silent else "CubaLIF"
        nodes[p.name] = (nir.CubaLI(tau_syn=tau_syn, tau_mem=tau, r=r, v_leak=vleak, w_in=w_in) if silent else
                         nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau, r=r, v_leak=vleak, v_threshold=vth,
                                     v_reset=vreset, w_in=w_in))
        extra["receptors"] = {p.name: rname}
        return kind, {rname: (p.name, _input_scale(kind, n, {"r": r, "tau_syn": tau_syn, "w_in": w_in}))}, extra
    # Several receptors: NIR's own decomposition of CubaLIF (LI; Linear; LIF), one synaptic
    # filter LI(tau_syn, r=1, v_leak=0) per receptor, all feeding the membrane's input.
    kind = "LI" if silent else "LIF"
    nodes[p.name] = (nir.LI(tau=tau, r=r, v_leak=vleak) if silent else
                     nir.LIF(tau=tau, r=r, v_leak=vleak, v_threshold=vth, v_reset=vreset))
    targets, extra["receptors"] = {}, {}
    for rname, rec in p.receptors.items():
        filt = _unique(f"{p.name}_syn_{rname}", taken)
        tau_syn = full(rec["tau_syn"] / NIR_TIME_UNIT)
        nodes[filt] = nir.LI(tau=tau_syn, r=np.ones(n), v_leak=np.zeros(n))
        edges.append((filt, p.name))
        targets[rname] = (filt, _receptor_scale(r, np.ones(n), tau_syn))
        extra["receptors"][filt] = rname
    return kind, targets, extra


def _projection_to_nodes(e: _ir.ProjectionEdge, g: _ir.IRGraph, target, scale, nodes, edges, taken):
    """One Linear node (plus a Delay node on its input when needed) per distinct delay."""
    nir = _nir()
    n_pre, n_post = g.source_size(e.pre), g.populations[e.post].size
    if n_pre * n_post > MAX_DENSE_ENTRIES:
        raise _unsupported(f"projection '{e.name}' ({n_post} x {n_pre} weight matrix)",
                           f"NIR weights are dense: more than {MAX_DENSE_ENTRIES} entries per matrix")
    steps = _ir.delay_steps(e.delay, g.dt)
    groups = np.unique(steps)
    names = []
    for k in groups:
        sel = steps == k
        weight = np.zeros((n_post, n_pre))
        # W such that scale[j] * W == w: the inverse of from_nir's conversion
        np.add.at(weight, (e.j[sel], e.i[sel]), np.asarray(e.weight)[sel] / NIR_VOLTAGE_UNIT / scale[e.j[sel]])
        base = e.name if len(groups) == 1 else f"{e.name}_d{int(k)}"
        lin = _unique(base, taken) if base != e.name else base
        nodes[lin] = nir.Linear(weight=weight)
        names.append(lin)
        if k > 1:   # NIR delay = our delay minus the grid's one step (module docstring)
            dly = _unique(f"{lin}_delay", taken)
            nodes[dly] = nir.Delay(delay=np.full(n_pre, (k - 1) * g.dt / NIR_TIME_UNIT))
            edges += [(e.pre, dly), (dly, lin), (lin, target)]
        else:
            edges += [(e.pre, lin), (lin, target)]
    return names


def _metadata(g: _ir.IRGraph, duration, pops, proj_nodes, placeholders) -> dict:
    floats = lambda a: [float(x) for x in np.asarray(a, dtype=float).ravel()]  # noqa: E731
    ints = lambda a: [int(x) for x in np.asarray(a).ravel()]  # noqa: E731
    sources = {}
    for name, s in g.spike_sources.items():
        sources[name] = {"type": "spike_times", "size": s.size, "times": floats(s.times),
                         "indices": ints(s.indices)}
    for name, s in g.poisson_sources.items():
        sources[name] = {"type": "poisson", "size": s.size, "rates": floats(s.rates), "start": s.start,
                         "stop": None if math.isinf(s.stop) else s.stop}
    currents = {name: {"target": c.target, "neurons": ints(c.neurons), "times": floats(c.times),
                       "amplitudes": floats(c.amplitudes)} for name, c in g.currents.items()}
    monitors = {name: {"type": "spikes", "target": m.target} for name, m in g.spike_monitors.items()}
    for name, m in g.state_monitors.items():
        monitors[name] = {"type": "state", "target": m.target, "variables": list(m.variables),
                          "neurons": ints(m.neurons), "interval": m.interval}
    return {"version": METADATA_VERSION, "name": g.name, "seed": g.seed, "dt": g.dt,
            "duration": duration,
            "populations": pops, "projections": proj_nodes, "sources": sources, "currents": currents,
            "monitors": monitors, "placeholders": placeholders}


# ============================================================================ import
_SPIKING = ("LIF", "CubaLIF", "IF")
_SILENT = ("LI", "CubaLI", "I")
_LINEAR = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Identity")
_PARAMS = {   # NIR fields read per neuron node type
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "IF": ("r", "v_threshold", "v_reset"),
    "I": ("r",),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
}
_WHY_NOT = {
    "Threshold": "NIR's Threshold emits the level H(v - threshold) with no reset, a continuous "
                 "signal; spikecore neurons exchange spikes and reset (use LIF or IF)",
    "Conv1d": "convolutions are not mapped; flatten them into an Affine/Linear weight matrix",
    "Conv2d": "convolutions are not mapped; flatten them into an Affine/Linear weight matrix",
    "SumPool2d": "pooling is not mapped; express it as an Affine/Linear weight matrix",
    "AvgPool2d": "pooling is not mapped; express it as an Affine/Linear weight matrix",
}


def from_nir(graph, dt=None, *, inputs: dict | None = None, spike_area: float = 1.0, name: str | None = None,
             seed: int | None = None, duration=None) -> nw.Network:
    """A Network that runs ``graph`` (a nir.NIRGraph) on the time grid ``dt``.

    ``dt`` (e.g. '0.1 ms'): default the one our metadata stores, else 0.1 ms.
    ``inputs``: {Input node name: SpikeSource or PoissonSource} stimulus of the graph's
    Input nodes (default: the stimulus our metadata stores, else no spikes).
    ``spike_area``: the integral of one spike, in NIR time units. 1 reads a spike as a
    Dirac delta, NIR's continuous-time definition. Discrete-time tools mean a spike to be
    1 for one of *their* steps: snnTorch writes r = tau/dt (dt = 1e-4) and Norse
    integrates by Euler steps of its dt, so their graphs expect ``spike_area`` = that dt;
    read with 1, each of their spikes is 1/dt times stronger."""
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise ValidationError("graph", type(graph).__name__, "a nir.NIRGraph")
    meta = _read_metadata(graph)
    nodes, edges, passthrough = _flatten(graph)
    net = nw.Network(name=name or meta.get("name") or "nir",
                     seed=seed if seed is not None else meta.get("seed", 0),
                     dt=dt if dt is not None else _meta_quantity(meta.get("dt"), u.TIME),
                     duration=duration if duration is not None else _meta_quantity(meta.get("duration"), u.TIME))
    kinds = {}
    for key, node in nodes.items():
        kind = type(node).__name__
        if key in passthrough or kind in ("Flatten", "Identity"):
            kind = "Pass"
        elif kind not in _SPIKING + _SILENT + _LINEAR + ("Input", "Output"):
            raise _unsupported(f"node '{key}' of type {kind}", _WHY_NOT.get(kind, "no spikecore equivalent"))
        kinds[key] = kind
    succ = {k: [] for k in nodes}
    for a, b in edges:
        succ[a].append(b)
    if isinstance(spike_area, bool) or not isinstance(spike_area, (int, float)) or not spike_area > 0 \
            or not math.isfinite(spike_area):
        raise ValidationError("spike_area", spike_area, "a positive number (NIR time units; 1 = Dirac delta)")
    filters = _synaptic_filters(kinds, succ, edges)
    reader = _Reader(nodes, kinds, succ, net.dt, set(meta.get("placeholders", [])), float(spike_area), filters)
    reader.walk()
    return reader.build(net, meta, inputs or {})


def _synaptic_filters(kinds, succ, edges) -> dict:
    """Membranes (LIF, LI) fed only by LIs that feed nothing else: NIR's CubaLIF written out
    (LI; Linear; LIF), one LI per synaptic current. Those LIs become receptors ("Receptor")."""
    pred = {k: [] for k in kinds}
    for a, b in edges:
        pred[b].append(a)
    filters = {}
    for m, kind in kinds.items():
        if kind in ("LIF", "LI") and pred[m] and all(kinds[a] == "LI" and succ[a] == [m] for a in pred[m]):
            filters[m] = list(dict.fromkeys(pred[m]))
    chained = set(filters) & {f for fs in filters.values() for f in fs}
    if chained:
        raise _unsupported(f"the chain of leaky integrators through '{sorted(chained)[0]}'",
                           "a synaptic filter must feed a membrane directly")
    for fs in filters.values():
        for f in fs:
            kinds[f] = "Receptor"
    return filters


def _receptor_name(filter_node: str, membrane: str) -> str:
    for prefix in (f"{membrane}_syn_", f"{membrane}_", f"{membrane}."):
        if filter_node.startswith(prefix) and filter_node[len(prefix):].isidentifier():
            return filter_node[len(prefix):]
    return _identifier(filter_node)


def _meta_quantity(value, dim):
    return None if value is None else u.Quantity(float(value), dim)


def _read_metadata(graph) -> dict:
    raw = (graph.metadata or {}).get(METADATA_KEY) if isinstance(graph.metadata, dict) else None
    if raw is None:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf8")
    try:
        meta = json.loads(raw)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"metadata.{METADATA_KEY}", str(raw)[:40], f"JSON written by spikecore ({e})") from None
    if not isinstance(meta, dict) or meta.get("version") != METADATA_VERSION:
        raise ValidationError(f"metadata.{METADATA_KEY}.version", meta.get("version") if isinstance(meta, dict) else meta,
                              f"spikecore NIR metadata version {METADATA_VERSION}")
    return meta


def _flatten(graph, prefix: str = ""):
    """Nested NIRGraphs (snnTorch's recurrent layers) as one flat graph.

    Returns (nodes, edges, passthrough): names of nested Input/Output nodes, which
    only forward their signal."""
    nir = _nir()
    nodes, edges, passthrough = {}, [], set()
    ends = {}   # subgraph name -> (its input node, its output node)
    for key, node in graph.nodes.items():
        full = prefix + str(key)
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges, sub_pass = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            passthrough |= sub_pass
            ins = [k for k, n in node.nodes.items() if isinstance(n, nir.Input)]
            outs = [k for k, n in node.nodes.items() if isinstance(n, nir.Output)]
            ends[key] = (f"{full}.{ins[0]}" if len(ins) == 1 else None,
                         f"{full}.{outs[0]}" if len(outs) == 1 else None)
            for k in ins + outs:
                passthrough.add(f"{full}.{k}")
        else:
            nodes[full] = node
    for a, b in graph.edges:
        for end in (a, b):
            if end not in graph.nodes:
                raise ValidationError("edges", (a, b), f"edges between existing nodes (no node '{prefix}{end}')")
        src, dst = prefix + str(a), prefix + str(b)
        if a in ends:
            src = ends[a][1]
            if src is None:
                raise _unsupported(f"edge from subgraph '{prefix}{a}'", "a subgraph needs exactly one Output node")
        if b in ends:
            dst = ends[b][0]
            if dst is None:
                raise _unsupported(f"edge into subgraph '{prefix}{b}'", "a subgraph needs exactly one Input node")
        edges.append((src, dst))
    return nodes, edges, passthrough


def _size_of(node, key: str) -> int:
    t = getattr(node, "input_type", None) or {}
    shape = t.get("input") if isinstance(t, dict) else None
    if shape is None:
        shape = getattr(node, "output_type", {}).get("output")
    if shape is None:
        raise ValidationError(f"nodes.{key}", type(node).__name__, "a node with a known shape")
    return int(np.prod(np.asarray(shape, dtype=np.int64))) if np.size(shape) else 1


class _Reader:
    """Walks a flat NIR graph and collects neurons, synapses, constant inputs and readouts."""

    def __init__(self, nodes, kinds, succ, dt, placeholders, spike_area, filters):
        self.nodes, self.kinds, self.succ, self.dt = nodes, kinds, succ, dt
        self.filters = filters   # membrane node -> its synaptic-filter LI nodes (receptors)
        self.receptor_of = {f: m for m, fs in filters.items() for f in fs}
        self.spike_area = spike_area
        self.placeholders = placeholders
        self.paths = {}     # (key, src, dst) -> {steps: coo (dst x src)}
        self.bias = {}      # neuron node -> bias vector (NIR current)
        self.readouts = []  # silent neuron nodes read by an Output

    # -- signal walking ------------------------------------------------------------
    def walk(self):
        for key, kind in self.kinds.items():
            if kind == "Input" or kind in _SPIKING:
                n = _size_of(self.nodes[key], key)
                self._spikes(key, key, {0: sp.identity(n, format="csr")}, [], [key])
            elif kind in _SILENT:
                self._silent(key, key, kind)
            elif kind == "Affine":
                b = np.asarray(self.nodes[key].bias, dtype=float).ravel()
                if b.size and np.any(b != 0):
                    self._bias(key, key, b, [key])

    def _silent(self, key, at, kind):
        """A neuron without threshold may only be read out (its v), through pass-through nodes."""
        for nxt in self.succ[at]:
            if self.kinds[nxt] == "Output":
                self.readouts.append(key)
            elif self.kinds[nxt] == "Pass":
                self._silent(key, nxt, kind)
            else:
                raise _unsupported(f"edge '{at}' -> '{nxt}'",
                                   f"'{key}' ({kind}) has no threshold: its output is the continuous "
                                   "v, and spikecore neurons only exchange spikes")

    def _apply(self, key, M: dict, where: str) -> dict:
        """The signal after linear node ``key``: {delay steps: matrix (channels x source)}."""
        node, kind = self.nodes[key], self.kinds[key]
        rows = next(iter(M.values())).shape[0]
        if kind == "Pass":
            return M
        if kind in ("Affine", "Linear"):
            w = node.weight
            w = w.tocsr().astype(float) if sp.issparse(w) else np.asarray(w, dtype=float)
            if w.ndim != 2:
                raise _unsupported(f"node '{key}' ({kind}) with a {w.ndim}-D weight", "weights must be 2-D matrices")
            if w.shape[1] != rows:
                raise ValidationError(f"nodes.{key}.weight", f"shape {w.shape}",
                                      f"{rows} input columns (the size of what feeds it, {where})")
            if not np.all(np.isfinite(w.data if sp.issparse(w) else w)):
                raise ValidationError(f"nodes.{key}.weight", "non-finite values", "finite weights")
            ws = sp.csr_matrix(w)
            return {k: (ws @ m).tocsr() for k, m in M.items()}
        if kind == "Scale":
            s = np.broadcast_to(np.asarray(node.scale, dtype=float).ravel(), (rows,))
            return {k: (sp.diags(s) @ m).tocsr() for k, m in M.items()}
        if kind == "Delay":
            steps = self._delay_steps(key, rows)
            out = {}
            for k, m in M.items():
                for s in np.unique(steps):
                    part = (sp.diags((steps == s).astype(float)) @ m).tocsr()
                    out[k + int(s)] = part if k + int(s) not in out else out[k + int(s)] + part
            return out
        raise AssertionError(kind)  # unreachable: only linear kinds are walked

    def _delay_steps(self, key, rows):
        d = np.broadcast_to(np.asarray(self.nodes[key].delay, dtype=float).ravel(), (rows,)) * NIR_TIME_UNIT
        ratio = d / self.dt
        if (d < 0).any() or (np.abs(ratio - np.rint(ratio)) > _ir.GRID_TOLERANCE).any():
            bad = float(d[np.argmax(np.abs(ratio - np.rint(ratio)) + (d < 0))])
            raise ValidationError(f"nodes.{key}.delay", f"{bad!r} s", f"delays that are multiples of dt ({self.dt!r} s)")
        return np.rint(ratio).astype(np.int64)

    def _spikes(self, src, at, M, weights, trail):
        for nxt in self.succ[at]:
            kind = self.kinds[nxt]
            if kind in _SPIKING + _SILENT + ("Receptor",):
                rows = next(iter(M.values())).shape[0]
                n = _size_of(self.nodes[nxt], nxt)
                if rows != n:
                    raise ValidationError(f"nodes.{nxt}", f"an input of size {rows} from '{at}'", f"size {n}")
                dst, rec = (self.receptor_of[nxt], nxt) if kind == "Receptor" else (nxt, None)
                key = weights[0] if weights else f"{src}_to_{dst}"
                slot = self.paths.setdefault((key, src, dst, rec), {})
                for k, m in M.items():
                    slot[k] = m if k not in slot else slot[k] + m
            elif kind == "Output":
                if any(self.kinds[x] != "Pass" for x in trail[1:]):
                    raise _unsupported(f"Output '{nxt}' reading '{at}'",
                                       "spikecore records spikes and neuron state, not weighted sums "
                                       "of spikes: end the graph on a neuron node")
            elif kind == "Input":
                raise ValidationError(f"edges", (at, nxt), "no edge into an Input node")
            else:
                if nxt in trail:
                    raise _unsupported(f"the loop {' -> '.join(trail[trail.index(nxt):] + [nxt])}",
                                       "a loop of linear nodes without a neuron has no solution")
                w = weights + [nxt] if kind in ("Affine", "Linear", "Scale") else weights
                self._spikes(src, nxt, self._apply(nxt, M, f"'{at}'"), w, trail + [nxt])

    def _bias(self, origin, at, b, trail):
        for nxt in self.succ[at]:
            kind = self.kinds[nxt]
            if kind == "Receptor":
                raise _unsupported(f"the bias of '{origin}' into synaptic filter '{nxt}'",
                                   "give the bias to the membrane node instead")
            if kind in ("IF", "I"):
                raise _unsupported(f"the bias of '{origin}' into '{nxt}' ({kind})",
                                   "a constant input to a leak-free integrator is a ramp, which "
                                   "spikecore's LIF models cannot express")
            if kind in _SPIKING + _SILENT:
                n = _size_of(self.nodes[nxt], nxt)
                if b.size != n:
                    raise ValidationError(f"nodes.{origin}.bias", f"length {b.size}", f"length {n} (size of '{nxt}')")
                self.bias[nxt] = self.bias.get(nxt, 0.0) + b
            elif kind == "Output":
                raise _unsupported(f"Output '{nxt}' reading the bias of '{origin}'",
                                   "spikecore records spikes and neuron state, not weighted sums")
            elif kind == "Delay":
                if np.any(np.asarray(self.nodes[nxt].delay, dtype=float) != 0):
                    raise _unsupported(f"the bias of '{origin}' through Delay '{nxt}'",
                                       "a delayed constant input is a step at an undefined time")
                self._bias(origin, nxt, b, trail + [nxt])
            elif kind == "Input":
                raise ValidationError("edges", (at, nxt), "no edge into an Input node")
            else:
                if nxt in trail:
                    raise _unsupported(f"the loop {' -> '.join(trail + [nxt])}",
                                       "a loop of linear nodes without a neuron has no solution")
                M = self._apply(nxt, {0: sp.csr_matrix(b.reshape(-1, 1))}, f"the bias of '{origin}'")
                self._bias(origin, nxt, M[0].toarray().ravel(), trail + [nxt])

    # -- building the network --------------------------------------------------------
    def _node_params(self, key):
        node, kind = self.nodes[key], self.kinds[key]
        n = _size_of(node, key)
        p = {}
        for f in _PARAMS["LI" if kind == "Receptor" else kind]:
            raw = getattr(node, f)
            arr = np.asarray(raw, dtype=float).ravel()
            if arr.size not in (1, n):
                raise ValidationError(f"nodes.{key}.{f}", f"{arr.size} values", f"1 or {n} values")
            if not np.isfinite(arr).all():
                raise ValidationError(f"nodes.{key}.{f}", raw, "finite values")
            p[f] = np.broadcast_to(arr, (n,)).astype(float)
        return n, p

    def _neuron_groups(self, key, taken, receptor_names):
        """Neuron node ``key`` (with its synaptic filters, if any) as homogeneous populations.

        Returns (groups, scales, rnames): groups [(pop name, node indices, model, params SI,
        {receptor: tau_syn}, v0, {receptor: syn0})]; scales {receptor node or None: input
        scale per neuron}; rnames {receptor node or None: receptor name}."""
        kind = self.kinds[key]
        n, p = self._node_params(key)
        b = np.asarray(self.bias.get(key, np.zeros(n)), dtype=float)
        zeros = np.zeros(n)
        filters = self.filters.get(key, [])
        if kind in ("IF", "I"):
            tau_mem, v_leak, v0 = np.full(n, NO_LEAK_TAU), zeros, zeros
        else:
            tau_mem = (p["tau"] if "tau" in p else p["tau_mem"]) * NIR_TIME_UNIT
            drive = p["r"] * b if kind in ("LIF", "LI") else p["r"] * p["w_in"] * b
            for f in filters:   # a filter at rest outputs its v_leak: a constant drive r*v_leak
                drive = drive + p["r"] * self._node_params(f)[1]["v_leak"]
            v_leak = (p["v_leak"] + drive) * NIR_VOLTAGE_UNIT
            v0 = p["v_leak"] * NIR_VOLTAGE_UNIT
        silent = kind in _SILENT
        v_th = np.full(n, NO_THRESHOLD) if silent else p["v_threshold"] * NIR_VOLTAGE_UNIT
        v_reset = (v_leak if kind != "I" else zeros) if silent else p["v_reset"] * NIR_VOLTAGE_UNIT
        # receptors: (receptor node or None, name, tau_syn per neuron, scale, syn0)
        receptors = []
        if kind in ("CubaLIF", "CubaLI"):
            receptors.append((None, str(receptor_names.get(key, DEFAULT_RECEPTOR)), p["tau_syn"] * NIR_TIME_UNIT,
                              _input_scale(kind, n, p), -(p["r"] * p["w_in"] * b) * NIR_VOLTAGE_UNIT))
        for f in filters:
            fp = self._node_params(f)[1]
            name = receptor_names.get(f) or _receptor_name(f, key)
            receptors.append((f, str(name), fp["tau"] * NIR_TIME_UNIT, _receptor_scale(p["r"], fp["r"], fp["tau"]),
                              zeros))
        r = p["r"] * NIR_RESISTANCE_UNIT
        table = np.stack([tau_mem, r, v_leak, v_th, v_reset] + [rec[2] for rec in receptors], axis=1)
        uniq, inverse = np.unique(table, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        base = _identifier(key)
        groups = []
        for gidx, row in enumerate(uniq):
            idx = np.flatnonzero(inverse == gidx)
            pname = _unique(base if len(uniq) == 1 else f"{base}_{gidx}", taken)
            params = {"tau_mem": row[0], "r": row[1], "v_leak": row[2], "v_threshold": row[3], "v_reset": row[4]}
            taus = {rec[1]: row[5 + k] for k, rec in enumerate(receptors)}
            model = model_for_nir("current" if receptors else "delta").name
            groups.append((pname, idx, model, params, taus, v0[idx],
                           {rec[1]: rec[4][idx] for rec in receptors}))
        if not receptors:
            scales, rnames = {None: _input_scale(kind, n, p)}, {None: None}
        else:
            scales = {rec[0]: rec[3] for rec in receptors}
            rnames = {rec[0]: rec[1] for rec in receptors}
        return groups, scales, rnames

    def build(self, net: nw.Network, meta: dict, inputs: dict) -> nw.Network:
        taken = set()
        members = {}   # NIR node -> [(spikecore name, node indices)]
        scale_of = {}  # (NIR neuron node, receptor node or None) -> per-neuron input scale
        rname_of = {}  # (NIR neuron node, receptor node or None) -> receptor name
        meta_pops = meta.get("populations", {}) if isinstance(meta.get("populations"), dict) else {}
        receptor_names = {}
        for entry in meta_pops.values():
            if isinstance(entry, dict) and isinstance(entry.get("receptors"), dict):
                receptor_names.update(entry["receptors"])
        pending = []
        for key, kind in self.kinds.items():
            if kind in _SPIKING + _SILENT:
                groups, scales, rnames = self._neuron_groups(key, taken, receptor_names)
                members[key] = [(g[0], g[1]) for g in groups]
                for rec in scales:
                    scale_of[(key, rec)], rname_of[(key, rec)] = scales[rec], rnames[rec]
                pending += groups
        order = list(meta_pops)
        pending.sort(key=lambda g: order.index(g[0]) if g[0] in order else len(order))
        for pname, idx, model, params, taus, v0, syn0 in pending:
            extra = meta_pops.get(pname, {}) if isinstance(meta_pops.get(pname), dict) else {}
            q = {k: u.Quantity(float(v), u.VOLTAGE) for k, v in params.items() if k.startswith("v_")}
            q["tau_mem"] = u.Quantity(float(params["tau_mem"]), u.TIME)
            q["r"] = u.Quantity(float(params["r"]), u.RESISTANCE)
            if "t_refrac" in extra:
                q["t_refrac"] = u.Quantity(float(extra["t_refrac"]), u.TIME)
            initial = {"v": u.Quantity(np.asarray(v0, float), u.VOLTAGE)}
            if taus:
                q["tau_syn"] = {rn: u.Quantity(float(t), u.TIME) for rn, t in taus.items()}
                for rn, arr in syn0.items():
                    initial[get_model(model).receptor_var(rn)] = u.Quantity(np.asarray(arr, float), u.VOLTAGE)
            # our export stores the whole initial state, which replaces the NIR defaults
            saved = extra.get("initial") if isinstance(extra.get("initial"), dict) else {}
            for var, values in saved.items():
                arr = np.asarray(values, dtype=float)
                if var in initial and arr.size == idx.size:
                    initial[var] = u.Quantity(arr, u.VOLTAGE)
            try:
                net.add(nw.Population(int(idx.size), model, q, initial, name=pname))
            except ValidationError as e:
                raise ValidationError(e.field, e.value, f"{e.expected} (from NIR node of population {pname})") from None
        # sources
        meta_sources = meta.get("sources", {}) if isinstance(meta.get("sources"), dict) else {}
        for key, kind in self.kinds.items():
            if kind != "Input" or key in self.placeholders:
                continue
            n = _size_of(self.nodes[key], key)
            sname = _unique(_identifier(key), taken)
            members[key] = [(sname, np.arange(n))]
            src = inputs.get(key, inputs.get(sname))
            if src is None:
                src = _source_from_meta(meta_sources.get(sname), n, sname)
            if not isinstance(src, (nw.SpikeSource, nw.PoissonSource)):
                raise ValidationError(f"inputs.{key}", type(src).__name__, "a SpikeSource or PoissonSource")
            size = src.n if isinstance(src, nw.SpikeSource) else src.size
            if size != n:
                raise ValidationError(f"inputs.{key}", f"{size} neurons", f"{n} (the size of Input '{key}')")
            src.name = sname
            net.add(src)
        unknown = set(inputs) - {k for k in self.kinds if self.kinds[k] == "Input"} - \
            {members[k][0][0] for k in self.kinds if self.kinds[k] == "Input" and k in members}
        if unknown:
            raise ValidationError("inputs", sorted(unknown)[0], "the name of an Input node: " +
                                  ", ".join(k for k in self.kinds if self.kinds[k] == "Input"))
        # projections
        proj_names = meta.get("projections", {}) if isinstance(meta.get("projections"), dict) else {}
        records = {}
        for (key, src, dst, rec), mats in self.paths.items():
            if src in self.placeholders:
                continue
            records.setdefault((proj_names.get(key, key), src, dst, rec), []).append(mats)
        counts = {}
        for (pname, *_) in records:
            counts[pname] = counts.get(pname, 0) + 1
        known = list(proj_names.values())
        ordered = sorted(records, key=lambda r: (known.index(r[0]) if r[0] in known else len(known), r[0]))
        for record in ordered:
            pname, src, dst, rec = record
            base = _identifier(pname if counts[pname] == 1 else
                               f"{pname}_{src}_to_{dst}" + (f"_{rname_of[(dst, rec)]}" if rec else ""))
            self._add_projections(net, base, src, dst, records[record], members, scale_of[(dst, rec)],
                                  rname_of[(dst, rec)], taken)
        self._monitors(net, meta, members)
        self._currents(net, meta)
        return net

    def _add_projections(self, net, base, src, dst, mats_list, members, scale, receptor, taken):
        ii, jj, ww, kk = [], [], [], []
        for mats in mats_list:
            for k, m in mats.items():
                c = sp.coo_matrix(m)
                c.sum_duplicates()
                keep = c.data != 0
                ii.append(c.col[keep]), jj.append(c.row[keep]), ww.append(c.data[keep])
                kk.append(np.full(int(keep.sum()), k, dtype=np.int64))
        i, j, W, k = (np.concatenate(x) if x else np.zeros(0) for x in (ii, jj, ww, kk))
        i, j, k = i.astype(np.int64), j.astype(np.int64), k.astype(np.int64)
        w = scale[j] * (W * self.spike_area) * NIR_VOLTAGE_UNIT
        delay = (k + 1) * self.dt
        pre_groups, post_groups = members[src], members[dst]
        where_pre = _group_lookup(pre_groups, _size_of(self.nodes[src], src))
        where_post = _group_lookup(post_groups, _size_of(self.nodes[dst], dst))
        for a, (pre_name, pre_idx) in enumerate(pre_groups):
            for b, (post_name, post_idx) in enumerate(post_groups):
                sel = (where_pre[0][i] == a) & (where_post[0][j] == b)
                if not sel.any():
                    continue
                name = base if len(pre_groups) == len(post_groups) == 1 else f"{base}_{a}_{b}"
                name = _unique(name, taken)
                li, lj = where_pre[1][i[sel]], where_post[1][j[sel]]
                order = np.lexsort((k[sel], lj, li))
                net.add(nw.Projection(pre_name, post_name, nw.FromIndices(li[order], lj[order]),
                                      weight=u.Quantity(w[sel][order], u.VOLTAGE),
                                      delay=u.Quantity(delay[sel][order], u.TIME), receptor=receptor, name=name))

    def _monitors(self, net, meta, members):
        mons = meta.get("monitors") if isinstance(meta.get("monitors"), dict) else None
        if mons is None:
            for key in dict.fromkeys(self.readouts):
                for pname, _ in members[key]:
                    net.add(nw.StateMonitor(pname, ("v",), name=f"{pname}_v"))
            return
        for mname, m in mons.items():
            if m.get("target") not in net.populations:
                continue   # metadata that no longer matches the graph is not ours to apply
            if m.get("type") == "spikes":
                net.add(nw.SpikeMonitor(m["target"], name=mname))
            elif m.get("type") == "state":
                net.add(nw.StateMonitor(m["target"], tuple(m.get("variables", ("v",))),
                                        np.asarray(m.get("neurons"), dtype=np.int64) if m.get("neurons") is not None else None,
                                        _meta_quantity(m.get("interval"), u.TIME), name=mname))

    @staticmethod
    def _currents(net, meta):
        currents = meta.get("currents") if isinstance(meta.get("currents"), dict) else {}
        for cname, c in currents.items():
            if c.get("target") in net.populations:
                steps = [(u.Quantity(float(t), u.TIME), u.Quantity(float(a), u.CURRENT))
                         for t, a in zip(c["times"], c["amplitudes"])]
                net.add(nw.CurrentSource(c["target"], steps=steps, neurons=np.asarray(c["neurons"], dtype=np.int64),
                                         name=cname))


def _group_lookup(groups, n):
    """node index -> (group number, index within the group)."""
    g = np.full(n, -1, dtype=np.int64)
    local = np.zeros(n, dtype=np.int64)
    for a, (_, idx) in enumerate(groups):
        g[idx] = a
        local[idx] = np.arange(idx.size)
    return g, local


def _source_from_meta(entry, n, name):
    if isinstance(entry, dict) and entry.get("type") == "spike_times" and entry.get("size") == n:
        return nw.SpikeSource(times=u.Quantity(np.asarray(entry["times"], dtype=float), u.TIME),
                              indices=np.asarray(entry["indices"], dtype=np.int64), size=n, name=name)
    if isinstance(entry, dict) and entry.get("type") == "poisson" and entry.get("size") == n:
        stop = entry.get("stop")
        return nw.PoissonSource(n, u.Quantity(np.asarray(entry["rates"], dtype=float), u.FREQUENCY),
                                u.Quantity(float(entry.get("start", 0.0)), u.TIME),
                                None if stop is None else u.Quantity(float(stop), u.TIME), name=name)
    return nw.SpikeSource(times=u.Quantity(np.zeros(0), u.TIME), indices=np.zeros(0, dtype=np.int64),
                          size=n, name=name)


# ============================================================================ files
def save_nir(net, path, **options) -> None:
    """Write ``net`` as a NIR file (HDF5, read by nir.read); options as for ``to_nir``."""
    nir = _nir()
    graph = to_nir(net, **options)
    try:
        with OutputFile(path, "path") as tmp:   # whole or not at all
            nir.write(str(tmp), graph)
    except OSError as e:
        raise ModelFileError(path, f"cannot write: {e}") from None


def read_nir_graph(path):
    """nir.read with every failure turned into one ModelFileError line."""
    nir = _nir()
    path = Path(path)
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if path.is_dir():
        raise ModelFileError(path, "is a directory, expected a .nir file")
    try:
        return nir.read(str(path))
    except OSError as e:
        raise ModelFileError(path, f"not a NIR file (NIR files are HDF5): {str(e).splitlines()[0]}") from None
    except KeyError as e:
        raise ModelFileError(path, f"malformed NIR file: missing entry {e}") from None
    except AssertionError as e:
        raise ModelFileError(path, f"malformed NIR file: {e or 'unknown node type'}") from None
    except (ValueError, TypeError, AttributeError, IndexError) as e:
        raise ModelFileError(path, f"malformed NIR file: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def load_nir(path, dt=None, **options) -> nw.Network:
    """Read a NIR file into a Network (see ``from_nir``)."""
    graph = read_nir_graph(path)
    try:
        return from_nir(graph, dt, **options)
    except UnsupportedFeature:
        raise
    except SpikecoreError as e:
        raise ModelFileError(path, str(e)) from None


__all__ = ["to_nir", "from_nir", "save_nir", "load_nir", "read_nir_graph", "NIR_TIME_UNIT", "NIR_VOLTAGE_UNIT",
           "NIR_RESISTANCE_UNIT", "NIR_CURRENT_UNIT", "NO_LEAK_TAU", "NO_THRESHOLD"]
