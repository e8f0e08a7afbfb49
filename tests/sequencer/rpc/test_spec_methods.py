"""The methods added for the execution-apis surface, as a dApp developer meets them: web3.py's
``create_access_list`` and ``simulate_v1``, the keyless and unsupported-fork answers, and
hostile parameters through the public RPC (geth's codes: -32602, -32000, 3, -380xx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import decode
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3

from .conftest import Rpc, deploy_counter, sign

pytestmark = pytest.mark.slow

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ERC7528 = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
# runtime code: SSTORE(0, BLOCKHASH(NUMBER - 1)); RETURN the hash -- a probe of the block context
BLOCKHASH_PROBE = "0x600143034060005560005460005260206000f3"


@pytest.fixture(scope="module")
def live(rpc_factory: Callable[..., Rpc]) -> Rpc:
    return rpc_factory()


@pytest.fixture(scope="module")
def counter(live: Rpc, counter_artifact: dict[str, Any]) -> Any:
    return deploy_counter(live, counter_artifact, 7)


# --- eth_createAccessList ---------------------------------------------------------------


def test_create_access_list_lists_the_slots_a_call_touches_and_the_gas_with_them(
    live: Rpc, counter: Any
) -> None:
    sender = live.accounts[0]
    data = counter.encode_abi("add", [1])
    found = live.w3.eth.create_access_list(
        {"from": sender.address, "to": counter.address, "data": data}, "latest"
    )
    # the contract is the recipient (excluded as an account) but its count slot is listed
    assert [
        (e["address"], [HexBytes(k).to_0x_hex() for k in e["storageKeys"]])
        for e in found["accessList"]
    ] == [(counter.address, ["0x" + "00" * 32])]
    # the gas it reports is what a transaction carrying that list uses
    raw = sign(
        live, sender, 1, to=counter.address, value=0, data=data, gas=200_000,
        accessList=[{"address": counter.address, "storageKeys": ["0x" + "00" * 32]}],
    )  # fmt: skip
    tx_hash = live.w3.eth.send_raw_transaction(raw)
    live.mine()
    assert live.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"] == found["gasUsed"]


def test_create_access_list_of_a_reverting_call_reports_the_error(live: Rpc, counter: Any) -> None:
    data = counter.encode_abi("fail")
    reply = live.request(
        "eth_createAccessList", [{"from": live.accounts[0].address, "to": counter.address, "input": data}]
    )["result"]  # fmt: skip
    assert reply["error"] == "execution reverted: always fails"
    assert int(reply["gasUsed"], 16) > 21_000 and reply["accessList"] == []


def test_create_access_list_follows_calls_into_other_contracts(live: Rpc) -> None:
    # a contract whose code reads BALANCE of another account and SLOADs slot 7
    other = "0x" + "ab" * 20
    code = "0x73" + other[2:] + "31" + "6007" + "54" + "00"
    init = (
        "0x"
        + (
            "60"
            + f"{len(code) // 2 - 1:02x}"
            + "600c60003960"
            + f"{len(code) // 2 - 1:02x}"
            + "6000f3"
        )
        + code[2:]
    )
    tx_hash = live.w3.eth.send_raw_transaction(
        sign(live, live.accounts[1], 2, to=None, value=0, data=init, gas=200_000)
    )  # fmt: skip
    live.mine()
    deployed = live.w3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    found = live.w3.eth.create_access_list({"to": deployed})
    entries = {e["address"].lower(): e["storageKeys"] for e in found["accessList"]}
    assert entries == {other: [], deployed.lower(): ["0x" + "00" * 31 + "07"]}


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ([], -32602, "missing value for required argument 0"),
        (["0x00"], -32602, "cannot unmarshal non-object"),
        ([{"to": "0x1234"}], -32602, "want 40 for common.Address"),
        ([{"accessList": {"a": 1}}], -32602, "non-array into Go value of type types.AccessList"),
        ([{"accessList": [{"address": "0x" + "11" * 20, "storageKeys": ["0x1"]}]}], -32602, "common.Hash"),
        ([{"to": "0x" + "11" * 20}, "0xfffffffff"], -32000, "header not found"),
        ([{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "value": "0xffffffffffffffffffffffffffffff"}], -32000, "failed to apply transaction"),
        ([{"to": "0x" + "11" * 20}, "latest", {}], -32602, "too many arguments"),
    ],
)  # fmt: skip
def test_invalid_create_access_list_params(
    live: Rpc, params: list[Any], code: int, text: str
) -> None:
    error = live.request("eth_createAccessList", params)["error"]
    assert error["code"] == code and text in error["message"], error


# --- eth_simulateV1 ----------------------------------------------------------------------


def test_simulate_v1_runs_calls_in_blocks_that_chain_and_leaves_the_chain_alone(
    live: Rpc, counter: Any
) -> None:
    w3, sender = live.w3, live.accounts[0]
    head = w3.eth.block_number
    count = counter.functions.count().call()
    probe = "0x" + "99" * 20
    add = {"from": sender.address, "to": counter.address, "data": counter.encode_abi("add", [3])}
    read = {"from": sender.address, "to": counter.address, "data": counter.encode_abi("count")}
    results = w3.eth.simulate_v1(
        {
            "blockStateCalls": [
                {"calls": [add, read]},
                {
                    "blockOverrides": {"number": head + 4, "feeRecipient": "0x" + "66" * 20},
                    "stateOverrides": {probe: {"code": BLOCKHASH_PROBE}},
                    "calls": [read, {"from": sender.address, "to": probe}],
                },
            ],
            "returnFullTransactions": True,
        },
        "latest",
    )
    # the gap (head+2, head+3) is filled with empty blocks, as geth does
    assert [b["number"] for b in results] == [head + 1, head + 2, head + 3, head + 4]
    first, last = results[0], results[-1]
    assert int.from_bytes(first["calls"][1]["returnData"], "big") == count + 3
    assert first["calls"][0]["logs"][0]["address"] == counter.address
    assert int.from_bytes(last["calls"][0]["returnData"], "big") == count + 3  # state carried
    assert last["calls"][1]["returnData"] == results[-2]["hash"]  # BLOCKHASH of a simulated block
    assert last["miner"] == Web3.to_checksum_address("0x" + "66" * 20)
    assert [b["parentHash"] for b in results[1:]] == [b["hash"] for b in results[:-1]]
    assert first["transactions"][0]["from"] == sender.address
    # nothing of it reached the chain
    assert w3.eth.block_number == head and counter.functions.count().call() == count


def test_simulate_v1_reports_reverts_and_failures_per_call(live: Rpc, counter: Any) -> None:
    fail = {"to": counter.address, "input": counter.encode_abi("fail")}
    starved = {"to": counter.address, "input": counter.encode_abi("add", [1]), "gas": "0x5300"}
    reply = live.request("eth_simulateV1", [{"blockStateCalls": [{"calls": [fail, starved]}]}])
    reverted, out_of_gas = reply["result"][0]["calls"]
    assert reverted["status"] == "0x0" and reverted["error"]["code"] == 3
    assert reverted["error"]["message"] == "execution reverted: always fails"
    assert decode(["string"], bytes.fromhex(reverted["returnData"][10:]))[0] == "always fails"
    assert out_of_gas["status"] == "0x0" and out_of_gas["error"] == {
        "code": -32015,
        "message": "vm execution error: out of gas",
    }


def test_simulate_v1_state_overrides_and_trace_transfers(live: Rpc) -> None:
    rich, poor = "0x" + "a1" * 20, "0x" + "b2" * 20
    reply = live.request(
        "eth_simulateV1",
        [
            {
                "blockStateCalls": [
                    {
                        "stateOverrides": {rich: {"balance": "0x1000"}},
                        "calls": [{"from": rich, "to": poor, "value": "0x7ff"}],
                    }
                ],
                "traceTransfers": True,
            }
        ],
    )["result"]
    (log,) = reply[0]["calls"][0]["logs"]
    assert log["address"] == ERC7528 and log["topics"][0] == TRANSFER_TOPIC
    assert log["topics"][1][-40:] == rich[2:] and log["topics"][2][-40:] == poor[2:]
    assert int(log["data"], 16) == 0x7FF
    # the transfer log is the call's, not the block's: receipts (the bloom) leave it out
    assert reply[0]["logsBloom"] == "0x" + "00" * 256


def test_simulate_v1_validation_checks_nonce_and_fees(live: Rpc) -> None:
    sender = live.accounts[0].address
    nonce = live.w3.eth.get_transaction_count(sender)
    cases = [
        ({"from": sender, "to": sender, "nonce": hex(nonce + 5)}, -38011, "nonce too high"),
        ({"from": sender, "to": sender, "nonce": hex(max(nonce - 1, 0))}, -38010, "nonce too low"),
        ({"from": sender, "to": sender, "maxFeePerGas": "0x1"}, -38012, "base fee"),
    ]
    assert nonce > 0  # the counter was deployed from this account
    for call, code, text in cases:
        error = live.request(
            "eth_simulateV1", [{"blockStateCalls": [{"calls": [call]}], "validation": True}]
        )["error"]
        assert error["code"] == code and text in error["message"], (call, error)
    # without validation the same nonce runs (at the sender's current nonce), as eth_call would
    ok = live.request("eth_simulateV1", [{"blockStateCalls": [{"calls": [cases[0][0]]}]}])
    assert ok["result"][0]["calls"][0]["status"] == "0x1"


@pytest.mark.parametrize(
    ("payload", "code", "text"),
    [
        ({}, -32602, "empty input"),
        ({"blockStateCalls": []}, -32602, "empty input"),
        ({"blockStateCalls": "x"}, -32602, "non-array"),
        ({"blockStateCalls": [{"calls": [{"to": "0x12"}]}]}, -32602, "blockStateCalls[0]: call 0"),
        ({"blockStateCalls": [{}] * 257}, -38026, "too many blocks"),
        ({"blockStateCalls": [{"calls": [{}] * 600}, {"calls": [{}] * 600}]}, -38026, "too many calls"),
        ({"blockStateCalls": [{"blockOverrides": {"number": "0x0"}}]}, -38020, "block numbers must be in order"),
        ({"blockStateCalls": [{"blockOverrides": {"number": "0xffffff"}}]}, -38026, "too many blocks"),
        ({"blockStateCalls": [{"blockOverrides": {"time": "0x1"}}]}, -38021, "block timestamps must be in order"),
        ({"blockStateCalls": [{"calls": [{"gas": "0xffffffffff"}]}]}, -38015, "block gas limit reached"),
        ({"blockStateCalls": [{"calls": [{"gas": "0x1"}]}]}, -38013, "intrinsic gas too low"),
        ({"blockStateCalls": [{"blockOverrides": {"blobBaseFee": "0x1"}}]}, -32602, "no blob transactions"),
        ({"blockStateCalls": [{"blockOverrides": {"withdrawals": [{}]}}]}, -32602, "withdrawals"),
        ({"blockStateCalls": [{"stateOverrides": {"0x12": {}}}]}, -32602, "common.Address"),
        ({"blockStateCalls": [{"stateOverrides": {"0x" + "11" * 20: {"state": {"0x1": "0x2"}}}}]}, -32602, "common.Hash"),
        ({"blockStateCalls": [{"stateOverrides": {"0x" + "11" * 20: {"state": {}, "stateDiff": {}}}}]}, -32000, "both 'state' and 'stateDiff'"),
        ({"blockStateCalls": [{"stateOverrides": {"0x" + "11" * 20: {"movePrecompileToAddress": "0x" + "22" * 20}}}]}, -32000, "is not a precompile"),
        ({"blockStateCalls": [{"calls": [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "value": "0x1"}]}]}, -38014, "insufficient funds"),
        ({"blockStateCalls": [{"calls": [{}]}], "validation": "yes"}, -32602, "non-bool"),
    ],
)  # fmt: skip
def test_invalid_simulate_v1_params(
    live: Rpc, payload: dict[str, Any], code: int, text: str
) -> None:
    error = live.request("eth_simulateV1", [payload])["error"]
    assert error["code"] == code and text in error["message"], error


def test_simulate_v1_moves_a_precompile(live: Rpc) -> None:
    moved = "0x" + "12" * 20
    identity = {"to": moved, "input": "0xc0ffee"}  # the identity precompile returns its input
    reply = live.request(
        "eth_simulateV1",
        [
            {
                "blockStateCalls": [
                    {
                        "stateOverrides": {"0x" + "00" * 19 + "04": {"movePrecompileToAddress": moved}},
                        "calls": [identity, {"to": "0x" + "00" * 19 + "04", "input": "0xc0ffee"}],
                    }
                ]
            }
        ],
    )["result"]  # fmt: skip
    at_new, at_old = reply[0]["calls"]
    assert at_new["returnData"] == "0xc0ffee" and at_old["returnData"] == "0x"


# --- the rest of the surface -----------------------------------------------------------


def test_eth_get_storage_values_reads_many_slots_at_once(live: Rpc, counter: Any) -> None:
    count = counter.functions.count().call()
    reply = live.request("eth_getStorageValues", [{counter.address: ["0x0", "0x01"]}, "latest"])
    values = reply["result"][counter.address.lower()]
    assert int(values[0], 16) == count
    assert int(values[1], 16) == int(counter.functions.owner().call(), 16)


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ([{}], -32602, "empty request"),
        ([{"0x" + "11" * 20: ["0x0"] * 1025}], -38026, "too many slots"),
        ([{"0x11": ["0x0"]}], -32602, "common.Address"),
        ([{"0x" + "11" * 20: "0x0"}], -32602, "non-array"),
        ([{"0x" + "11" * 20: ["0x" + "00" * 33]}], -32602, "at most 32 bytes"),
        ([{"0x" + "11" * 20: ["0x0"]}, "0xffffff"], -32000, "header not found"),
    ],
)  # fmt: skip
def test_invalid_get_storage_values_params(
    live: Rpc, params: list[Any], code: int, text: str
) -> None:
    error = live.request("eth_getStorageValues", params)["error"]
    assert error["code"] == code and text in error["message"], error


def test_eth_config_describes_this_chain(live: Rpc) -> None:
    current = live.request("eth_config")["result"]["current"]
    assert int(current["chainId"], 16) == live.w3.eth.chain_id
    assert current["precompiles"]["NEURO_INFERENCE"] == "0x" + "00" * 19 + "f4"
    assert current["precompiles"]["ECREC"] == "0x" + "00" * 19 + "01"
    assert current["precompiles"]["BLS12_MAP_FP2_TO_G2"] == "0x" + "00" * 19 + "11"
    assert current["systemContracts"] == {
        "NEURO_MODEL_REGISTRY": "0x4e53000000000000000000000000000000000001"
    }
    assert current["blobSchedule"] == {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716}


def test_coinbase_is_the_block_producer(live: Rpc) -> None:
    live.mine()
    assert (
        live.request("eth_coinbase")["result"] == live.w3.eth.get_block("latest")["miner"].lower()
    )


def test_filter_ids_are_quantities_accepted_however_reencoded(live: Rpc) -> None:
    for _ in range(20):  # one id in 16 would start with a zero digit if ids were not quantities
        filter_id = live.request("eth_newBlockFilter")["result"]
        assert filter_id.startswith("0x") and filter_id[2] != "0"
    live.mine()
    for spelling in ("0x000" + filter_id[2:], "0X" + filter_id[2:].upper()):
        assert len(live.request("eth_getFilterChanges", [spelling])["result"]) <= 1
    assert live.request("eth_uninstallFilter", ["0x0" + filter_id[2:].upper()])["result"] is True
    error = live.request("eth_getFilterChanges", [filter_id])["error"]
    assert error == {"code": -32000, "message": "filter not found"}


def test_keyless_methods_answer_geth_without_accounts(live: Rpc) -> None:
    assert live.request("eth_accounts")["result"] == []
    tx = {"from": live.accounts[0].address, "to": live.accounts[1].address, "value": "0x1"}
    for method, params in (
        ("eth_sendTransaction", [tx]),
        ("eth_sign", [live.accounts[0].address, "0x68656c6c6f"]),
        ("eth_signTransaction", [{**tx, "gas": "0x5208", "gasPrice": "0x1", "nonce": "0x0"}]),
    ):
        assert live.request(method, params)["error"] == {
            "code": -32000,
            "message": "unknown account",
        }


def test_txpool_shows_pending_and_queued(live: Rpc) -> None:
    sender = live.accounts[3]
    nonce = live.w3.eth.get_transaction_count(sender.address, "pending")
    live.w3.eth.send_raw_transaction(sign(live, sender, 2, nonce=nonce))
    live.w3.eth.send_raw_transaction(sign(live, sender, 2, nonce=nonce + 2))
    mine = live.request("txpool_contentFrom", [sender.address])["result"]
    assert list(mine["pending"]) == [str(nonce)] and list(mine["queued"]) == [str(nonce + 2)]
    content = live.request("txpool_content")["result"]
    assert content["pending"][sender.address][str(nonce)]["nonce"] == hex(nonce)
    status = live.request("txpool_status")["result"]
    assert int(status["pending"], 16) >= 1 and int(status["queued"], 16) >= 1


def test_debug_raw_data_decodes_to_what_the_node_serves(live: Rpc) -> None:
    raw = sign(live, live.accounts[2], 1)
    tx_hash = live.w3.eth.send_raw_transaction(raw).to_0x_hex()
    number = live.mine()
    assert live.request("debug_getRawTransaction", [tx_hash])["result"] == "0x" + raw.hex()
    block = live.w3.eth.get_block(number)
    raw_header = bytes.fromhex(live.request("debug_getRawHeader", [hex(number)])["result"][2:])
    assert keccak(raw_header) == bytes(block["hash"])
    raw_block = live.request("debug_getRawBlock", [block["hash"].to_0x_hex()])["result"]
    assert raw_block.startswith("0x") and raw_header.hex() in raw_block
    receipts = live.request("debug_getRawReceipts", [hex(number)])["result"]
    assert len(receipts) == len(block["transactions"])
    index = live.w3.eth.get_transaction(tx_hash)["transactionIndex"]
    assert receipts[index].startswith("0x01")  # EIP-2718: the access-list receipt's type
    assert (
        live.request("debug_getRawHeader", ["0xffffff"])["error"]["message"] == "header not found"
    )


def test_methods_of_later_forks_say_so(live: Rpc) -> None:
    error = live.request("eth_getBlockAccessList", ["latest"])["error"]
    assert error["code"] == -38005 and "this chain runs Prague" in error["message"]


def test_transactions_carry_their_block_timestamp(live: Rpc) -> None:
    tx_hash = live.w3.eth.send_raw_transaction(sign(live, live.accounts[2], 0)).to_0x_hex()
    assert live.request("eth_getTransactionByHash", [tx_hash])["result"]["blockTimestamp"] is None
    live.mine()
    tx = live.request("eth_getTransactionByHash", [tx_hash])["result"]
    block = live.w3.eth.get_block(int(tx["blockNumber"], 16))
    assert int(tx["blockTimestamp"], 16) == block["timestamp"]


def test_simulate_v1_on_an_older_block_sees_that_block_state(live: Rpc, counter: Any) -> None:
    deployed_in = next(
        n
        for n in range(1, live.w3.eth.block_number + 1)
        if any(
            (r["contractAddress"] or "").lower() == counter.address.lower()
            for r in live.request("eth_getBlockReceipts", [hex(n)])["result"]
        )
    )
    read = {"to": counter.address, "input": counter.encode_abi("count")}
    before, at = (
        live.request("eth_simulateV1", [{"blockStateCalls": [{"calls": [read]}]}, hex(n)])["result"]
        for n in (deployed_in - 1, deployed_in)
    )
    assert before[0]["number"] == hex(deployed_in) and before[0]["calls"][0]["returnData"] == "0x"
    assert at[0]["number"] == hex(deployed_in + 1) and int(at[0]["calls"][0]["returnData"], 16) >= 7
