"""The examples' tests: each example runs against one real devnet shared by them all.

The devnet is what a user gets: ``neurostack new`` renders a chain project (its genesis
admits two sprinter keys for VANILLA and, with development attestations, for TEE mode),
``neurostack up`` runs it: embedded Redis, the hub, two sprinter workers (Celery,
onnxruntime), the node with PIPE wired to the bridge. The examples find it through the
project's ``chain.toml``, as they do when a user runs them in a project folder.

``NEUROSTACK_EXAMPLES_PROJECT=path/to/project`` runs the tests against a devnet that is
already up in that project instead of starting one (handy while writing an example).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent
sys.path.insert(0, str(EXAMPLES))
# pytest imports this file as examples.conftest (examples/ is a package, so that the wheel
# can ship it); the tests' `from conftest import ...` get this module, not a second copy
# (nor the repository's top conftest.py, which pytest imported as `conftest` before).
sys.modules["conftest"] = sys.modules[__name__]
import _kit


def load(example: str, module: str = "run") -> ModuleType:
    """``examples/<example>/<module>.py`` as a module (each example has a ``run.py``, so
    they are loaded by path under distinct names)."""
    name = f"example_{example}_{module}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / example / f"{module}.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
    return sys.modules[name]


# package scope: the examples' tests run one after another (one group under pytest-xdist,
# conftest.py), and the devnet stops after the last, not at the end of the whole run.
@pytest.fixture(scope="package")
def devnet_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A chain project running under ``neurostack up`` for the examples' tests."""
    if os.environ.get("NEUROSTACK_EXAMPLES_PROJECT"):
        yield Path(os.environ["NEUROSTACK_EXAMPLES_PROJECT"])
        return
    from neurostack.devnet.project import create_project
    from neurostack.hub.broker import free_port
    from tests.cli.test_up import Up

    project = create_project(
        "examples",
        tmp_path_factory.mktemp("examples"),
        {"rpc_port": free_port(), "hub_port": free_port(), "block_time": 0.5, "workers": 2},
    )
    up = Up(project)
    try:
        up.wait_for("Press Ctrl-C to stop.")
        yield project
    finally:
        up.close()


@pytest.fixture(scope="package")
def devnet(devnet_project: Path) -> Iterator[_kit.Devnet]:
    """Clients and dev accounts of the examples' devnet, as the examples get them
    (``_kit.connect`` with the project's ``chain.toml``)."""
    args = _kit.parser(None).parse_args(["--config", str(devnet_project / "chain.toml")])
    with _kit.connect(args) as connected:
        yield connected


def run_example(devnet: _kit.Devnet, example: str, *argv: str) -> Any:
    """Run ``examples/<example>/run.py``'s steps on the examples' devnet with the options
    ``argv`` (parsed as its ``main`` parses them); the example's result."""
    module = load(example)
    parser = _kit.parser(module.__doc__)
    if hasattr(module, "options"):
        module.options(parser)
    return module.run(devnet, parser.parse_args(list(argv)))


def catalog_gas(example: str) -> dict[str, int]:
    """The gas the catalog (examples/README.md) states for ``example``: its last column,
    ``label 123,456; other label 78,901``."""
    text = (EXAMPLES / "README.md").read_text()
    (row,) = [line for line in text.splitlines() if line.startswith(f"| [{example[:2]}]")]
    cell = row.rstrip(" |").rsplit("|", 1)[1]
    return {
        label.strip(): int(number.replace(",", ""))
        for label, number in re.findall(r"([^;]+?)\s+([\d,]+)\s*(?:;|$)", cell.strip())
    }


def assert_gas_as_catalogued(example: str, measured: dict[str, int]) -> None:
    """The catalog's gas numbers are measured ones: within 5 % of this run's (calldata and
    storage slots differ a little between chains, e.g. with contract addresses)."""
    stated = catalog_gas(example)
    off = [k for k in measured if abs(measured[k] - stated.get(k, 0)) > stated.get(k, 0) * 0.05]
    assert stated.keys() == measured.keys() and not off, (
        f"examples/README.md states {stated} for {example}; this run measured {measured}"
    )
