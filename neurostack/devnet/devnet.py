"""``neurostack up``: plan a devnet's services, start them in stages, run until stopped.

Stages start one after another, the services of a stage side by side:
Redis first (hub and workers need its URL), then the hub, the sprinter workers and
the node together. ``--reset`` deletes the chain's data dir and the hub's store
(Redis data included) before anything starts; without it everything resumes.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neurostack.hub.broker import free_port
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
    redis_url: str | None
    redis_embedded: bool
    workers: int
    block_time: float
    data_dir: Path
    log_dir: Path
    explorer_url: str | None = None


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
    if options.hub:
        if redis_url is None:
            port = free_port()
            redis_dir = config.root / config.hub.store_dir / "redis"
            stages.append([services.redis_spec(redis_dir, port)])
            redis_url = f"redis://127.0.0.1:{port}/0"
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
    devnet = Devnet(
        config=config,
        rpc_http=services.rpc_url(config, "http"),
        rpc_ws=services.rpc_url(config, "ws"),
        hub_url=services.hub_url(config) if options.hub else None,
        redis_url=redis_url if options.hub else None,
        redis_embedded=options.hub and options.redis_url is None,
        workers=workers if options.hub else 0,
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
    if options.hub:
        services.check_port_free(config.hub.host, config.hub.port, "[hub].port")
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
