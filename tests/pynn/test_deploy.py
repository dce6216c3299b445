"""A PyNN script deployed to Loihi: ``setup(backend="lava", format="fixed")`` runs the PyNN
network on Lava's bit-accurate fixed-point models, and gives the spikes of spikecore's native
Loihi emulation (``setup(backend="native", format="loihi")``) of the same quantized network."""
import numpy as np
import pytest

import spikecore.pynn as sim


@pytest.fixture(autouse=True)
def _end():
    yield
    sim.end()


def run_network(backend, **options):
    sim.setup(timestep=1.0, backend=backend, **options)      # Loihi's step: 1 ms
    src = sim.Population(8, sim.SpikeSourceArray(spike_times=[[2.0 + 3 * k + i for k in range(12)]
                                                              for i in range(8)]), label="src")
    exc = sim.Population(12, sim.IF_curr_exp(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=5.0, v_thresh=-50.0,
                                             v_reset=-65.0, v_rest=-65.0, tau_refrac=0.0), label="exc")
    inh = sim.Population(4, sim.IF_curr_exp(tau_m=10.0, v_thresh=-50.0, v_reset=-65.0, v_rest=-65.0,
                                            tau_refrac=0.0), label="inh")
    rng = sim.NumpyRNG(seed=11)
    sim.Projection(src, exc, sim.FixedProbabilityConnector(0.5, rng=rng), sim.StaticSynapse(weight=2.5, delay=1.0))
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.5, rng=rng), sim.StaticSynapse(weight=3.0, delay=2.0))
    sim.Projection(inh, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=-1.5, delay=1.0),
                   receptor_type="inhibitory")
    exc.record("spikes")
    inh.record("spikes")
    sim.run(60.0)
    out = {p.label: [np.asarray(s.magnitude) for s in p.get_data("spikes").segments[0].spiketrains]
           for p in (exc, inh)}
    sim.end()
    return out


def test_pynn_script_on_lava_fixed_point_equals_the_native_loihi_emulation():
    pytest.importorskip("lava")
    native = run_network("native", format="loihi")
    lava = run_network("lava", format="fixed")
    assert sum(len(s) for s in native["exc"]) > 0 and sum(len(s) for s in native["inh"]) > 0
    for pop in native:
        for a, b in zip(native[pop], lava[pop]):
            np.testing.assert_array_equal(a, b)
