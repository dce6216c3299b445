"""Compatibility shims for dependencies that do not support our interpreter as shipped."""
