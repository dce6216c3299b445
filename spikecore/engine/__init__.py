"""The native engine: a Cython kernel (``_core.pyx``, typed contract in ``_core.pxd``)
and its Python wrapper (``simulator.py``), which validates and lays out the IR.

backends/native.py wraps ``GridSimulator`` in the common backend interface.
"""
from .simulator import GridSimulator

__all__ = ["GridSimulator"]
