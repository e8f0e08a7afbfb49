"""The light client (``RollupClient.verify_inference``) against the real stack: it proves
VANILLA, TEE and chained inferences from a node's answers alone, and refuses, naming the
check, every way a node between it and the chain could lie (an injected httpx transport
alters one answer at a time). A real revocation on chain shows the registry read through
``eth_getProof`` is the parent block's, and a forged storage value is caught."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import to_checksum_address

from hub_client import (
    CheckName,
    InferenceNotFound,
    InferenceVerification,
    Outcome,
    RollupClient,
    VerificationFailed,
)
from hub_client._rpcwire import HEADER_FIELDS
from neurostack.hub.broker import free_port
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import encode_receipt
from neurostack.protocol.registry import REGISTRY_ADDRESS
from sequencer.chain.inference.system_contract import registry_calldata
from tests.hub.stack import NEUROSTACK

from .models import DECIMALS, FEATURES, build_affine, mlp_output
from .stack import Options, RollupStack, selector

pytestmark = pytest.mark.slow

VANILLA_FEATURES = [700, 800, -900, 100]  # a request no other transaction here makes

Change = Callable[[Any, list[Any]], Any]


@dataclass
class Chain:
    stack: RollupStack
    mlp: str
    vanilla: str  # tx hashes
    tee: str
    chained: str
    transfer: str  # a transaction without model calls
    again: str  # the chained transaction's first request, made again in a later block

    def receipt(self, tx: str) -> dict[str, Any]:
        return self.stack.rpc("eth_getTransactionReceipt", tx)  # type: ignore[no-any-return]


def predict(cid: str, features: list[int]) -> bytes:
    return selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, features, DECIMALS]
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    root = tmp_path_factory.mktemp("light")
    with RollupStack(root, Options(workers=2, tee=True)) as stack:
        mlp = stack.upload_sample("mlp_regressor")
        affine = stack.upload(build_affine(Path(root) / "affine.onnx"), "affine")
        vanilla = stack.deploy("ModelConsumer", "x", 0)
        tee = stack.deploy("ModelConsumer", "x", 2)
        chained = stack.deploy("ChainedModels", "x", "x", 0)
        run = selector("ChainedModels", "run") + encode(
            ["string", "string", "int128[]", "int128"], [mlp, affine, FEATURES, DECIMALS]
        )
        hashes = [
            stack.send(stack.accounts[1], vanilla, predict(mlp, VANILLA_FEATURES)),
            stack.send(stack.accounts[2], tee, predict(mlp, [100, 200, 300, 400])),
            stack.send(stack.accounts[3], chained, run),
        ]
        for tx in hashes:
            assert stack.wait_receipt(tx)["status"] == "0x1"
        transfer = stack.send(stack.accounts[4], stack.accounts[5].address, value=1)
        stack.wait_receipt(transfer)
        # The chained transaction's first request again, in a later block: the receipt is
        # served again, and neuro_getInferenceProof(requestId) now names this block.
        again = stack.send(stack.accounts[6], vanilla, predict(mlp, FEATURES))
        assert stack.wait_receipt(again)["status"] == "0x1"
        yield Chain(stack, mlp, *hashes, transfer, again)


def expect_all_passed(result: InferenceVerification, *, anchored: bool) -> None:
    names = [c.name for c in result.checks]
    assert names[:5] == [CheckName.HEADER, CheckName.ANCHOR, CheckName.TRANSACTION,
                         CheckName.STATUS, CheckName.RECEIPT]  # fmt: skip
    assert set(names) == set(CheckName) - {CheckName.ZK}  # zk: ZK calls only (test_zk.py)
    for check in result.checks:
        expected = (
            Outcome.SKIPPED if check.name == CheckName.ANCHOR and not anchored else Outcome.PASSED
        )
        assert check.outcome == expected, check
    assert result.anchored is anchored and result.succeeded


def test_a_vanilla_inference_verifies_from_the_nodes_answers_alone(chain: Chain) -> None:
    stack, receipt = chain.stack, chain.receipt(chain.vanilla)
    result = stack.client.verify_inference(chain.vanilla)

    expect_all_passed(result, anchored=False)
    assert result.block_number == int(receipt["blockNumber"], 16)
    assert "0x" + result.block_hash.hex() == receipt["blockHash"]
    assert result.tx_index == int(receipt["transactionIndex"], 16)
    assert to_checksum_address(result.sender) == stack.accounts[1].address
    assert result.chain_id == 4343
    (inference,) = result.inferences
    assert inference.mode is InferenceMode.VANILLA and inference.model_cid == chain.mlp
    assert to_checksum_address(inference.sprinter) in stack.sprinters.values()
    assert "0x" + inference.request_id.hex() == receipt["inferences"][0]["requestId"]
    assert np.float32(inference.arrays()["y"].item()) == mlp_output(VANILLA_FEATURES)[0, 0]
    assert "active sprinter" in inference.admission
    assert len(encode_receipt(inference.receipt)) - len(inference.receipt.output) < 1024
    parent = stack.rpc("eth_getBlockByNumber", hex(result.block_number - 1), False)
    assert "0x" + result.registry_state_root.hex() == parent["stateRoot"]

    anchored = stack.client.verify_inference(chain.vanilla, trusted_block_hash=receipt["blockHash"])
    expect_all_passed(anchored, anchored=True)


def test_a_tee_inference_verifies_with_its_attested_key(chain: Chain) -> None:
    result = chain.stack.client.verify_inference(chain.tee)
    expect_all_passed(result, anchored=False)
    (inference,) = result.inferences
    assert inference.mode is InferenceMode.TEE
    assert "admitted TEE key running approved measurement" in inference.admission
    assert len(encode_receipt(inference.receipt)) - len(inference.receipt.output) < 1024
    assert np.float32(inference.arrays()["y"].item()) == mlp_output([100, 200, 300, 400])[0, 0]


def test_every_model_call_of_a_chained_transaction_is_verified(chain: Chain) -> None:
    result = chain.stack.client.verify_inference(chain.chained)
    expect_all_passed(result, anchored=False)
    first, second = result.inferences
    assert first.model_cid == chain.mlp and second.model_cid != chain.mlp
    assert first.leaf_count == second.leaf_count >= 2 and first.index != second.index
    assert first.branch and second.branch


def test_a_request_served_again_in_a_later_block_verifies_in_both(chain: Chain) -> None:
    stack = chain.stack
    first = stack.client.verify_inference(chain.chained).inferences[0]
    again = stack.client.verify_inference(chain.again).inferences[0]
    assert first.request_id == again.request_id
    assert first.block_number < again.block_number
    assert first.receipt == again.receipt  # the same signed receipt, committed twice


def test_invalid_witness_of_an_older_block_is_refused(chain: Chain) -> None:
    """Its proof comes from the block's witness (the request id now names a later block)."""
    first = chain.receipt(chain.chained)["inferences"][0]["requestId"]

    def altered(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "output": flip(r["output"])} if r["requestId"] == first else r
                for r in receipts]  # fmt: skip

    tamper = Tamper("neuro_getInferenceWitness", setting("receipts", altered))
    failure = refused(chain.stack.rpc_url, tamper, lambda c: c.verify_inference(chain.chained))
    assert failure.check == "receipt" and "output hash mismatch" in failure.reason


def test_invalid_transaction_without_model_calls_is_not_found(chain: Chain) -> None:
    with pytest.raises(InferenceNotFound, match="names no model call"):
        chain.stack.client.verify_inference(chain.transfer)
    with pytest.raises(InferenceNotFound, match="knows no transaction"):
        chain.stack.client.verify_inference("0x" + "ab" * 32)


# --- a node that lies ----------------------------------------------------------------------


class Tamper(httpx.BaseTransport):
    """Forwards to the real node; alters the result (or params) of one method's calls."""

    def __init__(
        self,
        method: str,
        result: Change | None = None,
        *,
        params: Callable[[list[Any]], list[Any]] | None = None,
        when: Callable[[list[Any]], bool] = lambda params: True,
    ) -> None:
        self.method, self.result, self.params, self.when = method, result, params, when
        self.inner = httpx.HTTPTransport()
        self.applied = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        hit = body["method"] == self.method and self.when(body["params"])
        if hit and self.params is not None:
            body["params"] = self.params(body["params"])
            request = httpx.Request("POST", request.url, json=body)
        response = self.inner.handle_request(request)
        response.read()
        reply = response.json()
        if hit and self.result is not None and reply.get("result") is not None:
            reply["result"] = self.result(copy.deepcopy(reply["result"]), body["params"])
            self.applied += 1
        elif hit and self.params is not None:
            self.applied += 1
        return httpx.Response(response.status_code, json=reply)


def flip(value: str, index: int = -1) -> str:
    """``value`` (0x-hex) with one byte's lowest bit flipped."""
    raw = bytearray(bytes.fromhex(value[2:]))
    raw[index] ^= 0x01
    return "0x" + raw.hex()


def bump(quantity: str) -> str:
    return hex(int(quantity, 16) + 1)


def setting(key: str, change: Callable[[Any], Any]) -> Change:
    def apply(result: Any, _: list[Any]) -> Any:
        result[key] = change(result[key])
        return result

    return apply


def in_receipt(key: str, index: int = -1) -> Change:
    def apply(result: Any, _: list[Any]) -> Any:
        result["receipt"][key] = flip(result["receipt"][key], index)
        return result

    return apply


def full_block(params: list[Any]) -> bool:
    return params[1] is True  # the transaction's block (the parent is fetched without bodies)


def first_tx(change: Callable[[dict[str, Any]], None]) -> Change:
    def apply(result: Any, _: list[Any]) -> Any:
        change(result["transactions"][0])
        return result

    return apply


def storage_entry(key: str, change: Callable[[Any], Any]) -> Change:
    def apply(result: Any, _: list[Any]) -> Any:
        entry = result["storageProof"][0]
        entry[key] = change(entry[key])
        return result

    return apply


def first_receipt_status(result: Any, _: list[Any]) -> Any:
    result[0]["status"] = "0x0" if result[0]["status"] == "0x1" else "0x1"
    return result


# (name, transport, failed check, words of the reason)
TAMPERINGS: list[tuple[str, Tamper, CheckName, str]] = [
    ("output byte", Tamper("neuro_getInferenceProof", in_receipt("output")),
     CheckName.RECEIPT, "output hash mismatch"),
    ("signature byte", Tamper("neuro_getInferenceProof", in_receipt("signature", 5)),
     CheckName.RECEIPT, "signature"),
    ("proof's inferenceRoot", Tamper("neuro_getInferenceProof", setting("inferenceRoot", flip)),
     CheckName.MERKLE, "is not block"),
    ("proof's leaf index", Tamper("neuro_getInferenceProof", setting("index", lambda i: i + 1)),
     CheckName.MERKLE, "Merkle branch"),
    ("header extraData", Tamper("eth_getBlockByHash", setting("extraData", flip), when=full_block),
     CheckName.HEADER, "do not hash"),
    *[(f"header {field}", Tamper("eth_getBlockByHash", setting(field, flip if kind == "b" else bump), when=full_block),
       CheckName.HEADER, "do not hash") for field, kind in HEADER_FIELDS],
    ("block hash", Tamper("eth_getBlockByHash", setting("hash", flip), when=full_block),
     CheckName.HEADER, "do not hash"),
    ("transaction value", Tamper("eth_getBlockByHash", first_tx(lambda t: t.update(value=hex(int(t["value"], 16) + 1))), when=full_block),
     CheckName.TRANSACTION, "transactionsRoot"),
    ("transaction dropped from the block", Tamper("eth_getBlockByHash", setting("transactions", lambda t: t[1:]), when=full_block),
     CheckName.TRANSACTION, "transactionsRoot"),
    ("receipt status", Tamper("eth_getBlockReceipts", first_receipt_status),
     CheckName.STATUS, "receiptsRoot"),
    ("parent header", Tamper("eth_getBlockByHash", setting("stateRoot", flip), when=lambda p: p[1] is False),
     CheckName.PARENT, "do not hash"),
    ("registry account proof node", Tamper("eth_getProof", setting("accountProof", lambda p: [flip(p[0], 40), *p[1:]])),
     CheckName.REGISTRY, "account proof fails"),
    ("registry account leaf node", Tamper("eth_getProof", setting("accountProof", lambda p: [*p[:-1], flip(p[-1])])),
     CheckName.REGISTRY, "account proof fails"),
    ("registry storage proof node", Tamper("eth_getProof", storage_entry("proof", lambda p: [*p[:-1], flip(p[-1], 3)])),
     CheckName.REGISTRY, "proof of registry slot"),
    ("registry storage value claimed", Tamper("eth_getProof", storage_entry("value", lambda v: hex(int(v, 16) + 1))),
     CheckName.REGISTRY, "claims registry slot"),
    ("registry storageHash claimed", Tamper("eth_getProof", setting("storageHash", flip)),
     CheckName.REGISTRY, "storageHash"),
    ("registry proof of the head instead of the parent", Tamper("eth_getProof", params=lambda p: [p[0], p[1], "latest"]),
     CheckName.REGISTRY, "account proof fails"),
    ("registry proof of another account", Tamper("eth_getProof", params=lambda p: ["0x" + "11" * 20, *p[1:]]),
     CheckName.REGISTRY, "got 0x1111"),
]  # fmt: skip


def refused(url: str, tamper: Tamper, verify: Callable[[RollupClient], Any]) -> VerificationFailed:
    """Run ``verify`` through a lying node; the failure it must raise."""
    with RollupClient(url, transport=tamper) as lying, pytest.raises(VerificationFailed) as caught:
        verify(lying)
    assert tamper.applied, "the tampering never happened"
    assert caught.value.checks[-1].outcome == Outcome.FAILED  # the failed check is listed last
    return caught.value


@pytest.mark.parametrize(
    ("transport", "check", "words"),
    [pytest.param(t, c, w, id=n) for n, t, c, w in TAMPERINGS],
)
def test_invalid_answer_of_a_lying_node_is_refused(
    chain: Chain, transport: Tamper, check: CheckName, words: str
) -> None:
    failure = refused(chain.stack.rpc_url, transport, lambda c: c.verify_inference(chain.vanilla))
    assert failure.check == check.value, failure
    assert words in failure.reason, failure


def test_invalid_merkle_branch_node_is_refused(chain: Chain) -> None:
    """A chained transaction's block holds two receipts or more, so its branches have nodes."""
    tamper = Tamper(
        "neuro_getInferenceProof", setting("branch", lambda b: [flip(b[0]), *b[1:]] if b else b)
    )
    failure = refused(chain.stack.rpc_url, tamper, lambda c: c.verify_inference(chain.chained))
    assert failure.check == "merkle" and "Merkle branch" in failure.reason


def test_invalid_receipt_swapped_for_another_requests_is_refused(chain: Chain) -> None:
    other = chain.stack.client.request("neuro_getInferenceProof", chain.tee)
    tamper = Tamper("neuro_getInferenceProof", lambda result, params: other)
    failure = refused(chain.stack.rpc_url, tamper, lambda c: c.verify_inference(chain.vanilla))
    assert failure.check == "receipt" and "asked for the receipt of request" in failure.reason


def test_invalid_transaction_placed_in_another_block_is_refused(chain: Chain) -> None:
    elsewhere = chain.receipt(chain.transfer)["blockHash"]
    tamper = Tamper("eth_getTransactionByHash", setting("blockHash", lambda _: elsewhere))
    failure = refused(chain.stack.rpc_url, tamper, lambda c: c.verify_inference(chain.vanilla))
    assert failure.check == "transaction" and "is not in block" in failure.reason


def test_invalid_trusted_block_hash_is_refused(chain: Chain) -> None:
    other = chain.receipt(chain.transfer)["blockHash"]
    with pytest.raises(VerificationFailed, match="not the trusted") as caught:
        chain.stack.client.verify_inference(chain.vanilla, trusted_block_hash=other)
    assert caught.value.check == "anchor"


# --- the command line ------------------------------------------------------------------------


def verify_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEUROSTACK, "verify-inference", *args], capture_output=True, text=True, timeout=120,
        check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def test_cli_verifies_and_prints_a_summary(chain: Chain) -> None:
    receipt = chain.receipt(chain.tee)
    done = verify_cli("--rpc", chain.stack.rpc_url, "--tx", chain.tee,
                      "--trusted-block", receipt["blockHash"])  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert f"verified transaction {chain.tee}" in text
    assert f"block        {int(receipt['blockNumber'], 16)}  {receipt['blockHash']}" in text
    assert "anchored: it is the trusted block hash" in text
    assert f"model      {chain.mlp}  mode TEE" in text and "output     y [1, 1] = [[" in text
    assert re.search(r"sprinter\s+0x[0-9a-fA-F]{40}", text)
    for check in set(CheckName) - {CheckName.ZK}:  # zk: ZK calls only (test_zk.py)
        assert re.search(rf"✓ {check.value}\s", text), check
    unanchored = verify_cli("--rpc", chain.stack.rpc_url, "--tx", chain.vanilla)
    assert unanchored.returncode == 0 and "not anchored" in unanchored.stdout


def test_invalid_cli_inputs_exit_non_zero_with_the_reason(chain: Chain) -> None:
    url = chain.stack.rpc_url
    other = chain.receipt(chain.transfer)["blockHash"]
    wrong = verify_cli("--rpc", url, "--tx", chain.vanilla, "--trusted-block", other)
    assert wrong.returncode == 1
    assert "error: anchor did not verify" in wrong.stderr and "not the trusted" in wrong.stderr
    for args, words in [
        (["--tx", chain.transfer], "names no model call"),
        (["--tx", "0x" + "ab" * 32], "knows no transaction"),
        (["--tx", "0x1234"], "32-byte hash"),
    ]:
        done = verify_cli("--rpc", url, *args)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    down = verify_cli("--rpc", f"http://127.0.0.1:{free_port()}", "--tx", chain.vanilla)
    assert down.returncode == 2 and "cannot reach the rollup node" in down.stderr


def test_docs_witness_snippets_run(chain: Chain) -> None:
    """docs/witness.md's programs (a hand-written check and the SDK call) run as written."""
    programs = Path(__file__).resolve().parents[2] / "docs_src" / "witness"
    for tx in (chain.vanilla, chain.tee):
        env = {**os.environ, "NEUROSTACK_RPC_URL": chain.stack.rpc_url, "TX_HASH": tx}
        printed = []
        for program in ("check_by_hand.py", "sdk_verify.py"):
            proc = subprocess.run(
                [sys.executable, programs / program], env=env, capture_output=True, text=True,
                timeout=120, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr[-2000:]
            printed += proc.stdout.splitlines()
        first, second = printed
        assert first.startswith("output 0x") and "signed by 0x" in first
        assert second.startswith(chain.mlp)
        assert "active sprinter" in second or "admitted TEE key" in second


# --- a real revocation (last: it changes the chain's registry) ------------------------------


def test_revoked_sprinter_is_refused_from_the_next_block_and_a_forged_claim_is_caught(
    chain: Chain,
) -> None:
    stack = chain.stack
    old = stack.client.verify_inference(chain.vanilla)
    signer = to_checksum_address(old.inferences[0].sprinter)
    owner = Account.from_key(stack.owner_key)
    stack.transact(stack.accounts[0], owner.address, value=10**18)
    revoked = stack.transact(owner, "0x" + REGISTRY_ADDRESS.hex(),
                             registry_calldata("revokeSprinter", signer))  # fmt: skip
    assert revoked["status"] == "0x1", revoked
    block = int(revoked["blockNumber"], 16)

    assert "active sprinter" in stack.client.verify_admission(signer, "VANILLA", block=block - 1)
    with pytest.raises(VerificationFailed, match="is revoked as a sprinter") as caught:
        stack.client.verify_admission(signer, "VANILLA", block=block)
    assert caught.value.check == "admission"

    # A node claiming the revoked key is still active (storage value 1) is caught by its proof.
    claim_active = Tamper("eth_getProof", storage_entry("value", lambda _: "0x1"))
    failure = refused(stack.rpc_url, claim_active,
                      lambda c: c.verify_admission(signer, InferenceMode.VANILLA, block=block))  # fmt: skip
    assert failure.check == "registry" and "holds 1; its proof" in failure.reason
    # ... and so is one answering the old block's registry reads with the revoked state.
    revoked_state = Tamper("eth_getProof", params=lambda p: [*p[:2], hex(block)])
    failure = refused(stack.rpc_url, revoked_state, lambda c: c.verify_inference(chain.vanilla))
    assert failure.check == "registry" and "account proof fails" in failure.reason

    # The inference mined before the revocation still verifies: the registry of its parent.
    again = stack.client.verify_inference(chain.vanilla)
    assert again.inferences[0].sprinter == old.inferences[0].sprinter
