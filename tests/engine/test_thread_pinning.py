"""Asked to (Kernel.pin_threads), a team of grid-engine threads runs pinned, one thread per
CPU of the caller's affinity mask (spikecore/engine/_kernel.c, sc_pin_plan), and each
thread's own mask is restored after the run; never where the user placed OpenMP's threads (OMP_PROC_BIND and friends). Each case runs
in a subprocess, because it changes the affinity of its threads."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spikecore.engine._core import openmp_enabled

ROOT = Path(__file__).resolve().parents[2]

# Two CPUs c0, c1 of this process; the OpenMP worker is confined to c1 and the caller is
# moved onto c1 before the run (its mask then widened to both): unpinned, both threads would
# share c1. The script prints the CPU of each thread at the end of each profiled window and
# the masks before and after the run.
SCRIPT = r"""
import json, os, threading
import spikecore as sc
from spikecore.engine import GridSimulator

net = sc.Network("pinned", seed=3, dt="0.1 ms")
params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms",
              tau_syn={"exc": "5 ms", "inh": "10 ms"})
net.add(sc.Population(300, "lif_cuba", params, {"v": sc.Uniform("0 mV", "20 mV")}, name="p"))
net.add(sc.PoissonSource(300, "800 Hz", name="drive"))
net.add(sc.Projection("drive", "p", sc.OneToOne(), weight="3 mV", delay="0.1 ms", receptor="exc", name="d"))
net.add(sc.Projection("p", "p", sc.FixedIndegree(10), weight="1 mV", delay="0.3 ms", receptor="exc", name="rec"))
c0, c1 = sorted(os.sched_getaffinity(0))[:2]
sim = GridSimulator(net.to_ir(), threads=THREADS)
sim.kernel.pin_threads = PIN
sim.run_steps(30)                      # OpenMP's team exists now
main = threading.get_native_id()
workers = [int(x) for x in os.listdir("/proc/self/task") if int(x) != main]
for w in workers:
    os.sched_setaffinity(w, {c1})
os.sched_setaffinity(0, {c1})
os.sched_setaffinity(0, {c0, c1})
before = {w: sorted(os.sched_getaffinity(w)) for w in workers}
sim.kernel.profile_windows(100)
sim.run_steps(300)
print(json.dumps({"c": [c0, c1], "cpus": sim.kernel.phase_cpus().tolist(), "main": sorted(os.sched_getaffinity(0)),
                  "before": before, "after": {w: sorted(os.sched_getaffinity(w)) for w in workers}}))
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2
                                or not openmp_enabled(), reason="needs Linux, OpenMP and two CPUs")


def run_case(threads=2, pin=True, env=None):
    script = SCRIPT.replace("THREADS", str(threads)).replace("PIN", str(pin))
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY")}
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=e, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_threads_run_on_two_cpus_of_the_mask_and_get_their_masks_back():
    r = run_case()
    c0, c1 = r["c"]
    cpus = r["cpus"]
    assert len(cpus) == 2 and len(cpus[0]) == 100
    for t in range(2):
        assert len(set(cpus[t])) == 1, cpus[t]          # one CPU for the whole call
    assert {cpus[0][0], cpus[1][0]} == {c0, c1}         # distinct, both inside the mask
    assert r["main"] == [c0, c1]                        # the caller's mask as it was
    assert r["after"] == r["before"]                    # every worker's too


def test_no_pinning_where_openmp_places_the_threads():
    r = run_case(env={"OMP_PROC_BIND": "false"})
    assert set(r["cpus"][1]) == {r["c"][1]}             # the worker stayed in its own mask
    assert r["after"] == r["before"]


def test_unpinned_team_stays_where_the_os_put_it():
    r = run_case(pin=False)
    assert set(r["cpus"][1]) == {r["c"][1]}


def test_one_thread_is_not_pinned():
    r = run_case(threads=1)
    assert len(r["cpus"]) == 1 and r["main"] == r["c"]


def test_teams_are_not_pinned_unless_asked():
    """Off by default: on a loaded machine pinned teams were slower more often than not
    (benchmarks/RESULTS.md, round 5)."""
    import spikecore as sc
    from spikecore.engine import GridSimulator

    net = sc.Network("default", seed=3, dt="0.1 ms")
    net.add(sc.Population(50, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV",
                                                 v_reset="10 mV", t_refrac="2 ms"), name="p"))
    sim = GridSimulator(net.to_ir(), threads=2)
    assert sim.kernel.pin_threads is False
    sim.kernel.pin_threads = True
    assert sim.kernel.pin_threads is True
