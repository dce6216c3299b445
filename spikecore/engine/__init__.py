"""The native engine: a Cython kernel (``_core.pyx``, typed contract in ``_core.pxd``)
and its Python wrapper (``simulator.py``), which validates and lays out the IR.
Precise-timing mode (spike times off the grid): ``_precise.pyx`` and ``precise.py``
(``PreciseSimulator``, imported from spikecore.engine.precise).

backends/native.py wraps ``GridSimulator`` in the common backend interface.
"""
from .simulator import GridSimulator

__all__ = ["GridSimulator"]
