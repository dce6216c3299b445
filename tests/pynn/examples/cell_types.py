"""Single neurons of PyNN's Izhikevich and EIF_cond_exp_isfa_ista cell types under constant
currents (i_offset), on any PyNN simulator: ``python cell_types.py SIMULATOR [DT_MS]``.

Prints one JSON line: per cell type the spike times (ms) of each neuron. Written for
spikecore's tests (tests/pynn/test_models.py compares pyNN.spikecore with pyNN.nest);
a plain PyNN script, nothing spikecore-specific.
"""
import json
import sys
from importlib import import_module

sim = import_module(f"pyNN.{sys.argv[1]}")
dt = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
sim.setup(timestep=dt)
izh_currents = [0.004, 0.006, 0.010, 0.015]           # nA: I = 4 .. 15 mV/ms (Izhikevich's units)
eif_currents = [0.7, 0.9, 1.2, 1.6]                    # nA
izh = sim.Population(len(izh_currents), sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0, i_offset=izh_currents))
izh.initialize(v=-65.0, u=-13.0)
eif = sim.Population(len(eif_currents), sim.EIF_cond_exp_isfa_ista(tau_refrac=0.5, i_offset=eif_currents))
for p in (izh, eif):
    p.record("spikes")
sim.run(1000.0)
out = {name: [[float(t) for t in st.magnitude] for st in p.get_data("spikes").segments[0].spiketrains]
       for name, p in (("Izhikevich", izh), ("EIF_cond_exp_isfa_ista", eif))}
print(json.dumps(out))
sim.end()
