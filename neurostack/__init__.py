"""Neuro Stack: the base protocol layer (``neurostack.protocol``), the reference hub
(``neurostack.hub``) and the top-level wiring (``neurostack.cli``, ``neurostack.devnet``)."""

__version__ = "0.1.0"
