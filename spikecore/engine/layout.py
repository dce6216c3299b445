"""Layout pieces shared by the engine's three simulators (grid: simulator.py,
precise: precise.py, bit-accurate Loihi: loihi.py)."""
from __future__ import annotations


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
