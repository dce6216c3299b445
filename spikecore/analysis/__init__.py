"""Analyses that run a described network on a backend and measure something about it.

``fi``: the f-I curve of a population's neuron model, its rheobase and onset type
(Type I, Type II or logarithmic); the command ``spikecore fi`` (spikecore/cli/fi.py)
and docs/fi.md. The runs go through ``Network.run``, so any backend that supports the
model can be measured.
"""
