"""The native backend: runs the IR on spikecore's own Cython engine (spikecore.engine).

Option ``timing``: "grid" (default, spikecore.engine.GridSimulator: every time is a
multiple of dt) or "precise" (spikecore.engine.PreciseSimulator: spike times, delays,
refractory periods and current steps off the grid; docs/precise_timing.md).
"""
from __future__ import annotations

import time

from spikecore.engine import GridSimulator
from spikecore.ir import IRGraph
from spikecore.network import check_delays
from spikecore.result import Result

from .base import Backend, Executable


class NativeExecutable(Executable):
    backend = "native"

    def __init__(self, ir: IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir = ir
        self.options = options
        if options["timing"] == "precise":
            from spikecore.engine.precise import PreciseSimulator
            self.sim = PreciseSimulator(ir)
        else:
            # an IR lowered for precise timing may hold delays off this grid
            for e in ir.projections.values():
                check_delays(e.delay, ir.dt, f"projections.{e.name}.delay")
            self.sim = GridSimulator(ir)
        self.build_s = time.perf_counter() - t0

    def run(self, duration: float, progress: bool = False) -> Result:
        t0 = time.perf_counter()
        raw = self.sim.run(duration, progress=progress)
        wall = time.perf_counter() - t0
        return Result(
            backend=self.backend, duration=raw["n_steps"] * self.ir.dt, dt=self.ir.dt, wall_s=wall,
            sizes={n: self.ir.populations[n].size for n in raw["spikes"]}, spikes=raw["spikes"],
            traces=raw["traces"], build_s=self.build_s, seed=self.ir.seed, model=self.ir.name,
            n_synapses=self.ir.n_synapses, options=dict(self.options),
            spike_steps=raw.get("spike_steps", {}))


class NativeBackend(Backend):
    name = "native"
    options = {"timing": (("grid", "precise"), "grid")}

    def compile(self, ir: IRGraph, **options) -> NativeExecutable:
        return NativeExecutable(ir, self.check_options(options))


BACKEND = NativeBackend()
