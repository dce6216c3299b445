"""spikecore as a PyNN backend: ``import pyNN.spikecore as sim`` (or ``spikecore.pynn``).

The PyNN 0.13 API over spikecore (docs/pynn.md): ``setup(timestep=..., backend="native" |
"brian2" | "lava", rng_seed=..., **backend_options)``, ``run``, ``reset``, ``end``,
Population, PopulationView, Assembly, Projection with PyNN's connectors, StaticSynapse,
the standard cells spikecore has a model for (spikecore.pynn.standardmodels.CELL_MAPPINGS),
SpikeSourceArray, SpikeSourcePoisson, DCSource, StepCurrentSource, ``record`` and
``get_data`` (Neo blocks), ``set``/``get``/``initialize`` between runs. The other PyNN types
exist and raise PyNN's NotImplementedError naming themselves. ``pyNN/spikecore`` is a shim
installed into PyNN's package (spikecore.pynn.shim) that re-exports this module.
"""
from pyNN import errors, random, space                          # noqa: F401
from pyNN.connectors import *                                   # noqa: F401,F403
from pyNN.network import Network                                # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution    # noqa: F401
from pyNN.recording import *                                    # noqa: F401,F403
from pyNN.space import Space                                    # noqa: F401
from pyNN.standardmodels import StandardCellType

from .control import (end, get_current_time, get_max_delay, get_min_delay, get_time_step,  # noqa: F401
                      initialize, num_processes, rank, reset, run, run_for, run_until, setup)
from .populations import Assembly, Population, PopulationView   # noqa: F401
from .procedural_api import connect, create, record, record_gsyn, record_v  # noqa: F401
from .projections import Projection                             # noqa: F401
from .standardmodels import *                                   # noqa: F401,F403
from .standardmodels import CELL_MAPPINGS


def list_standard_models():
    """The StandardCellType classes that run on spikecore."""
    return [name for name, obj in globals().items()
            if isinstance(obj, type) and issubclass(obj, StandardCellType)
            and (name in CELL_MAPPINGS or name in ("SpikeSourceArray", "SpikeSourcePoisson"))]
