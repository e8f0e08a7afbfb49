"""Example 04: check a model's answer on chain without trusting the RPC node that serves it.

A user holds a transaction hash (here: example 01's ``predict``, sent first unless ``--tx``
names one) and a JSON-RPC URL they do not trust. ``hub_client``'s light client
(``RollupClient.verify_inference``) proves from that node's answers alone that the model
output the contract used is signed by an admitted sprinter and committed by the block
header, and, given a block hash from a source the user trusts, that the header is that
block. To show what it catches, the node is put behind a small JSON-RPC proxy in this
process that answers honestly first, then lies in one detail at a time (a byte of the
model's output, with or without its hash, a byte of the header, the transaction's status,
its block); each lie fails a named check.

    python examples/04_verify_without_trust/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import (
    InferenceVerification,
    RollupClient,
    TransactionReceipt,
    VerificationFailed,
)

# The inference to check is example 01's: its model and its contract.
HELLO = HERE.parent / "01_hello_inference"
MODEL = HELLO / "models" / "hello_regressor.onnx"
ARTIFACT = HELLO / "contracts" / "artifacts" / "HelloInference.json"
FEATURES = ([500, -1250, 2000, 125], 3)  # x = [0.5, -1.25, 2, 0.125]


# --- a node that lies ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lie:
    """What a dishonest node changes in its answers to ``methods``."""

    says: str  # the lie, in words
    methods: tuple[str, ...]
    alter: Callable[[Any], Any]  # the honest result -> the lying one


def flip_last_byte(hex_text: str) -> str:
    return hex_text[:-2] + f"{int(hex_text[-2:], 16) ^ 0x01:02x}"


def lies(tx_hash: str, other_block: str) -> list[Lie]:
    """Five ways a node can misreport ``tx_hash``'s inference, one detail each."""

    def output(result: Any) -> Any:  # the proof's receipt, or every receipt of a witness
        for receipt in [result.get("receipt")] + result.get("receipts", []):
            if receipt:
                receipt["output"] = flip_last_byte(receipt["output"])
        return result

    def output_and_hash(result: Any) -> Any:  # consistent, but no longer what was signed
        for receipt in [result.get("receipt")] + result.get("receipts", []):
            if receipt:
                receipt["output"] = flip_last_byte(receipt["output"])
                receipt["outputHash"] = "0x" + keccak(hexstr=receipt["output"]).hex()
        return result

    def header(block: Any) -> Any:
        block["extraData"] = flip_last_byte(block["extraData"])  # the inferenceRoot
        return block

    def status(receipts: Any) -> Any:
        for receipt in receipts:
            if receipt["transactionHash"] == tx_hash:
                receipt["status"] = "0x0"
        return receipts

    def block(tx: Any) -> Any:
        tx["blockHash"] = other_block
        return tx

    return [
        Lie("one byte of the model's output is different",
            ("neuro_getInferenceProof", "neuro_getInferenceWitness"), output),
        Lie("the model's output and its hash are different",
            ("neuro_getInferenceProof", "neuro_getInferenceWitness"), output_and_hash),
        Lie("one byte of the header's extraData (the inferenceRoot) is different",
            ("eth_getBlockByHash",), header),
        Lie("the transaction reverted", ("eth_getBlockReceipts",), status),
        Lie("the transaction is in another (genuine) block", ("eth_getTransactionByHash",),
            block),
    ]  # fmt: skip


class LyingProxy:
    """A JSON-RPC endpoint at ``url`` that forwards to ``upstream`` and tells ``lie``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lie: Lie | None = None  # None: answer honestly
        self.http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, data = proxy.answer(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """The upstream node's answer to ``body``, with ``lie`` told where it applies."""
        reply = self.http.post(self.upstream, content=body,
                               headers={"Content-Type": "application/json"})  # fmt: skip
        lie = self.lie
        if lie is None:
            return reply.status_code, reply.content
        request, answer = json.loads(body), reply.json()
        if isinstance(answer, dict) and answer.get("result") and request["method"] in lie.methods:
            answer["result"] = lie.alter(answer["result"])
        return reply.status_code, json.dumps(answer).encode()

    @contextmanager
    def running(self) -> Iterator[LyingProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            self.http.close()
            thread.join()


# --- the example ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    tx_hash: str
    trusted_block_hash: str
    deployment: TransactionReceipt | None  # example 01's contract, when this run sent the tx
    receipt: TransactionReceipt | None  # its predict transaction
    unanchored: InferenceVerification  # the honest node, no trusted hash
    anchored: InferenceVerification  # the honest node, checked against the trusted hash
    caught: dict[str, VerificationFailed]  # each lie -> the check that refused it


def step(label: str, text: str) -> None:
    print(f"{label:<12}{text}", flush=True)


def show(checks: Any) -> None:
    marks = {"passed": "ok", "skipped": "--", "failed": "FAILED"}
    for check in checks:
        print(f"    {marks[check.outcome.value]:<7} {check.name.value:<12} {check.detail}")


def send_an_inference(devnet: _kit.Devnet) -> tuple[TransactionReceipt, TransactionReceipt]:
    """Example 01's ``predict``: the deployment's and the transaction's receipts."""
    account = devnet.accounts[0]
    cid = devnet.upload(MODEL, "hello_regressor")
    hello = devnet.rollup.deploy(account, ARTIFACT, cid, "x", timeout=devnet.timeout)
    assert hello.receipt is not None
    receipt = hello.transact(account, "predict", *FEATURES, timeout=devnet.timeout)
    return hello.receipt, receipt


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    print(f"Neuro Stack example 04 on chain {rollup.chain_id()} at {rollup.rpc_url}\n")
    deployment = receipt = None
    if args.tx is None:
        deployment, receipt = send_an_inference(devnet)
        tx_hash = receipt.transaction_hash
        step("inference", f"{tx_hash}: example 01's predict, block {receipt.block_number}")
    else:
        tx_hash = args.tx
        step("inference", f"{tx_hash} (--tx)")
    # The user's anchor: a block hash from a source they trust (their own node, a friend's, a
    # block explorer they trust). Here the node at --rpc plays that source unless
    # --trusted-block gives the hash; the node under test is the proxy below.
    mined = rollup.request("eth_getTransactionByHash", tx_hash)
    if mined is None or mined.get("blockHash") is None:
        raise ValueError(f"{rollup.rpc_url} knows no mined transaction {tx_hash}")
    trusted = args.trusted_block or str(mined["blockHash"])
    source = "--trusted-block" if args.trusted_block else f"from {rollup.rpc_url}"
    step("trusted", f"block hash {trusted} ({source})")
    # A genuine block, but not the transaction's: where the last lie places it.
    other = rollup.header(int(mined["blockNumber"], 16) - 1).hash_hex

    proxy = LyingProxy(rollup.rpc_url)
    with proxy.running(), RollupClient(proxy.url, timeout=devnet.timeout) as untrusted:
        step("untrusted", f"a JSON-RPC proxy at {proxy.url} in front of the node\n")

        print("the node answers honestly, no trusted block hash")
        unanchored = untrusted.verify_inference(tx_hash)
        anchor = [c for c in unanchored.checks if c.name.value == "anchor"]
        show(anchor)
        print(f"    ok      {len(unanchored.checks) - 1} other checks, as below")
        print("the node answers honestly, checked against the trusted block hash")
        try:
            anchored = untrusted.verify_inference(tx_hash, trusted_block_hash=trusted)
        except VerificationFailed as exc:
            show(exc.checks)
            raise
        show(anchored.checks)
        for inference in anchored.inferences:
            print(f"  => proven: model {inference.model_cid} answered y = "
                  f"{_kit.shown(_kit.number(inference.output, 'y'))}, signed by "
                  f"{inference.admission}\n")  # fmt: skip

        caught: dict[str, VerificationFailed] = {}
        for lie in lies(tx_hash, other):
            proxy.lie = lie
            print(f"the node lies: {lie.says}")
            try:
                untrusted.verify_inference(tx_hash, trusted_block_hash=trusted)
            except VerificationFailed as exc:
                show(exc.checks[-1:])
                caught[lie.says] = exc
            else:
                raise ValueError(f"the light client accepted a lie: {lie.says}")
        proxy.lie = None
    print(f"\nevery lie was refused, by the checks {', '.join(e.check for e in caught.values())}")
    return Result(tx_hash, trusted, deployment, receipt, unanchored, anchored, caught)


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tx", help="check this transaction (default: send example 01's predict)")
    parser.add_argument("--trusted-block", help="the hash of the transaction's block, from a "
                        "source you trust (default: asked of --rpc)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run, options)


if __name__ == "__main__":
    raise SystemExit(main())
