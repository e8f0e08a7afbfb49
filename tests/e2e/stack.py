"""The whole product as processes, for end-to-end tests and ``bench/pipe.py``.

``RollupStack`` = ``HubStack`` (embedded redis-server, hub API under uvicorn, sprinter
worker processes running onnxruntime) + a ``neurostack node --redis-url`` process: the
composition root ``neurostack up`` starts, with PIPE plugged into ``bridge.CeleryBridge``.
The chain's genesis registry admits the workers' keys as sprinters. Tests talk to it the
way users do: JSON-RPC (web3-free, through ``hub_client.RollupClient``), the hub's HTTP
API through ``hub_client.HubClient``.

    with RollupStack(tmp_path, workers=2) as stack:
        cid = stack.upload_sample("mlp_regressor")
        consumer = stack.deploy("ModelConsumer", "x", 0)
        receipt = stack.transact(stack.accounts[1], consumer, data)

Every process is in its own process group and is stopped on exit, also when start-up
fails half-way.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import tomli_w
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from hub_client import HubClient, RollupClient
from neurostack.hub.broker import free_port
from neurostack.hub.samples import sample_model_path
from neurostack.solidity import load_artifact
from tests.hub.stack import NEUROSTACK, HubStack, _stop

CHAIN_ID = 4343
GWEI = 10**9
MNEMONIC = "test test test test test test test test test test test junk"
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Options:
    """What a test module wants from its stack."""

    workers: int = 2
    worker_delay: float = 0.0
    block_time: float = 0.5
    deadline: float = 20.0  # PIPE: seconds a parked transaction may wait
    speculative_after: float = 2.0  # bridge: seconds before a slow job is duplicated
    redundancy: int = 1
    empty_blocks: bool = False  # True: a block every block_time even without transactions
    accounts: int = 10  # funded dev accounts
    tee: bool = False  # genesis admits the workers' keys as TEE keys too (dev attestations)
    extra_sprinters: tuple[str, ...] = ()  # more addresses admitted in genesis (no worker)
    inference: tuple[tuple[str, Any], ...] = ()  # more [inference] keys (modes, staking, ...)


class ChainClient:
    """Helpers for one running chain, over its JSON-RPC: sign and send, wait for receipts,
    deploy the committed contract artifacts, call, read balances."""

    chain_id: int
    accounts: list[LocalAccount]
    rollup: RollupClient | None

    def __init__(self, rpc_url: str, chain_id: int, accounts: list[LocalAccount]) -> None:
        self.chain_id = chain_id
        self.accounts = accounts
        self.rollup = RollupClient(rpc_url, timeout=60)

    @property
    def client(self) -> RollupClient:
        assert self.rollup is not None, "stack not started"
        return self.rollup

    def rpc(self, method: str, *params: Any) -> Any:
        return self.client.request(method, *params)

    def send(
        self, account: LocalAccount, to: str | None, data: bytes = b"", *, value: int = 0,
        gas: int = 3_000_000, nonce: int | None = None,
    ) -> str:  # fmt: skip
        """Sign and send a type-2 transaction with a fixed gas limit (no estimate: that
        would run the model first); returns its hash (0x-hex)."""
        return self.client.send_transaction(
            account, to, data, value=value, gas=gas, nonce=nonce,
            max_fee_per_gas=20 * GWEI, max_priority_fee_per_gas=GWEI,
        )  # fmt: skip

    def wait_receipt(self, tx_hash: str, timeout: float = 60.0) -> dict[str, Any]:
        """The receipt's JSON once mined (``InferenceDropped`` if PIPE drops it)."""
        return dict(self.client.wait_for_receipt(tx_hash, timeout=timeout, check=False).raw)

    def transact(self, account: LocalAccount, to: str | None, data: bytes = b"",
                 **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        return self.wait_receipt(self.send(account, to, data, **kwargs))

    def deploy(self, name: str, *args: Any) -> str:
        """Deploy the committed artifact ``name`` with constructor ``args``; its address."""
        return self.client.deploy(self.accounts[0], load_artifact(name), *args).address

    def call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        return self.client.call(to, data, block=block)

    def balance(self, address: str, block: int | str = "latest") -> int:
        return self.client.balance(address, block)


class RollupStack(ChainClient):
    """Hub stack + node process; ``rollup``/``hub`` clients; helpers to transact."""

    def __init__(self, root: Path, options: Options = Options()) -> None:
        self.root = Path(root)
        self.chain_id = CHAIN_ID
        self.options = options
        self.hub = HubStack(
            self.root / "hub",
            workers=options.workers,
            worker_delay=options.worker_delay,
            speculative_after=options.speculative_after,
        )
        self.project = self.root / "chain"
        self.rpc_port = 0
        self.node: subprocess.Popen[bytes] | None = None
        Account.enable_unaudited_hdwallet_features()
        self.accounts: list[LocalAccount] = [
            Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
            for i in range(options.accounts)
        ]
        self.rollup: RollupClient | None = None

    # -- lifecycle ------------------------------------------------------------------

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def sprinters(self) -> dict[str, str]:
        """Worker name -> the sprinter address it signs with."""
        return {name: w.address for name, w in self.hub.workers.items()}

    def start(self) -> Self:
        try:
            self.hub.start()
            self.write_project()
            self.start_node()
            self.rollup = RollupClient(self.rpc_url, timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def write_project(self) -> None:
        (self.project / "keys").mkdir(parents=True, exist_ok=True)
        self.sequencer_key = "0x" + secrets.token_hex(32)  # the chain owner: registry admin
        (self.project / "keys" / "sequencer.key").write_text(self.sequencer_key)
        self.rpc_port = free_port()
        o = self.options
        config = {
            "chain": {
                "name": "e2e",
                "chain_id": CHAIN_ID,
                "block_time": o.block_time,
                "empty_blocks": o.empty_blocks,
            },
            "rpc": {"port": self.rpc_port},
            "dev": {"mnemonic": MNEMONIC, "accounts": o.accounts},
            "hub": {"port": self.hub.port, "workers": 0, "sprinter_keys": []},
            "inference": {
                "sprinters": [*self.sprinters.values(), *o.extra_sprinters],
                "deadline": o.deadline,
                "speculative_after": o.speculative_after,
                "redundancy": o.redundancy,
            },
        }
        if o.tee:
            config["inference"].update(self.tee_genesis())
        config["inference"].update(dict(o.inference))
        (self.project / "chain.toml").write_text(tomli_w.dumps(config))

    def tee_genesis(self) -> dict[str, Any]:
        """``[inference]`` entries admitting every worker key as a TEE key in genesis, with
        development attestation documents signed by a fresh root (as ``neurostack new`` does)."""
        from sequencer.chain.inference.attestation import DEV_MEASUREMENT, make_dev_attestation

        root = Account.create()
        documents = [
            {"key": address, "attestation": "0x" + make_dev_attestation(
                key=bytes.fromhex(address[2:]), measurement=DEV_MEASUREMENT,
                timestamp=int(time.time()), root_private_key=bytes(root.key)).hex()}
            for address in self.sprinters.values()
        ]  # fmt: skip
        return {
            "attestation_roots": [root.address],
            "approved_measurements": ["0x" + DEV_MEASUREMENT.hex()],
            "tee_keys": documents,
        }

    @property
    def owner_key(self) -> str:
        """The chain owner's key (the sequencer key: it administers the registry)."""
        return (self.project / "keys" / "sequencer.key").read_text().strip()

    def start_node(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("REDIS_URL", None)
        with open(self.hub.logs / "node.log", "ab") as log:
            self.node = subprocess.Popen(
                [NEUROSTACK, "node", "--config", str(self.project / "chain.toml"),
                 "--redis-url", self.hub.redis_url],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )  # fmt: skip
        end = time.monotonic() + START_TIMEOUT
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while time.monotonic() < end:
            if self.node.poll() is not None:
                raise RuntimeError(f"node exited {self.node.returncode}\n{self.hub.log_tail()}")
            try:
                if httpx.post(self.rpc_url, json=body, timeout=2).json()["result"] == hex(CHAIN_ID):
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node not answering after {START_TIMEOUT} s\n{self.hub.log_tail()}")

    def stop(self) -> None:
        if self.rollup is not None:
            self.rollup.close()
        _stop(self.node, grace=20)
        self.hub.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- workers --------------------------------------------------------------------

    def start_worker(self, name: str, delay: float = 0.0) -> None:
        """(Re)start one sprinter with its own per-job delay."""
        self.hub.worker_delay = delay  # HubStack passes its current delay to the new process
        self.hub.start_worker(name)

    def stop_worker(self, name: str) -> None:
        """SIGTERM one sprinter (SIGKILL after a grace period) and wait for it."""
        _stop(self.hub.workers[name].proc)
        self.hub.workers[name].proc = None

    def kill_worker(self, name: str) -> None:
        """SIGKILL one sprinter, as a crash would (it is then known to be down)."""
        if self.hub.workers[name].proc is not None:
            self.hub.kill_worker(name)
            self.hub.workers[name].proc = None

    def restart_workers(self, delays: dict[str, float]) -> None:
        """Restart the named workers with these delays; others keep running."""
        for name in delays:
            self.stop_worker(name)
        for name, delay in delays.items():
            self.start_worker(name, delay)
        self.hub.wait_ready(workers=sum(1 for w in self.hub.workers.values() if w.proc))

    def ensure_workers(self, delay: float = 0.0) -> None:
        """Every worker running (restarting dead ones with ``delay``) and ready."""
        for name, w in self.hub.workers.items():
            if w.proc is None or w.proc.poll() is not None:
                self.start_worker(name, delay)
        self.hub.wait_ready(workers=len(self.hub.workers))

    # -- hub helpers ----------------------------------------------------------------

    def upload_sample(self, name: str) -> str:
        """Upload a shipped sample model with the SDK; returns its CID."""
        return self.upload(sample_model_path(name), name)

    def upload(self, path: Path, name: str) -> str:
        with HubClient(self.hub.url) as hub:
            return hub.upload_model(path, private_key=self.hub.owner.key, name=name).cid


def predict(cid: str, features: list[int], decimals: int = 3) -> bytes:
    """Calldata of ``ModelConsumer.predict(cid, features, decimals)``: one model call on a
    [1, n] input of ``features·10^-decimals``."""
    return selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, decimals]
    )


def selector(name: str, function: str) -> bytes:
    """The 4-byte selector of ``function`` in the committed artifact ``name``."""
    for item in load_artifact(name).abi:
        if item.get("type") == "function" and item["name"] == function:
            types = ",".join(canonical_type(i) for i in item["inputs"])
            return keccak(text=f"{function}({types})")[:4]
    raise KeyError(f"{name} has no function {function}")


def canonical_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])
