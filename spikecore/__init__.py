"""spikecore: describe a spiking network once, simulate it on the native Cython
engine, check it against Brian2, deploy it to Lava, and ask what precision the
hardware needs.

Layout: ``spikecore.network`` (description layer) -> ``spikecore.ir`` (realised
graph) -> ``backends.*`` (compilers) -> ``spikecore.result.Result``.
"""
from . import units
from .errors import (BackendUnavailable, ModelFileError, SpikecoreError, UnitError,
                     UnsupportedFeature, ValidationError)
from .network import (AllToAll, CurrentSource, FixedIndegree, FixedProbability, FixedTotalNumber, FromIndices,
                      FromSparse, Network, Normal, OneToOne, PoissonSource, Population,
                      Projection, SpikeMonitor, SpikeSource, StateMonitor, Uniform, WeightMonitor)
from .models.equations import Equations
from ._version import __version__
from .result import Result

__all__ = [
    "units", "Network", "Population", "Projection", "SpikeSource", "PoissonSource",
    "CurrentSource", "SpikeMonitor", "StateMonitor", "WeightMonitor", "AllToAll", "OneToOne",
    "FixedProbability", "FixedIndegree", "FixedTotalNumber", "FromIndices", "FromSparse", "Uniform", "Normal",
    "Result", "SpikecoreError", "ValidationError", "UnitError", "ModelFileError",
    "UnsupportedFeature", "BackendUnavailable", "Equations",
]
