"""``neurostack new``, ``neurostack node``, ``neurostack up``: scaffold and run a chain.

Thin commands: they read options and files, then hand over to
:mod:`neurostack.devnet` (projects and process supervision) and the node.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from neurostack.devnet.errors import DevnetError

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The chain's chain.toml.", dir_okay=False)
]

# `node` and `up` override chain.toml's [chain].block_time the same way.
BlockTimeOption = Annotated[
    float | None, typer.Option(help="Seconds between blocks (0 = on demand).", min=0)
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a user-facing error (no traceback) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def new(
    name: Annotated[str, typer.Argument(help="Folder (and default chain name) of the new chain.")],
    output_dir: Annotated[Path, typer.Option(help="Where to create the folder.")] = Path("."),
    chain_name: Annotated[
        str | None, typer.Option(help="Human-readable chain name [NAME].")
    ] = None,
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
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Production profile: no dev methods, no funded dev accounts, no dev "
            "attestation root, only registered models, no browser origins (docs/security.md).",
        ),
    ] = False,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Ask nothing; use flags and defaults.")
    ] = False,
) -> None:
    """Create a new chain project: chain.toml, keys, example contract and tests."""
    given: dict[str, Any] = {
        "chain_name": chain_name,
        "chain_id": chain_id,
        "token_name": token_name,
        "token_symbol": token_symbol,
        "block_time": block_time,
        "gas_limit": gas_limit,
        "rpc_port": rpc_port,
        "hub_port": hub_port,
        "workers": workers,
        "modes": modes,
        "dev_mnemonic": dev_mnemonic,
        "profile": "production" if production else None,
    }
    values = {k: v for k, v in given.items() if v is not None}
    from neurostack.devnet.project import create_project

    interactive = not no_input and sys.stdin.isatty()
    try:
        folder = create_project(name, output_dir, values, no_input=not interactive)
    except DevnetError as exc:
        raise fail(str(exc)) from None
    console.print(f"[bold green]Created[/] chain project [bold]{folder}[/]")
    console.print(f"Next:  cd {folder} && neurostack up    (then `pytest` in another terminal)")


def node(
    config: ConfigOption = Path("chain.toml"),
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the chain's data dir first: start over.")
    ] = False,
    block_time: BlockTimeOption = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="REDIS_URL",
            help="The hub's Redis: model calls go to its sprinters. Without it, transactions "
            "that call models are dropped with a hint.",
        ),
    ] = None,
) -> None:
    """Run the sequencer and its JSON-RPC in the foreground (Ctrl-C / SIGTERM stops it)."""
    from neurostack.jobs import JobsError
    from sequencer.errors import SequencerError

    try:
        run_node(config, reset=reset, block_time=block_time, redis_url=redis_url or None)
    except (SequencerError, DevnetError, JobsError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:  # e.g. the RPC port was taken after the early check
        raise fail(f"cannot serve the JSON-RPC: {exc}; change [rpc] in chain.toml") from None


def inference_backend(chain: Any, redis_url: str | None, genesis_hash: bytes | None = None) -> Any:
    """The node's inference backend: the Celery bridge to the hub at ``redis_url``, or the
    disabled stand-in when there is none (the sequencer never imports ``bridge`` itself).
    With ``genesis_hash`` the chain registers on the hub under its chain id (another chain
    holding that id raises ``bridge.ChainIdTaken``)."""
    from sequencer.pipe import NoInference

    if not redis_url:
        return NoInference()
    from bridge import CeleryBridge

    return CeleryBridge(
        redis_url,
        chain_id=chain.chain.chain_id,
        genesis_hash=genesis_hash,
        redundancy=chain.inference.redundancy,
        speculative_after=chain.inference.speculative_after,
    )


def run_node(
    config_path: Path, *, reset: bool, block_time: float | None, redis_url: str | None = None
) -> None:
    """Load the chain, serve it until a signal, stop the node so nothing acknowledged is lost."""
    # Imported here: `neurostack new` must not pay for (or depend on) the node's imports.
    from neurostack.devnet.devnet import reset_state_dirs
    from neurostack.devnet.services import check_port_free
    from sequencer.config import load_chain_config
    from sequencer.node import Node
    from sequencer.pipe import attach
    from sequencer.rpc.server import serve

    chain = load_chain_config(config_path)
    if block_time is not None:
        chain.chain.block_time = block_time
    # Before opening the chain: a second node on the same folder must not get that far.
    check_port_free(chain.rpc.host, chain.rpc.port, "[rpc].port")
    if reset:
        reset_state_dirs(chain, [chain.data_dir])
    # A signal while the chain opens must still end in node.stop(), not a dead process;
    # once serving, uvicorn takes the signals over and returns from serve().
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    chain_node = Node(chain)
    try:
        genesis = chain_node.block_by_number(0)
        assert genesis is not None  # the node opened (or created) its chain
        backend = inference_backend(chain, redis_url, genesis.hash)
    except BaseException:
        chain_node.stop()
        _restore(previous)
        raise
    pipe = attach(chain_node, backend)  # PIPE: the inference mempool and block hooks
    try:
        chain_node.start()
        if not stopping.is_set():
            serve(chain_node, chain.rpc.host, chain.rpc.port)
    finally:
        pipe.close()
        chain_node.stop()
        backend.close()
        _restore(previous)


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def up(
    config: ConfigOption = Path("chain.toml"),
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete chain data and hub state first: start over.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(help="Sprinter workers [chain.toml hub.workers].", min=0)
    ] = None,
    no_hub: Annotated[
        bool, typer.Option("--no-hub", help="Run only the node: no Redis, hub or workers.")
    ] = False,
    block_time: BlockTimeOption = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="REDIS_URL",
            help="Use this Redis (redis://:PASSWORD@HOST:PORT/0; prefer the env variable) "
            "instead of the embedded one; with --hub-url, the joined hub's Redis.",
        ),
    ] = None,
    hub_url: Annotated[
        str | None,
        typer.Option(
            help="Join this running hub (and its workers) instead of starting one: only the "
            "node starts, its jobs go to the hub's Redis (REDIS_URL).",
        ),
    ] = None,
    no_explorer: Annotated[
        bool, typer.Option("--no-explorer", help="Do not serve the block explorer.")
    ] = False,
    explorer_port: Annotated[
        int | None,
        typer.Option(
            help="The explorer's port [8700 when free, else any free port].", min=0, max=65535
        ),
    ] = None,
) -> None:
    """Run the chain as a local devnet: Redis, inference hub, sprinter workers and the node."""
    from neurostack.devnet.banner import print_banner
    from neurostack.devnet.devnet import DevnetOptions, run_devnet
    from neurostack.devnet.errors import ServiceError
    from sequencer.config import load_chain_config
    from sequencer.errors import SequencerError

    try:
        chain = load_chain_config(config)
    except SequencerError as exc:
        raise fail(str(exc)) from None
    options = DevnetOptions(
        config_path=config.resolve(),
        reset=reset,
        workers=workers,
        hub=not no_hub,
        redis_url=redis_url or None,
        hub_url=hub_url or None,
        block_time=block_time,
        explorer=not no_explorer,
        explorer_port=explorer_port,
    )
    stop, force = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():  # asked twice: do not wait for graceful shutdowns any longer
            err_console.print("Again: killing the remaining services now.")
            force.set()
        else:
            name = signal.Signals(signum).name
            err_console.print(f"\n{name}: stopping the devnet ... (once more to kill at once)")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if reset:
        console.print("--reset: deleting chain data and hub state, starting from genesis")
    console.print(f"Starting devnet '{chain.chain.name}' ...")
    started = time.monotonic()
    try:
        run_devnet(
            chain,
            options,
            stop,
            lambda devnet: print_banner(console, devnet, time.monotonic() - started),
            force=force,
        )
    except ServiceError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        if exc.log_tail:
            err_console.print(f"--- last lines of {exc.service}'s log ---", highlight=False)
            err_console.print(exc.log_tail, highlight=False, markup=False)
        err_console.print("All other services were stopped.")
        raise typer.Exit(1) from None
    except DevnetError as exc:
        raise fail(str(exc)) from None
    console.print("Devnet stopped.")


def register(app: typer.Typer) -> None:
    """Add the chain commands to the top-level app."""
    app.command()(new)
    app.command()(node)
    app.command()(up)
