"""Reading and writing what spikecore exchanges with files and other tools.

* ``model_files`` — Network <-> YAML/JSON model files (the native format);
* further formats (NIR graphs, Neo blocks) live in sibling modules and register
  their model-file suffix in ``MODEL_LOADERS`` / ``MODEL_SAVERS``.
"""
from .model_files import (MODEL_LOADERS, MODEL_SAVERS, load_network, network_from_dict,
                          network_to_dict, save_network)

__all__ = ["load_network", "save_network", "network_to_dict", "network_from_dict",
           "MODEL_LOADERS", "MODEL_SAVERS"]
