"""Brunel 10k with pair STDP on E->E: the native engine against Brian2 cpp_standalone and
NEST 3.10 on the same machine in the same run, and against its own static run.

    python -m benchmarks.brunel_stdp [--repeats 3] [--duration 1] [--threads 1,2] [--no-nest]

The network is examples/brunel.yaml (8000 + 2000 lif_delta, p = 0.1, J = 0.1 mV, g = 5,
D = 1.5 ms, 20 kHz Poisson drive per neuron) with its 6.4 million E->E synapses plastic:
additive all-to-all pair STDP, tau_plus = tau_minus = 20 ms, A_plus = 0.001 mV,
A_minus = 0.00105 mV (slightly depressing, as Song et al. 2000), weights in [0, 0.2 mV]; the
rates stay those of the static network (printed beside every time). Brian2 gets the same rule
as Synapses code (on_pre, on_post, event-driven traces, the delay on the presynaptic path as
spikecore's default); NEST gets stdp_synapse with the same amplitudes (lambda = A_plus / Wmax,
alpha = A_minus / A_plus, its delay dendritic: NEST has no other). Each peer draws its own
connectivity and input, so spikes are compared as rates.

Simulation time only (build excluded), median of --repeats, as wall time and as CPU time
(native: the process's CPU seconds over the run, every thread's; NEST: the same; Brian2
cpp_standalone: the whole binary's, so its setup -- connecting the synapses -- is included
and its figure is an upper bound). On a loaded machine compare the CPU times, or wall times
of one run. Synaptic events/s counts each recurrent spike times its mean out-degree plus
the Poisson input events.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from benchmarks import peers

TAU, A_PLUS, A_MINUS, W_MAX = 20.0, 0.001, 0.00105, 0.2      # ms, mV, mV, mV
PLASTICITY = {"rule": "stdp_pair", "tau_plus": f"{TAU} ms", "tau_minus": f"{TAU} ms",
              "A_plus": f"{A_PLUS} mV", "A_minus": f"{A_MINUS} mV", "w_min": "0 mV", "w_max": f"{W_MAX} mV"}

B2_STDP = peers.B2_BRUNEL.replace(
    "Ce = Synapses(P[:N_E], P, on_pre='v_post += J * int(not_refractory_post)', delay=D)",
    "Cee = Synapses(P[:N_E], P[:N_E], '''w : volt\n"
    "    dApre/dt = -Apre / taus : volt (event-driven)\n"
    "    dApost/dt = -Apost / taus : volt (event-driven)''',\n"
    "    on_pre='''v_post += w * int(not_refractory_post)\n"
    "    Apre += dApre\n"
    "    w = clip(w + Apost, 0*mV, wmax)''',\n"
    "    on_post='''Apost += dApost\n"
    "    w = clip(w + Apre, 0*mV, wmax)''', delay=D)\n"
    f"taus = {TAU}*ms; dApre = {A_PLUS}*mV; dApost = -{A_MINUS}*mV; wmax = {W_MAX}*mV\n"
    "Cei = Synapses(P[:N_E], P[N_E:], on_pre='v_post += J * int(not_refractory_post)', delay=D)")
B2_STDP_CONNECT = "Cee.connect(p=0.1)\nCee.w = J\nCei.connect(p=0.1)\nCi.connect(p=0.1)"

NEST_STDP = peers.NEST_BRUNEL.replace(
    '"t_ref": 2.0, "refractory_input": False}})',
    f'"t_ref": 2.0, "refractory_input": False, "tau_minus": {TAU}}}}})')
NEST_STDP_CONNECT = (
    'nest.Connect(P[:N_E], P[:N_E], {{"rule": "pairwise_bernoulli", "p": 0.1}}, {{"synapse_model": "stdp_synapse", '
    f'"weight": J, "delay": D, "tau_plus": {TAU}, "lambda": {A_PLUS / W_MAX}, "alpha": {A_MINUS / A_PLUS}, '
    f'"Wmax": {W_MAX}, "mu_plus": 0.0, "mu_minus": 0.0}}}})\n'
    '    nest.Connect(P[:N_E], P[N_E:], {{"rule": "pairwise_bernoulli", "p": 0.1}}, {{"weight": J, "delay": D}})\n'
    '    nest.Connect(P[N_E:], P, {{"rule": "pairwise_bernoulli", "p": 0.1}}, {{"weight": -g * J, "delay": D}})')


def native(plastic: bool, duration: float, threads: int, repeats: int) -> dict:
    from backends import get_backend
    from spikecore.io import load_network
    from pathlib import Path
    net = load_network(Path(__file__).resolve().parents[1] / "examples" / "brunel.yaml")
    if plastic:
        net.projections["exc_exc"].plasticity = dict(PLASTICITY)
    times, cpu, spikes = [], [], []
    for _ in range(repeats):
        exe = get_backend("native").compile(net.to_ir(), threads=threads)
        t0, c0 = time.perf_counter(), time.process_time()
        r = exe.run(duration)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        spikes.append(sum(r.spikes[p][0].size for p in ("exc", "inh")))
    return {"sim_s": statistics.median(times), "cpu_s": statistics.median(cpu), "spikes": spikes[0]}


def peer(kind: str, duration: float, threads: int, repeats: int) -> dict:
    if kind == "brian2":
        net = B2_STDP.format(n_e=8000, n_i=2000, connect=B2_STDP_CONNECT)
        import os
        import shutil
        import tempfile
        os.makedirs(peers.CACHE, exist_ok=True)
        build_dir = tempfile.mkdtemp(prefix="brunel_stdp-standalone-", dir=peers.CACHE)
        try:
            src = peers._B2_TEMPLATE.format(cache=os.path.join(peers.CACHE, "brian2-cython"), device="cpp_standalone",
                                            build_dir=build_dir, threads=threads, seed=1, network=net,
                                            duration=duration, repeats=repeats)
            res = peers._run_script(src, dict(os.environ, OMP_NUM_THREADS=str(max(threads, 1))), 3600)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
    else:
        net = NEST_STDP.format(n_e=8000, n_i=2000, connect=NEST_STDP_CONNECT.format())
        src = peers._NEST_TEMPLATE.format(threads=threads, duration=duration, repeats=repeats, network=net)
        import os
        res = peers._run_script(src, dict(os.environ, OMP_NUM_THREADS=str(threads)), 3600)
    runs = res["runs"]
    return {"sim_s": statistics.median(r["sim_s"] for r in runs), "spikes": runs[0]["spikes"],
            "cpu_s": statistics.median(r.get("cpu_s", float("nan")) for r in runs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds (default 1)")
    ap.add_argument("--threads", default="1,2", help="thread counts for native and NEST (default 1,2)")
    ap.add_argument("--no-nest", action="store_true", help="leave NEST out (its plastic run takes minutes)")
    a = ap.parse_args(argv)
    threads = [int(t) for t in a.threads.split(",")]
    rows = []
    for t in threads:
        rows.append(("native static", t, native(False, a.duration, t, a.repeats)))
        rows.append(("native stdp", t, native(True, a.duration, t, a.repeats)))
    rows.append(("brian2 cpp_standalone stdp", 1, peer("brian2", a.duration, 0, a.repeats)))
    nest_missing = "left out" if a.no_nest else peers.nest_available()
    for t in threads:
        if nest_missing is None:
            rows.append(("nest stdp_synapse", t, peer("nest", a.duration, t, a.repeats)))
    events = 20000.0 * 10000 * a.duration          # Poisson input events
    print("| system | threads | sim time (s) | CPU time (s) | rate (Hz) | synaptic events/s |\n"
          "|---|---|---|---|---|---|")
    by, cpu = {}, {}
    for name, t, r in rows:
        rate = r["spikes"] / 10000 / a.duration
        ev = (r["spikes"] * 1000 + events) / r["sim_s"]      # mean out-degree 1000 (p = 0.1 of 10,000)
        by[(name, t)], cpu[(name, t)] = r["sim_s"], r["cpu_s"]
        print(f"| {name} | {t} | {r['sim_s']:.3f} | {r['cpu_s']:.3f} | {rate:.2f} | {ev:.3g} |")
    for what, d in (("wall", by), ("CPU", cpu)):
        t1 = d[("native stdp", 1)]
        print(f"\n{what}: native stdp (1 thread) / native static: {t1 / d[('native static', 1)]:.2f}x the time")
        print(f"{what}: Brian2 cpp_standalone / native stdp (1 thread): {d[('brian2 cpp_standalone stdp', 1)] / t1:.2f}x")
        for t in threads:
            if ("nest stdp_synapse", t) in d:
                print(f"{what}: NEST {t} thread(s) / native stdp {t} thread(s): "
                      f"{d[('nest stdp_synapse', t)] / d[('native stdp', t)]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
