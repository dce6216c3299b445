"""Cross-check of examples/brunel_phase.md in NEST 3.10: the same network, the same measures.

    .venv/bin/python examples/brunel_phase_nest.py [g,nu ...]     (default: 5,2 4.5,0.9)

Builds examples/brunel2000.yaml's network directly in PyNEST (iaf_psc_delta, whose
input during the refractory period is discarded as in spikecore's lif_delta; NEST
fires on V >= V_th where spikecore's threshold is strict), runs 1.2 s on one thread and
prints spikecore.sweep.measures of the excitatory population over 0.2-1.2 s. NEST's own
random numbers draw connectivity, initial potentials and Poisson input, so the numbers
agree with spikecore's statistically, not spike for spike.
"""
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from spikecore.sweep.measures import population_measures  # noqa: E402
from spikecore.sweep.regimes import classify  # noqa: E402

N_E, N_I, C_E, C_I = 10000, 2500, 1000, 250
J, D, NU_THR_TIMES_C_E_HZ = 0.1, 1.5, 10000.0      # mV, ms, C_E nu_thr
DURATION_MS, TRANSIENT_MS = 1200.0, 200.0


def run(g: float, nu: float, seed: int = 12) -> dict:
    import nest

    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": seed})
    params = {"tau_m": 20.0, "C_m": 1.0, "E_L": 0.0, "V_th": 20.0, "V_reset": 10.0, "t_ref": 2.0}
    exc = nest.Create("iaf_psc_delta", N_E, params=params)
    inh = nest.Create("iaf_psc_delta", N_I, params=params)
    for pop in (exc, inh):
        pop.V_m = nest.random.uniform(0.0, 20.0)
    drive = nest.Create("poisson_generator", params={"rate": nu * NU_THR_TIMES_C_E_HZ})
    nest.Connect(drive, exc + inh, syn_spec={"weight": J, "delay": 0.1})
    nest.Connect(exc, exc + inh, {"rule": "fixed_indegree", "indegree": C_E}, {"weight": J, "delay": D})
    nest.Connect(inh, exc + inh, {"rule": "fixed_indegree", "indegree": C_I}, {"weight": -g * J, "delay": D})
    recorder = nest.Create("spike_recorder")
    nest.Connect(exc, recorder)
    nest.Simulate(DURATION_MS)
    times = np.asarray(recorder.events["times"]) * 1e-3
    cells = np.asarray(recorder.events["senders"]) - exc[0].global_id
    keep = times >= TRANSIENT_MS * 1e-3
    return population_measures(times[keep] - TRANSIENT_MS * 1e-3, cells[keep], N_E,
                               (DURATION_MS - TRANSIENT_MS) * 1e-3)


def main(argv=None) -> int:
    points = [tuple(float(x) for x in p.split(",")) for p in (argv or ["5,2", "4.5,0.9"])]
    for g, nu in points:
        t0 = time.perf_counter()
        m = run(g, nu)
        print(f"g={g:g} nu_ext/nu_thr={nu:g}: rate {m['rate_hz']:.2f} Hz, CV {m['cv_isi']:.3f}, sync {m['sync']:.3f}, "
              f"Fano {m['fano']:.1f}, freq {m['freq_hz']:.0f} Hz -> {classify(m)} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
