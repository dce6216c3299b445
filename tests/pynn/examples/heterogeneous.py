"""Populations of PyNN's standard cell types whose parameters differ per neuron, under
constant currents (i_offset, also per neuron), on any PyNN simulator:
``python heterogeneous.py SIMULATOR``.

Prints one JSON line: per cell type the spike times (ms) of each neuron. Written for
spikecore's tests (tests/pynn/test_per_neuron.py compares pyNN.spikecore with pyNN.nest);
a plain PyNN script, nothing spikecore-specific.
"""
import json
import sys
from importlib import import_module

sim = import_module(f"pyNN.{sys.argv[1]}")
sim.setup(timestep=0.1)
CELLS = {
    "IF_curr_exp": dict(tau_m=[10.0, 15.0, 20.0, 30.0], cm=[0.5, 1.0, 0.8, 1.2],
                        v_thresh=[-52.0, -50.0, -51.0, -49.0], tau_refrac=[1.0, 2.0, 3.0, 0.5],
                        v_rest=[-65.0, -64.0, -66.0, -65.0], i_offset=[0.8, 1.0, 1.0, 0.7]),
    "IF_cond_exp": dict(tau_m=[10.0, 15.0, 20.0, 30.0], cm=[0.5, 1.0, 0.8, 1.2],
                        v_reset=[-70.0, -65.0, -60.0, -68.0], tau_refrac=[1.0, 2.0, 3.0, 0.5],
                        v_thresh=[-52.0, -50.0, -51.0, -49.0], i_offset=[0.8, 1.5, 1.2, 1.0]),
    "Izhikevich": dict(a=[0.02, 0.03, 0.05, 0.02], b=[0.2, 0.25, 0.2, 0.22], c=[-65.0, -60.0, -55.0, -50.0],
                       d=[8.0, 6.0, 2.0, 4.0], i_offset=[0.006, 0.008, 0.010, 0.012]),
    "EIF_cond_exp_isfa_ista": dict(cm=[0.25, 0.281, 0.3, 0.26], tau_m=[8.0, 9.37, 11.0, 10.0],
                                   a=[0.0, 4.0, 8.0, 2.0], b=[0.04, 0.0805, 0.12, 0.06],
                                   tau_w=[100.0, 144.0, 200.0, 120.0], delta_T=[1.5, 2.0, 2.5, 2.0],
                                   tau_refrac=[0.5, 1.0, 2.0, 0.5], i_offset=[0.7, 0.9, 1.2, 1.0]),
}
pops = {}
for name, params in CELLS.items():
    pops[name] = sim.Population(4, getattr(sim, name)(**params))
    if name == "Izhikevich":
        pops[name].initialize(v=-65.0, u=-13.0)
    pops[name].record("spikes")
sim.run(1000.0)
out = {name: [[float(t) for t in st.magnitude] for st in p.get_data("spikes").segments[0].spiketrains]
       for name, p in pops.items()}
print(json.dumps(out))
sim.end()
