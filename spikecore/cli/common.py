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
