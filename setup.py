"""The package list, which pyproject.toml cannot express: the chain template lives at
templates/rollup/ in the repository and ships in the wheel as the package data of
``neurostack.templates`` (read with importlib.resources, see neurostack/devnet/project.py).
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["neurostack*", "sequencer*", "bridge*", "hub_client*"]),
        "neurostack.templates",
    ],
    package_dir={"neurostack.templates": "templates"},
)
