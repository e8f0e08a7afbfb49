"""``neurostack explorer``: the block/model/proof explorer against a node's JSON-RPC."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()

DEFAULT_PORT = 8700


def default_data_dir(rpc: str) -> Path:
    """Where the index lives when ``--data-dir`` is not given: one folder per node URL."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in rpc.split("://", 1)[-1]).strip("_")
    return Path.home() / ".cache" / "neurostack" / "explorer" / safe


def explorer(
    rpc: Annotated[
        str, typer.Option(help="The node's JSON-RPC URL (HTTP; WS on the same URL).")
    ] = ("http://127.0.0.1:8545"),
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to serve on (0: any free port).", min=0, max=65535)
    ] = DEFAULT_PORT,
    project: Annotated[
        Path | None,
        typer.Option(
            help="A chain project: its contracts/artifacts/*.json decode logs and calls.",
            file_okay=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the explorer's index [~/.cache/neurostack/explorer/<rpc>]."),
    ] = None,
    public_rpc: Annotated[
        str | None,
        typer.Option(help="The RPC URL browsers should use for live updates [--rpc]."),
    ] = None,
) -> None:
    """Serve the explorer: blocks, transactions, models, sprinters and proofs in a browser."""
    from neurostack.explorer import ExplorerSettings, serve

    from .chain import fail

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not rpc.startswith(("http://", "https://")):
        raise fail(f"--rpc {rpc!r}: give the node's HTTP JSON-RPC URL, e.g. http://127.0.0.1:8545")
    settings = ExplorerSettings(
        rpc_url=rpc,
        data_dir=data_dir or default_data_dir(rpc),
        project_dir=project,
        public_rpc_url=public_rpc,
    )
    try:
        serve(
            settings, host, port,
            announce=lambda url: console.print(
                f"Explorer {url} (reading {rpc}; Ctrl-C stops it)", soft_wrap=True,
                highlight=False,
            ),
        )  # fmt: skip
    except OSError as exc:
        raise fail(f"cannot serve on {host}:{port}: {exc}; choose another --port") from None


def register(app: typer.Typer) -> None:
    app.command()(explorer)
