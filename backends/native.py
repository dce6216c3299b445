"""The native backend: runs the IR on spikecore's own Cython engine (spikecore.engine).

Option ``timing``: "grid" (default, spikecore.engine.GridSimulator: every time is a
multiple of dt) or "precise" (spikecore.engine.PreciseSimulator: spike times, delays,
refractory periods and current steps off the grid; docs/precise_timing.md).

Option ``format``: "float" (default) or "loihi" (spikecore.engine.loihi.LoihiSimulator:
Loihi's fixed-point arithmetic bit for bit as Lava's fixed_pt models compute it). A float
IR is first quantized by hwmodels.loihi.quantize with ``policy`` and ``headroom``, exactly
as ``lava`` with format "fixed" does, so the two give the same spikes; "fixed" is accepted
as another name for "loihi" so that only --backend changes between them. A network with plastic
projections runs through the emulator of Lava's learning engine (backends/_native_learning.py,
spikecore.engine.loihi_learning): the Lava backend's fixed-point plan, learnt weights identical.

Options ``threads`` (a positive int or "all"; default 1), ``precision``
("float64", default, or "float32" state and weights) and ``delivery`` ("auto", default,
"ring" or "bucket": how synaptic input reaches the ring buffer, the same results either way,
spikecore.engine.delivery) tune the grid engine (spikecore.engine.simulator); the precise and
Loihi modes refuse other values.
"""
from __future__ import annotations

import time

import numpy as np

from spikecore.engine import GridSimulator
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.interrupts import checkpoint
from spikecore.ir import IRGraph
from spikecore.models import MODELS
from spikecore.network import check_delays
from spikecore.result import Result

from ._native_learning import is_plastic, learning_simulator
from .base import Backend, Executable, check_same_structure


class NativeExecutable(Executable):
    backend = "native"

    def __init__(self, ir: IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir = ir
        self.options = options
        self.quantization = None
        if options["format"] in LOIHI_FORMATS or options["timing"] == "precise":
            for key, default in (("threads", 1), ("precision", "float64"), ("delivery", "auto")):
                if options[key] != default:
                    mode = f"format={options['format']}" if options["format"] in LOIHI_FORMATS else "timing=precise"
                    raise UnsupportedFeature("native", f"{key}={options[key]} with {mode}",
                                             f"{key} applies to the grid engine only")
        if options["format"] in LOIHI_FORMATS:
            self.sim, self.quantization = _loihi_simulator(ir, options)
        elif options["timing"] == "precise":
            from spikecore.engine.precise import PreciseSimulator
            self.sim = PreciseSimulator(ir)
        else:
            # an IR lowered for precise timing may hold delays off this grid (the engine checks
            # a lazy projection's chunks itself, without joining them)
            for e in ir.projections.values():
                if not e.is_lazy:
                    check_delays(e.delay, ir.dt, f"projections.{e.name}.delay")
            self.sim = GridSimulator(ir, threads=options["threads"], precision=options["precision"],
                                     delivery=options["delivery"])
        checkpoint("compile")
        self.build_s = time.perf_counter() - t0

    def _run(self, duration: float, progress: bool = False) -> Result:
        t0 = time.perf_counter()
        checkpoint("run")
        raw = self.sim.run(duration, progress=progress)
        wall = time.perf_counter() - t0
        report = _loihi_report(self.quantization)
        choice = getattr(self.sim, "thread_choice", None)
        if choice is not None:       # the grid engine: how many threads ran, and why
            report["extra"] = {**report.get("extra", {}), "native": {"threads": choice.as_dict()}}
        return Result.from_run(raw, self.ir, backend=self.backend, wall_s=wall, build_s=self.build_s,
                               options=dict(self.options), **report)

    # -- run control (docs/run_control.md) --------------------------------------------------
    @property
    def step(self) -> int:
        return self.sim.step

    def state(self) -> dict:
        return self.sim.state()

    def set(self, pop: str, var: str, values) -> None:
        self.sim.set_state(pop, var, values)

    def modulate(self, projection: str, count: int = 1) -> None:
        if not hasattr(self.sim, "modulate"):
            mode = "format=loihi" if self.options["format"] in LOIHI_FORMATS else "timing=precise"
            raise UnsupportedFeature("native", f"neuromodulator spikes with {mode}", "the grid engine")
        self.sim.modulate(projection, count)

    def store(self, name: str = "default") -> None:
        self._snapshots = getattr(self, "_snapshots", {})
        self._snapshots[name] = (self.ir, self.sim, self.sim.snapshot())

    def restore(self, name: str = "default") -> None:
        snaps = getattr(self, "_snapshots", {})
        if name not in snaps:
            raise ValidationError("restore", name, "the name of a stored snapshot: " + (", ".join(snaps) or "none stored"))
        ir, sim, snap = snaps[name]
        self.ir, self.sim = ir, sim      # parameters and weights as they were when stored
        sim.load_snapshot(snap)

    def weights(self, projection: str) -> np.ndarray:
        edge = self._edge(projection)
        if edge.plasticity is not None and projection in getattr(self.sim, "plastic_names", ()):
            return self.sim.plastic_weights(projection)[projection]     # as learnt so far
        return edge.weight.copy()

    def set_parameters(self, pop: str, **params) -> None:
        self.replace_network(self._ir_with_parameters(pop, params), "changing parameters between runs")

    def set_weights(self, projection: str, weights) -> None:
        ir = self._ir_with_weights(projection, weights)
        if projection in getattr(self.sim, "plastic_names", ()) and self.options["format"] not in LOIHI_FORMATS:
            # the learnt weights live in the engine's plastic arrays: written there, no build
            self.sim.set_plastic_weights(projection, np.asarray(ir.projections[projection].weight, dtype=float))
            self.ir = ir
            return
        self.replace_network(ir, "changing weights between runs")

    def replace_network(self, ir: IRGraph, what: str = "replacing the network between runs") -> None:
        """Continue with ``ir``: this network with other parameters, weights or injected
        currents (the same populations, sources, synapses and delays). It is compiled and
        the dynamic state carried over: the next run continues from the present step."""
        check_same_structure(self.ir, ir)
        if self.options["format"] in LOIHI_FORMATS or self.options["timing"] == "precise":
            mode = "format=loihi" if self.options["format"] in LOIHI_FORMATS else "timing=precise"
            raise UnsupportedFeature("native", f"{what} with {mode}",
                                     "the grid engine (timing=grid, format=float); or change the "
                                     "description and compile again")
        snap = self.sim.snapshot()
        sim = GridSimulator(ir, threads=self.options["threads"], precision=self.options["precision"],
                            delivery=self.options["delivery"])
        sim.load_snapshot(snap)
        self.ir, self.sim = ir, sim


LOIHI_FORMATS = ("loihi", "fixed")


def _loihi_simulator(ir: IRGraph, options: dict):
    """The Loihi mode's simulator, quantizing a float IR first (hwmodels.loihi, as lava does)."""
    from spikecore.engine.loihi import LoihiSimulator

    if options["timing"] != "grid":
        raise UnsupportedFeature("native", f"timing={options['timing']} with format={options['format']}",
                                 "timing=grid: Loihi counts whole steps")
    backend = f"native --format {options['format']}"
    if is_plastic(ir):      # Lava's learning engine, emulated: the Lava backend's fixed-point plan
        return learning_simulator(ir, options, backend)
    report = None
    if any(not _is_integer_model(p.model) for p in ir.populations.values()):
        from hwmodels import loihi
        ir, report = loihi.quantize_with_report(ir, policy=options["policy"], headroom=options["headroom"],
                                                backend=f"native --format {options['format']}")
    return LoihiSimulator(ir), report


def _is_integer_model(name: str) -> bool:
    """Whether populations of model ``name`` are already Loihi integers (else they are quantized)."""
    model = MODELS.get(name)
    return model is not None and model.synapse == "integer"


def _loihi_report(report) -> dict:
    """Result fields for a network this backend quantized (what was approximated, and how)."""
    if report is None:
        return {}
    return {"approximations": list(report.approximations),
            "extra": {"quantization": {"populations": report.populations, "projections": report.projections},
                      "loihi_findings": [f.line() for f in report.findings if f.severity != "error"]}}


class NativeBackend(Backend):
    name = "native"
    options = {"timing": (("grid", "precise"), "grid"), "format": (("float", *LOIHI_FORMATS), "float"),
               "policy": (("strict", "approximate"), "strict"), "headroom": (None, 4.0),
               "threads": (None, 1), "precision": (("float64", "float32"), "float64"),
               "delivery": (("auto", "ring", "bucket"), "auto")}

    def compile(self, ir: IRGraph, **options) -> NativeExecutable:
        opts = self.check_options(options)
        for key in ("policy", "headroom"):
            if key in options and opts["format"] not in LOIHI_FORMATS:
                raise ValidationError(f"option '{key}'", options[key], "format=loihi (it tunes the quantization)")
        return NativeExecutable(ir, opts)


BACKEND = NativeBackend()
