"""Helpers shared by subcommands: parsing quantities from flags, loading models."""
from __future__ import annotations

from .. import units as u
from ..errors import ValidationError


def quantity_arg(text: str | None, dim, flag: str):
    """'200ms' / '0.1 ms' -> a checked, positive Quantity; None stays None."""
    if text is None:
        return None
    value = u.to_si(text, dim, flag)
    if not value > 0:
        raise ValidationError(flag, text, "a positive value")
    return u.Quantity(value, dim)


def load_model(path):
    from ..io import load_network
    return load_network(path)


def add_model_args(p, duration=True):
    p.add_argument("model", help="model file (.yaml, .yml, .json, or a NIR graph .nir)")
    if duration:
        p.add_argument("--duration", help="simulated time, e.g. 1s or 200ms (default: the model's)")
    p.add_argument("--dt", help="time step, e.g. 0.1ms (default: the model's)")
    p.add_argument("--seed", type=int, help="network seed (default: the model's)")


IGNORE_MEMORY_FLAG = "--ignore-memory-check"


def add_memory_arg(p):
    p.add_argument(IGNORE_MEMORY_FLAG, action="store_true",
                   help="run even when the memory estimate exceeds the available memory")


def check_memory(args, net, duration, backend, options, dt=None, what=None):
    """Estimate the memory of running ``net`` (spikecore.engine.memory) before anything is drawn:
    refuse when it exceeds the available memory (unless --ignore-memory-check), print a one-line
    warning when the spike monitors are likely to record a very large number of spikes."""
    import sys

    from ..engine.memory import preflight

    dt = None if dt is None else getattr(dt, "value", dt)
    return preflight(net, duration, backend, options, dt, ignore=getattr(args, "ignore_memory_check", False),
                     what=what or f"{net.name} on {backend}", override=IGNORE_MEMORY_FLAG,
                     warn=lambda m: print(f"spikecore {args.command}: warning: {m}", file=sys.stderr))
