"""``neurostack new``, ``neurostack node``, ``neurostack up``: scaffold and run a chain.

Thin commands: they read options and files, then hand over to
:mod:`neurostack.devnet` (projects and process supervision) and the node.
"""

from __future__ import annotations

import gc
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
    follow: Annotated[
        str | None,
        typer.Option(
            "--follow",
            metavar="RPC_URL",
            help="Run a verifier instead: follow the sequencer at RPC_URL, run every block "
            "through the state-transition function, serve the verified chain (docs/follower.md).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="With --follow: the follower's own chain database folder.", file_okay=False
        ),
    ] = None,
    rpc_port: Annotated[
        int | None,
        typer.Option(
            help="JSON-RPC port [chain.toml rpc.port; 0 = any free port].", min=0, max=65535
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="With --follow: verify up to the sequencer's head as seen at start, then exit "
            "(0 when every block verified, 1 with the failure on stderr); serves no RPC.",
        ),
    ] = False,
) -> None:
    """Run the sequencer and its JSON-RPC in the foreground (Ctrl-C / SIGTERM stops it);
    with --follow, a verifier node that follows a sequencer."""
    from neurostack.jobs import JobsError
    from sequencer.errors import SequencerError

    if follow is not None:
        if data_dir is None:
            raise fail("--follow needs --data-dir DIR: the follower keeps its own chain database")
        if reset or block_time is not None or redis_url:
            raise fail("--reset, --block-time and --redis-url are the sequencer's: a follower "
                       "takes its blocks from --follow (delete --data-dir to start over)")  # fmt: skip
        try:
            code = run_follower(config, follow, data_dir=data_dir, rpc_port=rpc_port, once=once)
        except SequencerError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            raise fail(f"cannot serve the JSON-RPC: {exc}; pick another --rpc-port") from None
        raise typer.Exit(code)
    if data_dir is not None or once:
        raise fail("--data-dir and --once go with --follow RPC_URL (the sequencer's data dir "
                   "is [sequencer] data_dir in chain.toml)")  # fmt: skip
    try:
        run_node(
            config, reset=reset, block_time=block_time, redis_url=redis_url or None,
            rpc_port=rpc_port,
        )  # fmt: skip
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
    config_path: Path,
    *,
    reset: bool,
    block_time: float | None,
    redis_url: str | None = None,
    rpc_port: int | None = None,
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
    if rpc_port is not None:
        chain.rpc.port = rpc_port
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
    # What is loaded by now (modules, the chain, PIPE) lives as long as the process: keep
    # it out of the collector's full collections, which took 0.1-0.2 s each on this heap
    # and stopped the block producer with it (docs/performance.md).
    gc.freeze()
    try:
        chain_node.start()
        if not stopping.is_set():
            serve(chain_node, chain.rpc.host, chain.rpc.port)
    finally:
        pipe.close()
        chain_node.stop()
        backend.close()
        _restore(previous)


def run_follower(
    config_path: Path, url: str, *, data_dir: Path, rpc_port: int | None, once: bool
) -> int:
    """``node --follow``: verify the sequencer's chain into ``data_dir`` and serve it (until a
    signal), or with ``once`` verify up to its current head and return the exit code."""
    import logging

    from neurostack.devnet.services import check_port_free
    from sequencer.config import load_chain_config
    from sequencer.follower import Follower, FollowerNode, RpcBlockSource, SourceError
    from sequencer.rpc.server import serve

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    chain = load_chain_config(config_path)
    chain.sequencer.data_dir = data_dir.resolve()
    if rpc_port is not None:
        chain.rpc.port = rpc_port
    try:
        source = RpcBlockSource(url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--follow") from None
    if not once and chain.rpc.port:
        check_port_free(chain.rpc.host, chain.rpc.port, "--rpc-port (or [rpc].port)")
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    follower_node = FollowerNode(chain)
    follower = Follower(follower_node, source)
    try:
        try:
            follower.check_genesis()
            target = source.head() if once else None
            ok = follower.sync_to(target, stopping) if target is not None else False
        except SourceError as exc:
            head = follower_node.head()
            err_console.print(f"[bold red]error:[/] cannot read the sequencer: {escape(str(exc))}")
            err_console.print(f"verified head: block {head.number} (0x{head.hash.hex()})")
            return 2
        if target is not None:
            head = follower_node.head()
            if stopping.is_set():
                err_console.print(f"stopped at verified block {head.number} (0x{head.hash.hex()})")
                return 130
            if ok:
                console.print(f"verified blocks 0..{head.number} from {source.description}: "
                              f"head 0x{head.hash.hex()}")  # fmt: skip
                return 0
            failure = follower.failure or {}
            err_console.print(f"[bold red]error:[/] {escape(str(failure.get('message')))}")
            err_console.print(f"verified head: block {head.number} (0x{head.hash.hex()})")
            return 1
        follower.start()

        def announce(host: str, port: int) -> None:
            console.print(f"following {source.description}; verified chain served at "
                          f"http://{host}:{port}/ (head {follower_node.head().number})")  # fmt: skip

        if not stopping.is_set():
            serve(follower_node, chain.rpc.host, chain.rpc.port, announce=announce)
        return 1 if follower.halted else 0
    finally:
        follower.stop()
        follower_node.stop()
        source.close()
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
