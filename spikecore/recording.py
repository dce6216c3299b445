"""Which steps a state monitor samples: shared by every engine and backend that records on
the IR's step grid (spikecore/engine, backends/brian2.py).

A monitor of period e steps samples the steps n that are multiples of e, at the start of
the step (the IR's rule, spikecore/ir.py); a run of steps [n0, n1) holds
``count_multiples(n0, n1, e)`` samples at ``multiples(n0, n1, e)``.
"""
from __future__ import annotations

import numpy as np


def count_multiples(n0: int, n1: int, e: int) -> int:
    """How many steps n in [n0, n1) are multiples of e (samples of a monitor of period e)."""
    return (n1 - 1) // e - (n0 - 1) // e if n1 > n0 else 0


def multiples(n0: int, n1: int, e: int) -> np.ndarray:
    """The steps n in [n0, n1) that are multiples of e, ascending."""
    return np.arange(-(-n0 // e) * e, n1, e, dtype=np.int64)
