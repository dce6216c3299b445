"""Layout pieces shared by the engine's three simulators (grid: simulator.py,
precise: precise.py, bit-accurate Loihi: loihi.py): where neurons, channels and
presynaptic rows lie (NetLayout), the state monitors' entries and buffers, the Poisson
tables. The run loop they share: spikecore.engine.base; which steps a monitor samples:
spikecore.recording."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir as _ir
from ..errors import ValidationError
from ..models import get_model
from ..recording import count_multiples, multiples


@dataclass
class NetLayout:
    """Where each population's neurons, synaptic channels and presynaptic rows lie in the
    flat arrays of every mode's kernel (grid, precise, Loihi):

    * neurons of all populations are numbered globally, in the IR's population order;
    * a *channel* is one synaptic variable of one neuron: one per receptor per neuron,
      receptor-major within a population (delta synapses: one receptor, the v jump);
    * presynaptic indices: neurons [0, N), then spike-source neurons, then Poisson neurons."""
    names: list                 # population names, in order
    pop_index: dict             # name -> k
    pop_size: np.ndarray        # int64, per population
    pop_start: np.ndarray       # int64: first neuron
    pop_n_rec: np.ndarray       # int64: receptors
    pop_rec_start: np.ndarray   # int64: first receptor in the global receptor numbering
    pop_chan_start: np.ndarray  # int64: first channel
    channel_of: dict            # (population, receptor) -> first channel of that receptor
    n_neurons: int
    n_channels: int
    pre_base: dict              # population or source name -> first presynaptic index
    pois_base: int              # first Poisson presynaptic index
    n_pois: int
    n_pre: int

    @classmethod
    def from_ir(cls, g) -> "NetLayout":
        pops = list(g.populations.values())
        if not pops:
            raise ValidationError("populations", {}, "at least one population")
        sizes = np.array([p.size for p in pops], dtype=np.int64)
        n_rec = np.array([len(p.receptors) for p in pops], dtype=np.int64)
        chans = sizes * n_rec

        def starts(x):
            return np.concatenate([[0], np.cumsum(x)[:-1]]).astype(np.int64)

        pop_start, chan_start = starts(sizes), starts(chans)
        channel_of = {(p.name, rname): int(c0 + r * p.size)
                      for p, c0 in zip(pops, chan_start) for r, rname in enumerate(p.receptors)}
        pre_base, pois_base, n_pois, n_pre = presynaptic_index(g, pop_start)
        return cls(names=[p.name for p in pops], pop_index={p.name: k for k, p in enumerate(pops)},
                   pop_size=sizes, pop_start=pop_start, pop_n_rec=n_rec, pop_rec_start=starts(n_rec),
                   pop_chan_start=chan_start, channel_of=channel_of, n_neurons=int(sizes.sum()),
                   n_channels=int(chans.sum()), pre_base=pre_base, pois_base=pois_base, n_pois=n_pois,
                   n_pre=n_pre)

    def initial_state(self, g, real=np.float64) -> tuple:
        """(v by neuron, receptor variables by channel) of the IR's initial values, as ``real``."""
        pops = list(g.populations.values())
        # a model whose update writes its spike condition into v starts with none (equations.py)
        v = np.concatenate([np.zeros(p.size) if get_model(p.model).threshold_in_update else p.initial["v"]
                            for p in pops]).astype(real)
        syn = np.zeros(self.n_channels, dtype=real)
        for p in pops:
            model = get_model(p.model)
            for rname in p.receptors:
                var = model.receptor_var(rname)
                if var is not None and var in p.initial:
                    c = self.channel_of[(p.name, rname)]
                    syn[c:c + p.size] = p.initial[var]
        return v, syn

    def population_range(self, name: str) -> tuple:
        """(first neuron, size) of population ``name``."""
        k = self.pop_index[name]
        return int(self.pop_start[k]), int(self.pop_size[k])


def presynaptic_index(g, pop_starts):
    """The presynaptic index space every kernel's CSR uses: neurons of all populations
    (at ``pop_starts``), then spike-source neurons, then Poisson neurons.

    Returns (pre_base: name -> first index, pois_base, n_pois, n_pre)."""
    pre_base = {p.name: int(s) for p, s in zip(g.populations.values(), pop_starts)}
    base = sum(p.size for p in g.populations.values())
    for s in g.spike_sources.values():
        pre_base[s.name] = base
        base += s.size
    pois_base = base
    for s in g.poisson_sources.values():
        pre_base[s.name] = base
        base += s.size
    return pre_base, pois_base, base - pois_base, base


def spike_source_events(g, dt: float, pre_base: dict) -> dict:
    """Spike-source spikes as grid events sorted by (step, presynaptic index): ``ev_step``
    (int64) and ``ev_pre`` (int32), the grid and Loihi kernels' input lists."""
    ev_step, ev_pre = [], []
    for s in g.spike_sources.values():
        ev_step.append(np.rint(np.asarray(s.times) / dt).astype(np.int64))
        ev_pre.append(pre_base[s.name] + np.asarray(s.indices, dtype=np.int64))
    if not ev_step:
        return {"ev_step": np.zeros(0, np.int64), "ev_pre": np.zeros(0, np.int32)}
    st, pr = np.concatenate(ev_step), np.concatenate(ev_pre)
    order = np.lexsort((pr, st))
    return {"ev_step": st[order], "ev_pre": pr[order].astype(np.int32)}




def poisson_layout(pois, dt: float) -> dict:
    """The kernels' view of the Poisson sources' count stream (spikecore.ir.poisson_counts,
    drawn in C by _poisson_stream.h in grid and precise mode): per node its first Poisson
    neuron, size and seed, and the CDF table its neurons share (offset, length; -1 when
    their rates differ), per Poisson neuron its own table; the tables, each built once per
    rate. Windows (start/stop) are left to the caller: grid mode turns them into steps,
    precise mode drops spikes outside them at exact times."""
    tables, where, off = [], {}, 0
    first, size, seed, toff, tlen, pt_off, pt_len = [], [], [], [], [], [], []
    k0 = 0
    for s in pois:
        lam = np.asarray(s.rates, dtype=float) * dt
        if lam.size and lam.max() > _ir.MAX_POISSON_MEAN:
            raise ValidationError(f"sources.{s.name}.rate", f"{float(lam.max() / dt)!r} Hz",
                                  f"at most {_ir.MAX_POISSON_MEAN:g} spikes per step expected "
                                  f"({_ir.MAX_POISSON_MEAN / dt:g} Hz)")
        values, inverse = np.unique(lam, return_inverse=True)
        node_off = np.zeros(values.size, np.int64)
        node_len = np.zeros(values.size, np.int32)
        for t, value in enumerate(values):
            if value not in where:
                table = _ir.poisson_cdf(value)
                where[value] = (off, table.size)
                tables.append(table)
                off += table.size
            node_off[t], node_len[t] = where[value]
        pt_off.append(node_off[inverse])
        pt_len.append(node_len[inverse])
        first.append(k0)
        size.append(s.size)
        seed.append(s.seed)
        toff.append(int(node_off[0]) if values.size == 1 else -1)
        tlen.append(int(node_len[0]) if values.size == 1 else 0)
        k0 += s.size
    return {"pn_first": np.array(first, np.int64), "pn_size": np.array(size, np.int64),
            "pn_seed": np.array(seed, np.uint64), "pn_toff": np.array(toff, np.int64),
            "pn_tlen": np.array(tlen, np.int32),
            "pt_off": np.concatenate(pt_off).astype(np.int64) if pt_off else np.zeros(0, np.int64),
            "pt_len": np.concatenate(pt_len).astype(np.int32) if pt_len else np.zeros(0, np.int32),
            "cdf": np.concatenate(tables) if tables else np.zeros(0)}


# ----------------------------------------------------------------------------- state monitors
#: what a recording entry samples: a membrane potential, a synaptic variable (channel), or
#: further state of the model (izhikevich's u, adex's w: the grid engine's xstate)
RECORD_V, RECORD_SYN, RECORD_X = 0, 1, 2


def receptor_var(pop, rname):
    """The state variable that holds receptor ``rname`` of a population (None for delta synapses)."""
    return get_model(pop.model).receptor_var(rname)


def receptor_of_var(pop, var):
    """The receptor whose synaptic variable is ``var``."""
    rname = get_model(pop.model).receptor_of_var(var, pop.receptors)
    if rname is None:
        raise ValidationError("monitors.variables", var, f"a state variable of {pop.model}")
    return rname


def state_recording(g, dt: float, pop_index: dict, pop_start, channel_of: dict, part=None, xstate_of=None):
    """The kernels' recording entries, one per (monitor, variable, neuron): ``rec_kind``
    (RECORD_V or RECORD_SYN), ``rec_idx`` (global neuron or channel index), ``rec_every``
    (sampling period in steps) and, with ``part`` (per population the part boundaries of
    the grid engine), ``rec_owner``, the part that holds the neuron (its runner writes the entry).
    ``xstate_of``: (population, variable) -> first entry in xstate, for the variables kept
    there (RECORD_X: an equation-defined model's variables, izhikevich's u, adex's w). Also
    returns the layout (monitor, variable, first entry, count) that collect_traces reads."""
    kinds, idx, every, owner, rec_layout = [], [], [], [], []
    for m in g.state_monitors.values():
        pop = g.populations[m.target]
        k = pop_index[m.target]
        every_steps = max(1, _ir.steps(m.interval, dt))
        neurons = np.asarray(m.neurons, dtype=np.int64)
        for var in m.variables:
            if xstate_of and (pop.name, var) in xstate_of:
                kind, first = RECORD_X, xstate_of[(pop.name, var)]
            elif var == "v" and not get_model(pop.model).threshold_in_update:
                kind, first = RECORD_V, int(pop_start[k])
            else:
                kind, first = RECORD_SYN, channel_of[(pop.name, receptor_of_var(pop, var))]
            rec_layout.append((m.name, var, len(kinds), neurons.size))
            kinds.extend([kind] * neurons.size)
            idx.extend((first + neurons).tolist())
            every.extend([every_steps] * neurons.size)
            if part is not None:
                owner.extend((np.searchsorted(part[k], neurons, side="right") - 1).tolist())
    arrays = {"rec_kind": np.array(kinds, dtype=np.int32), "rec_idx": np.array(idx, dtype=np.int64),
              "rec_every": np.array(every, dtype=np.int64)}
    if part is not None:
        arrays["rec_owner"] = np.array(owner, dtype=np.int32)
    return arrays, rec_layout


def recording_buffers(rec_every, n_start: int, n_end: int):
    """One call's recording buffer: entry e writes its samples of steps [n_start, n_end)
    from rec_out[rec_base[e]], advancing rec_pos[e]. Returns (rec_base, rec_out, rec_pos)."""
    n_samples = np.array([count_multiples(n_start, n_end, e) for e in rec_every], dtype=np.int64)
    rec_base = np.concatenate([[0], np.cumsum(n_samples)]).astype(np.int64)
    return rec_base, np.zeros(int(rec_base[-1])), rec_base[:-1].copy()


def collect_traces(g, rec_layout, rec_every, rec_out, rec_base, n_start: int, n_end: int, dt: float) -> dict:
    """Traces of steps [n_start, n_end) from a kernel's recording buffer: entry e's samples
    start at rec_out[rec_base[e]]; per monitor its target, neurons, sample times and one
    (samples, neurons) array per variable."""
    traces = {}
    for mname, var, first, count in rec_layout:
        m = g.state_monitors[mname]
        e = rec_every[first] if count else 1
        ns = count_multiples(n_start, n_end, e)
        block = np.stack([rec_out[rec_base[first + c]: rec_base[first + c] + ns] for c in range(count)], axis=1) \
            if count else np.zeros((ns, 0))
        tr = traces.setdefault(mname, {"target": m.target, "neurons": np.asarray(m.neurons).copy(),
                                       "times": multiples(n_start, n_end, e) * dt, "variables": {}})
        tr["variables"][var] = block
    return traces
