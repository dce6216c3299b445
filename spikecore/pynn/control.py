"""setup, run, reset, end and the state queries of spikecore.pynn."""
from __future__ import annotations

from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from . import simulator
from .simulator import BACKENDS, INTEGRATORS


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, backend="native", rng_seed=0,
          integrator=None, **extra_params):
    """Start a new simulation: ``timestep`` (ms), the spikecore ``backend`` ("native",
    "brian2" or "lava"), ``rng_seed`` (spikecore's per-element seeding: Poisson sources),
    ``integrator`` of the Izhikevich and EIF cells ("rk4", spikecore's default, with the
    spike located inside the step; "euler", the only one Brian2 runs and its default there)
    and any option of that backend (e.g. ``threads=4``, ``format="loihi"``)."""
    from pyNN.errors import InvalidParameterValueError
    if backend not in BACKENDS:
        raise InvalidParameterValueError(f"backend={backend!r}: one of {', '.join(BACKENDS)}")
    if integrator not in (None, *INTEGRATORS):
        raise InvalidParameterValueError(f"integrator={integrator!r}: one of {', '.join(INTEGRATORS)}")
    # PyNN passes every backend the same extra_params and each takes its own: here, the
    # options of the chosen spikecore backend (others, e.g. NEST's t_flush, are ignored)
    from ..registry import get_backend
    known = get_backend(backend).options
    options = {k: v for k, v in extra_params.items() if k in known}
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.dt = timestep
    state.min_delay = min_delay
    state.max_delay = extra_params.get("max_delay", "auto")
    state.backend, state.options, state.seed = backend, options, int(rng_seed)
    state.integrator = integrator or ("euler" if backend == "brian2" else "rk4")
    try:
        get_backend(backend).check_options(options)
    except Exception as e:   # a misspelt option: PyNN's error type, naming it
        raise InvalidParameterValueError(str(e)) from None
    return rank()


def end(compatible_output=True):
    """Write the data asked for by record(..., to_file); recorded data stay readable
    (the next setup() forgets the network)."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
