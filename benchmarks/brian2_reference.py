"""Hand-written Brian2 scripts of the benchmark networks (the peers' own way of writing them).

``script(name, device, duration_s)`` returns the source of a standalone Python
program that builds the network exactly as Brian2's examples do, runs it and
prints one JSON line: {"sim_s": ..., "build_s": ..., "spikes": ..., "n": ...}.
Run it in a fresh interpreter so Brian2's global device state never leaks.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.peers import CACHE  # noqa: E402

# Brian2's examples/CUBA.py, verbatim in its equations and parameters (one copy: the suite's).
from benchmarks.peers import B2_CUBA as CUBA  # noqa: E402

NETWORKS = {"cuba": CUBA}

_TEMPLATE = r'''
import json, time, os, sys
t_start = time.perf_counter()
from brian2 import *
prefs.codegen.runtime.cython.cache_dir = {cache!r}
device_name = {device!r}
if device_name == "cpp_standalone":
    set_device("cpp_standalone", directory={build_dir!r}, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = {threads}
else:
    prefs.codegen.target = device_name
seed({seed})
{network}
net = Network(collect())
if device_name == "cpp_standalone":
    net.run({duration} * second)
    t0 = time.perf_counter()
    device.build(directory={build_dir!r}, compile=True, run=True)
    total = time.perf_counter() - t0
    sim = device._last_run_time
    build = total - sim
else:
    net.run(1 * ms)   # first run generates and compiles the code (cached between processes)
    t0 = time.perf_counter()
    net.run({duration} * second)
    sim = time.perf_counter() - t0
    build = 0.0
print("RESULT " + json.dumps({{"sim_s": sim, "build_s": build, "spikes": int(mon.num_spikes), "n": N,
                               "process_s": time.perf_counter() - t_start}}))
'''


def script(name: str, device: str, duration_s: float, build_dir: str, threads: int = 0, seed: int = 1) -> str:
    return _TEMPLATE.format(cache=os.path.join(CACHE, "brian2-cython"), device=device, build_dir=build_dir,
                            threads=threads, seed=seed, network=NETWORKS[name], duration=duration_s)


def run_brian2(name: str, device: str, duration_s: float, threads: int = 0, fresh_build: bool = True) -> dict:
    """Run the hand-written Brian2 network in a fresh interpreter; adds wall time of the whole process."""
    os.makedirs(CACHE, exist_ok=True)
    build_dir = tempfile.mkdtemp(prefix=f"{name}-standalone-", dir=CACHE) if fresh_build else \
        os.path.join(CACHE, f"{name}-standalone-warm")
    src = script(name, device, duration_s, build_dir, threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(max(threads, 1)))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"Brian2 {device} run failed:\n{out.stderr[-2000:]}")
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    res["wall_s"] = wall
    if fresh_build:
        import shutil
        shutil.rmtree(build_dir, ignore_errors=True)
    return res


def median(runs, key):
    """Median of one measurement over repeated runs (the figure every benchmark reports)."""
    import statistics
    return statistics.median(r[key] for r in runs)
