"""The benchmark networks written the peers' own way: Brian2 (cpp_standalone and
runtime cython) and NEST 3.10 scripts, each run in a fresh interpreter.

Every script prints one line ``RESULT {json}`` with a list of runs (``sim_s``: the
peer's own simulation time, build excluded), ``build_s``, ``spikes`` per run,
``n`` and ``peak_rss_mb`` (of the process that simulated). Networks (examples/*.yaml):

* cuba   Brian2 examples/CUBA.py verbatim (4000 LIF, exponential currents, p=0.02);
* coba   Brette et al. 2007 benchmark 1 (conductances 6/67 nS) with the 50 ms
         Poisson kick of examples/coba.yaml;
* adex_coba COBA (as above: 4000 neurons, p=0.02, 6/67 nS, the 50 ms kick) with AdEx
         neurons (benchmarks/suite.py ADEX_COBA): Brian2 integrates them with its forward
         Euler ('euler'; exponential_euler cannot take the exponential term), which is
         the native run's integrator euler; NEST with aeif_cond_exp (adaptive RKF45);
* brunel Brunel 2000 (N_E=8000, N_I=2000, p=0.1, J=0.1 mV, g=5, D=1.5 ms), external
         drive C_E*2*nu_thr = 20 kHz per neuron (Brian2: PoissonInput, NEST: one
         poisson_generator, spikecore: one Poisson source per neuron — the same
         Poisson process); synaptic input discarded while refractory, as NEST's
         iaf_psc_delta and spikecore's lif_delta;
* microcircuit_small  Potjans & Diesmann 2014 at scale 0.1 with Poisson background (NEST:
         INM-6's own PyNEST implementation, PyPI microcircuit 1.0; no Brian2 script);
* scale_N Brunel-like, N neurons, in-degree 800 excitatory + 200 inhibitory
         (Brian2 and NEST: fixed in-degree as spikecore's FixedIndegree).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "spikecore", "benchmarks")

# ----------------------------------------------------------------------------- Brian2
B2_CUBA = r'''
taum = 20*ms; taue = 5*ms; taui = 10*ms
Vt = -50*mV; Vr = -60*mV; El = -49*mV
eqs = """
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms, method='exact')
P.v = 'Vr + rand() * (Vt - Vr)'
P.ge = 0*mV
P.gi = 0*mV
we = (60*0.27/10)*mV
wi = (-20*4.5/10)*mV
Ce = Synapses(P, P, on_pre='ge += we')
Ci = Synapses(P, P, on_pre='gi += wi')
Ce.connect('i<3200', p=0.02)
Ci.connect('i>=3200', p=0.02)
mon = SpikeMonitor(P)
N = 4000
'''

B2_COBA = r'''
area = 20000*umetre**2
Cm = 200*pF; gl = 10*nS
El = -60*mV; EK = -80*mV; VT = -50*mV
Ee = 0*mV; Ei = -80*mV; taue = 5*ms; taui = 10*ms
we = 6*nS; wi = 67*nS
eqs = """
dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v))/Cm : volt (unless refractory)
dge/dt = -ge/taue : siemens
dgi/dt = -gi/taui : siemens
"""
P = NeuronGroup(4000, eqs, threshold='v>VT', reset='v = El', refractory=5*ms, method='exponential_euler')
'''

# the wiring both COBA networks share (Brette et al. 2007 benchmark 1 and its AdEx variant):
# random initial v, 2 % connectivity, the 50 ms Poisson kick of examples/coba.yaml
_B2_COBA_WIRING = r'''
P.v = 'El + rand() * (VT - El)'
Ce = Synapses(P, P, on_pre='ge += we')
Ci = Synapses(P, P, on_pre='gi += wi')
Ce.connect('i<3200', p=0.02)
Ci.connect('i>=3200', p=0.02)
kick = PoissonGroup(4000, rates='100*Hz*(t < 50*ms)')
K = Synapses(kick, P, on_pre='ge += 30*nS')
K.connect(j='i')
mon = SpikeMonitor(P)
N = 4000
'''

B2_ADEX_COBA = r'''
Cm = 200*pF; gl = 10*nS; El = -60*mV; VT = -50*mV; DeltaT = 2*mV; Vpeak = -40*mV; Vr = -60*mV
a = 2*nS; b = 20*pA; tauw = 144*ms
Ee = 0*mV; Ei = -80*mV; taue = 5*ms; taui = 10*ms
we = 6*nS; wi = 67*nS
eqs = """
dv/dt = (gl*(El - v) + gl*DeltaT*exp((v - VT)/DeltaT) - w + ge*(Ee - v) + gi*(Ei - v))/Cm : volt (unless refractory)
dw/dt = (a*(v - El) - w)/tauw : amp
dge/dt = -ge/taue : siemens
dgi/dt = -gi/taui : siemens
"""
P = NeuronGroup(4000, eqs, threshold='v>Vpeak', reset='v = Vr; w += b', refractory=5*ms, method='euler')
'''
B2_COBA += _B2_COBA_WIRING
B2_ADEX_COBA += _B2_COBA_WIRING

B2_BRUNEL = r'''
N_E = {n_e}; N_I = {n_i}; N = N_E + N_I
J = 0.1*mV; g = 5.0; D = 1.5*ms; tau = 20*ms; theta = 20*mV; V_r = 10*mV
C_E = 800; C_I = 200
nu_ext = 2 * theta / (J * C_E * tau)
P = NeuronGroup(N, 'dv/dt = -v/tau : volt (unless refractory)', threshold='v > theta',
                reset='v = V_r', refractory=2*ms, method='exact')
P.v = 'rand() * theta'
Ce = Synapses(P[:N_E], P, on_pre='v_post += J * int(not_refractory_post)', delay=D)
Ci = Synapses(P[N_E:], P, on_pre='v_post += -g * J * int(not_refractory_post)', delay=D)
{connect}
ext = PoissonInput(P, 'v', C_E, nu_ext, weight='J * int(not_refractory)')
mon = SpikeMonitor(P)
'''
B2_CONNECT_P = "Ce.connect(p=0.1)\nCi.connect(p=0.1)"
# fixed in-degree: for every target j, C_E (C_I) distinct sources; Brian2 has no fixed
# in-degree rule, so the script builds it explicitly from numpy draws
B2_CONNECT_K = ("import numpy as _np\n"
                "_rng = _np.random.default_rng(1)\n"
                "_ie = _np.concatenate([_rng.choice(N_E, C_E, replace=False) for _ in range(N)])\n"
                "Ce.connect(i=_ie, j=_np.repeat(_np.arange(N), C_E))\n"
                "_ii = _np.concatenate([_rng.choice(N_I, C_I, replace=False) for _ in range(N)])\n"
                "Ci.connect(i=_ii, j=_np.repeat(_np.arange(N), C_I))\n")


def _network_script(name: str, fixed: dict, brunel: str, connect_p: str, connect_k: str) -> str:
    """A peer's script of the network of benchmark ``name``: one of ``fixed`` (by name),
    ``brunel`` with 8000 + 2000 neurons connected by ``connect_p``, or (scale_N) with N
    neurons, 4/5 of them excitatory, connected by ``connect_k``."""
    if name in fixed:
        return fixed[name]
    if name == "brunel":
        return brunel.format(n_e=8000, n_i=2000, connect=connect_p)
    if name.startswith("scale_"):
        n = int(name.split("_")[1])
        return brunel.format(n_e=4 * n // 5, n_i=n - 4 * n // 5, connect=connect_k)
    raise KeyError(name)


def _b2_network(name: str) -> str:
    return _network_script(name, {"cuba": B2_CUBA, "coba": B2_COBA, "adex_coba": B2_ADEX_COBA}, B2_BRUNEL,
                           B2_CONNECT_P, B2_CONNECT_K)


_B2_TEMPLATE = r'''
import json, os, resource, subprocess, sys, time
import numpy as np
from brian2 import *
prefs.codegen.runtime.cython.cache_dir = {cache!r}
device_name = {device!r}
build_dir = {build_dir!r}
repeats = {repeats}
if device_name == "cpp_standalone":
    set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = {threads}
else:
    prefs.codegen.target = device_name
seed({seed})
{network}
N = len(P) if 'N' not in dir() else N
net = Network(collect())
runs = []
if device_name == "cpp_standalone":
    net.run({duration} * second)
    t0 = time.perf_counter()
    device.build(directory=build_dir, compile=True, run=False)
    build = time.perf_counter() - t0
    count_file = os.path.join(build_dir, "results", device.get_array_filename(mon.variables["count"]))
    for _ in range(repeats):
        env = dict(os.environ, OMP_NUM_THREADS=str(max({threads}, 1)))
        p = subprocess.Popen([os.path.join(build_dir, "main")], cwd=build_dir, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit("standalone binary failed")
        with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
            sim = float(f.read().split()[0])
        spikes = int(np.fromfile(count_file, dtype=np.int32).sum())
        # CPU seconds of the whole binary: its setup (connecting the synapses) included
        runs.append({{"sim_s": sim, "spikes": spikes, "peak_rss_mb": ru.ru_maxrss / 1024,
                     "cpu_s": ru.ru_utime + ru.ru_stime}})
else:
    t0 = time.perf_counter()
    net.run(1 * ms)   # generates and compiles the code (cached between processes)
    build = time.perf_counter() - t0
    net.store()
    for _ in range(repeats):
        net.restore()
        before = int(mon.num_spikes)
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        net.run({duration} * second)
        sim = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        runs.append({{"sim_s": sim, "spikes": int(mon.num_spikes) - before,
                     "cpu_s": c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime,
                     "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}})
print("RESULT " + json.dumps({{"runs": runs, "build_s": build, "n": int(N)}}))
'''


def brian2_script(name: str, device: str, duration: float, build_dir: str, threads: int, repeats: int,
                  seed: int = 1) -> str:
    return _B2_TEMPLATE.format(cache=os.path.join(CACHE, "brian2-cython"), device=device, build_dir=build_dir,
                               threads=threads, seed=seed, network=_b2_network(name), duration=duration,
                               repeats=repeats)


def run_brian2(name: str, device: str, duration: float, threads: int = 0, repeats: int = 3,
               timeout: float = 3600) -> dict:
    """Build once and simulate ``repeats`` times; threads=0 is Brian2's single-threaded default."""
    os.makedirs(CACHE, exist_ok=True)
    build_dir = tempfile.mkdtemp(prefix=f"{name}-standalone-", dir=CACHE)
    try:
        src = brian2_script(name, device, duration, build_dir, threads, repeats)
        env = dict(os.environ, OMP_NUM_THREADS=str(max(threads, 1)))
        return _run_script(src, env, timeout)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- NEST
_NEST_TEMPLATE = r'''
import json, resource, sys, time
import numpy as np
import nest
nest.set_verbosity("M_ERROR")
threads, duration, repeats = {threads}, {duration}, {repeats}

def build():
    nest.ResetKernel()
    nest.SetKernelStatus({{"resolution": 0.1, "local_num_threads": threads, "rng_seed": 1}})
{network}
    return P, rec

runs = []
for _ in range(repeats):
    t0 = time.perf_counter()
    P, rec = build()
    nest.Prepare()
    build_s = time.perf_counter() - t0
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    nest.Run(duration * 1000.0)
    sim = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    nest.Cleanup()
    runs.append({{"sim_s": sim, "build_s": build_s, "spikes": int(rec.n_events),
                  "cpu_s": c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}})
print("RESULT " + json.dumps({{"runs": runs, "build_s": float(np.median([r["build_s"] for r in runs])),
                              "n": len(P)}}))
'''

NEST_CUBA = r'''
    # Brian2's CUBA with its volt-valued currents ge, gi as NEST currents: I = g * C_m / tau_m
    C_m, tau_m = 250.0, 20.0
    P = nest.Create("iaf_psc_exp", 4000, params={"C_m": C_m, "tau_m": tau_m, "E_L": -49.0, "V_th": -50.0,
                    "V_reset": -60.0, "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0})
    P.V_m = nest.random.uniform(-60.0, -50.0)
    scale = C_m / tau_m
    nest.Connect(P[:3200], P, {"rule": "pairwise_bernoulli", "p": 0.02}, {"weight": 1.62 * scale, "delay": 0.1})
    nest.Connect(P[3200:], P, {"rule": "pairwise_bernoulli", "p": 0.02}, {"weight": -9.0 * scale, "delay": 0.1})
    rec = nest.Create("spike_recorder")
    nest.Connect(P, rec)
'''

#: COBA's wiring in NEST (initial v, the two recurrent projections, the 50 ms Poisson kick, the
#: recorder), shared by the LIF and AdEx versions of the benchmark
_NEST_COBA_WIRING = r'''    P.V_m = nest.random.uniform(-60.0, -50.0)
    nest.Connect(P[:3200], P, {"rule": "pairwise_bernoulli", "p": 0.02}, {"weight": 6.0, "delay": 0.1})
    nest.Connect(P[3200:], P, {"rule": "pairwise_bernoulli", "p": 0.02}, {"weight": -67.0, "delay": 0.1})
    kick = nest.Create("poisson_generator", params={"rate": 100.0, "stop": 50.0})
    nest.Connect(kick, P, syn_spec={"weight": 30.0, "delay": 0.1})
    rec = nest.Create("spike_recorder")
    nest.Connect(P, rec)
'''

NEST_COBA = r'''
    P = nest.Create("iaf_cond_exp", 4000, params={"C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0,
                    "V_reset": -60.0, "t_ref": 5.0, "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0,
                    "tau_syn_in": 10.0})
''' + _NEST_COBA_WIRING

NEST_ADEX_COBA = r'''
    P = nest.Create("aeif_cond_exp", 4000, params={"C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0,
                    "Delta_T": 2.0, "V_peak": -40.0, "V_reset": -60.0, "t_ref": 5.0, "a": 2.0, "b": 20.0,
                    "tau_w": 144.0, "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0})
''' + _NEST_COBA_WIRING

NEST_BRUNEL = r'''
    N_E, N_I = {n_e}, {n_i}
    J, g, D = 0.1, 5.0, 1.5
    P = nest.Create("iaf_psc_delta", N_E + N_I, params={{"C_m": 250.0, "tau_m": 20.0, "E_L": 0.0,
                    "V_th": 20.0, "V_reset": 10.0, "t_ref": 2.0, "refractory_input": False}})
    P.V_m = nest.random.uniform(0.0, 20.0)
    {connect}
    ext = nest.Create("poisson_generator", params={{"rate": 20000.0}})
    nest.Connect(ext, P, syn_spec={{"weight": J, "delay": 0.1}})
    rec = nest.Create("spike_recorder")
    nest.Connect(P, rec)
'''
NEST_CONNECT_P = ('nest.Connect(P[:N_E], P, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": J, "delay": D})\n'
                  '    nest.Connect(P[N_E:], P, {"rule": "pairwise_bernoulli", "p": 0.1}, {"weight": -g * J, "delay": D})')
NEST_CONNECT_K = ('nest.Connect(P[:N_E], P, {"rule": "fixed_indegree", "indegree": 800}, {"weight": J, "delay": D})\n'
                  '    nest.Connect(P[N_E:], P, {"rule": "fixed_indegree", "indegree": 200}, {"weight": -g * J, "delay": D})')


NEST_MICROCIRCUIT = r'''
    # INM-6's PyNEST microcircuit (PyPI microcircuit 1.0) at scale 0.1 with Poisson background, as
    # examples/microcircuit_small.yaml; its Network resets the kernel with these threads and seed
    import tempfile
    from microcircuit.network import Network
    from microcircuit.network_params import default_net_dict
    from microcircuit.sim_params import default_sim_dict
    from microcircuit.stimulus_params import default_stim_dict
    net = Network(dict(default_sim_dict, local_num_threads=threads, rng_seed=1, rec_dev=[], print_time=False,
                       data_path=tempfile.mkdtemp(prefix="microcircuit-") + "/"),
                  dict(default_net_dict, N_scaling=0.1, K_scaling=0.1, bg_input_type="poisson"),
                  dict(default_stim_dict))
    net.create()
    net.connect()
    P = net.pops[0]
    for pop in net.pops[1:]:
        P = P + pop
    rec = nest.Create("spike_recorder")
    nest.Connect(P, rec)
'''


def _nest_network(name: str) -> str:
    return _network_script(name, {"cuba": NEST_CUBA, "coba": NEST_COBA, "adex_coba": NEST_ADEX_COBA,
                                  "microcircuit_small": NEST_MICROCIRCUIT}, NEST_BRUNEL, NEST_CONNECT_P, NEST_CONNECT_K)


def run_nest(name: str, duration: float, threads: int = 1, repeats: int = 3, timeout: float = 3600) -> dict:
    src = _NEST_TEMPLATE.format(threads=threads, duration=duration, repeats=repeats, network=_nest_network(name))
    return _run_script(src, dict(os.environ, OMP_NUM_THREADS=str(threads)), timeout)


def nest_available() -> str | None:
    """None if NEST imports, else the reason."""
    p = subprocess.run([sys.executable, "-c", "import nest"], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["import nest failed"])[-1]


def _run_script(src: str, env: dict, timeout: float) -> dict:
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError((p.stderr or p.stdout)[-2000:])
    return json.loads(lines[-1][len("RESULT "):])
