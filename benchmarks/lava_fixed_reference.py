"""Lava's own bit-accurate Loihi simulation of an integer network: the peer and the reference.

A ``FixedNet`` is a network written directly in Loihi integers: LIF groups
(du, dv, vth, per-neuron bias_mant/bias_exp, initial u/v), binary spike inputs
(one column per step, as Lava's source ``RingBuffer`` takes them) and
connections (synapse lists with integer weight mantissas, Lava delays 0..63,
weight_exp, num_weight_bits, sign_mode) realised as one of Lava's four
bit-accurate connection processes: Dense, DelayDense, Sparse or DelaySparse.

``run_lava(net, n_steps)`` builds those Lava processes as a Lava user would
(``lava.proc.lif.process.LIF``, ``lava.proc.dense.process.Dense`` ...), runs
them under ``Loihi2SimCfg(select_tag="fixed_pt")`` — which selects
PyLifModelBitAcc, PyDenseModelBitAcc, PyDelayDenseModelBitAcc,
PySparseModelBitAcc, PyDelaySparseModelBitAcc — and returns every group's spike
raster and final u and v. ``to_ir(net)`` writes the same network as spikecore IR
(populations of model ``loihi_lif``, see spikecore.engine.loihi) so the native
engine's Loihi mode runs the very same numbers. Used by
tests/engine/test_loihi_bitacc.py and benchmarks/loihi_emulation.py.

This module deliberately does not go through backends/lava.py: it is an
independent reference built from Lava's documented process API, so a mistake in
a backend cannot hide in both sides of a comparison.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

KINDS = ("dense", "delay_dense", "sparse", "delay_sparse")
SIGN_MODES = ("mixed", "excitatory", "inhibitory")


@dataclass
class LifGroup:
    name: str
    size: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray       # per neuron
    bias_exp: np.ndarray        # per neuron
    u: np.ndarray               # initial, per neuron
    v: np.ndarray               # initial, per neuron


@dataclass
class SpikeInput:
    name: str
    data: np.ndarray            # (size, n_steps) of 0/1: column k is emitted at step k

    @property
    def size(self) -> int:
        return int(self.data.shape[0])


@dataclass
class Conn:
    name: str
    pre: str
    post: str
    i: np.ndarray               # presynaptic indices
    j: np.ndarray               # postsynaptic indices
    weight: np.ndarray          # integer mantissas (clipped/truncated by Lava itself)
    delay: np.ndarray           # Lava delays 0..63 (0: arrives one step after the spike)
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: str | None = None    # None: Lava determines it from the matrix
    kind: str = "dense"


@dataclass
class FixedNet:
    groups: list
    inputs: list = field(default_factory=list)
    conns: list = field(default_factory=list)

    def size_of(self, name: str) -> int:
        for g in list(self.groups) + list(self.inputs):
            if g.name == name:
                return g.size
        raise KeyError(name)


# -- spikecore IR of the same network ------------------------------------------------

def to_ir(net: FixedNet, dt: float = 1e-3, name: str = "fixed_net"):
    """The network as spikecore IR: model ``loihi_lif`` populations, integer weights.

    A Lava delay d (a spike at step t reaches a_in at t+1+d) is the IR delay d*dt, as
    hwmodels.loihi maps it. Input column k is a spike-source spike at time k*dt (step k).
    """
    from spikecore import ir as _ir

    g = _ir.IRGraph(name=name, dt=dt, seed=0)
    for grp in net.groups:
        g.populations[grp.name] = _ir.PopulationNode(
            name=grp.name, size=grp.size, model="loihi_lif",
            params={"du": int(grp.du), "dv": int(grp.dv), "vth": int(grp.vth)},
            receptors={"default": {}},
            initial={"u": np.asarray(grp.u, dtype=np.float64), "v": np.asarray(grp.v, dtype=np.float64)},
            attrs={"bias_mant": np.asarray(grp.bias_mant, dtype=np.int64),
                   "bias_exp": np.asarray(grp.bias_exp, dtype=np.int64)})
    for inp in net.inputs:
        idx, steps = np.nonzero(np.asarray(inp.data))
        order = np.lexsort((idx, steps))
        g.spike_sources[inp.name] = _ir.SpikeSourceNode(
            name=inp.name, size=inp.size, times=steps[order].astype(np.float64) * dt,
            indices=idx[order].astype(np.int64))
    for c in net.conns:
        attrs = {"weight_exp": int(c.weight_exp), "num_weight_bits": int(c.num_weight_bits)}
        if c.sign_mode is not None:
            attrs["sign_mode"] = c.sign_mode
        g.projections[c.name] = _ir.ProjectionEdge(
            name=c.name, pre=c.pre, post=c.post, receptor="default", synapse="loihi",
            i=np.asarray(c.i, dtype=np.int64), j=np.asarray(c.j, dtype=np.int64),
            weight=np.asarray(c.weight, dtype=np.float64),
            delay=np.asarray(c.delay, dtype=np.float64) * dt, attrs=attrs)
    return g


# -- Lava ----------------------------------------------------------------------------

def _matrices(net: FixedNet, c: Conn):
    """(weights, delays) as Lava wants them: (n_post, n_pre) matrices."""
    n_pre, n_post = net.size_of(c.pre), net.size_of(c.post)
    if np.unique(np.asarray(c.j) * n_pre + np.asarray(c.i)).size != np.size(c.i):
        raise ValueError(f"connection {c.name}: a pair of neurons twice (one matrix entry per pair)")
    w = np.zeros((n_post, n_pre), dtype=np.int64)
    w[np.asarray(c.j), np.asarray(c.i)] = np.asarray(c.weight, dtype=np.int64)
    d = np.zeros((n_post, n_pre), dtype=int)
    d[np.asarray(c.j), np.asarray(c.i)] = np.asarray(c.delay, dtype=int)
    return w, d


def _connected(net: FixedNet) -> bool:
    names = [g.name for g in net.groups] + [s.name for s in net.inputs]
    parent = {n: n for n in names}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for c in net.conns:
        parent[find(c.pre)] = find(c.post)
    return len({find(n) for n in names}) == 1


def build_lava(net: FixedNet, n_steps: int, workdir: str):
    """Lava processes for ``net``: (LIF by group, raster recorder by group)."""
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from scipy.sparse import csr_matrix

    from lava.proc.dense.process import Dense, DelayDense
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import Sparse, DelaySparse
    from lava.utils.weightutils import SignMode

    if not _connected(net):
        raise ValueError("run_lava needs one connected network (Lava compiles what run() reaches)")
    modes = {"mixed": SignMode.MIXED, "excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY}
    lifs, recorders, ports = {}, {}, {}
    for g in net.groups:
        lif = LIF(shape=(g.size,), du=int(g.du), dv=int(g.dv), vth=int(g.vth),
                  bias_mant=np.asarray(g.bias_mant, dtype=np.int64),
                  bias_exp=np.asarray(g.bias_exp, dtype=np.int64),
                  u=np.asarray(g.u, dtype=np.int64), v=np.asarray(g.v, dtype=np.int64), name=g.name)
        rec = _recorder_class()(shape=(g.size,), path=os.path.join(workdir, f"raster_{len(recorders)}.bin"))
        lif.s_out.connect(rec.a_in)
        lifs[g.name], recorders[g.name] = lif, rec
        ports[g.name] = lif.s_out
    for s in net.inputs:
        data = np.asarray(s.data, dtype=np.int64)
        if data.shape[1] < n_steps:   # the source's buffer cycles: pad so it does not repeat
            data = np.concatenate([data, np.zeros((data.shape[0], n_steps - data.shape[1]), np.int64)], axis=1)
        src = Source(data=data)
        ports[s.name] = src.s_out
    for c in net.conns:
        w, d = _matrices(net, c)
        kw = {"weight_exp": int(c.weight_exp), "num_weight_bits": int(c.num_weight_bits), "name": c.name}
        if c.sign_mode is not None:
            kw["sign_mode"] = modes[c.sign_mode]
        if c.kind == "dense":
            proc = Dense(weights=w, **kw)
        elif c.kind == "delay_dense":
            proc = DelayDense(weights=w, delays=d, **kw)
        elif c.kind == "sparse":
            proc = Sparse(weights=csr_matrix(w), **kw)
        elif c.kind == "delay_sparse":
            # Lava's DelaySparse needs the delays' sparsity pattern to match the weights'
            mask = w != 0
            proc = DelaySparse(weights=csr_matrix(w), delays=csr_matrix(np.where(mask, d, 0)), **kw)
        else:
            raise ValueError(f"connection kind {c.kind!r}: expected one of {KINDS}")
        ports[c.pre].connect(proc.s_in)
        proc.a_out.connect(lifs[c.post].a_in)
    return lifs, recorders


_RECORDER = {}


def _recorder_class():
    """A process that appends each step's spikes (np.packbits of s_in) to a file from inside
    Lava. Lava's own rec RingBuffer hands its data back through Var.get(), one element per
    message (~20 us each here: minutes for a 4000 x 1000 raster)."""
    if _RECORDER:
        return _RECORDER["proc"]
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    class RasterRecorder(AbstractProcess):
        def __init__(self, *, shape: tuple, path: str) -> None:
            super().__init__(shape=shape, path=path)
            self.a_in = InPort(shape=shape)

    @implements(proc=RasterRecorder, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("fixed_pt")
    class PyRasterRecorder(PyLoihiProcessModel):
        a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)

        def run_spk(self):
            with open(self.proc_params["path"], "ab") as f:
                f.write(np.packbits(self.a_in.recv() != 0).tobytes())

    _RECORDER.update(proc=RasterRecorder, model=PyRasterRecorder)
    return RasterRecorder


def run_lava(net: FixedNet, n_steps: int, timing: bool = False, blocks: int = 1) -> dict:
    """Run ``net`` in Lava fixed_pt for ``blocks`` consecutive runs of ``n_steps`` steps.

    Returns ``spikes`` (group -> (blocks * n_steps, size) bool raster) and the final
    ``u`` and ``v`` (group -> int64). With ``timing``, ``run_s`` lists the wall time of
    each ``run`` call alone: compilation and process start-up happen before the first.
    Every process but the raster recorders runs Lava's own fixed_pt model.
    """
    from spikecore.compat import lava_dataclasses
    lava_dataclasses.install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    # Lava's DelaySparse edits a CSR matrix in place (its own inefficiency, not ours); the
    # filter is inherited by the runtime's forked processes
    from scipy.sparse import SparseEfficiencyWarning
    warnings.filterwarnings("ignore", category=SparseEfficiencyWarning)
    workdir = tempfile.mkdtemp(prefix="spikecore-lava-ref-")
    out = {"spikes": {}, "u": {}, "v": {}, "run_s": []}
    try:
        lifs, recorders = build_lava(net, n_steps, workdir)
        first = next(iter(lifs.values()))
        try:
            cfg = Loihi2SimCfg(select_tag="fixed_pt",
                               exception_proc_model_map={r: _RECORDER["model"] for r in recorders.values()})
            first.create_runtime(run_cfg=cfg)
            for _ in range(blocks):
                t0 = time.perf_counter()
                first.run(condition=RunSteps(num_steps=n_steps), run_cfg=cfg)
                out["run_s"].append(time.perf_counter() - t0)
            for name, lif in lifs.items():
                out["u"][name] = np.asarray(lif.u.get()).astype(np.int64)
                out["v"][name] = np.asarray(lif.v.get()).astype(np.int64)
        finally:
            first.stop()
        for name, rec in recorders.items():
            size = lifs[name].s_out.shape[0]
            raw = np.fromfile(rec.proc_params["path"], dtype=np.uint8).reshape(blocks * n_steps, -1)
            out["spikes"][name] = np.unpackbits(raw, axis=1, count=size).astype(bool)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not timing:
        del out["run_s"]
    return out


# -- random Loihi-representable networks ---------------------------------------------------
# Structure (sizes, decays, thresholds, exponents, kinds, sign modes) is described by
# "knobs", which a hypothesis strategy draws in the tests and random_knobs() draws in the
# benchmark sweep; the bulk arrays are then drawn from a numpy generator seeded by a knob.

@dataclass
class GroupKnobs:
    size: int
    du: int
    dv: int
    vth: int
    bias: str = "zero"          # zero | small | full
    init: str = "zero"          # zero | small | full (initial u and v)


@dataclass
class ConnKnobs:
    pre: int                    # group index, or -1 for the spike input
    post: int
    kind: str = "dense"
    density: float = 0.5
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: str | None = None
    weights: str = "mixed"      # mixed | excitatory | inhibitory | extreme
    max_delay: int = 0          # for delay_* kinds


@dataclass
class NetKnobs:
    groups: list
    conns: list
    input_size: int = 4
    input_density: float = 0.3
    seed: int = 0


EXTREME_WEIGHTS = np.array([-300, -257, -256, -255, -254, -129, -128, -1, 0, 1, 127, 128, 254, 255, 256, 300])


def build_net(k: NetKnobs, n_steps: int) -> FixedNet:
    """The FixedNet that ``k`` describes, arrays drawn from ``k.seed``."""
    rng = np.random.default_rng(k.seed)
    groups = []
    for gi, g in enumerate(k.groups):
        n = g.size
        if g.bias == "zero":
            mant, exp = np.zeros(n, np.int64), np.zeros(n, np.int64)
        elif g.bias == "small":
            mant, exp = rng.integers(-64, 65, n), rng.integers(0, 4, n)
        else:
            mant, exp = rng.integers(-4096, 4096, n), rng.integers(0, 8, n)
        if g.init == "zero":
            u0, v0 = np.zeros(n, np.int64), np.zeros(n, np.int64)
        elif g.init == "small":
            u0, v0 = rng.integers(-20000, 20001, n), rng.integers(-20000, 20001, n)
        else:
            u0, v0 = rng.integers(-2**23, 2**23 + 1, n), rng.integers(-2**23, 2**23 + 1, n)
        groups.append(LifGroup(f"g{gi}", n, g.du, g.dv, g.vth, mant, exp, u0, v0))
    data = (rng.random((k.input_size, n_steps)) < k.input_density).astype(np.int64)
    inputs = [SpikeInput("input", data)]
    sizes = [k.input_size if c == -1 else k.groups[c].size for c in range(-1, len(k.groups))]
    conns = []
    for ci, c in enumerate(k.conns):
        n_pre, n_post = sizes[c.pre + 1], sizes[c.post + 1]
        mask = rng.random((n_post, n_pre)) < c.density
        if not mask.any():
            mask[rng.integers(n_post), rng.integers(n_pre)] = True
        j, i = np.nonzero(mask)
        m = i.size
        if c.weights == "excitatory":
            w = rng.integers(0, 301, m)
        elif c.weights == "inhibitory":
            w = rng.integers(-300, 1, m)
        elif c.weights == "extreme":
            w = rng.choice(EXTREME_WEIGHTS, m)
        else:
            w = rng.integers(-300, 301, m)
        delay = rng.integers(0, c.max_delay + 1, m) if c.kind.startswith("delay") else np.zeros(m, np.int64)
        conns.append(Conn(f"c{ci}", "input" if c.pre == -1 else f"g{c.pre}", f"g{c.post}", i, j, w, delay,
                          weight_exp=c.weight_exp, num_weight_bits=c.num_weight_bits,
                          sign_mode=c.sign_mode, kind=c.kind))
    return FixedNet(groups, inputs, conns)


def random_knobs(rng: np.random.Generator, max_groups: int = 3, max_size: int = 12,
                 max_conns: int = 5) -> NetKnobs:
    """Random knobs for the benchmark sweep (the tests draw them with hypothesis)."""
    def decay():
        return int(rng.choice([0, 1, 4095, 4094, 2048, int(rng.integers(0, 4096))]))

    def vth():
        return int(rng.choice([0, 1, 2**17 - 1, int(rng.integers(0, 64)), int(rng.integers(0, 2000))]))

    groups = [GroupKnobs(int(rng.integers(1, max_size + 1)), decay(), decay(), vth(),
                         str(rng.choice(["zero", "small", "full"])), str(rng.choice(["zero", "small", "full"])))
              for _ in range(int(rng.integers(1, max_groups + 1)))]

    def conn(pre, post):
        kind = str(rng.choice(KINDS))
        mode = [None, "mixed", "excitatory", "inhibitory"][int(rng.integers(4))]
        return ConnKnobs(pre, post, kind, float(rng.uniform(0.1, 1.0)), int(rng.integers(-8, 8)),
                         int(rng.integers(1, 9)), mode,
                         str(rng.choice(["mixed", "excitatory", "inhibitory", "extreme"])),
                         int(rng.choice([0, 1, 5, 63, int(rng.integers(0, 64))])))
    conns = [conn(int(rng.integers(-1, g)), g) for g in range(len(groups))]   # connected chain
    n_extra = int(rng.integers(0, max(max_conns - len(groups), 0) + 1))
    conns += [conn(int(rng.integers(-1, len(groups))), int(rng.integers(0, len(groups)))) for _ in range(n_extra)]
    return NetKnobs(groups, conns, int(rng.integers(1, 9)), float(rng.uniform(0.05, 0.6)),
                    int(rng.integers(2**31)))
