"""Batch simulation: many samples of one feedforward network at once, numba-jitted.

The precision report runs thousands of inferences per sweep point; the native
engine (backends.native) builds and runs one network at a time. ``BatchNet``
takes the same IR (typically from hwmodels.conversion, after
hwmodels.passes.quantize) and ``run`` simulates a batch of samples whose data
input differs, with the IR's step semantics (spikecore.ir) reproduced
operation for operation, so on the same inputs it emits the same spikes as the
native engine (tests/hwmodels/test_batch.py checks it raster for raster):

1. state update (delta: v <- drive + (v - drive) am; cuba: the same plus syn*coef,
   then syn <- syn*ak), refractory neurons keep v;
2. threshold v > v_threshold (not refractory);
3. propagation: this step's spikes (neurons in global order, then source events in
   (step, pre) order) add mult*w into next step's accumulator; the accumulator of
   spikes from the previous step is applied (v += acc for delta unless refractory,
   syn += acc for cuba);
4. reset of this step's spikers.
The floating-point sums are formed in the native engine's order, so the results
agree bit for bit, not only within a tolerance.

Beyond the native engine it models what hardware does (hwmodels.profiles):
fixed-point membrane state (``state``: v held in integer LSBs, the profile's decay
arithmetic, saturation or wrap-around) and spike loss (each spike of a data
source or neuron is dropped with probability ``p_loss``). With neither, the
arithmetic is the native engine's. Supported: ``lif_delta`` and ``lif_cuba``
with one receptor, spike sources, delays of exactly one step, no current inputs;
a Poisson source only as the data source, its counts given as events (drawn by
hwmodels.coding, or by spikecore.ir.poisson_counts to replay the native engine's).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import MODELS

MODEL_DELTA, MODEL_CUBA = 0, 1
#: the synapse types the batch kernel integrates -> its code for them
SYNAPSE_CODES = {"delta": MODEL_DELTA, "current": MODEL_CUBA}
# state arithmetic codes (per population)
STATE_FLOAT, STATE_FIXED = 0, 1
ROUND_TRUNC, ROUND_FLOOR, ROUND_NEAREST = 0, 1, 2
DECAY_FLOAT, DECAY_MULTIPLIER, DECAY_SHIFT, DECAY_FIXED = 0, 1, 2, 3
_ROUND_CODES = {"truncate": ROUND_TRUNC, "floor": ROUND_FLOOR, "round": ROUND_NEAREST}
_DECAY_CODES = {"float": DECAY_FLOAT, "multiplier": DECAY_MULTIPLIER, "shift": DECAY_SHIFT, "fixed": DECAY_FIXED}


@dataclass
class Events:
    """Input spikes of a batch: sample s owns entries ptr[s]:ptr[s+1], sorted by (step, index).

    ``mult`` > 1 is several spikes of one neuron in one step (Poisson trains)."""
    ptr: np.ndarray     # int64 (S+1,)
    step: np.ndarray    # int64
    index: np.ndarray   # int64, neuron of the input source
    mult: np.ndarray    # int64 >= 1

    @property
    def n_samples(self) -> int:
        return self.ptr.size - 1

    @classmethod
    def from_lists(cls, per_sample) -> "Events":
        """From a list of (steps, indices[, mult]) per sample (sorted here)."""
        ptr, st, ix, mu = [0], [], [], []
        for k, item in enumerate(per_sample):
            steps = np.asarray(item[0], np.int64)
            idx = np.asarray(item[1], np.int64)
            mult = np.asarray(item[2], np.int64) if len(item) > 2 else np.ones(steps.size, np.int64)
            if not (steps.size == idx.size == mult.size):
                raise ValidationError(f"events[{k}]", (steps.size, idx.size, mult.size), "arrays of equal length")
            order = np.lexsort((idx, steps))
            st.append(steps[order]), ix.append(idx[order]), mu.append(mult[order])
            ptr.append(ptr[-1] + steps.size)
        cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64))
        return cls(np.asarray(ptr, np.int64), cat(st), cat(ix), cat(mu))


@dataclass
class BatchResult:
    counts: np.ndarray        # (S, n_out) spikes of each output neuron
    first: np.ndarray         # (S, n_out) step of each output neuron's first spike, -1 if none
    spikes: np.ndarray        # (S,) spikes emitted per inference (inputs, control, every neuron)
    synops: np.ndarray        # (S,) synaptic events delivered per inference
    steps: np.ndarray         # (S,) steps simulated (early stop makes it shorter)
    raster: tuple | None = None   # (steps, global neuron index) of the first sample, when recorded


def _batch_model(p):
    """The model of population ``p`` when the batch kernel integrates it (a linear LIF with
    delta or current synapses, SYNAPSE_CODES); else UnsupportedFeature."""
    m = MODELS.get(p.model)
    if m is None or m.synapse not in SYNAPSE_CODES:
        usable = [n for n, x in MODELS.items() if x.synapse in SYNAPSE_CODES and x.supports("grid")]
        raise UnsupportedFeature("hwmodels.batch", f"model {p.model}", " or ".join(usable))
    return m


class BatchNet:
    """An IR graph laid out for ``run``: populations in IR order, CSR synapses by presynaptic index.

    ``data_source`` names the spike source (or Poisson source) whose spikes differ per
    sample and come from the events given to ``run`` (its spikes or rates in the IR are
    ignored); every other spike source's spikes are the same for all samples.
    ``output`` is the population whose counts and first spikes are returned.
    ``state`` maps population -> dict(bits, overflow, rounding, lsb (per neuron),
    decay_kind, decay_mem (hardware code)) for fixed-point membranes (see
    hwmodels.passes.state_layout); missing populations are float."""

    def __init__(self, g: _ir.IRGraph, data_source: str = "inp", output: str = "out", state: dict | None = None):
        self.ir = g
        dt = g.dt
        others = [n for n in g.poisson_sources if n != data_source]
        if others:
            raise UnsupportedFeature("hwmodels.batch", f"Poisson source {others[0]}",
                                     "draw Poisson inputs as events of the data source (hwmodels.coding)")
        if g.currents:
            raise UnsupportedFeature("hwmodels.batch", "current inputs")
        if data_source not in g.spike_sources and data_source not in g.poisson_sources:
            raise ValidationError("data_source", data_source,
                                  "a spike or Poisson source of the network: " + ", ".join(g.spike_sources))
        if output not in g.populations:
            raise ValidationError("output", output, "a population: " + ", ".join(g.populations))
        pops = list(g.populations.values())
        P = len(pops)
        self.pop_index = {p.name: k for k, p in enumerate(pops)}
        sizes = np.array([p.size for p in pops], np.int64)
        self.pop_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.pop_size = sizes
        N = int(sizes.sum())
        self.n_neurons = N
        model = np.zeros(P, np.int64)
        am = np.zeros(P)
        ak = np.zeros(P)
        coef = np.zeros(P)
        ref = np.zeros(P, np.int64)
        vleak = np.zeros(P)
        syn0 = []
        for k, p in enumerate(pops):
            m = _batch_model(p)
            model[k] = SYNAPSE_CODES[m.synapse]
            syn0.append(np.zeros(p.size))
            if m.has_synaptic_state:
                if len(p.receptors) != 1:
                    raise UnsupportedFeature("hwmodels.batch", f"{len(p.receptors)} receptors on population {p.name}",
                                             f"one receptor per {p.model} population")
                (rname, rp), = p.receptors.items()
                ak[k] = m.receptor_decay(rp, dt)
                coef[k] = m.synaptic_coefficient(p.params, rp, dt)
                syn0[-1] = p.initial.get(m.receptor_var(rname), syn0[-1])
            am[k] = m.membrane_decay(p.params, dt)
            ref[k] = _ir.steps(p.params["t_refrac"], dt)
            vleak[k] = p.params["v_leak"]
        self.model, self.am, self.ak, self.coef, self.ref, self.vleak = model, am, ak, coef, ref, vleak
        self.vth = np.concatenate([np.full(p.size, p.params["v_threshold"]) for p in pops])
        self.vreset = np.concatenate([np.full(p.size, p.params["v_reset"]) for p in pops])
        self.v0 = np.concatenate([p.initial["v"] for p in pops]).astype(float)
        self.syn0 = np.concatenate(syn0).astype(float)
        self.neuron_pop = np.repeat(np.arange(P, dtype=np.int64), sizes)

        # presynaptic index space: neurons, then spike sources in IR order (as the native engine)
        pre_base = {p.name: int(s) for p, s in zip(pops, self.pop_start)}
        base = N
        for s in list(g.spike_sources.values()) + list(g.poisson_sources.values()):
            pre_base[s.name] = base
            base += s.size
        n_pre = base
        self.data_base = pre_base[data_source]
        self.data_size = (g.spike_sources.get(data_source) or g.poisson_sources[data_source]).size
        pres, tgts, ws = [], [], []
        lossy = np.zeros(n_pre, np.bool_)
        for e in g.projections.values():
            d = _ir.delay_steps(e.delay, dt)
            if d.size and (d.min() != 1 or d.max() != 1):
                raise UnsupportedFeature("hwmodels.batch", f"delays of {int(d.max())} steps in projection {e.name}",
                                         "delays of exactly one step")
            pres.append(pre_base[e.pre] + e.i)
            tgts.append(self.pop_start[self.pop_index[e.post]] + e.j)
            ws.append(np.asarray(e.weight, float))
            if e.attrs.get("lossy", e.pre in g.populations or e.pre == data_source):
                lossy[pre_base[e.pre] + e.i] = True
        pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
        order = np.argsort(pre, kind="stable")
        self.syn_tgt = (np.concatenate(tgts)[order] if pres else np.zeros(0)).astype(np.int64)
        self.syn_w = (np.concatenate(ws)[order] if pres else np.zeros(0)).astype(float)
        self.row_ptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))]).astype(np.int64)
        # rows whose targets are consecutive neurons (dense layers) take a contiguous, vectorised
        # loop; the per-target order of additions is the same either way
        self.row_first = np.full(n_pre, -1, np.int64)
        for r in range(n_pre):
            a, b = self.row_ptr[r], self.row_ptr[r + 1]
            if b > a and np.array_equal(self.syn_tgt[a:b], np.arange(self.syn_tgt[a], self.syn_tgt[a] + (b - a))):
                self.row_first[r] = self.syn_tgt[a]
        self.lossy = lossy
        # fixed (same for every sample) source events, sorted by (step, pre)
        st, pr = [], []
        for s in g.spike_sources.values():
            if s.name == data_source:
                continue
            st.append(np.rint(s.times / dt).astype(np.int64))
            pr.append(pre_base[s.name] + s.indices)
        st = np.concatenate(st) if st else np.zeros(0, np.int64)
        pr = np.concatenate(pr) if pr else np.zeros(0, np.int64)
        order = np.lexsort((pr, st))
        self.ctl_step, self.ctl_pre = st[order], pr[order]
        k = self.pop_index[output]
        self.out_start, self.out_size = int(self.pop_start[k]), int(sizes[k])
        self.n_outputs = self.out_size
        self._set_state(state or {}, pops)

    def _set_state(self, state: dict, pops):
        P = len(pops)
        self.qmode = np.zeros(P, np.int64)
        self.qround = np.zeros(P, np.int64)
        self.qwrap = np.zeros(P, np.bool_)
        self.qlo = np.zeros(P)
        self.qhi = np.zeros(P)
        self.dkind = np.zeros(P, np.int64)
        self.dparam = np.zeros(P)
        self.inv_lsb = np.ones(self.n_neurons)
        self.lsb = np.ones(self.n_neurons)
        for name, st in state.items():
            if name not in self.pop_index:
                raise ValidationError("state", name, "a population: " + ", ".join(self.pop_index))
            k = self.pop_index[name]
            p = pops[k]
            if p.params["v_leak"] != 0.0:
                raise UnsupportedFeature("hwmodels.batch", f"fixed-point state with v_leak != 0 on {name}",
                                         "v decays toward 0 on the chip; express a resting level as a bias")
            s0, n = int(self.pop_start[k]), p.size
            lsb = np.broadcast_to(np.asarray(st["lsb"], float), (n,))
            self.qmode[k] = STATE_FIXED
            self.qround[k] = _ROUND_CODES[st.get("rounding", "truncate")]
            bits = int(st["bits"])
            self.qwrap[k] = st.get("overflow", "saturate") == "wrap"
            if self.qwrap[k]:
                self.qlo[k], self.qhi[k] = -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1
            else:
                self.qlo[k], self.qhi[k] = -(2.0 ** (bits - 1) - 1), 2.0 ** (bits - 1) - 1
            self.dkind[k] = _DECAY_CODES[st.get("decay_kind", "float")]
            self.dparam[k] = float(st.get("decay_mem", self.am[k]))
            if self.dkind[k] == DECAY_FLOAT:
                self.dparam[k] = self.am[k]
            self.lsb[s0:s0 + n] = lsb
            self.inv_lsb[s0:s0 + n] = 1.0 / lsb

    def run(self, events: Events, n_steps: int, stop_on_output: bool = False, p_loss: float = 0.0,
            seed: int = 0, record: bool = False) -> BatchResult:
        """Simulate every sample of ``events`` for ``n_steps`` steps from the initial state.

        ``stop_on_output``: stop a sample after the first step in which an output neuron
        fires (a time-to-first-spike decision). ``record``: also return the raster of
        the first sample (for checks against the native engine)."""
        if not (0.0 <= p_loss <= 1.0):
            raise ValidationError("p_loss", p_loss, "a probability in [0, 1]")
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise ValidationError("n_steps", n_steps, "a positive number of steps")
        S = events.n_samples
        if events.index.size and (events.index.min() < 0 or events.index.max() >= self.data_size):
            raise ValidationError("events.index", int(events.index.max()), f"input neurons in [0, {self.data_size - 1}]")
        counts = np.zeros((S, self.out_size), np.int64)
        first = np.full((S, self.out_size), -1, np.int64)
        spikes = np.zeros(S, np.int64)
        synops = np.zeros(S, np.int64)
        steps = np.zeros(S, np.int64)
        cap = (n_steps * self.n_neurons + 16) if record else 1
        rec_step = np.zeros(cap, np.int64)
        rec_idx = np.zeros(cap, np.int64)
        rec_n = np.zeros(1, np.int64)
        _run_batch(int(n_steps), bool(stop_on_output), self.model, self.pop_start, self.pop_size, self.am, self.ak,
                   self.coef, self.ref, self.vleak, self.vth, self.vreset, self.v0, self.syn0, self.neuron_pop,
                   self.qmode, self.qround, self.qwrap, self.qlo, self.qhi, self.dkind, self.dparam, self.inv_lsb,
                   self.lsb, self.row_ptr, self.row_first, self.syn_tgt, self.syn_w, self.lossy,
                   self.data_base, events.ptr, events.step, events.index.astype(np.int64),
                   events.mult.astype(np.int64), self.ctl_step, self.ctl_pre, self.out_start, self.out_size,
                   float(p_loss), int(seed), counts, first, spikes, synops, steps,
                   bool(record), rec_step, rec_idx, rec_n)
        raster = (rec_step[:rec_n[0]].copy(), rec_idx[:rec_n[0]].copy()) if record else None
        return BatchResult(counts, first, spikes, synops, steps, raster)


@njit(cache=True, inline="always")
def _quantize(x, rnd, wrap, lo, hi):
    if rnd == ROUND_TRUNC:
        q = np.trunc(x)
    elif rnd == ROUND_FLOOR:
        q = np.floor(x)
    else:
        q = np.floor(abs(x) + 0.5)
        if x < 0:
            q = -q
    if wrap:
        span = hi - lo + 1.0
        q = ((q - lo) % span) + lo
    else:
        if q > hi:
            q = hi
        elif q < lo:
            q = lo
    return q


@njit(cache=True, inline="always")
def _push(acc, row_ptr, row_first, syn_tgt, syn_w, pre, mult):
    """acc[target] += mult * w for every synapse of ``pre`` (mult * w as the native engine forms it).

    Contiguous rows go through slice views, which LLVM vectorises (about 2x here)."""
    a = row_ptr[pre]
    b = row_ptr[pre + 1]
    t0 = row_first[pre]
    if t0 >= 0:
        dst = acc[t0:t0 + (b - a)]
        src = syn_w[a:b]
        if mult == 1.0:
            for k in range(b - a):
                dst[k] += src[k]
        else:
            for k in range(b - a):
                dst[k] += mult * src[k]
    else:
        for k in range(a, b):
            acc[syn_tgt[k]] += mult * syn_w[k]


@njit(cache=True)
def _update_fixed(n, p, start, end, mdl, v, syn, last, cf, a_k, inv_lsb, dk, dp, rnd, wrap, lo, hi, vth_u, rp, spk,
                  n_spk):
    """State update and threshold of a fixed-point population (v in LSB units)."""
    for i in range(start, end):
        refractory = (n - last[i]) < rp
        if not refractory:
            x = v[i]
            if dk == DECAY_SHIFT:
                x = x - np.floor(x / 2.0 ** dp)
            else:
                x = x * dp
            if mdl == MODEL_CUBA:
                x = x + syn[i] * cf * inv_lsb[i]
            v[i] = _quantize(x, rnd, wrap, lo, hi)
        if mdl == MODEL_CUBA:
            syn[i] *= a_k
        if not refractory and v[i] > vth_u[i]:
            spk[n_spk] = i
            n_spk += 1
            last[i] = n
    return n_spk


@njit(cache=True)
def _run_batch(n_steps, stop_on_output, model, pop_start, pop_size, am, ak, coef, ref, vleak, vth, vreset, v0, syn0,
               neuron_pop, qmode, qround, qwrap, qlo, qhi, dkind, dparam, inv_lsb, lsb, row_ptr, row_first, syn_tgt, syn_w, lossy,
               data_base, ev_ptr, ev_step, ev_idx, ev_mult, ctl_step, ctl_pre, out_start, out_size, p_loss, seed,
               counts, first, spikes, synops, steps_run, record, rec_step, rec_idx, rec_n):
    N = v0.shape[0]
    P = model.shape[0]
    S = ev_ptr.shape[0] - 1
    np.random.seed(seed)
    v = np.empty(N)
    syn = np.empty(N)
    last = np.empty(N, np.int64)
    acc_now = np.zeros(N)
    acc_next = np.zeros(N)
    spk = np.empty(N, np.int64)
    never = np.iinfo(np.int64).min // 2
    # fixed-point membranes hold v in LSB units: convert thresholds and resets once
    vth_u = vth.copy()
    vres_u = vreset.copy()
    for i in range(N):
        if qmode[neuron_pop[i]] == STATE_FIXED:
            vth_u[i] = np.floor(vth[i] * inv_lsb[i])
            vres_u[i] = np.floor(vreset[i] * inv_lsb[i])
    for s in range(S):
        for i in range(N):
            p = neuron_pop[i]
            if qmode[p] == STATE_FIXED:
                v[i] = _quantize(v0[i] * inv_lsb[i], qround[p], qwrap[p], qlo[p], qhi[p])
            else:
                v[i] = v0[i]
            syn[i] = syn0[i]
            last[i] = never
            acc_now[i] = 0.0
            acc_next[i] = 0.0
        e = ev_ptr[s]
        e_end = ev_ptr[s + 1]
        c = 0
        n_ctl = ctl_step.shape[0]
        n_spk_total = 0
        n_syn_total = 0
        done = n_steps
        for n in range(n_steps):
            # 1-2. state update and threshold (one tight loop per kind of population)
            n_spk = 0
            for p in range(P):
                start = pop_start[p]
                end = start + pop_size[p]
                rp = ref[p]
                if qmode[p] == STATE_FIXED:
                    n_spk = _update_fixed(n, p, start, end, model[p], v, syn, last, coef[p], ak[p], inv_lsb, dkind[p],
                                          dparam[p], qround[p], qwrap[p], qlo[p], qhi[p], vth_u, rp, spk, n_spk)
                elif model[p] == MODEL_DELTA:
                    vl = vleak[p]
                    a_m = am[p]
                    for i in range(start, end):
                        if (n - last[i]) >= rp:
                            vi = vl + (v[i] - vl) * a_m
                            v[i] = vi
                            if vi > vth[i]:
                                spk[n_spk] = i
                                n_spk += 1
                                last[i] = n
                else:
                    vl = vleak[p]
                    a_m = am[p]
                    a_k = ak[p]
                    cf = coef[p]
                    for i in range(start, end):
                        if (n - last[i]) >= rp:
                            vi = vl + (v[i] - vl) * a_m
                            vi = vi + syn[i] * cf
                            v[i] = vi
                            syn[i] *= a_k
                            if vi > vth[i]:
                                spk[n_spk] = i
                                n_spk += 1
                                last[i] = n
                        else:
                            syn[i] *= a_k
            # 3a. this step's spikes into next step's accumulator: neurons, then source events
            for q in range(n_spk):
                i = spk[q]
                if lossy[i] and p_loss > 0.0 and np.random.random() < p_loss:
                    continue
                _push(acc_next, row_ptr, row_first, syn_tgt, syn_w, i, 1.0)
                n_syn_total += row_ptr[i + 1] - row_ptr[i]
            n_spk_total += n_spk
            # data and fixed events of this step, merged in presynaptic order (data_base < control
            # sources when the data source comes first; the merge below handles either order)
            while (e < e_end and ev_step[e] == n) or (c < n_ctl and ctl_step[c] == n):
                take_data = e < e_end and ev_step[e] == n
                if take_data and c < n_ctl and ctl_step[c] == n:
                    take_data = data_base + ev_idx[e] < ctl_pre[c]
                if take_data:
                    pre = data_base + ev_idx[e]
                    m = ev_mult[e]
                    e += 1
                else:
                    pre = ctl_pre[c]
                    m = 1
                    c += 1
                n_spk_total += m
                if lossy[pre] and p_loss > 0.0:
                    kept = 0
                    for r in range(m):
                        if np.random.random() >= p_loss:
                            kept += 1
                    m = kept
                if m == 0:
                    continue
                _push(acc_next, row_ptr, row_first, syn_tgt, syn_w, pre, float(m))
                n_syn_total += m * (row_ptr[pre + 1] - row_ptr[pre])
            # skip events scheduled before this step (none when inputs are sorted and >= 0)
            while e < e_end and ev_step[e] < n:
                e += 1
            while c < n_ctl and ctl_step[c] < n:
                c += 1
            # 3b. apply what the previous step sent
            for i in range(N):
                val = acc_now[i]
                if val != 0.0:
                    p = neuron_pop[i]
                    if model[p] == MODEL_DELTA:
                        if (n - last[i]) >= ref[p]:
                            if qmode[p] == STATE_FIXED:
                                v[i] = _quantize(v[i] + val * inv_lsb[i], qround[p], qwrap[p], qlo[p], qhi[p])
                            else:
                                v[i] += val
                    else:
                        syn[i] += val
                    acc_now[i] = 0.0
            # 4. reset; outputs
            hit = False
            for q in range(n_spk):
                i = spk[q]
                v[i] = vres_u[i] if qmode[neuron_pop[i]] == STATE_FIXED else vreset[i]
                if i >= out_start and i < out_start + out_size:
                    o = i - out_start
                    counts[s, o] += 1
                    if first[s, o] < 0:
                        first[s, o] = n
                    hit = True
                if record and s == 0:
                    rec_step[rec_n[0]] = n
                    rec_idx[rec_n[0]] = i
                    rec_n[0] += 1
            tmp = acc_now
            acc_now = acc_next
            acc_next = tmp
            if stop_on_output and hit:
                done = n + 1
                break
        spikes[s] = n_spk_total
        synops[s] = n_syn_total
        steps_run[s] = done
