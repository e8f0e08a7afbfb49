"""The vendored execution-apis document is the pinned upstream build, and its schemas bite.

No package registry ships the built document (spec/README.md says why and where it comes
from), so the pin is its SHA-256, recorded in spec/README.md next to the release and commit.
"""

from __future__ import annotations

import hashlib
import re

from .spec_schemas import SPEC_DIR, SPEC_FILE, document, methods, schema_errors

VERSION = "1.0.0-beta.7"


def _pinned_sha256() -> str:
    note = (SPEC_DIR / "README.md").read_text()
    match = re.search(r"\| sha256 \| `([0-9a-f]{64})` \|", note)
    assert match, "spec/README.md must record the document's sha256"
    return match.group(1)


def test_vendored_document_is_the_pinned_release() -> None:
    assert hashlib.sha256(SPEC_FILE.read_bytes()).hexdigest() == _pinned_sha256()
    info = document()["info"]
    assert info["version"] == VERSION and info["license"]["name"] == "CC0-1.0"
    assert (SPEC_DIR / "LICENSE").read_text().startswith("CC0 1.0 Universal")
    assert {"eth_simulateV1", "eth_createAccessList", "eth_config"} <= set(methods())


def test_invalid_results_are_caught_by_the_schemas() -> None:
    """The validator resolves the document's references and rejects what geth would not send."""
    assert schema_errors("eth_blockNumber", "0x1a") == []
    assert schema_errors("eth_blockNumber", "0x01a")  # a quantity with a leading zero
    assert schema_errors("eth_newFilter", "0x0abc")  # a filter id that is not a quantity
    receipt = {
        "blockHash": "0x" + "11" * 32,
        "blockNumber": "0x1",
        "from": "0x" + "22" * 20,
        "to": None,
        "cumulativeGasUsed": "0x5208",
        "gasUsed": "0x5208",
        "logs": [],
        "logsBloom": "0x" + "00" * 256,
        "transactionHash": "0x" + "33" * 32,
        "transactionIndex": "0x0",
        "effectiveGasPrice": "0x1",
        "status": "0x1",
        "type": "0x2",
        "contractAddress": None,
    }
    assert schema_errors("eth_getTransactionReceipt", receipt) == []
    assert schema_errors("eth_getTransactionReceipt", {**receipt, "logsBloom": "0x00"})
    # ReceiptInfo allows no extra members: why receipts with inferences deviate (docs/rpc.md)
    assert schema_errors("eth_getTransactionReceipt", {**receipt, "inferences": []})
    config = {"current": {"activationTime": 0}, "next": None, "last": None}
    assert schema_errors("eth_config", config)  # missing chainId, forkId, precompiles, ...
