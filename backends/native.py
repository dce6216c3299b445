"""The native backend: runs the IR on spikecore's own Cython engine (spikecore.engine).

Options ``threads`` (a positive int or "all"; default 1) and ``precision``
("float64", default, or "float32" state and weights): spikecore.engine.simulator.
"""
from __future__ import annotations

import time

from spikecore.engine import GridSimulator
from spikecore.ir import IRGraph
from spikecore.result import Result

from .base import Backend, Executable


class NativeExecutable(Executable):
    backend = "native"

    def __init__(self, ir: IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir = ir
        self.options = options
        self.sim = GridSimulator(ir, threads=options["threads"], precision=options["precision"])
        self.build_s = time.perf_counter() - t0

    def run(self, duration: float, progress: bool = False) -> Result:
        t0 = time.perf_counter()
        raw = self.sim.run(duration, progress=progress)
        wall = time.perf_counter() - t0
        return Result(
            backend=self.backend, duration=raw["n_steps"] * self.ir.dt, dt=self.ir.dt, wall_s=wall,
            sizes={n: self.ir.populations[n].size for n in raw["spikes"]}, spikes=raw["spikes"],
            traces=raw["traces"], build_s=self.build_s, seed=self.ir.seed, model=self.ir.name,
            n_synapses=self.ir.n_synapses, options=dict(self.options))


class NativeBackend(Backend):
    name = "native"
    options = {"threads": (None, 1), "precision": (("float64", "float32"), "float64")}

    def compile(self, ir: IRGraph, **options) -> NativeExecutable:
        return NativeExecutable(ir, self.check_options(options))


BACKEND = NativeBackend()
