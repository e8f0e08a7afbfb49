"""Templates that ship with Neuro Stack: ``rollup/`` is the chain project `neurostack new`
renders. In the repository this folder is ``templates/``; in the wheel it is the package
``neurostack.templates`` (mapped in setup.py), read with ``importlib.resources``."""
