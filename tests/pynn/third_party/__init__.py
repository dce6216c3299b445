"""Third-party test code copied into spikecore (PyNN system scenarios, CeCILL; see each folder's licence)."""
