"""Layout pieces shared by the engine's three simulators (grid: simulator.py,
precise: precise.py, bit-accurate Loihi: loihi.py) and the backends that record on
the same step grid (backends/brian2.py): the presynaptic index space, which steps a
monitor samples, and the progress bar of a long run."""
from __future__ import annotations

import numpy as np

#: show a progress bar only for runs expected to take longer than this (s)
PROGRESS_AFTER_S = 2.0


def presynaptic_index(g, pop_starts):
    """The presynaptic index space every kernel's CSR uses: neurons of all populations
    (at ``pop_starts``), then spike-source neurons, then Poisson neurons.

    Returns (pre_base: name -> first index, pois_base, n_pois, n_pre)."""
    pre_base = {p.name: int(s) for p, s in zip(g.populations.values(), pop_starts)}
    base = sum(p.size for p in g.populations.values())
    for s in g.spike_sources.values():
        pre_base[s.name] = base
        base += s.size
    pois_base = base
    for s in g.poisson_sources.values():
        pre_base[s.name] = base
        base += s.size
    return pre_base, pois_base, base - pois_base, base


def count_multiples(n0: int, n1: int, e: int) -> int:
    """How many steps n in [n0, n1) are multiples of e (samples of a monitor of period e)."""
    return (n1 - 1) // e - (n0 - 1) // e if n1 > n0 else 0


def multiples(n0: int, n1: int, e: int) -> np.ndarray:
    """The steps n in [n0, n1) that are multiples of e, ascending."""
    return np.arange(-(-n0 // e) * e, n1, e, dtype=np.int64)


class ProgressBar:
    """tqdm on a terminal, shown only once a run is expected to outlast PROGRESS_AFTER_S."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.bar, self.last = total, enabled, None, 0

    def update(self, done: int, elapsed: float):
        if not self.enabled:
            return
        if self.bar is None:
            expected = elapsed / max(done, 1) * self.total
            if expected < PROGRESS_AFTER_S:
                return
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, unit="step", desc="simulating", leave=False)
        self.bar.update(done - self.last)
        self.last = done

    def close(self):
        if self.bar is not None:
            self.bar.close()
