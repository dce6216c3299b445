"""The IR on Loihi's process structure (Lava's processes), as plain data (no Lava import).

The Lava backend builds its processes from this plan (backends/lava.py); the native engine's
Loihi mode runs a plan with plastic projections through the learning emulator
(backends/_native_learning.py), so that both see the same groups, connections and rules.

``plan(ir, format, policy, headroom)`` validates the IR for Loihi (hwmodels.loihi maps
each population onto Loihi's LIF and quantizes it for ``format="fixed"``), groups the
populations into LIF processes (one per (du, dv, vth) in fixed point), lays out each
connection (Dense or Sparse, with or without delays) and the state probes.
backends/lava.py builds and runs the Lava processes from this plan; its module
docstring describes the mapping.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwmodels import loihi
from hwmodels import loihi_learning_rules as learning
from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import MODELS, get_model

NAME = "lava"
FORMATS = ("float", "fixed")
DENSE_MAX_ELEMENTS = 1 << 16
DENSE_MIN_DENSITY = 0.25


@dataclass
class LifGroup:
    name: str
    members: list              # [(population, offset, size)]
    size: int
    kind: str
    du: float
    dv: float
    vth: float
    refractory_period: int     # Lava's (R - 1), float only; 0 = plain LIF
    u0: np.ndarray
    v0: np.ndarray
    bias_exp: np.ndarray       # int per neuron (fixed), zeros (float)


@dataclass
class SourcePlan:
    name: str
    node: str
    size: int
    shift: int                 # sent at Lava step m + 1 + shift for IR step m
    poisson: bool


@dataclass
class ConnPlan:
    name: str
    projections: list
    pre: str                   # LIF group or source plan name
    post: str                  # LIF group name
    shape: tuple               # (n_post, n_pre)
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray        # float V/step, or int mantissas
    delays: np.ndarray         # int steps (after the source shift)
    graded: bool
    weight_exp: int = 0
    num_weight_bits: int = loihi.WEIGHT_BITS
    sign_mode: str = "mixed"
    process: str = ""
    learning: object = None    # hwmodels.loihi_learning_rules.LearningMap of a plastic projection (process
                               # LearningDense, or LearningSparse where its synapses do not fill the matrix)
    synapse_index: np.ndarray | None = None   # learning: each synapse's index in its IR projection

    @property
    def density(self) -> float:
        return self.rows.size / max(self.shape[0] * self.shape[1], 1)

    @property
    def max_delay(self) -> int:
        return int(self.delays.max()) if self.delays.size else 0


@dataclass
class StateProbe:
    monitor: str
    var: str                   # IR variable: "v" or a receptor's (the model's receptor_var)
    population: str
    group: str
    index: np.ndarray          # neuron indices within the group
    every: int
    lava_var: str              # "v" | "u"
    phase: int                 # record after Lava steps t with t % every == phase


@dataclass
class LavaPlan:
    ir: _ir.IRGraph
    format: str
    policy: str
    headroom: float
    groups: list
    sources: list
    conns: list
    probes: list
    pop_group: dict            # population -> (group name, offset)
    neuron_maps: dict          # population -> loihi.NeuronMap
    qir: _ir.IRGraph | None    # quantized IR (fixed)
    report: object             # loihi.QuantizationReport (fixed) or None
    findings: list
    approximations: list
    bridges: list = field(default_factory=list)   # [(group a, group b)] linked by empty Sparse
    learning: dict = field(default_factory=dict)  # plastic projection -> LearningMap
    reward_groups: dict = field(default_factory=dict)  # LIF group -> LearningMap of its 3F projection

    @property
    def fixed(self) -> bool:
        return self.format == "fixed"


def _group_key(nm: loihi.NeuronMap, qpop, fixed: bool):
    if fixed:
        p = qpop.params
        return ("fixed", p["du"], p["dv"], p["vth"])
    return ("float", nm.kind, nm.du, nm.dv, nm.vth, nm.lava_refractory_period)


def plan(g: _ir.IRGraph, format: str = "float", policy: str = "strict",
         headroom: float = loihi.DEFAULT_HEADROOM, backend: str = NAME, weight_monitors: bool = False) -> LavaPlan:
    """Validate ``g`` for Loihi and lay out the process graph (no Lava import). ``backend``: the
    name refusals give (UnsupportedFeature). ``weight_monitors``: the caller records the IR's
    weight monitors itself (the Lava backend between its run calls, the native learning path
    from the emulator); otherwise they are refused (``deploy``: no run to sample)."""
    if format not in FORMATS:
        raise ValidationError("format", format, "one of " + ", ".join(FORMATS))
    if not g.populations:
        raise ValidationError("populations", {}, "at least one population")
    fixed = format == "fixed"
    integer = _integer_populations(g, fixed)
    if integer:
        g = _lava_integer_ir(g)       # Lava's own weights and delays: no quantization to do
        qir, report = g, None
        nmap = _integer_map(g)
        findings, approximations = [], []
        loihi.check_headroom(headroom)
    elif fixed:
        qir, report = loihi.quantize_with_report(g, policy=policy, headroom=headroom, backend=backend)
        nmap = loihi.map_network(g, fixed=True)
        findings, approximations = report.findings, report.approximations
    else:
        nmap = loihi.map_network(g, fixed=False)
        qir, report = None, None
        findings = nmap.findings
        approximations = loihi.apply_policy(findings, policy, backend)
        loihi.check_headroom(headroom)
    learning_maps, lfind = _learning(g, nmap, qir, fixed, weight_monitors)
    findings = list(findings) + lfind
    approximations = list(approximations) + loihi.apply_policy(lfind, policy, backend)
    for f in findings:
        if f.rule == "unknown model":   # nothing maps it, even approximately
            raise UnsupportedFeature(backend, f"model {f.value} ({f.element})", f.fix)
    _check_monitors(g, nmap)

    # LIF groups
    keyed: dict = {}
    reward_post = {g.projections[n].post: lm for n, lm in learning_maps.items() if lm.factors == 3}
    for name, nm in nmap.neurons.items():
        key = _group_key(nm, qir.populations[name] if fixed else None, fixed)
        if name in reward_post:    # its own process: the neuron model computes the rule's y1, y2
            key = key + ("reward", name)
        keyed.setdefault(key, []).append(name)
    groups, pop_group = [], {}
    for k, names in enumerate(keyed.values()):
        members, off = [], 0
        for name in names:
            members.append((name, off, g.populations[name].size))
            pop_group[name] = (f"lif{k}", off)
            off += g.populations[name].size
        nm0 = nmap.neurons[names[0]]
        if fixed:
            q0 = qir.populations[names[0]].params
            du, dv, vth, refr = q0["du"], q0["dv"], q0["vth"], 0
            u0 = np.concatenate([qir.populations[n].initial["u"] for n in names])
            v0 = np.concatenate([qir.populations[n].initial["v"] for n in names])
            bexp = np.concatenate([np.broadcast_to(qir.populations[n].params["bias_exp"], g.populations[n].size)
                                   for n in names]).astype(np.int64)
        else:
            du, dv, vth, refr = nm0.du, nm0.dv, nm0.vth, nm0.lava_refractory_period
            u0 = np.concatenate([nmap.neurons[n].u0 for n in names])
            v0 = np.concatenate([nmap.neurons[n].v0 for n in names])
            bexp = np.zeros(off, np.int64)
        groups.append(LifGroup(f"lif{k}", members, off, nm0.kind, du, dv, vth, refr, u0, v0, bexp))

    # sources: one RingBuffer per source node, shifted by its smallest delay
    sources, src_name = [], {}
    for table, poisson in ((g.spike_sources, False), (g.poisson_sources, True)):
        for node in table.values():
            ds = [nmap.synapses[e.name].delay for e in g.projections.values()
                  if e.pre == node.name and e.name in nmap.synapses and e.n_synapses]
            if not ds:
                continue
            shift = int(min(int(d.min()) for d in ds))
            src_name[node.name] = f"src_{node.name}"
            sources.append(SourcePlan(f"src_{node.name}", node.name, node.size, shift, poisson))
    shifts = {s.node: s.shift for s in sources}

    # connections
    buckets: dict = {}
    late = []
    for e in g.projections.values():
        if e.name not in nmap.synapses or e.n_synapses == 0:
            continue
        sm = nmap.synapses[e.name]
        post_group, post_off = pop_group[e.post]
        if e.pre in pop_group:
            pre, pre_off = pop_group[e.pre]
            pre_size = next(gr.size for gr in groups if gr.name == pre)
            d = sm.delay
        else:
            pre, pre_off, pre_size = src_name[e.pre], 0, g.source_size(e.pre)
            d = sm.delay - shifts[e.pre]
        if e.name in learning_maps:       # a LearningDense of its own (its weights learn)
            lm = learning_maps[e.name]
            w = np.asarray(e.weight, dtype=float) * lm.weight_to_lava
            if fixed:
                w = np.clip(np.rint(w), -learning.WEIGHT_MANT_MAX, learning.WEIGHT_MANT_MAX).astype(np.int64)
            key = ("learning", e.name)
            extra = (lm.weight_exp, loihi.WEIGHT_BITS, lm.sign_mode)
            if e.pre not in pop_group and (d != 0).any():
                late.append(loihi.Finding(
                    "error", "delay on a learning synapse", f"projection {e.name}",
                    f"{int(d.max())} steps beyond its source's shortest delay ({shifts[e.pre]} steps)",
                    "Lava's LearningDense has no synaptic delay: only the source's shortest delay is exact",
                    "give the source's projections one delay", "deliver at the source's shortest delay"))
            d = np.zeros_like(d)          # LearningDense has no delay (the findings say what that costs)
        elif fixed:
            qe = qir.projections[e.name]
            w = np.asarray(qe.weight, dtype=np.int64)
            key = (e.name,)
            extra = (qe.attrs["weight_exp"], qe.attrs["num_weight_bits"], qe.attrs["sign_mode"])
        else:
            w = sm.weight
            key = (pre, post_group, sm.graded)
            extra = (0, loihi.WEIGHT_BITS, "mixed")
        b = buckets.setdefault(key, {"pre": pre, "post": post_group, "shape": None, "graded": sm.graded,
                                     "names": [], "rows": [], "cols": [], "w": [], "d": [], "extra": extra,
                                     "idx": []})
        b["shape"] = (next(gr.size for gr in groups if gr.name == post_group), pre_size)
        b["names"].append(e.name)
        b["rows"].append(post_off + e.j)
        b["cols"].append(pre_off + e.i)
        b["w"].append(w)
        b["d"].append(d)
        b["idx"].append(np.arange(e.n_synapses))
    findings = findings + late
    approximations = approximations + loihi.apply_policy(late, policy, backend)
    conns = []
    for b in buckets.values():
        rows, cols = np.concatenate(b["rows"]), np.concatenate(b["cols"])
        w, d = np.concatenate(b["w"]), np.concatenate(b["d"]).astype(np.int64)
        layer = _layers(rows, cols, b["shape"][1])
        for k in range(int(layer.max()) + 1 if layer.size else 0):
            sel = layer == k
            base = "+".join(b["names"]) if len(b["names"]) <= 3 else f"{b['names'][0]}+{len(b['names']) - 1}"
            c = ConnPlan(name=f"{base}" + (f"#{k}" if k else ""), projections=list(b["names"]), pre=b["pre"],
                         post=b["post"], shape=b["shape"], rows=rows[sel], cols=cols[sel], weights=w[sel],
                         delays=d[sel], graded=b["graded"], weight_exp=b["extra"][0],
                         num_weight_bits=b["extra"][1], sign_mode=b["extra"][2])
            c.process = _process_kind(c)
            if b["names"][0] in learning_maps:
                c.learning = learning_maps[b["names"][0]]
                c.synapse_index = np.concatenate(b["idx"])[sel]
                c.process = _learning_process(c)
            conns.append(c)
    probes = _plan_probes(g, nmap, pop_group)
    p = LavaPlan(ir=g, format=format, policy=policy, headroom=headroom, groups=groups, sources=sources,
                 conns=conns, probes=probes, pop_group=pop_group, neuron_maps=nmap.neurons, qir=qir, report=report,
                 findings=findings, approximations=approximations, learning=learning_maps)
    p.reward_groups = {pop_group[post][0]: lm for post, lm in reward_post.items()}
    p.bridges = _bridges(p)
    return p


def _learning_process(c: ConnPlan) -> str:
    """The process of a plastic connection: ``LearningDense`` where its synapses fill its LIF
    groups' matrix, otherwise ``LearningSparse``, which stores (and learns) the synapses only --
    run by the Lava backend's patched model (backends/_lava_models.py: Lava's own crashes on sign
    modes excitatory and inhibitory, and drops a synapse whose initial fixed-point weight truncates
    to 0 before it learns; the patched one keeps it)."""
    return "LearningDense" if c.shape[0] * c.shape[1] == c.rows.size else "LearningSparse"


def _learning(g, nmap, qir, fixed: bool, weight_monitors: bool = False) -> tuple:
    """The plastic projections as Lava learning rules (hwmodels.loihi_learning_rules)."""
    gain, unit = {}, {}
    for name, e in g.projections.items():
        if e.plasticity is None or e.name not in nmap.synapses:
            continue
        gain[name] = nmap.neurons[e.post].weight_gain[e.receptor]
        if fixed:
            unit[name] = qir.populations[e.post].attrs["scale"] / (1 << loihi.ACT_SHIFT)
    if g.weight_monitors and not weight_monitors:
        name = next(iter(g.weight_monitors))
        raise UnsupportedFeature(NAME, f"weight monitor {name}",
                                 "a run to sample (spikecore run --backend lava or native); a deployed "
                                 "process graph is not run here")
    return learning.map_learning(g, gain, fixed, unit if fixed else None)


def _integer_populations(g: _ir.IRGraph, fixed: bool) -> list:
    """The populations written in Loihi's integers (loihi_lif); refuses mixing them with float
    models, and running them in floating point."""
    integer = [p.name for p in g.populations.values()
               if getattr(MODELS.get(p.model), "synapse", None) == "integer"]
    if not integer:
        return []
    if len(integer) != len(g.populations):
        other = next(p for p in g.populations.values() if p.name not in integer)
        raise UnsupportedFeature(NAME, f"model '{loihi.MODEL}' (population {integer[0]}) together with "
                                 f"model '{other.model}' (population {other.name})",
                                 "every population in Loihi's integers, or none (the others are quantized)")
    if not fixed:
        raise UnsupportedFeature(NAME, f"model '{loihi.MODEL}' (population {integer[0]}) with format=float",
                                 "format=fixed: its parameters are Loihi's integer registers")
    if g.currents:
        c = next(iter(g.currents.values()))
        raise UnsupportedFeature(NAME, f"current input '{c.name}' into integer population '{c.target}'",
                                 "a bias (bias_mant, bias_exp) instead of the current")
    return integer


_HW_SIGN = {"excitatory": "exc", "inhibitory": "inh", "mixed": "mixed"}


def _lava_integer_ir(g: _ir.IRGraph) -> _ir.IRGraph:
    """An integer IR with every value as Lava holds it: integer registers per population, and
    per projection the synapses Lava keeps (weights clipped and truncated as Lava's Dense does,
    zeros dropped), Loihi's delays d as d*dt (spikecore.models.loihi_lif.loihi_delays) and an
    explicit sign mode."""
    from spikecore.models import loihi_lif
    out = _ir.IRGraph(name=g.name, dt=g.dt, seed=g.seed, version=g.version, redrawn=dict(g.redrawn))
    for name, pop in g.populations.items():
        q = loihi_lif.population_integers(pop, NAME)
        out.populations[name] = _ir.PopulationNode(
            name=name, size=pop.size, model=pop.model, receptors={r: dict(v) for r, v in pop.receptors.items()},
            params={k: q[k] for k in ("du", "dv", "vth", "bias_mant", "bias_exp")}, initial={"u": q["u"], "v": q["v"]})
    for name, e in g.projections.items():
        q = loihi_lif.projection_integers(e, g.source_size(e.pre), g.populations[e.post].size, g.dt, NAME)
        if q["sign_mode"] not in _HW_SIGN:
            raise UnsupportedFeature(NAME, f"sign mode {q['sign_mode']} in projection '{name}'",
                                     "excitatory, inhibitory or mixed")
        out.projections[name] = _ir.ProjectionEdge(
            name=name, pre=e.pre, post=e.post, receptor=e.receptor, synapse=e.synapse, i=q["i"], j=q["j"],
            weight=q["w"], delay=q["delay"] * g.dt,
            attrs={"weight_exp": q["weight_exp"], "num_weight_bits": q["num_weight_bits"],
                   "sign_mode": _HW_SIGN[q["sign_mode"]], "graded": q["graded"]})
    for table in ("spike_sources", "poisson_sources", "currents", "spike_monitors", "state_monitors"):
        getattr(out, table).update(getattr(g, table))
    return out


def _integer_map(g: _ir.IRGraph) -> loihi.NetworkMap:
    """The NetworkMap of an integer IR (``_lava_integer_ir``): kind "integer", no volts."""
    neurons, synapses = {}, {}
    for name, pop in g.populations.items():
        q = pop.params
        neurons[name] = loihi.NeuronMap(
            population=name, size=pop.size, model=pop.model, kind="integer", du=q["du"], dv=q["dv"], vth=q["vth"],
            v_reset=0.0, v_leak=0.0, drive_gain=0.0, current_gain=0.0, v0=pop.initial["v"], u0=pop.initial["u"],
            refractory_steps=0, weight_gain={}, syn_gain={}, tau_mem=None, tau_syn=None)
    for name, e in g.projections.items():
        synapses[name] = loihi.SynapseMap(projection=name, pre=e.pre, post=e.post, receptor=e.receptor, i=e.i,
                                          j=e.j, weight=e.weight, delay=np.rint(e.delay / g.dt).astype(np.int64),
                                          graded=e.attrs["graded"])
    return loihi.NetworkMap(dt=g.dt, neurons=neurons, synapses=synapses, fixed=True)


def _layers(rows, cols, n_pre) -> np.ndarray:
    """0 for the first synapse of each (row, col) pair, 1 for the second, ..."""
    key = rows.astype(np.int64) * n_pre + cols
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.r_[True, ks[1:] != ks[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(ks.size), 0))
    layer = np.empty(ks.size, np.int64)
    layer[order] = np.arange(ks.size) - first
    return layer


def _process_kind(c: ConnPlan) -> str:
    slots = c.max_delay + 1
    small = c.shape[0] * c.shape[1] * slots <= DENSE_MAX_ELEMENTS
    dense = small or (c.density >= DENSE_MIN_DENSITY and slots == 1)
    if c.max_delay > 0:
        return "DelayDense" if dense else "DelaySparse"
    return "Dense" if dense else "Sparse"


def _check_monitors(g, nmap):
    for m in g.state_monitors.values():
        nm = nmap.neurons[m.target]
        for var in m.variables:
            if var == "v" or nm.kind == "integer":    # an integer population's u and v
                continue
            pop = g.populations[m.target]
            r = get_model(pop.model).receptor_of_var(var, pop.receptors) or var
            if nm.syn_gain.get(r) is None:
                raise UnsupportedFeature(NAME, f"recording {var} of {m.target}",
                                         "its receptors share one Loihi current u; record v instead")


def _plan_probes(g, nmap, pop_group) -> list:
    probes = []
    for m in g.state_monitors.values():
        group, off = pop_group[m.target]
        every = max(1, _ir.steps(m.interval, g.dt))
        idx = off + np.asarray(m.neurons, dtype=np.int64)
        kind = nmap.neurons[m.target].kind
        for var in m.variables:
            if var == "v":
                probes.append(StateProbe(m.name, "v", m.target, group, idx, every, "v", 0))
                if kind == "delta":   # the pending jump, to report v as the IR has it (see _collect)
                    probes.append(StateProbe(m.name, "v:jump", m.target, group, idx, every, "u", 1 % every))
            elif kind == "integer":   # u at the start of a step, as v
                probes.append(StateProbe(m.name, var, m.target, group, idx, every, "u", 0))
            else:
                probes.append(StateProbe(m.name, var, m.target, group, idx, every, "u", 1 % every))
    return probes


def _bridges(p: LavaPlan) -> list:
    """Pairs of groups to link with an empty connection so the process graph is connected."""
    parent = {gr.name: gr.name for gr in p.groups}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for c in p.conns:
        if c.pre in parent:
            parent[find(c.pre)] = find(c.post)
    roots = []
    for gr in p.groups:
        r = find(gr.name)
        if r not in roots:
            roots.append(r)
    return [(roots[k], roots[k + 1]) for k in range(len(roots) - 1)]


def source_counts(p: LavaPlan, src: SourcePlan, n_steps: int) -> np.ndarray:
    """(size, n_steps) spike counts of a source, column c = Lava step c + 1 = IR step c - shift."""
    g = p.ir
    counts = np.zeros((src.size, n_steps), dtype=np.int64)
    width = max(n_steps - src.shift, 0)
    if width == 0:
        return counts
    if src.poisson:
        node = g.poisson_sources[src.node]
        counts[:, src.shift:] = _ir.poisson_counts(node, g.dt, 0, width).T
    else:
        node = g.spike_sources[src.node]
        st = np.rint(node.times / g.dt).astype(np.int64)
        keep = st < width
        np.add.at(counts, (node.indices[keep], st[keep] + src.shift), 1)
    return counts


def state_traces(p: LavaPlan, samples: dict, spikes: dict, n_steps: int) -> dict:
    """The state monitors' traces (RawRun.traces) in the IR's units from the probes' samples:
    ``samples[(monitor, var)] = (Lava steps, values)`` as the StateRecorder of each StateProbe
    wrote them (or the learning emulator recorded them), ``spikes[pop] = (IR steps, indices)``.
    v sampled after Lava step n is the IR's v at step n; u after Lava step n + 1 its current at
    step n; the IR's sample at step 0 is the initial state (backends/lava.py, the native Loihi
    mode's learning path)."""
    dt = p.ir.dt
    traces = {}
    for m in p.ir.state_monitors.values():
        every = max(1, _ir.steps(m.interval, dt))
        want = np.arange(0, n_steps, every, dtype=np.int64)
        traces[m.name] = {"target": m.target, "neurons": m.neurons.copy(), "times": want * dt, "variables": {}}
    for pr in p.probes:
        if pr.var == "v:jump":
            continue
        t, vals = samples[(pr.monitor, pr.var)]
        want = np.arange(0, n_steps, pr.every, dtype=np.int64)
        integer = p.neuron_maps[pr.population].kind == "integer"
        lava_t = want if (pr.lava_var == "v" or integer) else want + 1
        pos = {int(x): k for k, x in enumerate(t)}
        block = np.full((want.size, pr.index.size), np.nan)
        for k, lt in enumerate(lava_t):
            if lt in pos:
                block[k] = vals[pos[lt]]
        m = p.ir.state_monitors[pr.monitor]
        local = np.asarray(m.neurons, dtype=np.int64)
        traces[pr.monitor]["variables"][pr.var] = _to_ir_units(p, pr, block, want, local, samples, spikes)
    return traces


def _to_ir_units(p: LavaPlan, pr: StateProbe, block, want, local, samples, spikes):
    pop = pr.population
    nm = p.neuron_maps[pop]
    if nm.kind == "integer":      # Loihi's integers as they are; the IR samples the initial state at step 0
        if want.size and want[0] == 0:
            block[0] = p.qir.populations[pop].initial[pr.lava_var][local]
        return block
    if pr.lava_var == "v":
        if want.size and want[0] == 0:    # the IR samples the initial state at step 0
            v_init = p.ir.populations[pop].initial["v"][local]
            block[0] = (p.qir.populations[pop].initial["v"][local] if p.fixed else v_init - nm.v_reset)
        if p.fixed:
            volts = loihi.v_to_volts(p.qir.populations[pop], block)
        else:
            volts = block + nm.v_reset
        if (pr.monitor, "v:jump") in samples:
            volts = volts + _pending_jump(p, pr, want, local, samples, spikes)
        return volts
    ir_pop = p.ir.populations[pop]
    r = get_model(ir_pop.model).receptor_of_var(pr.var, ir_pop.receptors)
    if p.fixed:
        return loihi.u_to_syn(p.qir.populations[pop], r, block)
    return block / nm.syn_gain[r]


def _pending_jump(p, pr, want, local, samples, spikes):
    """Delta synapses: the IR's v at step n already holds the jumps applied in step n - 1; Loihi
    adds them at Lava step n + 1 (u = weight_gain * jump), unless the neuron spiked or was refractory."""
    nm = p.neuron_maps[pr.population]
    t, vals = samples[(pr.monitor, "v:jump")]
    pos = {int(x): k for k, x in enumerate(t)}
    u = np.zeros((want.size, local.size))
    for k, n in enumerate(want):
        if n + 1 in pos:
            u[k] = vals[pos[n + 1]]
    if p.fixed:
        u = u / p.qir.populations[pr.population].attrs["scale"]
    jump = u / nm.weight_gain["default"]
    steps, si = spikes.get(pr.population, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    window = max(nm.refractory_steps, 1)
    for c, neuron in enumerate(local):
        own = np.sort(steps[si == neuron])
        if own.size == 0:
            continue
        # the jump of step n - 1 is discarded when the neuron was refractory then: n - 1 - last < window
        last = np.searchsorted(own, want - 1, side="right") - 1
        ok = last >= 0
        blocked = np.zeros(want.size, bool)
        blocked[ok] = (want[ok] - 1 - own[last[ok]]) < window
        jump[blocked, c] = 0.0
    jump[want == 0] = 0.0
    return jump


def _drive(p: LavaPlan, pop: str, n: int) -> np.ndarray:
    """Drive (V) of every neuron of ``pop`` at IR step n: v_leak + gain * active currents."""
    nm = p.neuron_maps[pop]
    drive = np.full(nm.size, nm.v_leak)
    for c in p.ir.currents.values():
        if c.target != pop:
            continue
        steps, amps = _ir.current_at_steps(c, p.ir.dt)
        k = np.searchsorted(steps, n, side="right") - 1
        if k >= 0:
            drive[c.neurons] += amps[k] * nm.current_gain
    return drive


def biases_at(p: LavaPlan, n: int) -> tuple:
    """Per group the bias array for IR step n (float V/step or int mantissas: Lava's bias_mant,
    with the group's bias_exp), and clipped counts (backends/lava.py sets them between runs;
    backends/_native_learning.py gives them to the learning emulator)."""
    out, clipped = {}, 0
    for gr in p.groups:
        parts = []
        for pop, _, size in gr.members:
            if p.neuron_maps[pop].kind == "integer":     # its own bias mantissas (no currents)
                parts.append(np.broadcast_to(p.qir.populations[pop].params["bias_mant"], size).astype(np.int64))
                continue
            b = p.neuron_maps[pop].bias_for_drive(_drive(p, pop, n))
            if p.fixed:
                b, c = loihi.bias_mantissa(p.qir.populations[pop], b)
                clipped += c
            parts.append(b)
        out[gr.name] = np.concatenate(parts)
    return out, clipped


def initial_biases(p: LavaPlan) -> dict:
    return biases_at(p, 0)[0]


def change_steps(p: LavaPlan) -> list:
    """The IR steps (> 0) at which an injected current changes: the Lava backend sets new biases
    before them, the learning emulator changes its LIF groups' biases there."""
    st = set()
    for c in p.ir.currents.values():
        st.update(int(x) for x in _ir.current_at_steps(c, p.ir.dt)[0] if x > 0)
    return sorted(st)
