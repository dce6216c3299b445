"""What the precise-timing kernel is given: one typed record per layout stage.

spikecore.engine.precise lays an IR out in named stages; each returns one of these
records, and ``PreciseLayout`` holds them all. ``PreciseKernel(layout)``
(_precise.pyx) reads the records' attributes into its typed memoryviews: no
name-keyed table crosses from the setup into the kernel, so a misspelt or missing
array is an AttributeError at the constructor, and a field's type and meaning are
written once, here. Indices: neurons are numbered across populations, channels (one
receptor of one neuron) by population then receptor then neuron, receptors across
populations, presynaptic indices are neurons, then spike-source neurons, then Poisson
neurons (spikecore.engine.layout.NetLayout).

``PreciseLayout.arrays()`` is the same data by the flat names the Simulator base,
run control and the tests read (``v``, ``syn``, ``rec_every``, ...): a view on the
records' arrays, not a copy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PopulationTables:
    """Per population: its algorithm (precise.KIND_*), neuron and channel range, receptor
    range, threshold, reset, membrane time constant and decay over a step, refractory
    period as whole steps + remainder."""
    model: np.ndarray        # int32
    start: np.ndarray        # int64, first neuron
    size: np.ndarray         # int64
    n_rec: np.ndarray        # int64
    rec_start: np.ndarray    # int64, first receptor (global numbering)
    chan_start: np.ndarray   # int64, first channel
    vth: np.ndarray
    vreset: np.ndarray
    tm: np.ndarray
    am: np.ndarray           # exp(-dt/tm)
    ref_steps: np.ndarray    # int64
    ref_rem: np.ndarray      # in [0, dt)


@dataclass
class ReceptorTables:
    """The distinct time constants (tau_u and exp(-dt/tau_u)) and per receptor (global
    numbering) its synaptic kernel: tau_syn (tau_mem for voltage jumps), decay and kernel
    value over a step, kernel peak, the coefficients of the kernel's formula (near: the
    expm1 form, tau_syn close to tau_mem), indices in tau_u of its membrane's and synapse's
    constants, the population's algorithm."""
    tau_u: np.ndarray
    tau_hdecay: np.ndarray
    tk: np.ndarray
    ak: np.ndarray
    coef_h: np.ndarray
    kmax: np.ndarray
    ck: np.ndarray
    delta: np.ndarray
    near: np.ndarray         # int32
    um: np.ndarray           # int32
    uk: np.ndarray           # int32
    model: np.ndarray        # int32


@dataclass
class SumLayout:
    """Where the fast path's sums lie in one step slot of the acc ring (_precise_fast.h):
    ``slot`` doubles per slot, each population's region from ``pop_acc``; per receptor,
    w*F_v of channel c at c*vstride + voff, positive w at that + pstep, w*F_syn at
    c + soff. ``acc_offset`` and ``flags_offset``: bytes past a page boundary at which the
    ring and the block flags start (precise.place_fast_path_arrays)."""
    slot: int
    pop_acc: np.ndarray      # int64
    vstride: np.ndarray      # int64
    voff: np.ndarray         # int64
    pstep: np.ndarray        # int64
    soff: np.ndarray         # int64
    acc_offset: int = 0
    flags_offset: int = 0


@dataclass
class ChannelTables:
    """Per channel: its neuron, the indices in tau_u of its membrane's and its synapse's
    time constant (the membrane's for voltage jumps), its receptor in the global numbering
    (``block``, every model; ``rec``, current synapses only, else -1)."""
    neuron: np.ndarray       # int32
    um: np.ndarray           # int32
    uk: np.ndarray           # int32
    block: np.ndarray        # int64
    rec: np.ndarray          # int32
    n_receptors: int


@dataclass
class NeuronState:
    """What a run changes per neuron and channel: v, the synaptic variables (by channel),
    the end of the refractory period (step, offset; NO_REFRACTORY_STEP: none); and each
    neuron's population."""
    v: np.ndarray
    syn: np.ndarray
    ref_end_step: np.ndarray  # int64
    ref_end_off: np.ndarray
    neuron_pop: np.ndarray    # int32


@dataclass
class SynapseTables:
    """The synapses as a CSR by presynaptic index (pre_grp: its range of groups), each row
    cut into groups of one target receptor and one whole-step delay (off-grid delays in
    groups of their own): per group its synapse range, delay, whether off the grid, its
    receptor and its weight (NaN where its synapses' weights differ); per synapse its
    channel (also as uint16 where there are at most 2^16 channels, else empty), weight and
    whole-step delay."""
    pre_grp: np.ndarray      # int64
    grp_start: np.ndarray    # int64
    grp_dsteps: np.ndarray   # int32
    grp_offgrid: np.ndarray  # int32
    grp_rec: np.ndarray      # int32
    grp_w: np.ndarray
    chan: np.ndarray         # int32
    chan16: np.ndarray       # uint16
    weight: np.ndarray
    dsteps: np.ndarray       # int32


@dataclass
class OffGridDelays:
    """Per synapse (all empty when every delay is on the grid): the delay's remainder in
    [0, dt) and exp(rem/tau) of its target's membrane and synapse."""
    rem: np.ndarray
    gm: np.ndarray
    gk: np.ndarray


@dataclass
class PoissonSynapses:
    """The Poisson synapses by target neuron (``ptr``: each neuron's range), for the exact
    replay to redraw their spikes: synapse, source (among the Poisson neurons), channel,
    whole-step delay, weight, delay remainder."""
    ptr: np.ndarray          # int64
    syn: np.ndarray          # int64
    src: np.ndarray          # int32
    chan: np.ndarray         # int32
    dsteps: np.ndarray       # int32
    w: np.ndarray
    rem: np.ndarray


@dataclass
class DaleBounds:
    """Per population the bound factor of its positive input per unit of its sum and, for
    current synapses under Dale's law, its excitatory receptor (0 or 1; -1: none); per
    receptor 1 where it belongs to such a population (no positive-weight sum)."""
    pop_dale: np.ndarray     # int32
    pop_pos_gain: np.ndarray
    rec_dale: np.ndarray     # int32


@dataclass
class SinglePoissonTargets:
    """Per Poisson neuron with one on-grid synapse onto a voltage-jump neuron: the acc index
    of its target's pair (-1: the general scatter), weight, whole-step delay, tau index."""
    target: np.ndarray       # int64
    weight: np.ndarray
    dsteps: np.ndarray       # int32
    um: np.ndarray           # int32


@dataclass
class SpikeSourceEvents:
    """Spike-source spikes at their exact times, sorted: step, offset, presynaptic index."""
    step: np.ndarray         # int64
    off: np.ndarray
    pre: np.ndarray          # int32


@dataclass
class InjectedCurrents:
    """The drive per neuron at t = 0 (changed by the run), its later changes sorted by
    (step, neuron, offset), and per population 1 where its drive is one value all run long."""
    drive: np.ndarray
    step: np.ndarray         # int64
    off: np.ndarray
    neuron: np.ndarray       # int32
    delta: np.ndarray
    pop_uniform: np.ndarray  # int32


@dataclass
class PoissonSources:
    """The Poisson neurons (presynaptic indices from ``base``, ``n`` of them): their exact
    windows (start, stop in s), the count stream (spikecore.engine.layout.poisson_layout:
    per node first neuron, size, seed, shared table and its length; per neuron its table;
    the tables) and the four words that key the stream of their offsets."""
    base: int
    n: int
    start: np.ndarray
    stop: np.ndarray
    pn_first: np.ndarray     # int64
    pn_size: np.ndarray      # int64
    pn_seed: np.ndarray      # uint64
    pn_toff: np.ndarray      # int64
    pn_tlen: np.ndarray      # int32
    pt_off: np.ndarray       # int64
    pt_len: np.ndarray       # int32
    cdf: np.ndarray
    offset_key: np.ndarray   # 4 x uint64


@dataclass
class StateRecording:
    """The state monitors' entries (spikecore.engine.layout.state_recording): kind (v or
    syn), neuron or channel, sampling period in steps."""
    kind: np.ndarray         # int32
    idx: np.ndarray          # int64
    every: np.ndarray        # int64


@dataclass
class PreciseLayout:
    """Everything the kernel is given, by stage."""
    dt: float
    ring_len: int            # steps in the event ring: the longest delay + 2
    pops: PopulationTables
    receptors: ReceptorTables
    sums: SumLayout
    channels: ChannelTables
    state: NeuronState
    synapses: SynapseTables
    off_grid: OffGridDelays
    poisson_synapses: PoissonSynapses
    dale: DaleBounds
    single_poisson: SinglePoissonTargets
    spike_sources: SpikeSourceEvents
    currents: InjectedCurrents
    poisson: PoissonSources
    recording: StateRecording

    def arrays(self) -> dict:
        """The records' arrays by their flat names (a view: the kernel changes v, syn,
        drive and the refractory ends in place)."""
        pp, r, su, ch, st, sy = self.pops, self.receptors, self.sums, self.channels, self.state, self.synapses
        og, pin, dl, ps = self.off_grid, self.poisson_synapses, self.dale, self.single_poisson
        ev, cu, po, rc = self.spike_sources, self.currents, self.poisson, self.recording
        return {
            "pop_model": pp.model, "pop_start": pp.start, "pop_size": pp.size, "pop_n_rec": pp.n_rec,
            "pop_rec_start": pp.rec_start, "pop_chan_start": pp.chan_start, "pop_vth": pp.vth,
            "pop_vreset": pp.vreset, "pop_tm": pp.tm, "pop_am": pp.am, "pop_ref_steps": pp.ref_steps,
            "pop_ref_rem": pp.ref_rem,
            "tau_u": r.tau_u, "tau_hdecay": r.tau_hdecay, "rec_tk": r.tk, "rec_ak": r.ak,
            "rec_coef_h": r.coef_h, "rec_kmax": r.kmax, "rec_ck": r.ck, "rec_delta": r.delta,
            "rec_near": r.near, "rec_um": r.um, "rec_uk": r.uk, "rec_model": r.model,
            "acc_slot": su.slot, "pop_acc": su.pop_acc, "rec_vstride": su.vstride, "rec_voff": su.voff,
            "rec_pstep": su.pstep, "rec_soff": su.soff, "acc_offset": su.acc_offset,
            "flags_offset": su.flags_offset,
            "chan_rec": ch.rec,
            "v": st.v, "syn": st.syn, "ref_end_step": st.ref_end_step, "ref_end_off": st.ref_end_off,
            "neuron_pop": st.neuron_pop,
            "pre_grp": sy.pre_grp, "grp_start": sy.grp_start, "grp_dsteps": sy.grp_dsteps,
            "grp_offgrid": sy.grp_offgrid, "grp_rec": sy.grp_rec, "grp_w": sy.grp_w, "syn_chan": sy.chan,
            "syn_chan16": sy.chan16, "syn_weight": sy.weight, "syn_dsteps": sy.dsteps,
            "syn_rem": og.rem, "syn_gm": og.gm, "syn_gk": og.gk,
            "pin_ptr": pin.ptr, "pin_syn": pin.syn, "pin_src": pin.src, "pin_chan": pin.chan,
            "pin_dsteps": pin.dsteps, "pin_w": pin.w, "pin_rem": pin.rem,
            "pop_dale": dl.pop_dale, "pop_pos_gain": dl.pop_pos_gain, "rec_dale": dl.rec_dale,
            "ps_target": ps.target, "ps_weight": ps.weight, "ps_dsteps": ps.dsteps, "ps_um": ps.um,
            "ev_step": ev.step, "ev_off": ev.off, "ev_pre": ev.pre,
            "drive": cu.drive, "drv_step": cu.step, "drv_off": cu.off, "drv_neuron": cu.neuron,
            "drv_delta": cu.delta, "pop_drive_uniform": cu.pop_uniform,
            "pois_base": po.base, "n_pois": po.n, "pois_start": po.start, "pois_stop": po.stop,
            "pn_first": po.pn_first, "pn_size": po.pn_size, "pn_seed": po.pn_seed, "pn_toff": po.pn_toff,
            "pn_tlen": po.pn_tlen, "pt_off": po.pt_off, "pt_len": po.pt_len, "cdf": po.cdf,
            "rec_kind": rc.kind, "rec_idx": rc.idx, "rec_every": rc.every,
        }
