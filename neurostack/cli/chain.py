"""``neurostack new``, ``neurostack node``, ``neurostack up``: scaffold and run a chain.

Thin commands: they read options and files, then hand over to
:mod:`neurostack.devnet` (projects and process supervision) and the node.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from neurostack.devnet.errors import DevnetError
from neurostack.devnet.project import create_project

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The chain's chain.toml.", dir_okay=False)
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a user-facing error (no traceback) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def new(
    name: Annotated[str, typer.Argument(help="Folder (and default chain name) of the new chain.")],
    output_dir: Annotated[Path, typer.Option(help="Where to create the folder.")] = Path("."),
    chain_name: Annotated[str | None, typer.Option(help="Human-readable chain name [NAME].")] = None,
    chain_id: Annotated[int | None, typer.Option(help="EIP-155 chain id [424242].")] = None,
    token_name: Annotated[str | None, typer.Option(help="Native token name [Neuro].")] = None,
    token_symbol: Annotated[str | None, typer.Option(help="Native token symbol [NEURO].")] = None,
    block_time: Annotated[
        float | None, typer.Option(help="Seconds between blocks, 0 = on demand [1.0].")
    ] = None,
    gas_limit: Annotated[int | None, typer.Option(help="Block gas limit [30000000].")] = None,
    rpc_port: Annotated[int | None, typer.Option(help="JSON-RPC port [8545].")] = None,
    hub_port: Annotated[int | None, typer.Option(help="Inference hub port [8600].")] = None,
    workers: Annotated[int | None, typer.Option(help="Sprinter workers `up` starts [2].")] = None,
    modes: Annotated[
        str | None, typer.Option(help="Accepted inference modes, comma-separated [VANILLA,TEE].")
    ] = None,
    dev_mnemonic: Annotated[
        str | None, typer.Option(help="Mnemonic of the funded dev accounts [anvil's].")
    ] = None,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Ask nothing; use flags and defaults.")
    ] = False,
) -> None:
    """Create a new chain project: chain.toml, keys, example contract and tests."""
    given: dict[str, Any] = {
        "chain_name": chain_name, "chain_id": chain_id, "token_name": token_name,
        "token_symbol": token_symbol, "block_time": block_time, "gas_limit": gas_limit,
        "rpc_port": rpc_port, "hub_port": hub_port, "workers": workers, "modes": modes,
        "dev_mnemonic": dev_mnemonic,
    }
    values = {k: v for k, v in given.items() if v is not None}
    interactive = not no_input and sys.stdin.isatty()
    try:
        folder = create_project(name, output_dir, values, no_input=not interactive)
    except DevnetError as exc:
        raise fail(str(exc)) from None
    console.print(f"[bold green]Created[/] chain project [bold]{folder}[/]")
    console.print(f"Next:  cd {folder} && neurostack up    (then `pytest` in another terminal)")


def register(app: typer.Typer) -> None:
    """Add the chain commands to the top-level app."""
    app.command()(new)
