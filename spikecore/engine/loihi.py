"""The native engine's Loihi mode: Lava's bit-accurate fixed-point LIF network, at native speed.

``LoihiSimulator(ir)`` takes IR whose populations are of model ``loihi_lif``, as the
Loihi profile's quantization pass (hwmodels.loihi.quantize) writes it -- the IR the
Lava backend runs with ``format="fixed"`` -- applies Lava's weight conversions, lays
the network out for the Cython kernel (``_loihi.pyx``, contract in ``_loihi.pxd``,
per-neuron update in ``_loihi_update.h``) and ``run(duration)`` steps it.
backends/native.py selects it with the option ``format="loihi"`` and runs the
quantization pass itself on a float IR, exactly as the Lava backend does.

The integer IR (values are integers, held in the IR's int or float arrays):

* ``PopulationNode(model="loihi_lif")``: ``params`` (or ``attrs``, which win) ``du``,
  ``dv`` (0..4095) and ``vth`` (0..2**17-1), one value per population as Lava's LIF
  process has; ``bias_mant`` (-4096..4095) and ``bias_exp`` (0..7), scalars or
  per-neuron arrays; ``refractory_steps`` 0 if present (Lava's bit-accurate LIF has
  none); ``initial["u"]``, ``initial["v"]`` (24-bit, default 0).
* ``ProjectionEdge``: ``weight`` holds integer weight mantissas (each clipped and
  truncated here as Lava's ``clip_weights``/``truncate_weights`` treat a matrix entry);
  ``attrs``: ``weight_exp`` (default 0), ``num_weight_bits`` (1..8, default 8),
  ``sign_mode`` ("exc"/"excitatory", "inh"/"inhibitory", "mixed", "null", or Lava's
  SignMode; absent: determined from the weight matrix as Lava does) and ``graded``
  (spike counts multiply the weights, Lava's num_message_bits > 0; default binary).
  A delay of D steps (D = delay/dt, 0..63) is Loihi's synaptic delay d = D: a spike
  at step n reaches the target's ``a_in`` at step n + 1 + D (hwmodels/loihi.py); an
  edge with attr ``delay_includes_dense_step`` (a network described in Loihi's
  integers, spikecore.network) counts Dense's own step in its delay: d = D - 1, D 1..64.
  Each projection floors its own shifted sum per delay value and step, as Lava's
  connection process does (and as hwmodels.loihi.reference_run states).
* Spike sources: a spike at step n is sent as a neuron's spike of step n (Lava's
  source RingBuffer, shifted); a source neuron's several spikes in one step are one
  binary spike, or their count on a graded projection; Poisson sources likewise with
  the counts of spikecore.ir.poisson_counts.
* Injected currents change the biases at their change steps, through the quantized
  population's attrs (hwmodels.loihi.bias_mantissa), as the Lava backend does; an
  integer IR without those attrs cannot take currents.

Step n of this engine is Lava's ``time_step`` n + 1. State monitors: ``u`` and ``v``
give the integers at the start of a step; a population quantized from a float model
(attrs ``scale``) reports ``v`` in volts at the start of a step and a receptor's
``syn_*`` from u at the end of it, converted as the Lava backend converts them
(hwmodels.loihi.v_to_volts, u_to_syn; for delta synapses v includes the jump pending
in u, as the IR has already applied it).
"""
from __future__ import annotations

import glob
import math

import numpy as np

from .. import ir as _ir
from ..errors import UnsupportedFeature, ValidationError
from ..models import loihi_lif
# Loihi's widths and Lava's conversions live with the model (pure numpy, shared with
# hwmodels.loihi.reference_run and the Lava backend); re-exported here for the kernel's users
from ..models.loihi_lif import (  # noqa: F401
    DECAY_UNITY, MAX_DELAY, MAX_FAN_IN, NUM_WEIGHT_BITS_RANGE, RANGES, SIGN_MODE_ALIASES, SIGN_MODE_NAMES, SIGN_MODES,
    VTH_SHIFT, WEIGHT_EXP_RANGE, _integers, clip_weights, determine_sign_mode, effective_bias, population_integers,
    projection_integers, sign_mode_code, truncate_weights)
from ..models.loihi_lif import DU_OFFSET as DS_OFFSET, DV_OFFSET as DM_OFFSET  # noqa: F401
from ..plasticity import refuse_plastic
from ..recording import count_multiples, multiples
from ..result import RawRun
from ._loihi import LoihiKernel, csr_order
from .base import Recording, Simulator, SpikeBuffer
from .layout import NetLayout, spike_source_events

MODEL = loihi_lif.MODEL.name           # the integer model this engine runs
ENGINE = "native --format loihi"
RECORD_V, RECORD_U = 0, 1
PHASE_START, PHASE_END = 0, 1           # sample at the start of a step, or after its update

RING_ROWS = MAX_DELAY + 2               # input due 1 + d steps after a spike, d <= 63

# -- the kernel's prefetching ----------------------------------------------------------------

PF_MAX_LINES = 8                 # _loihi_update.h, LO_PF_MAX_LINES
PF_CACHED_LINES = 2


def last_level_cache_bytes(default: int = 8 << 20) -> int:
    """The largest CPU cache (Linux sysfs; ``default`` where it cannot be read)."""
    best = 0
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(path) as f:
                text = f.read().strip().upper()
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            best = max(best, int(text.rstrip("KMG")) * scale)
        except (OSError, ValueError):
            continue
    return best or default


def prefetch_lines(row_lengths: np.ndarray, synapse_bytes: int) -> tuple[int, int]:
    """Cache lines of a neuron's synapse row (uint32 targets, int16 weights) the kernel asks
    for a few spikes ahead (_loihi_update.h, lo_push_spikes). One count for the whole
    network, so that the prefetch loop's branch is always predicted. Rows that come from
    memory need all their lines asked for (the mean row's, plus one for alignment: 10**7
    synapses ran 2x slower with 2 lines); rows that stay in the caches are found there, and
    each prefetch instruction then costs issue slots only (2 lines were fastest at 1.7 MB of
    synapses, on a 32 MB L3). Half the largest cache counts as staying, as the ring, the
    state and other processes share it."""
    nonempty = row_lengths[row_lengths > 0]
    if not nonempty.size:
        return 0, 0
    if synapse_bytes <= last_level_cache_bytes() // 2:
        return PF_CACHED_LINES, PF_CACHED_LINES
    mean_len = float(nonempty.mean())
    return (min(PF_MAX_LINES, math.ceil(4 * mean_len / 64) + 1),
            min(PF_MAX_LINES, math.ceil(2 * mean_len / 64) + 1))


# -- the simulator ---------------------------------------------------------------------------

class LoihiSimulator(Simulator):
    """A compiled loihi_lif network for the bit-accurate kernel."""

    def __init__(self, g: _ir.IRGraph):
        refuse_plastic(g, "native --format loihi",
                       "LoihiSimulator runs static networks: the native backend runs plastic ones through the "
                       "emulator of Lava's learning engine (spikecore.engine.loihi_learning)")
        self.ir = g
        self.dt = dt = g.dt
        self.layout = lay = NetLayout.from_ir(g)
        pops = list(g.populations.values())
        ints = [population_integers(p) for p in pops]
        sizes = lay.pop_size
        N = lay.n_neurons
        if RING_ROWS * N >= 2**32:
            raise UnsupportedFeature(ENGINE, f"{N} neurons", f"at most {(2**32 - 1) // RING_ROWS} neurons")
        a: dict = {}
        a["pop_start"] = lay.pop_start
        a["pop_size"] = sizes
        a["pop_fu"] = np.array([DECAY_UNITY - (q["du"] + DS_OFFSET) for q in ints], dtype=np.int32)
        a["pop_fv"] = np.array([DECAY_UNITY - (q["dv"] + DM_OFFSET) for q in ints], dtype=np.int32)
        a["pop_vth"] = np.array([q["vth"] << VTH_SHIFT for q in ints], dtype=np.int32)
        a["u"] = np.concatenate([q["u"] for q in ints]).astype(np.int32)
        a["v"] = np.concatenate([q["v"] for q in ints]).astype(np.int32)
        a["bias"] = np.concatenate([effective_bias(q["bias_mant"], q["bias_exp"]) for q in ints])
        self.pops = pops
        self.pop_index = lay.pop_index
        self.n_neurons = N
        self._bias_exp = [q["bias_exp"] for q in ints]
        self._currents = self._current_schedules(g)
        self._change_steps = [steps for _, steps, _ in self._currents]

        # presynaptic index space: neurons, then spike-source neurons, then Poisson neurons;
        # rows n_pre + k hold source k's synapses in graded projections (counts multiply)
        self.pre_base, a["pois_base"], a["n_pois"], self.n_pre = lay.pre_base, lay.pois_base, lay.n_pois, lay.n_pre
        pois = list(g.poisson_sources.values())
        self._lay_out_synapses(g, a)
        # input due 1 + d steps after a spike: a ring of L = longest delay + 2 rows (a short ring
        # stays in cache) and L - 1 overflow rows, so that no message wraps around
        # (_loihi_update.h, lo_push)
        rows = 2 * (self.max_delay + 2) - 1
        if rows * N >= 2**32:
            raise UnsupportedFeature(ENGINE, f"{N} neurons with delays up to {self.max_delay} steps",
                                     f"at most {(2**32 - 1) // rows} neurons")
        a["ring"] = np.zeros((rows, N), dtype=np.uint32)

        # spike-source events by step (repeats kept: they are counts for graded projections)
        a.update(spike_source_events(g, dt, self.pre_base))

        self._lay_out_monitors(g, a)
        self.arrays = a
        self.kernel = LoihiKernel(a)
        self.step = 0
        self._pois_nodes = pois
        self._spiked_last = {}       # population -> spikes of the last step of the previous run
        # buffers kept between calls: fresh pages cost the kernel a page clear each
        self._spikes = SpikeBuffer(max(1024, 4 * self.n_neurons))
        self._scratch = (np.empty(self.n_pre + 16, np.int32), np.empty(self.n_pre + 16, np.uint32))

    def _lay_out_synapses(self, g: _ir.IRGraph, a: dict):
        """Two CSRs by presynaptic row: shifted weights added straight into the ring
        (weight_exp >= 0) and raw weights summed per cell before a flooring shift (< 0)."""
        N, n_rows = self.n_neurons, 2 * self.n_pre
        fast = {"pre": [], "idx": [], "w": [], "delay": []}
        slow = {"pre": [], "idx": [], "w": [], "cell": [], "shift": [], "delay": []}
        n_cells = 0
        self.synapses = {}
        for e in g.projections.values():
            if e.post not in self.pop_index:
                raise ValidationError(f"projections.{e.name}.post", e.post, "a population")
            if e.pre not in self.pre_base:
                raise ValidationError(f"projections.{e.name}.pre", e.pre, "a population or a source")
            n_post = self.pops[self.pop_index[e.post]].size
            q = projection_integers(e, g.source_size(e.pre), n_post, self.dt)
            self.synapses[e.name] = q
            pre = self.pre_base[e.pre] + q["i"]
            if q["graded"] and e.pre not in self.pop_index:
                pre = pre + self.n_pre       # a neuron spikes at most once per step: binary rows do
            if q["weight_exp"] >= 0:
                fast["pre"].append(pre)
                fast["delay"].append(q["delay"])
                fast["idx"].append((q["delay"] + 1) * N + self.pre_base[e.post] + q["j"])
                # (sum w) << e == sum (w << e) modulo 2**32, and the message is int32; a clipped
                # weight (-256..255) shifted by at most 7 fits int16
                fast["w"].append(q["w"] << q["weight_exp"])
            else:
                # one cell per (target, distinct delay) of this projection
                delays, dcode = np.unique(q["delay"], return_inverse=True)
                slow["pre"].append(pre)
                slow["delay"].append(q["delay"])
                slow["idx"].append((q["delay"] + 1) * N + self.pre_base[e.post] + q["j"])
                slow["w"].append(q["w"])
                slow["cell"].append(n_cells + dcode * n_post + q["j"])
                slow["shift"].append(np.full(pre.size, -q["weight_exp"]))
                n_cells += delays.size * n_post
        if n_cells >= 2**32:
            raise UnsupportedFeature(ENGINE, f"{n_cells} (target, delay) sums of projections with weight_exp < 0",
                                     "fewer distinct delays or targets in such projections (at most 2**32 - 1)")
        # CSRs by row (counting sort); f_row: each row's first synapse and its length
        f_ptr = np.zeros(n_rows + 1, np.int64)
        a["f_idx"], a["f_w"] = np.zeros(0, np.uint32), np.zeros(0, np.int16)
        if sum(x.size for x in fast["pre"]):
            order, f_ptr = csr_order(np.concatenate(fast["pre"]).astype(np.int64), n_rows)
            a["f_idx"] = np.concatenate(fast["idx"])[order].astype(np.uint32)
            w = np.concatenate(fast["w"])[order]
            if w.min() < np.iinfo(np.int16).min or w.max() > np.iinfo(np.int16).max:
                raise AssertionError("shifted Loihi weights outside int16")   # clip_weights bounds them
            a["f_w"] = w.astype(np.int16)
        a["f_row"] = np.ascontiguousarray(np.stack([f_ptr[:-1], np.diff(f_ptr)], axis=1).astype(np.uint64))
        self.max_delay = max([int(d.max()) for d in fast["delay"] + slow["delay"] if d.size] + [0])
        a["pf_lines"] = prefetch_lines(np.diff(f_ptr)[:N], a["f_idx"].nbytes + a["f_w"].nbytes)
        types = {"idx": np.uint32, "w": np.int32, "cell": np.uint32, "shift": np.uint8}
        if sum(x.size for x in slow["pre"]):
            order, a["s_ptr"] = csr_order(np.concatenate(slow["pre"]).astype(np.int64), n_rows)
            for key, dtype in types.items():
                a[f"s_{key}"] = np.concatenate(slow[key])[order].astype(dtype)
        else:
            a["s_ptr"] = np.zeros(n_rows + 1, np.int64)
            for key, dtype in types.items():
                a[f"s_{key}"] = np.zeros(0, dtype)
        a["scratch"] = np.zeros(n_cells, np.int64)
        a["cell_used"] = np.zeros(n_cells, np.uint8)
        a["t_cell"] = np.zeros(n_cells, np.uint32)
        a["t_idx"] = np.zeros(n_cells, np.uint32)
        a["t_shift"] = np.zeros(n_cells, np.uint8)
        self.n_synapses = int(a["f_w"].size + a["s_w"].size)

    def _lay_out_monitors(self, g: _ir.IRGraph, a: dict):
        kinds, phases, idx, every, self.rec_layout = [], [], [], [], []

        def add(mname, var, kind, phase, neurons, every_steps):
            self.rec_layout.append((mname, var, len(kinds), len(neurons)))
            kinds.extend([kind] * len(neurons))
            phases.extend([phase] * len(neurons))
            idx.extend(neurons.tolist())
            every.extend([every_steps] * len(neurons))

        for m in g.state_monitors.values():
            if m.target not in self.pop_index:
                raise ValidationError(f"monitors.{m.name}.target", m.target, "a population")
            k = self.pop_index[m.target]
            pop = self.pops[k]
            every_steps = max(1, _ir.steps(m.interval, self.dt))
            neurons = int(a["pop_start"][k]) + np.asarray(m.neurons, dtype=np.int64)
            in_volts = "scale" in pop.attrs
            receptors = {f"syn_{r}" for r in pop.receptors} if in_volts else set()
            for var in m.variables:
                if var in ("u", "v"):
                    add(m.name, var, RECORD_V if var == "v" else RECORD_U, PHASE_START, neurons, every_steps)
                    if var == "v" and in_volts and pop.attrs.get("kind") == "delta":
                        # the jump pending in u, which the IR has already applied to v (below)
                        add(m.name, "v:jump", RECORD_U, PHASE_END, neurons, every_steps)
                elif var in receptors:
                    if pop.attrs.get("syn_gain", {}).get(var.split("_", 1)[1]) is None:
                        raise UnsupportedFeature(ENGINE, f"recording {var} of {m.target}",
                                                 "its receptors share one Loihi current u; record v instead")
                    # the Lava backend reads syn from u after the step
                    add(m.name, var, RECORD_U, PHASE_END, neurons, every_steps)
                else:
                    allowed = ", ".join(["u", "v", *sorted(receptors)])
                    raise ValidationError(f"monitors.{m.name}.variables", var, f"one of {allowed}")
        a["rec_kind"] = np.array(kinds, dtype=np.int32)
        a["rec_phase"] = np.array(phases, dtype=np.int32)
        a["rec_idx"] = np.array(idx, dtype=np.int64)
        a["rec_every"] = np.array(every, dtype=np.int64)

    # -- injected currents (quantized float models only) -----------------------------------
    def _current_schedules(self, g: _ir.IRGraph) -> list:
        if not g.currents:
            return []
        for c in g.currents.values():
            pop = g.populations.get(c.target)
            if pop is None:
                raise ValidationError(f"currents.{c.name}.target", c.target, "a population")
            missing = [k for k in ("scale", "v_reset", "v_leak", "drive_gain", "current_gain") if k not in pop.attrs]
            if missing:
                raise UnsupportedFeature(ENGINE, f"current input '{c.name}' into integer population '{c.target}'",
                                         "a population quantized by hwmodels.loihi.quantize (its attrs convert "
                                         "amperes to bias mantissas), or a bias instead of the current")
        return [(c, *_ir.current_at_steps(c, self.dt)) for c in g.currents.values()]

    def _set_biases(self, n: int):
        """Biases of step n: bias_mant of the drive v_leak + gain * active currents, as the Lava
        backend sets them (backends/lava.py biases_at; hwmodels.loihi.bias_mantissa)."""
        a = self.arrays
        for k, pop in enumerate(self.pops):
            if not any(c.target == pop.name for c, _, _ in self._currents):
                continue
            drive = np.full(pop.size, float(pop.attrs["v_leak"]))
            for c, steps, amps in self._currents:
                if c.target == pop.name:
                    active = np.searchsorted(steps, n, side="right") - 1
                    if active >= 0:
                        drive[c.neurons] += amps[active] * pop.attrs["current_gain"]
            mant, _ = loihi_lif.bias_mantissa(pop, loihi_lif.bias_for_drive(pop, drive))
            s0 = int(a["pop_start"][k])
            a["bias"][s0:s0 + pop.size] = effective_bias(mant, self._bias_exp[k])

    # -- running ---------------------------------------------------------------------------
    def _new_spike_buffer(self) -> SpikeBuffer:
        self._spikes.clear()
        return self._spikes

    def _advance(self, n: int, stop: int, spikes: SpikeBuffer, rec: Recording):
        if self._currents:
            self._set_biases(n)
        counts = self._poisson_block(n, stop - n)
        spk, spk_cnt = self._scratch
        reached = n
        while reached < stop:
            reached, spikes.n = self.kernel.run(reached, stop, counts[reached - n:], spikes.step, spikes.index,
                                                spikes.n, rec.out, rec.pos, spk, spk_cnt)
            if reached < stop:  # spike buffer full: grow and continue
                spikes.grow()

    def _poisson_block(self, n: int, length: int) -> np.ndarray:
        if not self._pois_nodes:
            return np.zeros((length, 0), np.uint16)
        blocks = [_ir.poisson_counts(s, self.dt, n, length) for s in self._pois_nodes]
        return np.ascontiguousarray(np.concatenate(blocks, axis=1))

    def _spike_populations(self) -> list:
        # all of them: the traces of delta-synapse populations need their spikes (_pending_jump)
        return list(self.pop_index)

    def _traces(self, rec: Recording, n_start: int, n_end: int, raw: RawRun) -> dict:
        a = self.arrays
        blocks = {}
        for mname, var, first, count in self.rec_layout:
            e = a["rec_every"][first] if count else 1
            ns = count_multiples(n_start, n_end, e)
            blocks[(mname, var)] = (np.stack([rec.out[rec.base[first + c]: rec.base[first + c] + ns]
                                              for c in range(count)], axis=1) if count else np.zeros((ns, 0)), e)
        spiked = {name: (raw.spike_steps[name], raw.spike_indices[name]) for name in raw.spike_steps}
        traces = {}
        for (mname, var), (block, e) in blocks.items():
            if var == "v:jump":
                continue
            m = self.ir.state_monitors[mname]
            pop = self.ir.populations[m.target]
            want = multiples(n_start, n_end, e)
            if "scale" in pop.attrs and var != "u":
                if var == "v":
                    block = loihi_lif.v_to_volts(pop, block)
                    if (mname, "v:jump") in blocks:
                        block = block + self._pending_jump(pop, m, blocks[(mname, "v:jump")][0], want, spiked)
                else:
                    block = loihi_lif.u_to_syn(pop, var.split("_", 1)[1], block)
            tr = traces.setdefault(mname, {"target": m.target, "neurons": np.asarray(m.neurons).copy(),
                                           "times": want * self.dt, "variables": {}})
            tr["variables"][var] = block
        # steps ascend: the last step's spikes are a tail
        self._spiked_last = {name: (st[np.searchsorted(st, n_end - 1):], ix[np.searchsorted(st, n_end - 1):])
                             for name, (st, ix) in spiked.items()}
        return traces

    def _pending_jump(self, pop, m, u_after, want, raw) -> np.ndarray:
        """Delta synapses: the IR's v at step n already holds the jump applied in step n - 1,
        which Loihi holds in u after step n (du = 4095: u = a_in << 6) and adds at n + 1, unless
        the neuron spiked at n - 1. As the Lava backend reports it (backends/lava.py
        _pending_jump, with fixed point's refractory window of one step)."""
        jump = u_after / pop.attrs["scale"] / pop.attrs["weight_gain"]["default"]
        st, ix = raw[pop.name]
        prev_st, prev_ix = self._spiked_last.get(pop.name, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        st, ix = np.concatenate([prev_st, st]), np.concatenate([prev_ix, ix])
        for c, neuron in enumerate(np.asarray(m.neurons, dtype=np.int64)):
            fired = st[ix == neuron]
            jump[np.isin(want - 1, fired), c] = 0.0
        jump[want == 0] = 0.0
        return jump

    # -- state -----------------------------------------------------------------------------
    DYNAMIC_ARRAYS = ("u", "v", "bias", "ring")

    def _write_state(self, pop: str, var: str, values: np.ndarray) -> None:
        """u and v are Loihi integers: values must be whole numbers in int32."""
        from ..errors import ValidationError
        if (values != np.rint(values)).any() or np.abs(values).max(initial=0) > 2**31 - 1:
            raise ValidationError(f"{pop}.{var}", values.tolist()[:3], "whole numbers (Loihi integer state)")
        s0 = int(self.arrays["pop_start"][self.pop_index[pop]])
        self.arrays[var][s0:s0 + values.size] = values.astype(np.int32)

    def state(self) -> dict:
        """Current u and v (int64 copies) per population."""
        a = self.arrays
        out = {}
        for k, p in enumerate(self.pops):
            s0 = int(a["pop_start"][k])
            out[p.name] = {"u": a["u"][s0:s0 + p.size].astype(np.int64),
                           "v": a["v"][s0:s0 + p.size].astype(np.int64)}
        return out

    def raster(self, result: RawRun, name: str) -> np.ndarray:
        """A (n_steps, size) boolean raster of population ``name`` from a ``run`` result."""
        st, ix = result.spike_steps[name], result.spike_indices[name]
        out = np.zeros((result.n_steps, self.pops[self.pop_index[name]].size), dtype=bool)
        out[st - result.n_start, ix] = True
        return out
