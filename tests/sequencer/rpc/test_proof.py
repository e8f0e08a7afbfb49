"""``eth_getProof`` (EIP-1186) through a real server: every answer, for present and absent
accounts and slots at old and new blocks, verifies against the block's state root with the
protocol's own Merkle-Patricia verifier (not the node's py-trie); web3.py ``get_proof``,
viem ``getProof`` and Foundry ``cast proof`` read it; hostile parameters get geth's errors."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account as EthAccount
from eth_utils import to_checksum_address

from neurostack.protocol.mpt import EMPTY_TRIE_ROOT
from neurostack.protocol.registry import OWNER_SLOT, REGISTRY_ADDRESS
from neurostack.protocol.state_proofs import (
    EMPTY_ACCOUNT,
    EMPTY_CODE_HASH,
    Account,
    account_exists,
    verify_account_proof,
    verify_storage_proof,
)

from .conftest import Rpc, deploy_counter, sign

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
CAST = REPO / "node_modules" / ".bin" / "cast"
VIEM_SCRIPT = REPO / "tests" / "js" / "viem_proof.mjs"
COUNT_SLOT, OWNER = 0, 1  # Counter's storage layout
ABSENT_SLOT = 0xDEAD


@dataclass
class History:
    """A chain with a few blocks whose state is known at each of them."""

    rpc: Rpc
    counter: str
    fresh: str  # funded only in the last block
    deployed: int  # Counter(5)
    incremented: int  # count = 6
    funded: int  # `fresh` gets 1234 wei


@pytest.fixture(scope="module")
def history(rpc_factory: Any, counter_artifact: dict[str, Any]) -> History:
    rpc: Rpc = rpc_factory()
    rpc.mine()
    counter = deploy_counter(rpc, counter_artifact, start=5)
    deployed = rpc.w3.eth.block_number
    tx = counter.functions.increment("proof").build_transaction(
        {"from": rpc.accounts[0].address, "gas": 200_000}
    )
    raw = sign(rpc, rpc.accounts[0], to=counter.address, value=0, gas=200_000, data=tx["data"])
    rpc.w3.eth.send_raw_transaction(raw)
    incremented = rpc.mine()
    fresh = EthAccount.create().address
    rpc.w3.eth.send_raw_transaction(sign(rpc, rpc.accounts[1], to=fresh, value=1234))
    funded = rpc.mine()
    assert counter.functions.count().call(block_identifier=incremented) == 6
    return History(rpc, counter.address, fresh, deployed, incremented, funded)


def nodes(proof: list[str]) -> list[bytes]:
    return [bytes.fromhex(n[2:]) for n in proof]


def state_root(rpc: Rpc, block: int) -> bytes:
    header = rpc.request("eth_getBlockByNumber", [hex(block), False])["result"]
    return bytes.fromhex(header["stateRoot"][2:])


def check_answer(answer: dict[str, Any], root: bytes, address: str) -> tuple[Account, dict]:
    """Verify an eth_getProof answer against ``root``; the account and slot -> value proven."""
    account = verify_account_proof(root, bytes.fromhex(address[2:]), nodes(answer["accountProof"]))
    assert answer["address"].lower() == address.lower()
    assert int(answer["balance"], 16) == account.balance
    assert int(answer["nonce"], 16) == account.nonce
    assert answer["codeHash"] == "0x" + account.code_hash.hex()
    assert answer["storageHash"] == "0x" + account.storage_root.hex()
    values = {}
    for entry in answer["storageProof"]:
        slot = int(entry["key"], 16)
        values[slot] = verify_storage_proof(account.storage_root, slot, nodes(entry["proof"]))
        assert int(entry["value"], 16) == values[slot]
    return account, values


def get_proof(rpc: Rpc, address: str, slots: list[int], block: int | str) -> dict[str, Any]:
    tag = hex(block) if isinstance(block, int) else block
    reply = rpc.request("eth_getProof", [address, [hex(s) for s in slots], tag])
    assert "error" not in reply, reply
    return reply["result"]  # type: ignore[no-any-return]


def test_proofs_verify_against_the_state_root_at_every_block(history: History) -> None:
    rpc = history.rpc
    slots = [COUNT_SLOT, OWNER, ABSENT_SLOT]
    for block in range(history.funded + 1):
        root = state_root(rpc, block)
        answer = get_proof(rpc, history.counter, slots, block)
        account, values = check_answer(answer, root, history.counter)
        if block < history.deployed:  # not deployed yet: an exclusion proof
            address = bytes.fromhex(history.counter[2:])
            assert not account_exists(root, address, nodes(answer["accountProof"]))
            assert account == EMPTY_ACCOUNT
            assert values == dict.fromkeys(slots, 0)
        else:
            assert values[COUNT_SLOT] == (5 if block < history.incremented else 6)
            assert values[OWNER] == int(rpc.accounts[0].address, 16)
            assert values[ABSENT_SLOT] == 0  # an empty slot of a non-empty storage trie
            assert account.code_hash != EMPTY_CODE_HASH
        # the same values the node's ordinary reads give at that block
        for slot, value in values.items():
            read = rpc.w3.eth.get_storage_at(history.counter, slot, block_identifier=block)
            assert int.from_bytes(read, "big") == value

        fresh, _ = check_answer(get_proof(rpc, history.fresh, [], block), root, history.fresh)
        assert fresh.balance == (1234 if block >= history.funded else 0)
        sender, _ = check_answer(get_proof(rpc, rpc.accounts[0].address, [], block), root,
                                 rpc.accounts[0].address)  # fmt: skip
        assert sender.balance == rpc.w3.eth.get_balance(rpc.accounts[0].address, block)
        assert sender.storage_root == EMPTY_TRIE_ROOT


def test_registry_storage_is_provable(history: History) -> None:
    rpc = history.rpc
    registry = to_checksum_address(REGISTRY_ADDRESS)
    answer = get_proof(rpc, registry, [OWNER_SLOT], "latest")
    account, values = check_answer(answer, state_root(rpc, rpc.w3.eth.block_number), registry)
    assert account.nonce == 1 and account.code_hash != EMPTY_CODE_HASH
    owner = rpc.w3.eth.get_storage_at(registry, OWNER_SLOT)
    assert values[OWNER_SLOT] == int.from_bytes(owner, "big")


def test_block_by_hash_tag_and_eip1898_give_the_same_answer(history: History) -> None:
    rpc = history.rpc
    block = rpc.request("eth_getBlockByNumber", [hex(history.deployed), False])["result"]
    by_number = get_proof(rpc, history.counter, [0], history.deployed)
    assert get_proof(rpc, history.counter, [0], block["hash"]) == by_number
    reply = rpc.request("eth_getProof", [history.counter, ["0x0"], {"blockHash": block["hash"]}])
    assert reply["result"] == by_number
    head = rpc.w3.eth.block_number
    latest = get_proof(rpc, history.counter, [0], "latest")
    assert get_proof(rpc, history.counter, [0], head) == latest
    assert get_proof(rpc, history.counter, [0], "pending") == latest  # proofs need a header
    # the block parameter may be left out (latest), as for eth_getBalance here
    assert rpc.request("eth_getProof", [history.counter, ["0x0"]])["result"] == latest


def test_storage_keys_are_echoed_as_geth_does(history: History) -> None:
    rpc = history.rpc
    full = "0x" + "00" * 31 + "01"
    reply = rpc.request("eth_getProof", [history.counter, ["0x1", full, "1", "0x", "0x0001"]])
    keys = [entry["key"] for entry in reply["result"]["storageProof"]]
    assert keys == ["0x1", full, "0x1", "0x0", "0x1"]  # 32-byte keys as given, others as QUANTITY
    values = {entry["value"] for entry in reply["result"]["storageProof"][:3]}
    assert values == {hex(int(rpc.accounts[0].address, 16))}


def test_web3py_get_proof(history: History) -> None:
    rpc = history.rpc
    proof = rpc.w3.eth.get_proof(history.counter, [COUNT_SLOT, ABSENT_SLOT], history.incremented)
    root = state_root(rpc, history.incremented)
    account = verify_account_proof(root, bytes.fromhex(history.counter[2:]),
                                   [bytes(n) for n in proof["accountProof"]])  # fmt: skip
    assert proof["balance"] == account.balance and proof["nonce"] == account.nonce
    assert bytes(proof["storageHash"]) == account.storage_root
    count, absent = proof["storageProof"]
    proven = [verify_storage_proof(account.storage_root, slot, [bytes(n) for n in entry["proof"]])
              for slot, entry in ((COUNT_SLOT, count), (ABSENT_SLOT, absent))]  # fmt: skip
    assert proven == [6, 0]
    assert [int.from_bytes(bytes(e["value"]), "big") for e in (count, absent)] == proven


def test_viem_get_proof(history: History) -> None:
    node_bin = shutil.which("node")
    assert node_bin, "node is required (the Solidity toolchain needs it too)"
    assert (REPO / "node_modules" / "viem").is_dir(), "run `make install` (npm ci) first"
    rpc = history.rpc
    proc = subprocess.run(
        [node_bin, str(VIEM_SCRIPT), rpc.url, history.counter, str(history.deployed),
         "0x" + "00" * 32, hex(ABSENT_SLOT)],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    proof = out["proof"]
    root = bytes.fromhex(out["stateRoot"][2:])
    assert root == state_root(rpc, history.deployed)
    account = verify_account_proof(root, bytes.fromhex(history.counter[2:]),
                                   nodes(proof["accountProof"]))  # fmt: skip
    assert int(proof["balance"]) == account.balance and proof["nonce"] == account.nonce
    assert proof["storageHash"] == "0x" + account.storage_root.hex()
    count, absent = proof["storageProof"]
    proven = [verify_storage_proof(account.storage_root, slot, nodes(entry["proof"]))
              for slot, entry in ((COUNT_SLOT, count), (ABSENT_SLOT, absent))]  # fmt: skip
    assert proven == [5, 0]
    assert [int(e["value"]) for e in (count, absent)] == proven


@pytest.mark.skipif(
    not (sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")),
    reason="cast is installed from its Linux x86-64 npm package only",
)
def test_cast_proof(history: History) -> None:
    assert CAST.exists(), "run `make install` (npm ci) first"
    rpc = history.rpc
    proc = subprocess.run(
        [str(CAST), "proof", "--rpc-url", rpc.url, "--block", str(history.incremented),
         history.counter, "0", hex(ABSENT_SLOT)],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    answer = json.loads(proc.stdout)
    _, values = check_answer(answer, state_root(rpc, history.incremented), history.counter)
    assert values == {COUNT_SLOT: 6, ABSENT_SLOT: 0}
    absent = subprocess.run(
        [str(CAST), "proof", "--rpc-url", rpc.url, history.fresh, "0"],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )  # fmt: skip
    assert absent.returncode == 0, absent.stderr[-2000:]
    head = rpc.w3.eth.block_number
    fresh, _ = check_answer(json.loads(absent.stdout), state_root(rpc, head), history.fresh)
    assert fresh.balance == 1234


# --- hostile parameters through the public RPC -----------------------------------------------


def raw_call(rpc: Rpc, params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getProof", "params": params}
    reply = httpx.post(rpc.url, json=body, timeout=30)
    assert reply.status_code == 200
    return reply.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (["0x1234", [], "latest"], -32602,
         "invalid argument 0: hex string has length 4, want 40 for common.Address"),
        (["0x" + "zz" * 20, [], "latest"], -32602, "invalid argument 0: invalid hex string"),
        ([12, [], "latest"], -32602, "invalid argument 0: json: cannot unmarshal non-string"),
        ([], -32602, "missing value for required argument 0"),
        (["0x" + "11" * 20, "0x0", "latest"], -32602,
         "invalid argument 1: json: cannot unmarshal non-array into Go value of type []string"),
        (["0x" + "11" * 20, [1], "latest"], -32602, "invalid argument 1: json: cannot unmarshal"),
        (["0x" + "11" * 20, ["0xgg"], "latest"], -32602, 'invalid hex in storage key: "0xgg"'),
        (["0x" + "11" * 20, ["0x" + "00" * 33], "latest"], -32602,
         "storage key too long (want at most 32 bytes)"),
        (["0x" + "11" * 20, ["0x0"] * 1025, "latest"], -32602,
         "too many storage keys requested (max 1024, got 1025)"),
        (["0x" + "11" * 20, [], "0xffffff"], -32000, "header not found"),
        (["0x" + "11" * 20, [], "0x" + "ab" * 32], -32000, "header for hash not found"),
        (["0x" + "11" * 20, [], "soon"], -32602, "invalid argument 2: invalid block tag 'soon'"),
        (["0x" + "11" * 20, [], {"blockHash": "0x12"}], -32602, "invalid argument 2"),
        (["0x" + "11" * 20, [], "latest", "extra"], -32602, "too many arguments, want at most 3"),
        ("not-a-list", -32602, "non-array args"),
    ],
)  # fmt: skip
def test_invalid_params_get_geths_errors(
    history: History, params: Any, code: int, message: str
) -> None:
    reply = raw_call(history.rpc, params)
    assert reply["error"]["code"] == code, reply
    assert message in reply["error"]["message"], reply


def test_invalid_huge_key_is_not_echoed_whole(history: History) -> None:
    reply = raw_call(history.rpc, ["0x" + "11" * 20, ["0x" + "f" * 100_000], "latest"])
    assert reply["error"]["code"] == -32602
    assert len(reply["error"]["message"]) < 200
    # and the node keeps serving
    assert raw_call(history.rpc, ["0x" + "11" * 20, [], "latest"])["result"]["balance"] == "0x0"
