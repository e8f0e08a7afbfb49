"""ethers v6 (from node_modules) drives a node with a real block producer: tests/js/ethers_basics.mjs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from .conftest import CHAIN_ID, Rpc

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "tests" / "js" / "ethers_basics.mjs"


def test_ethers_v6_basics(rpc_factory: Any, counter_artifact: dict[str, Any]) -> None:
    node_bin = shutil.which("node")
    assert node_bin, "node is required (the Solidity toolchain needs it too)"
    assert (REPO / "node_modules" / "ethers").is_dir(), "run `make install` (npm ci) first"
    live: Rpc = rpc_factory(block_time=0.2)
    key = live.node.config.dev_accounts()[0].private_key
    proc = subprocess.run(
        [node_bin, str(SCRIPT), live.url, live.ws_url, counter_artifact["path"], key],
        check=False,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["chainId"] == str(CHAIN_ID)
    assert int(out["balance"]) == live.node.config.dev.balance
    assert [t["status"] for t in out["transfers"]] == [1, 1]
    assert [t["type"] for t in out["transfers"]] == [2, 0]
    assert all(t["gasUsed"] == "21000" for t in out["transfers"])
    assert out["recipientBalance"] == str(125 * 10**16 + 7)
    assert out["countAfterDeploy"] == "5" and out["count"] == "6"
    assert out["receiptLogs"] == 1 and out["logs"] == 1
    assert out["events"] == [
        {"by": live.accounts[0].address, "newCount": "6", "note": "from ethers"}
    ]
    assert out["revert"] == {"code": "CALL_EXCEPTION", "reason": "always fails"}
    assert out["customError"]["code"] == "CALL_EXCEPTION"
    assert out["customError"]["name"] == "NotOwner"
    fee = out["feeData"]
    assert (
        int(fee["maxFeePerGas"]) > int(fee["maxPriorityFeePerGas"]) > 0 and int(fee["gasPrice"]) > 0
    )
    assert out["block"]["number"] >= 4 and int(out["block"]["baseFeePerGas"]) > 0
    assert out["wsBlock"] is not None and out["wsBlock"] > out["block"]["number"]
    # what ethers saw is what the chain holds
    assert live.w3.eth.get_block(out["block"]["number"])["hash"].hex() == out["block"]["hash"][2:]


SPEC_SCRIPT = REPO / "tests" / "js" / "ethers_spec.mjs"


def test_ethers_v6_uses_the_added_execution_apis_methods(
    rpc_factory: Any, counter_artifact: dict[str, Any]
) -> None:
    node_bin = shutil.which("node")
    assert node_bin, "node is required (the Solidity toolchain needs it too)"
    live: Rpc = rpc_factory(block_time=0.2)
    key = live.node.config.dev_accounts()[0].private_key
    proc = subprocess.run(
        [node_bin, str(SPEC_SCRIPT), live.url, counter_artifact["path"], key],
        check=False, capture_output=True, text=True, timeout=90, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    counter = Web3.to_checksum_address(out["accessList"][0]["address"])  # ethers checksums
    assert [e["storageKeys"] for e in out["accessList"]] == [["0x" + "00" * 32]]
    # the list ethers signed is the one the node made, and its gas is what the block charged
    assert out["sentAccessList"] == [[counter, ["0x" + "00" * 32]]]
    assert out["fetchedType"] == 2 and out["fetchedAccessList"] == out["sentAccessList"]
    assert out["usedGas"] == out["estimatedGas"]
    assert out["event"] == "with a list"  # delivered through eth_newFilter/eth_getFilterChanges
    assert out["simulatedCount"] == out["simulatedEvent"] == str(int(out["countAfter"]) + 10)
    assert out["configChainId"] == str(CHAIN_ID)
    assert "unknown account" in out["keyless"]
