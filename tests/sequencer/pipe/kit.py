"""Test kit of the PIPE tests: a hand-driven inference backend and a node with PIPE attached.

``FakeBackend`` is an in-process ``InferenceBackend``: jobs wait until the test answers
them with a receipt signed by the genesis-registered sprinter key (``answer``) or fails
them (``fail``); ``auto=True`` answers at once. Everything else is real: the node, py-evm,
the sqlite store, the contracts (committed solc artifacts).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector

from neurostack.protocol.jobs import InferenceJob, JobResult, SignerCheck
from neurostack.protocol.receipts import make_receipt
from neurostack.protocol.types import RequestId
from neurostack.solidity import CompiledContract
from sequencer.node import Node
from sequencer.pipe import InferencePool, attach
from tests.sequencer.inference.kit import (
    GWEI,
    MODEL_CID,
    MODEL_HASH,
    SPRINTER_KEY,
    Wallet,
    make_config,
    toy_model_output,
)

__all__ = ["GWEI_TIP", "MODEL_CID", "FakeBackend", "Pipe", "Wallet", "open_pipe", "selector"]

GWEI_TIP = GWEI // 10  # the tip Wallet.send pays by default


class FakeBackend:
    """Jobs resolved by hand; the same request id is one job (like ``CeleryBridge``)."""

    def __init__(self, *, auto: bool = False) -> None:
        self.auto = auto
        self.jobs: dict[RequestId, InferenceJob] = {}
        self.futures: dict[RequestId, Future[JobResult]] = {}
        self.submitted: list[InferenceJob] = []
        self.admissible: SignerCheck | None = None  # the signer rule PIPE passed last
        self._lock = threading.Lock()

    def submit(self, job: InferenceJob, *, admissible: SignerCheck) -> Future[JobResult]:
        with self._lock:
            self.submitted.append(job)
            self.admissible = admissible
            future = self.futures.get(job.request_id)
            if future is None:
                future = self.futures[job.request_id] = Future()
                self.jobs[job.request_id] = job
        if self.auto and not future.done():
            future.set_result(JobResult(job.request_id, receipt_of(job)))
        return future

    def open_jobs(self) -> list[InferenceJob]:
        with self._lock:
            return [j for rid, j in self.jobs.items() if not self.futures[rid].done()]

    def answer(self, job: InferenceJob | None = None) -> InferenceJob:
        """Resolve ``job`` (default: the only open one) with a valid receipt."""
        if job is None:
            (job,) = self.open_jobs()
        self.futures[job.request_id].set_result(JobResult(job.request_id, receipt_of(job)))
        return job

    def fail(self, error: str, job: InferenceJob | None = None) -> None:
        if job is None:
            (job,) = self.open_jobs()
        self.futures[job.request_id].set_result(JobResult(job.request_id, None, error))


def receipt_of(job: InferenceJob) -> Any:
    """The toy model's (y = 2·sum(x)) receipt for ``job``, signed by the registered sprinter."""
    return make_receipt(
        chain_id=job.chain_id, model_cid=job.model_cid, model_hash=MODEL_HASH, mode=job.mode,
        input_abi=job.input_abi, output_abi=toy_model_output(job),  # type: ignore[arg-type]
        expiry=job.expiry, private_key=SPRINTER_KEY,
    )  # fmt: skip


def selector(contract: CompiledContract, name: str) -> bytes:
    abi = next(f for f in contract.abi if f.get("name") == name and f["type"] == "function")
    return function_abi_to_4byte_selector(abi)


@dataclass
class Pipe:
    """A node with PIPE attached to a fake backend."""

    node: Node
    pool: InferencePool
    backend: FakeBackend
    wallets: list[Wallet]

    def settle(self) -> None:
        assert self.pool.wait_idle(10), "PIPE did not settle"

    def mine(self) -> Any:
        self.settle()
        block = self.node.mine()
        self.settle()
        return block

    def deploy(self, contract: CompiledContract, types: list[str], args: list[Any]) -> bytes:
        from eth._utils.address import generate_contract_address

        wallet = self.wallets[0]
        wallet.send(None, contract.bytecode + encode(types, args), gas=4_000_000)
        self.mine()
        return generate_contract_address(wallet.address, wallet.nonce - 1)

    def read(self, contract: CompiledContract, address: bytes, name: str, out: str) -> Any:
        return decode([out], self.wallets[0].call(address, selector(contract, name)))[0]

    def status(self, tx_hash: bytes) -> str:
        record = self.pool.statuses.get(tx_hash)
        return "unknown" if record is None else record.status.value

    def close(self) -> None:
        self.pool.close()
        self.node.stop()


def open_pipe(
    root: Path, backend: FakeBackend | None = None, *, block_time: float = 0, **inference: Any
) -> Pipe:
    """A fresh node under ``root`` with PIPE over ``backend``; its block producer runs once
    ``node.start()`` is called (mine on demand only, with the default ``block_time`` 0)."""
    config = make_config(root, **inference)
    config.chain.block_time = block_time
    node = Node(config)
    backend = backend or FakeBackend()
    pool = attach(node, backend)
    wallets = [Wallet(node, a.private_key) for a in node.config.dev_accounts()]
    return Pipe(node, pool, backend, wallets)
