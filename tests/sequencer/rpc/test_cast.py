"""Foundry's ``cast`` against a node with a real block producer: reads, a signed transfer,
a contract deploy and call, logs and a revert reason, as a dApp developer would type them.

cast comes from the npm registry as its Linux x86-64 binary package
(``@foundry-rs/cast-linux-amd64``, an optional dependency pinned in package.json: the
registry here serves no other platform's build), so elsewhere these tests say so and skip.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHAIN_ID, Rpc

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")),
        reason="cast is installed from its Linux x86-64 npm package only",
    ),
]

REPO = Path(__file__).resolve().parents[3]
CAST = REPO / "node_modules" / ".bin" / "cast"


@pytest.fixture(scope="module")
def live(rpc_factory: Any) -> Rpc:
    assert CAST.exists(), "run `make install` (npm ci) first"
    return rpc_factory(block_time=0.2)


def run_cast(live: Rpc, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # options before the positional arguments: `send --create CODE SIG ARGS...` takes
        # everything after the signature as constructor arguments
        [str(CAST), args[0], "--rpc-url", live.url, *args[1:]],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )  # fmt: skip


def cast(live: Rpc, *args: str) -> str:
    proc = run_cast(live, *args)
    if proc.returncode != 0:
        raise AssertionError(f"cast {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout.strip()


def test_cast_reads_chain_and_accounts(live: Rpc) -> None:
    assert cast(live, "chain-id") == str(CHAIN_ID)
    account = live.accounts[0].address
    assert int(cast(live, "balance", account)) == live.node.config.dev.balance
    assert int(cast(live, "nonce", account)) == live.node.pending_nonce(bytes.fromhex(account[2:]))
    block = json.loads(cast(live, "block", "latest", "--json"))
    number = int(block["number"], 16)
    assert block["hash"] == "0x" + live.node.block_by_number(number).hash.hex()


def test_cast_send_transfer_is_mined(live: Rpc) -> None:
    sender, recipient = live.accounts[1], live.accounts[2]
    before = live.w3.eth.get_balance(recipient.address)
    receipt = json.loads(
        cast(
            live, "send", recipient.address, "--value", "1.5ether",
            "--private-key", "0x" + bytes(sender.key).hex(), "--json",
        )
    )  # fmt: skip
    assert int(receipt["status"], 16) == 1 and int(receipt["gasUsed"], 16) == 21000
    assert live.w3.eth.get_balance(recipient.address) == before + 15 * 10**17
    tx = json.loads(cast(live, "tx", receipt["transactionHash"], "--json"))
    assert tx["from"].lower() == sender.address.lower()


def test_cast_deploys_calls_and_reads_logs(live: Rpc, counter_artifact: dict[str, Any]) -> None:
    key = "0x" + bytes(live.accounts[3].key).hex()
    bytecode = counter_artifact["bytecode"]
    bytecode = bytecode if bytecode.startswith("0x") else "0x" + bytecode
    deployed = json.loads(
        cast(live, "send", "--private-key", key, "--json", "--create", bytecode,
             "constructor(uint256)", "41")
    )  # fmt: skip
    address = deployed["contractAddress"]
    assert int(deployed["status"], 16) == 1 and address
    assert cast(live, "call", address, "count()(uint256)") == "41"

    sent = json.loads(
        cast(live, "send", address, "increment(string)", "from cast",
             "--private-key", key, "--json")
    )  # fmt: skip
    assert int(sent["status"], 16) == 1
    assert cast(live, "call", address, "count()(uint256)") == "42"
    logs = json.loads(
        cast(live, "logs", "--address", address, "--from-block", "0", "--json",
             "Incremented(address indexed,uint256 indexed,string)")
    )  # fmt: skip
    assert len(logs) == 1 and int(logs[0]["topics"][2], 16) == 42

    # the revert reason reaches the terminal (cast 1.7.1 reports it on stderr)
    reverted = run_cast(live, "call", address, "fail()")
    assert "execution reverted: always fails" in reverted.stdout + reverted.stderr


def test_cast_access_list_and_a_transaction_that_uses_it(
    live: Rpc, counter_artifact: dict[str, Any]
) -> None:
    key = "0x" + bytes(live.accounts[2].key).hex()
    sender = live.accounts[2].address
    bytecode = counter_artifact["bytecode"]
    bytecode = bytecode if bytecode.startswith("0x") else "0x" + bytecode
    address = json.loads(
        cast(live, "send", "--private-key", key, "--json", "--create", bytecode,
             "constructor(uint256)", "1")
    )["contractAddress"]  # fmt: skip
    found = json.loads(
        cast(live, "access-list", address, "add(uint256)", "2", "--from", sender, "--json")
    )
    slot0 = "0x" + "00" * 32
    assert [(e["address"].lower(), e["storageKeys"]) for e in found["accessList"]] == [
        (address.lower(), [slot0])
    ]
    sent = json.loads(
        cast(live, "send", address, "add(uint256)", "2", "--private-key", key, "--json",
             "--access-list", json.dumps(found["accessList"]))
    )  # fmt: skip
    assert int(sent["status"], 16) == 1
    assert int(sent["gasUsed"], 16) == int(found["gasUsed"], 16)
    assert cast(live, "call", address, "count()(uint256)") == "3"
