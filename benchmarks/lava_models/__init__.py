"""Lava process models used by the Lava references, in their own package: Lava's compiler
imports every module in the directory of a process's module to find its models."""
