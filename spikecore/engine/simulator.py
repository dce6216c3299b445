"""Python side of the native engine: lays an IR out as flat arrays for the kernel.

``GridSimulator(ir)`` validates the IR for the grid engine, allocates every
array (state, CSR synapses grouped by presynaptic index, the delay ring buffer,
recording buffers) and ``run(duration)`` steps it in chunks through
``spikecore.engine._core.Kernel``: between chunks it updates injected currents,
draws the next block of Poisson counts and drives a progress bar. Nothing of
Python runs inside a chunk.

Layout:
* neurons of all populations are numbered globally (population order of the IR);
* presynaptic indices: neurons [0, N), then spike-source neurons, then Poisson
  neurons — one CSR over all of them;
* a *channel* is one synaptic variable of one neuron: delta models have one per
  neuron (a v jump), cuba/coba one per receptor per neuron (receptor-major);
* the ring buffer holds, for each of the next L = max_delay+1 steps, the input due
  to every channel.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import ir as _ir
from ..errors import UnsupportedFeature, ValidationError
from ._core import Kernel

MODEL_CODES = {"lif_delta": 0, "lif_cuba": 1, "lif_coba": 2}
RECORD_V, RECORD_SYN = 0, 1
CHUNK_STEPS = 1000          # steps per kernel call: bounds Poisson buffers, paces the progress bar
PROGRESS_AFTER_S = 2.0      # show a progress bar only for runs expected to take longer


def _synaptic_coefficient(dt: float, tau_mem: float, tau_syn: float) -> float:
    """Exact contribution of syn(t) to v(t+dt) for tau_mem dv/dt = -v + syn, syn' = -syn/tau_syn."""
    am, ak = math.exp(-dt / tau_mem), math.exp(-dt / tau_syn)
    if math.isclose(tau_syn, tau_mem, rel_tol=1e-12):
        return dt / tau_mem * am
    return tau_syn / (tau_syn - tau_mem) * (ak - am)


class GridSimulator:
    """A compiled network for the native grid engine."""

    def __init__(self, g: _ir.IRGraph):
        self.ir = g
        self.dt = dt = g.dt
        pops = list(g.populations.values())
        if not pops:
            raise ValidationError("populations", {}, "at least one population")
        a: dict = {}
        P = len(pops)
        a["pop_model"] = np.array([MODEL_CODES[p.model] for p in pops], dtype=np.int32)
        sizes = np.array([p.size for p in pops], dtype=np.int64)
        a["pop_size"] = sizes
        a["pop_start"] = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        n_rec = np.array([len(p.receptors) for p in pops], dtype=np.int64)
        a["pop_n_rec"] = n_rec
        a["pop_rec_start"] = np.concatenate([[0], np.cumsum(n_rec)[:-1]]).astype(np.int64)
        chans = sizes * n_rec  # delta models have exactly one receptor ('default')
        a["pop_chan_start"] = np.concatenate([[0], np.cumsum(chans)[:-1]]).astype(np.int64)
        a["pop_ref_steps"] = np.array([_ir.steps(p.params["t_refrac"], dt) for p in pops], dtype=np.int64)
        if a["pop_ref_steps"].max(initial=0) > np.iinfo(np.int32).max:
            raise ValidationError("t_refrac", float(max(p.params["t_refrac"] for p in pops)),
                                  "a refractory period shorter than 2**31 steps")
        a["pop_vth"] = np.array([p.params["v_threshold"] for p in pops])
        a["pop_vreset"] = np.array([p.params["v_reset"] for p in pops])
        a["pop_vleak"] = np.array([p.params["v_leak"] for p in pops])
        a["pop_cm"] = np.array([p.params.get("c_m", 1.0) for p in pops])
        a["pop_gl"] = np.array([p.params.get("g_l", 1.0) for p in pops])
        a["pop_decay_mem"] = np.array([math.exp(-dt / p.params["tau_mem"]) if "tau_mem" in p.params else 0.0
                                       for p in pops])
        rec_decay, rec_coef, rec_erev = [], [], []
        self.channel_of = {}   # (pop, receptor) -> first channel
        for p, c0 in zip(pops, a["pop_chan_start"]):
            for r, (rname, rp) in enumerate(p.receptors.items()):
                self.channel_of[(p.name, rname)] = int(c0 + r * p.size)
                tau = rp.get("tau_syn")
                rec_decay.append(math.exp(-dt / tau) if tau else 0.0)
                rec_coef.append(_synaptic_coefficient(dt, p.params["tau_mem"], tau)
                                if p.model == "lif_cuba" else 0.0)
                rec_erev.append(rp.get("e_rev", 0.0))
        a["rec_decay"], a["rec_coef"], a["rec_erev"] = (np.array(x, dtype=float) for x in (rec_decay, rec_coef, rec_erev))

        N = int(sizes.sum())
        C = int(chans.sum())
        self.pop_index = {p.name: k for k, p in enumerate(pops)}
        self.pops = pops
        a["v"] = np.concatenate([p.initial["v"] for p in pops]).astype(float)
        syn = np.zeros(C)
        for p in pops:
            for rname in p.receptors:
                var = _receptor_var(p, rname)
                if var is not None and var in p.initial:
                    c = self.channel_of[(p.name, rname)]
                    syn[c:c + p.size] = p.initial[var]
        a["syn"] = syn
        a["neuron_pop"] = np.repeat(np.arange(P, dtype=np.int32), sizes)
        a["refr"] = np.zeros(N, dtype=np.int32)
        a["drive"] = np.zeros(N)

        # presynaptic index space
        self.pre_base = {p.name: int(s) for p, s in zip(pops, a["pop_start"])}
        base = N
        for s in g.spike_sources.values():
            self.pre_base[s.name] = base
            base += s.size
        pois = list(g.poisson_sources.values())
        a["pois_base"] = base
        for s in pois:
            self.pre_base[s.name] = base
            base += s.size
        a["n_pois"] = base - a["pois_base"]
        n_pre = base

        # synapses -> CSR by presynaptic index
        pres, chans_, ws, ds = [], [], [], []
        max_d = 1
        for e in g.projections.values():
            if e.post not in self.pop_index:
                raise ValidationError(f"projections.{e.name}.post", e.post, "a population")
            d = _ir.delay_steps(e.delay, dt)
            if d.size and d.min() < 1:
                raise ValidationError(f"projections.{e.name}.delay", float(e.delay.min()), f"delays >= dt ({dt} s)")
            if d.size:
                max_d = max(max_d, int(d.max()))
            pres.append(self.pre_base[e.pre] + e.i)
            chans_.append(self.channel_of[(e.post, e.receptor)] + e.j)
            ws.append(np.asarray(e.weight, dtype=float))
            ds.append(d)
        if pres:
            pre = np.concatenate(pres)
            order = np.argsort(pre, kind="stable")
            a["syn_chan"] = np.concatenate(chans_)[order].astype(np.int32)
            a["syn_weight"] = np.concatenate(ws)[order]
            a["syn_delay"] = np.concatenate(ds)[order].astype(np.int32)
            counts = np.bincount(pre, minlength=n_pre)
        else:
            a["syn_chan"] = np.zeros(0, np.int32)
            a["syn_weight"] = np.zeros(0)
            a["syn_delay"] = np.zeros(0, np.int32)
            counts = np.zeros(n_pre, np.int64)
        a["row_ptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if max_d > 2**20:
            raise UnsupportedFeature("native", f"delays of {max_d} steps", "the ring buffer would not fit; use a larger dt")
        self.ring_len = max_d + 1
        a["ring"] = np.zeros(self.ring_len * C)

        # spike-source events, by step
        ev_step, ev_pre = [], []
        for s in g.spike_sources.values():
            ev_step.append(np.rint(s.times / dt).astype(np.int64))
            ev_pre.append(self.pre_base[s.name] + s.indices)
        if ev_step:
            st, pr = np.concatenate(ev_step), np.concatenate(ev_pre)
            order = np.lexsort((pr, st))
            a["ev_step"], a["ev_pre"] = st[order], pr[order].astype(np.int32)
        else:
            a["ev_step"], a["ev_pre"] = np.zeros(0, np.int64), np.zeros(0, np.int32)

        # state recording
        kinds, idx, every, self.rec_layout = [], [], [], []
        for m in g.state_monitors.values():
            pop = g.populations[m.target]
            k = self.pop_index[m.target]
            every_steps = max(1, _ir.steps(m.interval, dt))
            for var in m.variables:
                if var == "v":
                    kind, first = RECORD_V, int(a["pop_start"][k])
                else:
                    rname = _receptor_of_var(pop, var)
                    kind, first = RECORD_SYN, self.channel_of[(pop.name, rname)]
                self.rec_layout.append((m.name, var, len(kinds), len(m.neurons)))
                kinds.extend([kind] * len(m.neurons))
                idx.extend((first + m.neurons).tolist())
                every.extend([every_steps] * len(m.neurons))
        a["rec_kind"] = np.array(kinds, dtype=np.int32)
        a["rec_idx"] = np.array(idx, dtype=np.int64)
        a["rec_every"] = np.array(every, dtype=np.int64)

        self.arrays = a
        self.kernel = Kernel(a, dt, self.ring_len)
        self.n_neurons = N
        self.n_synapses = int(a["syn_weight"].size)
        self.step = 0
        self._pois_rngs = [_ir.poisson_rng(s) for s in pois]
        self._pois_nodes = pois
        self._currents = [self._current_schedule(c) for c in g.currents.values()]

    # -- inputs ---------------------------------------------------------------------
    def _current_schedule(self, c: _ir.CurrentInputNode):
        k = self.pop_index[c.target]
        pop = self.pops[k]
        neurons = int(self.arrays["pop_start"][k]) + c.neurons
        steps, amps = _ir.current_at_steps(c, self.dt)
        # delta/cuba: the drive is v_leak + r*I; coba adds I/c_m through the drive term
        scale = 1.0 if pop.model == "lif_coba" else pop.params["r"]
        return neurons, steps, amps * scale

    def _set_drive(self, n: int):
        """Drive of every neuron for step n (currents are constant between change points)."""
        a = self.arrays
        drive = a["drive"]
        for k, p in enumerate(self.pops):
            s0, s1 = a["pop_start"][k], a["pop_start"][k] + p.size
            drive[s0:s1] = 0.0 if p.model == "lif_coba" else p.params["v_leak"]
        for neurons, steps, amps in self._currents:
            active = np.searchsorted(steps, n, side="right") - 1
            if active >= 0:
                drive[neurons] += amps[active]

    def _next_change(self, n: int) -> int | None:
        nxt = [int(st[st > n][0]) for _, st, _ in self._currents if (st > n).any()]
        return min(nxt) if nxt else None

    # -- running --------------------------------------------------------------------
    def run(self, duration: float, progress: bool = False) -> dict:
        """Advance by ``duration`` seconds; returns raw spikes and traces of this call."""
        if not (duration > 0 and math.isfinite(duration)):
            raise ValidationError("duration", duration, "a positive, finite duration")
        n_steps = _ir.steps(duration, self.dt)
        n_start, n_end = self.step, self.step + n_steps
        a = self.arrays
        cap = max(1024, 4 * self.n_neurons)
        out_step = np.empty(cap, np.int64)
        out_idx = np.empty(cap, np.int32)
        out_n = 0
        spk = np.empty(max(self.n_neurons, 1), np.int32)
        # recording buffers for the whole call
        every = a["rec_every"]
        n_samples = np.array([_count_multiples(n_start, n_end, e) for e in every], dtype=np.int64)
        rec_base = np.concatenate([[0], np.cumsum(n_samples)]).astype(np.int64)
        rec_out = np.zeros(int(rec_base[-1]))
        rec_pos = rec_base[:-1].copy()
        bar = _ProgressBar(n_steps, enabled=progress)
        t0 = time.perf_counter()
        n = n_start
        try:
            while n < n_end:
                self._set_drive(n)
                stop = min(n_end, n + CHUNK_STEPS)
                change = self._next_change(n)
                if change is not None:
                    stop = min(stop, change)
                counts = self._poisson_block(n, stop - n)
                reached = n
                while reached < stop:
                    reached, out_n = self.kernel.run(reached, stop, counts[reached - n:], out_step, out_idx, out_n,
                                                     rec_out, rec_pos, spk)
                    if reached < stop:  # spike buffer full: grow and continue
                        out_step = np.resize(out_step, 2 * out_step.size)
                        out_idx = np.resize(out_idx, 2 * out_idx.size)
                n = stop
                bar.update(n - n_start, time.perf_counter() - t0)
        finally:
            bar.close()
            self.step = n
        return self._collect(out_step[:out_n], out_idx[:out_n], rec_out, rec_base, n_start, n_end)

    def _poisson_block(self, n: int, length: int) -> np.ndarray:
        if not self._pois_nodes:
            return np.zeros((length, 0), np.uint16)
        blocks = [_ir.poisson_counts(s, self.dt, n, length, rng) for s, rng in zip(self._pois_nodes, self._pois_rngs)]
        return np.ascontiguousarray(np.concatenate(blocks, axis=1))

    def _collect(self, steps, idx, rec_out, rec_base, n_start, n_end) -> dict:
        a = self.arrays
        spikes = {}
        for name in self.ir.recorded_populations():
            k = self.pop_index[name]
            s0 = a["pop_start"][k]
            sel = (idx >= s0) & (idx < s0 + self.pops[k].size)
            spikes[name] = (steps[sel] * self.dt, (idx[sel] - s0).astype(np.int64))
        traces = {}
        for mname, var, first, count in self.rec_layout:
            m = self.ir.state_monitors[mname]
            e = a["rec_every"][first] if count else 1
            ns = _count_multiples(n_start, n_end, e)
            block = np.stack([rec_out[rec_base[first + c]: rec_base[first + c] + ns] for c in range(count)], axis=1) \
                if count else np.zeros((ns, 0))
            tr = traces.setdefault(mname, {"target": m.target, "neurons": m.neurons.copy(),
                                           "times": _multiples(n_start, n_end, e) * self.dt, "variables": {}})
            tr["variables"][var] = block
        return {"spikes": spikes, "traces": traces, "n_steps": n_end - n_start}


def _receptor_var(pop, rname):
    if pop.model == "lif_cuba":
        return f"syn_{rname}"
    if pop.model == "lif_coba":
        return f"g_{rname}"
    return None


def _receptor_of_var(pop, var):
    for rname in pop.receptors:
        if _receptor_var(pop, rname) == var:
            return rname
    raise ValidationError(f"monitors.variables", var, f"a state variable of {pop.model}")


def _count_multiples(n0: int, n1: int, e: int) -> int:
    """How many n in [n0, n1) are multiples of e."""
    return (n1 - 1) // e - (n0 - 1) // e if n1 > n0 else 0


def _multiples(n0, n1, e):
    first = -(-n0 // e) * e
    return np.arange(first, n1, e, dtype=np.int64)


class _ProgressBar:
    """tqdm on a terminal, shown only once a run is expected to outlast PROGRESS_AFTER_S."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.bar, self.last = total, enabled, None, 0

    def update(self, done: int, elapsed: float):
        if not self.enabled:
            return
        if self.bar is None:
            expected = elapsed / max(done, 1) * self.total
            if expected < PROGRESS_AFTER_S:
                return
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, unit="step", desc="simulating", leave=False)
        self.bar.update(done - self.last)
        self.last = done

    def close(self):
        if self.bar is not None:
            self.bar.close()
