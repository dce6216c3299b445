"""A plastic model file through the command line: ``spikecore run`` writes weights.npz, and the
figure ``spikecore plot`` draws has the weight histograms over time."""
import numpy as np

from spikecore import Result
from spikecore.cli import main
from spikecore.plotting import plot_result

MODEL = """
spikecore: 1
name: stdp_tiny
dt: 0.1 ms
duration: 200 ms
sources:
  inp: {type: poisson, size: 30, rate: 30 Hz}
populations:
  p: {size: 4, model: lif_delta, params: {tau_mem: 10 ms, v_leak: -70 mV, v_threshold: -55 mV, v_reset: -70 mV}}
projections:
  syn:
    pre: inp
    post: p
    connector: {type: all_to_all}
    weight: 2 mV
    delay: 1 ms
    plasticity: {rule: stdp_pair, A_plus: 0.2 mV, A_minus: 0.25 mV, w_max: 4 mV, pairing: nearest}
monitors:
  wm: {type: weights, projection: syn, synapses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], interval: 5 ms}
"""


def test_run_writes_weights_and_plot_draws_them(tmp_path):
    model = tmp_path / "stdp.yaml"
    model.write_text(MODEL)
    assert main(["run", str(model), "--out", str(tmp_path / "res"), "--no-plot"]) == 0
    with np.load(tmp_path / "res" / "weights.npz") as z:
        assert z["syn.final"].shape == (120,) and z["syn.w"].shape == (40, 10)
    res = Result.load(tmp_path / "res")
    fig = plot_result(res)
    titles = [ax.get_title() for ax in fig.axes]
    assert "syn: weights over time (10 synapses)" in titles
    assert main(["plot", str(tmp_path / "res")]) == 0
    assert (tmp_path / "res" / "overview.png").read_bytes()[:4] == b"\x89PNG"
