"""Reading and writing what spikecore exchanges with files and other tools.

* ``model_files`` — Network <-> YAML/JSON model files (the native format);
* ``nir`` — Network <-> NIR graphs (``.nir`` model files, snnTorch, Norse, Lava-dl ...);
* ``neo`` — Result -> Neo blocks (Elephant and the Neo ecosystem).

Formats other than YAML/JSON register their model-file suffix in ``MODEL_LOADERS`` /
``MODEL_SAVERS``; the entries import their module on first use, so ``import
spikecore`` does not pay for h5py.
"""
from .model_files import (MODEL_LOADERS, MODEL_SAVERS, load_network, network_from_dict,
                          network_to_dict, save_network)


def _load_nir(path):
    from .nir import load_nir
    return load_nir(path)


def _save_nir(net, path):
    from .nir import save_nir
    save_nir(net, path)


MODEL_LOADERS[".nir"] = _load_nir
MODEL_SAVERS[".nir"] = _save_nir

__all__ = ["load_network", "save_network", "network_to_dict", "network_from_dict",
           "MODEL_LOADERS", "MODEL_SAVERS"]
