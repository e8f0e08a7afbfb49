"""``neurostack up``: plan a devnet's services, start them in stages, run until stopped.

Stages start one after another, the services of a stage side by side:
Redis first (hub and workers need its URL), then the hub, the sprinter workers and
the node together. ``--reset`` deletes the chain's data dir and the hub's store
(Redis data included) before anything starts; without it everything resumes.

The embedded Redis requires a generated password (``<hub store>/redis/password``, 0600);
the full URL, password included, is written to ``<hub store>/redis/url`` (0600) for
chains that join this devnet's hub: ``neurostack up --hub-url URL`` with that URL as
``REDIS_URL`` starts only a node, which sends its jobs to the running hub's workers.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neurostack.hub.broker import free_port, redis_auth, write_secret
from sequencer.config import ChainConfig

from . import services
from .errors import ProjectError
from .heartbeat import TeeHeartbeats
from .supervisor import ServiceSpec, Supervisor


@dataclass(frozen=True)
class DevnetOptions:
    """What the user asked ``neurostack up`` for (CLI options and environment)."""

    config_path: Path
    reset: bool = False
    workers: int | None = None  # None: chain.toml [hub].workers
    hub: bool = True
    redis_url: str | None = None  # None: start the embedded redis-server
    hub_url: str | None = None  # a running hub to join (its Redis is redis_url): node only
    block_time: float | None = None  # None: chain.toml [chain].block_time
    grace: float = 10.0  # seconds between SIGTERM and SIGKILL
    explorer: bool = True  # serve the block/model/proof explorer
    explorer_port: int | None = None  # None: 8700 when free, else any free port


@dataclass(frozen=True)
class Devnet:
    """Where the running devnet can be reached; what the banner shows."""

    config: ChainConfig
    rpc_http: str
    rpc_ws: str
    hub_url: str | None
    redis_url: str | None  # password included: never print it (broker.redacted)
    redis_embedded: bool
    hub_external: bool  # a hub this devnet joined rather than started
    workers: int
    block_time: float
    data_dir: Path
    log_dir: Path
    explorer_url: str | None = None


def redis_dir(config: ChainConfig) -> Path:
    """Where the embedded Redis keeps its data, password and URL."""
    return config.root / config.hub.store_dir / "redis"


def state_dirs(config: ChainConfig) -> list[Path]:
    """Folders holding the chain's state: what ``--reset`` deletes."""
    return [config.data_dir, config.root / config.hub.store_dir]


def reset_state(config: ChainConfig) -> None:
    """Delete the chain database, mempool journal, logs, model store and Redis data."""
    reset_state_dirs(config, state_dirs(config))


def reset_state_dirs(config: ChainConfig, folders: list[Path]) -> None:
    """Delete ``folders``, each of which must lie inside the project folder."""
    for folder in folders:
        # Refuse to delete anything outside the project: a typo in chain.toml must
        # not turn `--reset` into `rm -rf ~`.
        if folder.resolve() == config.root.resolve() or config.root.resolve() not in (
            folder.resolve().parents
        ):
            raise ProjectError(
                f"refusing to --reset {folder}: it is not a folder inside {config.root}"
            )
        shutil.rmtree(folder, ignore_errors=True)


def plan(config: ChainConfig, options: DevnetOptions) -> tuple[list[list[ServiceSpec]], Devnet]:
    """The stages of services to start, and the endpoints they will serve."""
    workers = config.hub.workers if options.workers is None else options.workers
    redis_url = options.redis_url
    stages: list[list[ServiceSpec]] = []
    if options.hub_url is not None:
        if not options.hub:
            raise ProjectError("--hub-url joins a running hub; it does not go with --no-hub")
        if not redis_url:
            raise ProjectError(
                "--hub-url needs the hub's broker too: set REDIS_URL (or --redis-url) to "
                "redis://:PASSWORD@HOST:PORT/0; a devnet started by `neurostack up` writes "
                f"its URL to <its project>/{config.hub.store_dir}/redis/url"
            )
        stages.append(
            [services.node_spec(options.config_path, config, block_time=options.block_time,
                                redis_url=redis_url)]
        )  # fmt: skip
    elif options.hub:
        if redis_url is None:
            port = free_port()
            auth = redis_auth(redis_dir(config))
            stages.append([services.redis_spec(redis_dir(config), port, auth)])
            redis_url = auth.url("127.0.0.1", port)
        stages.append(
            [
                services.hub_spec(config, redis_url, workers=workers),
                *services.worker_specs(config, redis_url, workers),
                services.node_spec(
                    options.config_path, config, block_time=options.block_time, redis_url=redis_url
                ),
            ]
        )
    else:
        stages.append(
            [services.node_spec(options.config_path, config, block_time=options.block_time)]
        )
    explorer = None
    if options.explorer:
        host = config.rpc.host
        port = services.explorer_port(host, options.explorer_port)
        stages.append([services.explorer_spec(config, host, port)])  # once the node answers
        explorer = services.explorer_url(host, port)
    own_hub = options.hub and options.hub_url is None
    devnet = Devnet(
        config=config,
        rpc_http=services.rpc_url(config, "http"),
        rpc_ws=services.rpc_url(config, "ws"),
        hub_url=options.hub_url or (services.hub_url(config) if own_hub else None),
        redis_url=redis_url if options.hub else None,
        redis_embedded=own_hub and options.redis_url is None,
        hub_external=options.hub_url is not None,
        workers=workers if own_hub else 0,
        block_time=config.chain.block_time if options.block_time is None else options.block_time,
        data_dir=config.data_dir,
        log_dir=config.data_dir / "logs",
        explorer_url=explorer,
    )
    return stages, devnet


def run_devnet(
    config: ChainConfig,
    options: DevnetOptions,
    stop: threading.Event,
    on_ready: Callable[[Devnet], None],
    *,
    force: threading.Event | None = None,
) -> dict[str, int]:
    """Start the devnet, call ``on_ready``, run until ``stop`` is set; return exit codes.

    Raises :class:`~neurostack.devnet.errors.ServiceError` when a service fails to
    start or dies while running; every service is stopped in all cases. Setting
    ``force`` while stopping cuts the grace period short (SIGKILL at once).
    """
    if options.reset:
        reset_state(config)
    stages, devnet = plan(config, options)
    services.check_port_free(config.rpc.host, config.rpc.port, "[rpc].port")
    if options.hub and not devnet.hub_external:
        services.check_port_free(config.hub.host, config.hub.port, "[hub].port")
    if devnet.redis_embedded and devnet.redis_url:
        write_secret(redis_dir(config) / "url", devnet.redis_url + "\n")  # for joining chains
    os.makedirs(devnet.log_dir, exist_ok=True)
    with Supervisor(devnet.log_dir, grace=options.grace, force=force) as supervisor:
        for stage in stages:
            if stop.is_set():
                break
            supervisor.start(stage, stop=stop)
        if not stop.is_set():
            on_ready(devnet)
            TeeHeartbeats(config, devnet.rpc_http).start(stop)  # renews dev TEE keys
            supervisor.watch(stop)
        return supervisor.stop()
