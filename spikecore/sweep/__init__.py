"""Parameter sweeps: many full runs of one model file over a grid of its values.

* ``grid``: ``--set KEY=...`` axes over model-file values, the Cartesian grid, each
  point's model and seed;
* ``measures``: what is recorded of every run (rate, CV of ISIs, synchrony, Fano
  factor and dominant frequency of the population activity);
* ``regimes``: Brunel (2000)'s four regimes named from those measures;
* ``cluster``: Dask clients (a local cluster of worker processes or a scheduler
  address), set up for simulations;
* ``runner``: runs the points on the cluster, stores each one on completion
  (resumable), writes ``sweep.csv``; ``report``: ``sweep.png``.

The command line is spikecore.cli.sweep; hwmodels.precision uses ``cluster`` too.
"""
