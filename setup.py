"""The package list, which pyproject.toml cannot express: the chain template lives at
templates/rollup/ in the repository and ships in the wheel as the package data of
``neurostack.templates`` (read with importlib.resources, see neurostack/devnet/project.py);
likewise example 01, which ``neurostack demo`` runs, ships from examples/ as
``neurostack.examples`` (neurostack/cli/demo.py). Everything else is in pyproject.toml."""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# The only module of examples/ itself the wheel needs: the helper example 01's run.py
# imports. The catalog's tests (conftest.py, test_catalog.py) and the model and contract
# build tools stay in the repository.
EXAMPLE_MODULES = {"__init__", "_kit"}


class BuildPy(build_py):
    """``build_py`` that leaves out the examples' tests and tools (package data cannot:
    every ``.py`` of a package folder is one of its modules)."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        modules = super().find_package_modules(package, package_dir)
        if package == "neurostack.examples":
            modules = [m for m in modules if m[1] in EXAMPLE_MODULES]
        return modules


setup(
    packages=[
        *find_packages(include=["neurostack*", "sequencer*", "bridge*", "hub_client*"]),
        "neurostack.templates",
        "neurostack.examples",
    ],
    package_dir={"neurostack.templates": "templates", "neurostack.examples": "examples"},
    cmdclass={"build_py": BuildPy},
)
