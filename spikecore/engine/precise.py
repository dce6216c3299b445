"""Python side of the native engine's precise-timing mode (spike times off the grid).

``PreciseSimulator(ir)`` validates an IR for continuous-time simulation, lays it out
as flat arrays and ``run(duration)`` advances it in chunks through
``spikecore.engine._precise.PreciseKernel`` (semantics and algorithms in that
module's docstring; the user-facing description is docs/precise_timing.md).
Its grid sibling is spikecore.engine.simulator.GridSimulator; backends/native.py
picks one of the two with the option ``timing="grid" | "precise"``.

Time representation: step n covers (n*dt, (n+1)*dt]; a time inside it is kept as
(n, offset) with offset in (0, dt], so offsets keep full precision however long the
run. What is exact here and was rounded to the grid in grid mode:

* spike times of neurons (located inside the step) and of spike sources (as given);
* delays: any value >= dt (split into whole steps plus a remainder in [0, dt));
* refractory periods: any value >= 0, ending at spike time + t_refrac;
* current steps: a change takes effect at its exact time;
* Poisson sources: the same per-step spike counts as grid mode (the IR's stream), each
  spike at a uniform random offset inside its step (a Poisson process given its
  counts), a counter-based function of a key seeded by the sources' seeds and of
  (step, neuron, index), so the kernel can redraw them instead of queuing them;
  start/stop are exact.

State monitors still sample on the grid (at n*dt, before step n), as in grid mode.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import ir as _ir
from ..errors import UnsupportedFeature, ValidationError
from ..models import model_for

#: parameters precise timing takes per neuron (the drive; its spike-time search bounds the
#: rest per population)
PRECISE_PER_NEURON = frozenset({"bias", "v_leak"})
from ..plasticity import refuse_plastic
from ._precise import KIND_CURRENT, KIND_JUMP, MAX_RECEPTORS, NO_REFRACTORY_STEP, PreciseKernel
from .base import Recording, Simulator, SpikeBuffer
from .layout import NetLayout, poisson_layout, state_recording
from .precise_records import (ChannelTables, DaleBounds, InjectedCurrents, NeuronState, OffGridDelays,
                              PoissonSources, PoissonSynapses, PopulationTables, PreciseLayout, ReceptorTables,
                              SinglePoissonTargets, SpikeSourceEvents, StateRecording, SumLayout, SynapseTables)

# The kernel's two algorithms (KIND_JUMP, KIND_CURRENT: _precise_replay.h's PC_MODEL_*):
# voltage jumps, or exponential current synapses whose effect on v is the model's synaptic
# kernel. A model that runs in precise mode (NeuronModel.modes) has one of the two synapse
# kinds and a membrane time constant. At most MAX_RECEPTORS receptors per population.

# tau_syn within this fraction of tau_mem: the kernel uses the expm1 form of the
# synaptic kernel instead of the difference of exponentials, which would cancel.
NEAR_TAU_FRACTION = 0.01
# Factors exp(dt/tau) are stored for off-grid delays; keep them far from overflow.
MAX_DT_OVER_TAU = 500.0
# Salt for the stream of Poisson spike offsets, so it never equals a count stream.
POISSON_OFFSET_SALT = 0x50524543495345
# Placement of the fast path's arrays: addresses equal modulo a page share L1 sets and alias
# in the CPU's check of loads against earlier stores, so the streams that one loop reads and
# writes together are kept apart modulo PAGE_BYTES: first the fewest pairs closer than
# STREAM_GAPS[0] bytes, then [1], then [2] (the rows of one array are a fixed distance apart,
# so not every layout can keep every pair apart).
PAGE_BYTES = 4096             # = PAGE_BYTES in _precise.pxd
STREAM_GAPS = (64, 128, 256)
PLACEMENT_CANDIDATES = 2048
PLACEMENT_GROUPS = 64        # at most this many (population, slot) groups scored: the largest
                             # populations, up to 4 slots each
FAST_PATH_BLOCK = 64         # neurons per block of the fast path (PC_BLOCK in _precise_fast.h)
# Networks with at most this many channels (neuron-receptor pairs) also keep the synapses'
# channels as uint16 (syn_chan16), for the loops that stream them.
CHAN16_LIMIT = 1 << 16


def split_delays(delay: np.ndarray, dt: float, field: str):
    """Delays as (whole steps >= 1, remainder in [0, dt)); on-grid delays get remainder 0 exactly."""
    d = np.asarray(delay, dtype=float)
    if d.size and (not np.isfinite(d).all() or (d < dt * (1 - _ir.GRID_TOLERANCE)).any()):
        bad = float(d[~np.isfinite(d) | (d < dt * (1 - _ir.GRID_TOLERANCE))][0])
        raise ValidationError(field, f"{bad!r} s", f"delays >= dt ({dt!r} s) in precise timing mode "
                                                    "(a spike must not reach its target within its own step)")
    ratio = d / dt
    k = np.rint(ratio)
    on_grid = np.abs(ratio - k) <= _ir.GRID_TOLERANCE
    steps = np.where(on_grid, k, np.floor(ratio)).astype(np.int64)
    rem = np.where(on_grid, 0.0, d - steps * dt)
    # floor(ratio) can be off by one ulp's worth at either end
    low = rem < 0
    steps[low] -= 1
    rem[low] += dt
    high = rem >= dt
    steps[high] += 1
    rem[high] -= dt
    steps = np.maximum(steps, 1)
    return steps, np.clip(rem, 0.0, np.nextafter(dt, 0))


def split_times(t: np.ndarray, dt: float):
    """Absolute times as (step n, offset in (0, dt]) with t = n*dt + offset; grid times t = k*dt
    give (k - 1, dt), the end of the step before, so on-grid input matches grid mode."""
    t = np.asarray(t, dtype=float)
    ratio = t / dt
    k = np.rint(ratio)
    on_grid = np.abs(ratio - k) <= _ir.GRID_TOLERANCE
    steps = np.where(on_grid, k - 1, np.ceil(ratio) - 1).astype(np.int64)
    off = np.where(on_grid, dt, t - steps * dt)
    return steps, np.clip(off, np.nextafter(0, 1), dt)


def _group_order(pre, offgrid, dsteps, chan, max_d: int, n_chan: int) -> np.ndarray:
    """Synapse order for the kernel's groups: by presynaptic index, then on-grid before
    off-grid delays, whole-step delay, channel (so a group's targets ascend in memory)."""
    inner = (offgrid * (max_d + 1) + dsteps) * max(n_chan, 1) + chan
    span = 2 * (max_d + 1) * max(n_chan, 1)
    if pre.size and (int(pre.max()) + 1) * span < 2**62:
        return np.argsort(pre * span + inner, kind="stable")
    return np.lexsort((inner, pre))


def uniform_drive(drive: np.ndarray, changed: np.ndarray, starts, sizes) -> np.ndarray:
    """Per population, 1 where its drive is one value for all its neurons, all run long (no
    current change reaches them): the fast path then takes it as a number instead of
    streaming the array."""
    moved = np.zeros(drive.size, bool)
    moved[changed] = True
    return np.array([int(n > 0 and np.all(drive[s0:s0 + n] == drive[s0]) and not moved[s0:s0 + n].any())
                     for s0, n in zip(starts, sizes)], np.int32)


def _placed(arr: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``arr`` whose first element lies ``offset`` bytes past a page boundary."""
    buf = np.empty(arr.nbytes + PAGE_BYTES, np.uint8)
    start = (offset - buf.ctypes.data) % PAGE_BYTES
    out = buf[start:start + arr.nbytes].view(arr.dtype)
    out[:] = arr
    return out


def _fast_path_streams(a: dict, ring_len: int) -> list:
    """Per population and ring slot, the streams one fast-path loop (_precise_fast.h) walks
    together, as (array, byte offset from the array's start) with array 0 = v, 1 = drive,
    2 = syn, 3 = acc. Slots whose acc offsets agree modulo a page count once; at most
    PLACEMENT_GROUPS groups, from the largest populations down, 4 slots each at most."""
    acc_slot = int(a["acc_slot"])
    residues = sorted({(8 * s * acc_slot) % PAGE_BYTES for s in range(ring_len)})
    residues = residues[::max(1, -(-len(residues) // 4))]
    groups = []
    pops = zip(a["pop_start"], a["pop_size"], a["pop_model"], a["pop_chan_start"], a["pop_n_rec"], a["pop_acc"])
    for start, size, model, c0, nr, pacc in sorted(pops, key=lambda p: -int(p[1])):
        start, size, c0, nr, pacc = int(start), int(size), int(c0), int(nr), int(pacc)
        fixed = [(0, 8 * start), (1, 8 * start)]
        if model == KIND_CURRENT:
            fixed += [(2, 8 * (c0 + r * size)) for r in range(nr)]
            acc_parts = [8 * k * size for k in range(2 + nr)]      # v sums, bound sums, syn sums
        else:
            acc_parts = [0]                                        # (pos, neg) pairs
        for res in residues:
            groups.append(fixed + [(3, res + 8 * pacc + x) for x in acc_parts])
    return groups[:PLACEMENT_GROUPS]


def place_fast_path_arrays(layout: PreciseLayout) -> None:
    """Copy v, drive and syn to addresses, and set the offsets of the acc ring and of the
    block flags (``layout.sums.acc_offset``, ``flags_offset``: bytes past a page boundary),
    such that the streams walked by one fast-path loop lie apart modulo a page (STREAM_GAPS;
    the best of PLACEMENT_CANDIDATES seeded offsets). Without this CUBA's precise run took
    0.055 to 0.085 s per simulated second by the heap's state when its arrays were
    allocated, with it 0.050 to 0.054 (12 processes each)."""
    groups = _fast_path_streams(layout.arrays(), layout.ring_len)
    rng = np.random.default_rng(0)
    cand = rng.integers(0, PAGE_BYTES // 64, size=(PLACEMENT_CANDIDATES, 4)) * 64
    cand[:, 0] = 0                                 # only the differences matter
    cost = np.zeros(PLACEMENT_CANDIDATES, np.int64)
    for grp in groups:
        arr = np.array([g[0] for g in grp])
        off = np.array([g[1] for g in grp], dtype=np.int64)
        addr = (cand[:, arr] + off) % PAGE_BYTES                      # (candidates, streams)
        d = np.abs(addr[:, :, None] - addr[:, None, :])
        d = np.minimum(d, PAGE_BYTES - d)
        iu = np.triu_indices(len(grp), 1)
        d = d[:, iu[0], iu[1]]
        for weight, gap in zip((1_000_000, 1_000, 1), STREAM_GAPS):
            cost += weight * (d < gap).sum(axis=1)
    best = cand[int(np.argmin(cost))]
    # the block's flags (PC_BLOCK int64, rewritten every block) meet a stream x whenever x has
    # advanced a multiple of their 512 bytes: keep (x - flags) away from 0 modulo 512
    window = 8 * FAST_PATH_BLOCK
    res = np.array([(best[g[0]] + g[1]) % window for grp in groups for g in grp], dtype=np.int64)
    f = np.arange(0, window, 8)
    d = np.abs(f[:, None] - res[None, :]) % window
    d = np.minimum(d, window - d)
    layout.sums.flags_offset = int(f[int(np.argmin((d < 64).sum(axis=1)))])
    layout.state.v = _placed(layout.state.v, int(best[0]))
    layout.currents.drive = _placed(layout.currents.drive, int(best[1]))
    layout.state.syn = _placed(layout.state.syn, int(best[2]))
    layout.sums.acc_offset = int(best[3])


@dataclass
class SortedSynapses:
    """The synapses in the kernel's order (_group_order): presynaptic index, channel,
    whole-step delay, remainder in [0, dt) and whether it is off the grid; per group of
    the CSR its smallest and largest weight; the longest whole-step delay. (Setup only:
    the kernel gets SynapseTables.)"""
    pre: np.ndarray
    chan: np.ndarray
    steps: np.ndarray
    rem: np.ndarray
    offgrid: np.ndarray
    gmin: np.ndarray
    gmax: np.ndarray
    max_delay: int


class PreciseSimulator(Simulator):
    """A compiled network for the native engine in precise-timing mode. The constructor lays
    the network out in named stages, each returning a typed record
    (spikecore.engine.precise_records) that later stages and the kernel read; ``arrays`` is
    the same data by flat name, for the Simulator base."""

    def __init__(self, g: _ir.IRGraph):
        refuse_plastic(g, "native --timing precise", "plastic projections run in grid timing (and on brian2)")
        self.ir = g
        self.dt = dt = float(g.dt)
        self.layout = lay = NetLayout.from_ir(g)
        pops = list(g.populations.values())
        self.models = [model_for(p.model, "precise", f"population {p.name}") for p in pops]
        for p in pops:
            per_neuron = sorted(k for k, x in p.params.items() if np.ndim(x) and k not in PRECISE_PER_NEURON)
            if per_neuron:
                raise UnsupportedFeature("native --timing precise", f"per-neuron {', '.join(per_neuron)} "
                                         f"(population {p.name})", "precise timing takes per-neuron values of "
                                         + ", ".join(sorted(PRECISE_PER_NEURON)) + " only; use timing='grid'")
            if len(p.receptors) > MAX_RECEPTORS:
                raise UnsupportedFeature("native", f"{len(p.receptors)} receptors on population {p.name}",
                                         f"precise timing holds at most {MAX_RECEPTORS}")
        self.pops, self.pop_index, self.channel_of, self.pre_base = pops, lay.pop_index, lay.channel_of, lay.pre_base
        populations = self._lay_out_populations()
        receptors, sums, channels = self._lay_out_receptors(populations)
        state = self._lay_out_state()
        synapses, sorted_syn = self._lay_out_synapses(channels)
        poisson_synapses = self._lay_out_poisson_synapses(channels, synapses, sorted_syn)
        dale = self._lay_out_dale(populations, receptors, synapses, sorted_syn, state, channels.n_receptors)
        single_poisson = self._lay_out_single_poisson_targets(receptors, sums, synapses, sorted_syn)
        off_grid = self._lay_out_off_grid_delays(receptors, channels, sorted_syn)
        spike_sources = self._lay_out_spike_sources()
        currents = self._lay_out_currents(populations)
        poisson = self._lay_out_poisson_sources()
        # state recording (on the grid)
        rec, self.rec_layout = state_recording(g, dt, self.pop_index, populations.start, self.channel_of)
        recording = StateRecording(rec["rec_kind"], rec["rec_idx"], rec["rec_every"])
        self.records = PreciseLayout(
            dt=dt, ring_len=self.ring_len, pops=populations, receptors=receptors, sums=sums, channels=channels,
            state=state, synapses=synapses, off_grid=off_grid, poisson_synapses=poisson_synapses, dale=dale,
            single_poisson=single_poisson, spike_sources=spike_sources, currents=currents, poisson=poisson,
            recording=recording)
        place_fast_path_arrays(self.records)
        self.arrays = self.records.arrays()
        self.kernel = PreciseKernel(self.records)
        self.n_neurons = lay.n_neurons
        self.n_synapses = int(synapses.weight.size)
        self.step = 0

    # -- layout stages ----------------------------------------------------------------
    def _lay_out_populations(self) -> PopulationTables:
        """Per population: the kernel's algorithm (KIND_*), threshold, reset, membrane decay,
        refractory period as whole steps + remainder."""
        dt, lay, pops, models = self.dt, self.layout, self.pops, self.models
        kinds = [KIND_CURRENT if m.has_synaptic_state else KIND_JUMP for m in models]
        tm = np.array([m.tau_mem(p.params) for m, p in zip(models, pops)])
        # refractory period as whole steps + remainder, like a delay (0 stays 0)
        ref_steps, ref_rem = [], []
        for p in pops:
            t_ref = float(p.params["t_refrac"])
            if t_ref <= 0:
                ref_steps.append(0)
                ref_rem.append(0.0)
                continue
            ratio = t_ref / dt
            k = round(ratio)
            if abs(ratio - k) <= _ir.GRID_TOLERANCE:
                ref_steps.append(k)
                ref_rem.append(0.0)
            else:
                ref_steps.append(math.floor(ratio))
                ref_rem.append(min(max(t_ref - math.floor(ratio) * dt, 0.0), np.nextafter(dt, 0)))
        return PopulationTables(
            model=np.array(kinds, dtype=np.int32), start=lay.pop_start, size=lay.pop_size, n_rec=lay.pop_n_rec,
            rec_start=lay.pop_rec_start, chan_start=lay.pop_chan_start,
            vth=np.array([p.params["v_threshold"] for p in pops]),
            vreset=np.array([p.params["v_reset"] for p in pops]), tm=tm, am=np.exp(-dt / tm),
            ref_steps=np.array(ref_steps, dtype=np.int64), ref_rem=np.array(ref_rem, dtype=float))

    def _lay_out_receptors(self, populations: PopulationTables):
        """The distinct time constants (tau_u), per receptor its kernel coefficients and place in
        the fast path's sums, per channel its receptor. Returns (ReceptorTables, SumLayout,
        ChannelTables)."""
        dt, lay, pops, models = self.dt, self.layout, self.pops, self.models
        kinds = populations.model
        sizes, n_rec = lay.pop_size, lay.pop_n_rec
        # distinct time constants: one exp per spike and tau when events are queued
        taus = sorted({float(t) for t in populations.tm}
                      | {rp["tau_syn"] for k, p in zip(kinds, pops) if k == KIND_CURRENT for rp in p.receptors.values()})
        if dt / min(taus) > MAX_DT_OVER_TAU:
            raise UnsupportedFeature("native", f"dt {dt!r} s with a time constant of {min(taus)!r} s in precise "
                                     "timing mode", f"dt must be below {MAX_DT_OVER_TAU:g} time constants")
        tau_index = {t: k for k, t in enumerate(taus)}
        tau_u = np.array(taus, dtype=float)

        rec_tk, rec_ak, rec_coef_h, rec_kmax, rec_ck, rec_delta, rec_near = [], [], [], [], [], [], []
        rec_um, rec_uk, rec_model, rec_vstride, rec_voff, rec_pstep, rec_soff = [], [], [], [], [], [], []
        # fast-path sums, per step slot one region per population (_precise_fast.h): jumps
        # (w*F_v, positive w) pairs by neuron; currents [w*F_v][positive w*Kmax][w*F_syn by receptor]
        pop_acc = []
        acc_slot = 0
        C = lay.n_channels
        chan_neuron = np.zeros(C, np.int32)
        chan_rec = np.full(C, -1, np.int32)
        chan_um = np.zeros(C, np.int32)
        chan_uk = np.zeros(C, np.int32)
        rec_global = 0
        for k, (p, m, kind, s0) in enumerate(zip(pops, models, kinds, populations.start)):
            tm = float(populations.tm[k])
            for r, (rname, rp) in enumerate(p.receptors.items()):
                first = lay.channel_of[(p.name, rname)]
                sl = slice(first, first + p.size)
                chan_neuron[sl] = np.arange(s0, s0 + p.size)
                chan_um[sl] = tau_index[tm]
                if kind == KIND_CURRENT:
                    tk = rp["tau_syn"]
                    chan_rec[sl] = rec_global
                    chan_uk[sl] = tau_index[tk]
                    rec_tk.append(tk)
                    rec_ak.append(m.receptor_decay(rp, dt))
                    rec_coef_h.append(float(m.synaptic_kernel(dt, p.params, rp)))
                    rec_kmax.append(m.kernel_peak(dt, p.params, rp))
                    near = abs(tk - tm) <= NEAR_TAU_FRACTION * tm
                    rec_near.append(1 if near else 0)
                    rec_ck.append(0.0 if near else tk / (tk - tm))
                    rec_delta.append(tk - tm)
                else:
                    chan_uk[sl] = tau_index[tm]
                    # the v jump's receptor: kernel peak 1 (a jump of w bounds v by w)
                    rec_tk.append(tm)
                    rec_ak.append(0.0)
                    rec_coef_h.append(0.0)
                    rec_kmax.append(1.0)
                    rec_near.append(0)
                    rec_ck.append(0.0)
                    rec_delta.append(0.0)
                rec_um.append(tau_index[tm])
                rec_uk.append(int(chan_uk[first]) if p.size else tau_index[tm])
                rec_model.append(kind)
                if kind == KIND_JUMP:                  # pairs: v at base + 2*local, p next to it
                    rec_vstride.append(2)
                    rec_voff.append(acc_slot - 2 * first)
                    rec_pstep.append(1)
                    rec_soff.append(0)
                else:
                    rec_vstride.append(1)
                    rec_voff.append(acc_slot - first)
                    rec_pstep.append(p.size)
                    rec_soff.append(acc_slot + (2 + r) * p.size - first)
                rec_global += 1
            pop_acc.append(acc_slot)
            acc_slot += (2 if kind == KIND_JUMP else 2 + len(p.receptors)) * p.size
        floats = (np.array(x, dtype=float) for x in (rec_tk, rec_ak, rec_coef_h, rec_kmax, rec_ck, rec_delta))
        ints = (np.array(x, dtype=np.int32) for x in (rec_near, rec_um, rec_uk, rec_model))
        receptors = ReceptorTables(tau_u, np.exp(-dt / tau_u), *floats, *ints)
        sums = SumLayout(acc_slot, np.array(pop_acc, dtype=np.int64),
                         *(np.array(x, dtype=np.int64) for x in (rec_vstride, rec_voff, rec_pstep, rec_soff)))
        # receptor (global index) of every channel, whatever the model
        chan_block = np.repeat(np.arange(rec_global, dtype=np.int64),
                               np.repeat(sizes, n_rec)) if rec_global else np.zeros(0, np.int64)
        return receptors, sums, ChannelTables(chan_neuron, chan_um, chan_uk, chan_block, chan_rec, rec_global)

    def _lay_out_state(self) -> NeuronState:
        """v, the receptor variables (syn, by channel) and the refractory ends."""
        lay = self.layout
        N, P = lay.n_neurons, len(self.pops)
        v, syn = lay.initial_state(self.ir)
        return NeuronState(v=v, syn=syn, ref_end_step=np.full(N, NO_REFRACTORY_STEP, dtype=np.int64),
                           ref_end_off=np.zeros(N),
                           neuron_pop=np.repeat(np.arange(P, dtype=np.int32), lay.pop_size))

    def _lay_out_synapses(self, channels: ChannelTables):
        """The synapses as a CSR by presynaptic index, cut into groups of one receptor and one
        whole-step delay, delays split into steps + remainder. Returns (SynapseTables,
        SortedSynapses)."""
        g, dt, lay = self.ir, self.dt, self.layout
        C = lay.n_channels
        # presynaptic index space: neurons, spike-source neurons, Poisson neurons
        n_pre = lay.n_pre

        # synapses -> CSR by presynaptic index, delays split into steps + remainder
        pres, chans_, ws, dsteps, rems = [], [], [], [], []
        max_d = 1
        for e in g.projections.values():
            if e.post not in self.pop_index:
                raise ValidationError(f"projections.{e.name}.post", e.post, "a population")
            st, rem = split_delays(e.delay, dt, f"projections.{e.name}.delay")
            if st.size:
                max_d = max(max_d, int(st.max()))
            pres.append(self.pre_base[e.pre] + np.asarray(e.i, dtype=np.int64))
            chans_.append(self.channel_of[(e.post, e.receptor)] + np.asarray(e.j, dtype=np.int64))
            ws.append(np.asarray(e.weight, dtype=float))
            dsteps.append(st)
            rems.append(rem)
        if pres:
            pre = np.concatenate(pres)
            chan_all = np.concatenate(chans_)
            st_all = np.concatenate(dsteps)
            rem_all = np.concatenate(rems)
            order = _group_order(pre, (rem_all != 0).astype(np.int64), st_all, chan_all, max_d, C)
            pre = pre[order]
            syn_chan = chan_all[order]
            weight = np.concatenate(ws)[order]
            st = st_all[order]
            rem = rem_all[order]
        else:
            pre = np.zeros(0, np.int64)
            syn_chan = np.zeros(0, np.int64)
            weight = np.zeros(0)
            st = np.zeros(0, np.int64)
            rem = np.zeros(0)
        if weight.size >= 2**31 or C >= 2**31:
            raise UnsupportedFeature("native", f"{weight.size} synapses in precise timing mode",
                                     "queued events hold 32-bit synapse and channel indices")
        # groups: runs of synapses with the same presynaptic index, target receptor and
        # whole-step delay (synapses with off-grid delays: by presynaptic index and receptor)
        offgrid = rem != 0
        block = channels.block[syn_chan]
        if pre.size:
            cut = np.flatnonzero((pre[1:] != pre[:-1]) | (block[1:] != block[:-1]) | (offgrid[1:] != offgrid[:-1])
                                 | (~offgrid[1:] & (st[1:] != st[:-1]))) + 1
            gs = np.concatenate([[0], cut]).astype(np.int64)
        else:
            gs = np.zeros(0, np.int64)
        gmin = np.minimum.reduceat(weight, gs) if gs.size else np.zeros(0)
        gmax = np.maximum.reduceat(weight, gs) if gs.size else np.zeros(0)
        tables = SynapseTables(
            pre_grp=np.searchsorted(pre[gs], np.arange(n_pre + 1), side="left").astype(np.int64),
            grp_start=np.concatenate([gs, [pre.size]]).astype(np.int64),
            grp_dsteps=st[gs].astype(np.int32), grp_offgrid=offgrid[gs].astype(np.int32),
            grp_rec=block[gs].astype(np.int32), grp_w=np.where(gmin == gmax, gmin, np.nan),
            chan=syn_chan.astype(np.int32),
            # with at most 2^16 channels the loops that stream synapse rows (on-grid delivery,
            # its prefetches, the slow path's scan) read this copy: half the bytes per synapse
            chan16=syn_chan.astype(np.uint16) if C <= CHAN16_LIMIT else np.zeros(0, np.uint16),
            weight=weight, dsteps=st.astype(np.int32))
        return tables, SortedSynapses(pre, syn_chan, st, rem, offgrid, gmin, gmax, max_d)

    def _lay_out_poisson_synapses(self, channels: ChannelTables, synapses: SynapseTables,
                                  sorted_syn: SortedSynapses) -> PoissonSynapses:
        """The Poisson synapses by target neuron, with their source (the exact replay redraws them)."""
        pre, syn_chan, st, rem = sorted_syn.pre, sorted_syn.chan, sorted_syn.steps, sorted_syn.rem
        N, pois_base = self.layout.n_neurons, self.layout.pois_base
        ps = np.flatnonzero(pre >= pois_base)
        tgt = channels.neuron[syn_chan[ps]] if ps.size else np.zeros(0, np.int64)
        by = np.argsort(tgt, kind="stable")
        pin_syn = ps[by].astype(np.int64)
        return PoissonSynapses(
            ptr=np.concatenate([[0], np.cumsum(np.bincount(tgt, minlength=N))]).astype(np.int64),
            syn=pin_syn, src=(pre[ps] - pois_base)[by].astype(np.int32),
            chan=syn_chan[pin_syn].astype(np.int32), dsteps=st[pin_syn].astype(np.int32),
            w=synapses.weight[pin_syn], rem=rem[pin_syn])

    def _lay_out_dale(self, populations: PopulationTables, receptors: ReceptorTables, synapses: SynapseTables,
                      sorted_syn: SortedSynapses, state: NeuronState, rec_global: int) -> DaleBounds:
        """Per population the bound on its positive input (pop_pos_gain) and, for current
        synapses under Dale's law, which receptor is the excitatory one (pop_dale, rec_dale)."""
        dt, pops, syn = self.dt, self.pops, state.syn
        P, n_rec = len(pops), self.layout.pop_n_rec
        kinds = populations.model
        gmin, gmax = sorted_syn.gmin, sorted_syn.gmax
        # cuba populations under Dale's law: one receptor never negative, one never positive
        wmin = np.full(rec_global, np.inf)
        wmax = np.full(rec_global, -np.inf)
        np.minimum.at(wmin, synapses.grp_rec, gmin)
        np.maximum.at(wmax, synapses.grp_rec, gmax)
        pop_dale = np.full(P, -1, np.int32)
        pop_pos_gain = np.zeros(P)
        for k, (p, c0) in enumerate(zip(pops, populations.chan_start)):
            if kinds[k] == KIND_JUMP:
                # e^{dt/tau_m} rounded up bounds the positive jumps by their sum (pc_delta_block)
                pop_pos_gain[k] = math.exp(dt / populations.tm[k]) * (1 + 1e-12)
            if kinds[k] != KIND_CURRENT or len(p.receptors) != 2:
                continue
            r0 = int(populations.rec_start[k])
            init = [syn[int(c0) + r * p.size:int(c0) + (r + 1) * p.size] for r in range(2)]
            pos = [wmin[r0 + r] >= 0 and (init[r] >= 0).all() for r in range(2)]
            neg = [wmax[r0 + r] <= 0 and (init[r] <= 0).all() for r in range(2)]
            for r in range(2):
                if pos[r] and neg[1 - r]:
                    pop_dale[k] = r
                    # Kmax e^{dt/tau} bounds the weight behind a unit of acc_s; rounded up
                    pop_pos_gain[k] = receptors.kmax[r0 + r] * math.exp(dt / receptors.tk[r0 + r]) * (1 + 1e-12)
                    break
        return DaleBounds(pop_dale, pop_pos_gain, np.repeat((pop_dale >= 0).astype(np.int32), n_rec))

    def _lay_out_single_poisson_targets(self, receptors: ReceptorTables, sums: SumLayout, synapses: SynapseTables,
                                        sorted_syn: SortedSynapses) -> SinglePoissonTargets:
        """Poisson sources with a single on-grid synapse onto a voltage-jump neuron skip _scatter."""
        pre, syn_chan, st = sorted_syn.pre, sorted_syn.chan, sorted_syn.steps
        n_pois, pois_base = self.layout.n_pois, self.layout.pois_base
        s = synapses
        ps_target = np.full(n_pois, -1, np.int64)
        ps_weight, ps_dsteps, ps_um = np.zeros(n_pois), np.zeros(n_pois, np.int32), np.zeros(n_pois, np.int32)
        if n_pois and pre.size:
            first = s.pre_grp[pois_base:pois_base + n_pois]
            one = (s.pre_grp[pois_base + 1:pois_base + n_pois + 1] - first) == 1
            g1 = first[one]
            single = one.copy()
            single[one] = ((s.grp_start[g1 + 1] - s.grp_start[g1]) == 1) & (s.grp_offgrid[g1] == 0) \
                & (receptors.model[s.grp_rec[g1]] == KIND_JUMP)
            g1 = first[single]
            s1 = s.grp_start[g1]
            # the index of the target's (w*F_v, positive w) pair in an acc slot
            b1 = s.grp_rec[g1]
            ps_target[single] = syn_chan[s1] * sums.vstride[b1] + sums.voff[b1]
            ps_weight[single] = s.weight[s1]
            ps_dsteps[single] = st[s1]
            ps_um[single] = receptors.um[s.grp_rec[g1]]
        return SinglePoissonTargets(ps_target, ps_weight, ps_dsteps, ps_um)

    def _lay_out_off_grid_delays(self, receptors: ReceptorTables, channels: ChannelTables,
                                 sorted_syn: SortedSynapses) -> OffGridDelays:
        """The factors exp(rem/tau) of off-grid delays, and the event ring's length."""
        syn_chan, rem, offgrid = sorted_syn.chan, sorted_syn.rem, sorted_syn.offgrid
        max_d = sorted_syn.max_delay
        if rem.size and offgrid.any():
            # exp(rem/tau) of the target's tau_mem and tau_syn: the factor of an off-grid delay
            tau_u = receptors.tau_u
            out = OffGridDelays(rem, np.exp(rem / tau_u[channels.um[syn_chan]]),
                                np.exp(rem / tau_u[channels.uk[syn_chan]]))
            self.off_grid_delays = int(offgrid.sum())
        else:
            out = OffGridDelays(np.zeros(0), np.zeros(0), np.zeros(0))
            self.off_grid_delays = 0
        if max_d > 2**20:
            raise UnsupportedFeature("native", f"delays of {max_d} steps", "the event ring would not fit; use a larger dt")
        # arrival step <= emission step + max_d + 1 (remainder carry)
        self.ring_len = max_d + 2
        return out

    def _lay_out_spike_sources(self) -> SpikeSourceEvents:
        """Spike-source spikes at their exact times."""
        g, dt = self.ir, self.dt
        ev_step, ev_off, ev_pre = [], [], []
        for s in g.spike_sources.values():
            st, off = split_times(s.times, dt)
            ev_step.append(st)
            ev_off.append(off)
            ev_pre.append(self.pre_base[s.name] + np.asarray(s.indices, dtype=np.int64))
        if ev_step:
            st, off, pr = np.concatenate(ev_step), np.concatenate(ev_off), np.concatenate(ev_pre)
            order = np.lexsort((pr, off, st))
            return SpikeSourceEvents(st[order], off[order], pr[order].astype(np.int32))
        return SpikeSourceEvents(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int32))

    def _lay_out_currents(self, populations: PopulationTables) -> InjectedCurrents:
        """Injected currents: the model's drive (v_leak + r*I for the LIF models) at t = 0, then
        exact change events."""
        g, dt, pops, models = self.ir, self.dt, self.pops, self.models
        drives = [m.drive(p.params) for m, p in zip(models, pops)]     # (value, gain per ampere)
        drive = np.concatenate([np.full(p.size, d0) for (d0, _), p in zip(drives, pops)]).astype(float)
        d_step, d_off, d_neuron, d_delta = [], [], [], []
        for c in g.currents.values():
            k = self.pop_index[c.target]
            neurons = int(populations.start[k]) + np.asarray(c.neurons, dtype=np.int64)
            amps = np.asarray(c.amplitudes, dtype=float) * drives[k][1]
            times = np.asarray(c.times, dtype=float)
            jumps = np.diff(np.concatenate([[0.0], amps]))
            at_start = times <= _ir.GRID_TOLERANCE * dt
            if at_start.any():
                drive[neurons] += jumps[at_start].sum()
            later = ~at_start
            if later.any():
                st, off = split_times(times[later], dt)
                for s_, o_, j_ in zip(st, off, jumps[later]):
                    d_step.append(np.full(neurons.size, s_, np.int64))
                    d_off.append(np.full(neurons.size, o_))
                    d_neuron.append(neurons)
                    d_delta.append(np.full(neurons.size, j_))
        if d_step:
            st, off = np.concatenate(d_step), np.concatenate(d_off)
            nr, dl = np.concatenate(d_neuron), np.concatenate(d_delta)
            order = np.lexsort((off, nr, st))
            st, off, nr, dl = st[order], off[order], nr[order].astype(np.int32), dl[order]
        else:
            st, off, nr, dl = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int32), np.zeros(0)
        return InjectedCurrents(drive, st, off, nr, dl,
                                uniform_drive(drive, nr, populations.start, populations.size))

    def _lay_out_poisson_sources(self) -> PoissonSources:
        """The Poisson sources' count tables and exact windows, and the key of their offsets' stream."""
        g, dt, lay = self.ir, self.dt, self.layout
        pois = list(g.poisson_sources.values())
        # grid-mode counts from the IR's stream, exact window in the kernel
        start = np.concatenate([np.full(s.size, float(s.start)) for s in pois]) if pois else np.zeros(0)
        stop = np.concatenate([np.full(s.size, float(s.stop)) for s in pois]) if pois else np.zeros(0)
        seeds = [int(s.seed) for s in pois] or [int(g.seed)]
        key = np.random.SeedSequence(seeds + [POISSON_OFFSET_SALT]).generate_state(4, np.uint64)
        return PoissonSources(lay.pois_base, lay.n_pois, start, stop, **poisson_layout(pois, dt), offset_key=key)

    # -- running --------------------------------------------------------------------
    def _new_spike_buffer(self) -> SpikeBuffer:
        return SpikeBuffer(1024, offsets=True)

    def _advance(self, n: int, stop: int, spikes: SpikeBuffer, rec: Recording):
        self.kernel.run(n, stop, rec.out, rec.pos)
        steps, offs, idx = self.kernel.take_spikes()
        spikes.extend(steps, idx, offs)

    def _ordered_spikes(self, spikes: SpikeBuffer):
        steps, offs, idx = spikes.steps, spikes.offsets, spikes.indices
        times = steps * self.dt + offs
        # by time, then index. The kernel orders each step's spikes so (_sort_step_spikes),
        # so the order only needs checking; rounding in steps * dt + offs can still tie or
        # swap two spikes of neighbouring steps, and then they are sorted here
        dtime, didx = np.diff(times), np.diff(idx)
        if ((dtime < 0) | ((dtime == 0) & (didx < 0))).any():
            order = np.lexsort((idx, times))
            steps, offs, idx = steps[order], offs[order], idx[order]
        return steps, idx, offs
