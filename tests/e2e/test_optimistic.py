"""OPTIMISTIC mode on the real stack: a contract gets a bonded sprinter's result at once;
a forged result is challenged with a TEE receipt the chain's own sprinters produced
(bond slashed, challenger paid, ``ResultChallenged`` logged, the status shows it); an
honest result cannot be slashed and reads final after the window; a sprinter that
unstakes right after cheating is slashed anyway; a challenge after the window is refused.

The cheating sprinters are keys this test holds, admitted in genesis and bonded with
``stake()``: they answer a transaction's job by writing a signed receipt into the hub's
Redis (as in ``test_redis_attacks``) while the honest workers are still computing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from eth_abi import decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from hub_client import ContractReverted
from neurostack.protocol import job_keys as keys
from neurostack.protocol.cid import cid_digest
from neurostack.protocol.jobs import InferenceJob, JobResult
from neurostack.protocol.receipts import encode_receipt, make_receipt, receipt_from_json
from neurostack.protocol.registry import REGISTRY_ADDRESS
from neurostack.protocol.tensors import encode_model_output, outputs_to_model_output
from sequencer.chain.inference.system_contract import registry_calldata

from .jobs import sent_job
from .models import chain_value, mlp_output
from .stack import CHAIN_ID, Options, RollupStack, predict, selector

pytestmark = pytest.mark.slow

DELAY = 2.0  # each honest sprinter sleeps this long per job: the cheater answers first
ETHER = 10**18
WINDOW, UNBONDING = 6, 12
REGISTRY = "0x" + bytes(REGISTRY_ADDRESS).hex()
CHEAT, LEAVER, LATE = Account.create(), Account.create(), Account.create()
RESULT_RECORDED = keccak(text="OptimisticResultRecorded(bytes32,address,bytes32,string,bytes)")
RESULT_CHALLENGED = keccak(
    text="ResultChallenged(bytes32,address,address,bytes32,bytes32,uint256,uint256)"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RollupStack]:
    options = Options(
        workers=2, worker_delay=DELAY, deadline=30.0, speculative_after=10.0, tee=True,
        extra_sprinters=(CHEAT.address, LEAVER.address, LATE.address),
        inference=(("modes", ["VANILLA", "TEE", "OPTIMISTIC"]), ("min_bond", ETHER),
                   ("challenge_window", WINDOW), ("unbonding_delay", UNBONDING)),
    )  # fmt: skip
    with RollupStack(tmp_path_factory.mktemp("e2e-optimistic"), options) as s:
        workers = [Account.from_key(w.key_hex) for w in s.hub.workers.values()]
        bonded: list[LocalAccount] = [CHEAT, LEAVER, LATE, *workers]
        funder = s.accounts[9]
        nonce = s.client.request("eth_getTransactionCount", funder.address, "pending")
        sent = [s.send(funder, a.address, value=3 * ETHER, gas=21_000, nonce=int(nonce, 16) + i)
                for i, a in enumerate(bonded)]  # fmt: skip
        for tx in sent:
            assert s.wait_receipt(tx)["status"] == "0x1"
        stakes = [s.send(a, REGISTRY, registry_calldata("stake"), value=2 * ETHER, gas=200_000)
                  for a in bonded]  # fmt: skip
        for tx in stakes:
            assert s.wait_receipt(tx)["status"] == "0x1"
        yield s


@pytest.fixture(scope="module")
def contracts(stack: RollupStack) -> dict[str, str]:
    return {"optimistic": stack.deploy("ModelConsumer", "x", 3),
            "tee": stack.deploy("ModelConsumer", "x", 2)}  # fmt: skip


def view(stack: RollupStack, name: str, *args: Any) -> Any:
    from sequencer.chain.inference.system_contract import FUNCTIONS

    fn = next(f for f in FUNCTIONS if f.name == name)
    out = decode(list(fn.outputs), stack.call(REGISTRY, registry_calldata(name, *args)))
    return out[0] if len(out) == 1 else list(out)


def request_of(stack: RollupStack, tx_hash: str) -> str:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        status = stack.client.inference_status(tx_hash)
        if status.requests:
            return keys.request_hex(status.requests[0].request_id)
        time.sleep(0.02)
    raise AssertionError(f"{tx_hash} made no request")


FORGED = encode_model_output(outputs_to_model_output({"y": np.array([[666.0]], np.float32)}))
FORGED_VALUE = chain_value(np.array([[666.0]], np.float32))[0]


def forged_call(
    stack: RollupStack, contracts: dict[str, str], mlp: str, features: list[int],
    cheater: LocalAccount, user: LocalAccount,
) -> tuple[dict[str, Any], InferenceJob]:  # fmt: skip
    """An OPTIMISTIC call answered first by ``cheater`` with a forged output."""
    tx_hash = stack.send(user, contracts["optimistic"], predict(mlp, features))
    rid = request_of(stack, tx_hash)
    r = stack.hub.redis_client()
    job = sent_job(r, rid)
    receipt = make_receipt(
        chain_id=CHAIN_ID, model_cid=job.model_cid, model_hash=cid_digest(job.model_cid),
        mode=job.mode, input_abi=job.input_abi, output_abi=FORGED, expiry=job.expiry,
        private_key=cheater.key.hex(),
    )  # fmt: skip
    message = json.dumps(JobResult(job.request_id, receipt, None, "cheater").to_message()).encode()
    r.hset(keys.results_key(CHAIN_ID, rid), cheater.address.lower(), message)
    r.publish(keys.done_channel(CHAIN_ID), message)
    mined = stack.wait_receipt(tx_hash, timeout=40)
    assert mined["status"] == "0x1", mined
    (call,) = mined["inferences"]
    assert call["sprinter"].lower() == cheater.address.lower()
    assert last_value(stack, contracts["optimistic"]) == FORGED_VALUE  # usable at once
    return mined, job


def last_value(stack: RollupStack, consumer: str) -> int:
    return decode(["int256"], stack.call(consumer, selector("ModelConsumer", "lastValue")))[0]


FORGED_FEATURES, HONEST_FEATURES, LEAVER_FEATURES, LATE_FEATURES = (
    [120, -40, 300, 75], [10, 20, 30, 40], [-5, 15, 25, 35], [7, 7, 7, 7],
)  # fmt: skip


@pytest.fixture(scope="module")
def counters(stack: RollupStack, contracts: dict[str, str], mlp: str) -> dict[str, bytes]:
    """TEE receipts of the inputs the tests use, produced by the chain's own sprinters for
    TEE-mode calls (sent together) and read back with ``neuro_getInferenceProof``."""
    inputs = (FORGED_FEATURES, HONEST_FEATURES, LEAVER_FEATURES, LATE_FEATURES)
    sent = [stack.send(stack.accounts[i], contracts["tee"], predict(mlp, f))
            for i, f in enumerate(inputs)]  # fmt: skip
    out: dict[str, bytes] = {}
    for features, tx_hash in zip(inputs, sent, strict=True):
        mined = stack.wait_receipt(tx_hash, timeout=60)
        assert mined["status"] == "0x1", mined
        receipt = receipt_from_json(stack.rpc("neuro_getInferenceProof", tx_hash)["receipt"])
        assert receipt.mode == 2 and receipt.sprinter.hex() in {
            a.lower()[2:] for a in stack.sprinters.values()
        }
        out[str(features)] = encode_receipt(receipt)
    return out


def optimistic_status(stack: RollupStack, tx_hash: str) -> dict[str, Any]:
    (request,) = stack.rpc("neuro_getInferenceStatus", tx_hash)["requests"]
    assert request["mode"] == "OPTIMISTIC"
    return dict(request["optimistic"])


def recorded(stack: RollupStack, rid: bytes) -> tuple[bytes, str, bytes]:
    """(outputHash, modelCID, input) of the request's ``OptimisticResultRecorded`` log."""
    (log,) = stack.rpc("eth_getLogs", {
        "address": REGISTRY, "fromBlock": "0x0",
        "topics": ["0x" + RESULT_RECORDED.hex(), "0x" + rid.hex()],
    })  # fmt: skip
    output_hash, cid, model_input = decode(
        ["bytes32", "string", "bytes"], bytes.fromhex(log["data"][2:])
    )
    return output_hash, cid, model_input


def mine_past(stack: RollupStack, block: int) -> None:
    """Ordinary transfers until the head is past ``block`` (blocks come with transactions)."""
    while int(stack.rpc("eth_blockNumber"), 16) <= block:
        stack.transact(stack.accounts[8], Account.create().address, value=1, gas=21_000)


def test_forged_result_is_slashed_by_a_tee_counter_proof(
    stack: RollupStack, contracts: dict[str, str], mlp: str, counters: dict[str, bytes]
) -> None:
    features = FORGED_FEATURES
    counter = counters[str(features)]
    mined, job = forged_call(stack, contracts, mlp, features, CHEAT, stack.accounts[1])
    rid = job.request_id
    key = decode(["bytes32"], stack.call(contracts["optimistic"],
                                         selector("ModelConsumer", "lastRequestKey")))[0]  # fmt: skip
    assert key == rid  # the contract knows the id it can ask isFinal about
    status = optimistic_status(stack, mined["transactionHash"])
    assert status["state"] == "pending" and status["sprinter"] == CHEAT.address.lower()
    assert int(status["challengeDeadline"], 16) == int(mined["blockNumber"], 16) + WINDOW
    assert view(stack, "isFinal", rid) is False
    # the light client proves the bonded signer's admission from registry storage
    verified = stack.client.verify_inference(mined["transactionHash"])
    assert "bonds" in verified.inferences[0].admission

    # a watcher finds the result, its model and its input in the registry's logs
    claimed_hash, cid, watched_input = recorded(stack, rid)
    assert (claimed_hash, cid, watched_input) == (keccak(FORGED), mlp, job.input_abi)

    bond = view(stack, "bondOf", CHEAT.address)[0]
    challenger = stack.accounts[5]
    before = stack.balance(challenger.address)
    burned = view(stack, "totalSlashBurned")
    receipt = stack.transact(challenger, REGISTRY,
                             registry_calldata("challenge", rid, watched_input, counter),
                             gas=600_000)  # fmt: skip
    assert receipt["status"] == "0x1", receipt
    (log,) = [entry for entry in receipt["logs"] if entry["address"].lower() == REGISTRY]
    assert bytes.fromhex(log["topics"][0][2:]) == RESULT_CHALLENGED
    assert log["topics"][1] == "0x" + rid.hex()
    claimed, proven, slashed, reward = decode(
        ["bytes32", "bytes32", "uint256", "uint256"], bytes.fromhex(log["data"][2:])
    )
    assert (claimed, slashed, reward) == (keccak(FORGED), bond, bond // 2)
    honest_value = chain_value(mlp_output(features))[0]
    fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert stack.balance(challenger.address) == before + reward - fee
    assert view(stack, "bondOf", CHEAT.address) == [0, 0, 0]
    assert view(stack, "totalSlashBurned") == burned + bond - reward
    assert optimistic_status(stack, mined["transactionHash"])["state"] == "challenged"
    (sdk_view,) = stack.client.inference_status(mined["transactionHash"]).requests
    assert sdk_view.optimistic == "challenged"
    assert sdk_view.challenge_deadline == int(mined["blockNumber"], 16) + WINDOW
    assert view(stack, "optimisticResultOf", rid)[1] == proven
    assert honest_value != FORGED_VALUE
    # the same counter-proof again, or a replay after the slash: refused with the reason
    with pytest.raises(ContractReverted, match="already challenged"):
        stack.call(REGISTRY, registry_calldata("challenge", rid, job.input_abi, counter))


def test_honest_result_is_not_slashable_and_reads_final_after_the_window(
    stack: RollupStack, contracts: dict[str, str], mlp: str, counters: dict[str, bytes]
) -> None:
    features = HONEST_FEATURES
    mined = stack.transact(stack.accounts[2], contracts["optimistic"], predict(mlp, features))
    assert mined["status"] == "0x1", mined
    (call,) = mined["inferences"]
    assert call["sprinter"] in stack.sprinters.values()
    assert last_value(stack, contracts["optimistic"]) == chain_value(mlp_output(features))[0]
    rid = bytes.fromhex(call["requestId"][2:])
    counter = counters[str(features)]
    output_hash, _, watched_input = recorded(stack, rid)
    proof = stack.rpc("neuro_getInferenceProof", mined["transactionHash"])
    assert output_hash == keccak(bytes.fromhex(proof["receipt"]["output"][2:]))
    data = registry_calldata("challenge", rid, watched_input, counter)
    with pytest.raises(ContractReverted, match="same output; the result stands"):
        stack.call(REGISTRY, data)
    block = int(mined["blockNumber"], 16)
    mine_past(stack, block + WINDOW)
    assert view(stack, "isFinal", rid) is True
    assert optimistic_status(stack, mined["transactionHash"])["state"] == "final"
    with pytest.raises(ContractReverted, match="closed at block"):
        stack.call(REGISTRY, data)


def test_unstake_then_cheat_is_slashed_and_a_late_challenge_is_refused(
    stack: RollupStack, contracts: dict[str, str], mlp: str, counters: dict[str, bytes]
) -> None:
    features = LEAVER_FEATURES
    counter = counters[str(features)]
    _, job = forged_call(stack, contracts, mlp, features, LEAVER, stack.accounts[3])
    unstake = stack.transact(LEAVER, REGISTRY, registry_calldata("unstake", 2 * ETHER),
                             gas=200_000)  # fmt: skip
    assert unstake["status"] == "0x1"
    bonded, unbonding, release = view(stack, "bondOf", LEAVER.address)
    assert (bonded, unbonding) == (0, 2 * ETHER)
    with pytest.raises(ContractReverted, match=f"unbonding until block {release}"):
        stack.client.call(REGISTRY, registry_calldata("withdraw"), sender=LEAVER.address)
    receipt = stack.transact(stack.accounts[6], REGISTRY,
                             registry_calldata("challenge", job.request_id, job.input_abi, counter),
                             gas=600_000)  # fmt: skip
    assert receipt["status"] == "0x1", receipt
    assert view(stack, "bondOf", LEAVER.address) == [0, 0, 0]

    features = LATE_FEATURES
    late_counter = counters[str(features)]
    mined, job = forged_call(stack, contracts, mlp, features, LATE, stack.accounts[4])
    mine_past(stack, int(mined["blockNumber"], 16) + WINDOW)
    bond = view(stack, "bondOf", LATE.address)
    receipt = stack.transact(stack.accounts[6], REGISTRY,
                             registry_calldata("challenge", job.request_id, job.input_abi,
                                               late_counter), gas=600_000)  # fmt: skip
    assert receipt["status"] == "0x0"  # reverted: the window closed; the gas is paid
    assert view(stack, "bondOf", LATE.address) == bond
    assert view(stack, "isFinal", job.request_id) is True
