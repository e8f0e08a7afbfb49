"""Neuro Stack's examples (see README.md). In the repository this folder is ``examples/``;
the wheel ships example 01, which ``neurostack demo`` runs, as the package
``neurostack.examples`` (mapped in setup.py), found with ``importlib.resources``."""
