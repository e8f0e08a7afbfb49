"""JSON-RPC 2.0 framing and error mapping, on a small method table (no node needed)."""

from __future__ import annotations

import json

import pytest

from sequencer.errors import BlockNotFound, ExecutionReverted, TransactionRejected
from sequencer.rpc.dispatch import Dispatcher, MethodTable
from sequencer.rpc.params import address, quantity

TABLE = MethodTable()


@TABLE.method("test_add", quantity, quantity, required=1)
def _add(ctx: object, a: int, b: int | None) -> str:
    return hex(a + (b or 0))


@TABLE.method("test_owner", address)
def _owner(ctx: object, who: bytes) -> str:
    return "0x" + who.hex()


@TABLE.method("test_raise")
def _raise(ctx: dict) -> None:
    raise ctx["error"]


def run(payload: object, error: Exception | None = None) -> object:
    dispatcher = Dispatcher(TABLE, {"error": error}, max_batch=3)
    raw = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    reply = dispatcher.handle_bytes(raw)
    return None if reply is None else json.loads(reply)


def call(method: str, params: object = None, error: Exception | None = None) -> dict:
    return run({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}, error)


def test_request_gets_result_with_same_id() -> None:
    assert call("test_add", ["0x1", "0x2"]) == {"jsonrpc": "2.0", "id": 7, "result": "0x3"}


def test_optional_trailing_params_may_be_omitted() -> None:
    assert call("test_add", ["0x5"])["result"] == "0x5"


def test_notification_gets_no_reply() -> None:
    assert run({"jsonrpc": "2.0", "method": "test_add", "params": ["0x1"]}) is None


def test_batch_answers_each_request_in_order_and_skips_notifications() -> None:
    reply = run(
        [
            {"jsonrpc": "2.0", "id": "a", "method": "test_add", "params": ["0x1"]},
            {"jsonrpc": "2.0", "method": "test_add", "params": ["0x1"]},
            {"jsonrpc": "2.0", "id": "b", "method": "nope_nope"},
        ]
    )
    assert [r["id"] for r in reply] == ["a", "b"]
    assert reply[0]["result"] == "0x1"
    assert reply[1]["error"]["code"] == -32601


def test_invalid_json_is_parse_error() -> None:
    reply = run(b'{"jsonrpc": "2.0", "id": 1, "method"')
    assert reply == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "parse error"},
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"id": 1, "method": "test_add"},  # no jsonrpc member
        {"jsonrpc": "1.0", "id": 1, "method": "test_add"},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": [1], "method": "test_add"},
        42,
    ],
)
def test_invalid_request_objects(payload: object) -> None:
    assert run(payload)["error"]["code"] == -32600


def test_invalid_empty_and_oversized_batches() -> None:
    assert run([])["error"] == {"code": -32600, "message": "empty batch"}
    too_many = [
        {"jsonrpc": "2.0", "id": i, "method": "test_add", "params": ["0x1"]} for i in range(4)
    ]
    reply = run(too_many)
    assert reply["error"]["code"] == -32600
    assert "batch too large" in reply["error"]["message"]


def test_invalid_unknown_method() -> None:
    assert call("eth_fooBar")["error"] == {
        "code": -32601,
        "message": "the method eth_fooBar does not exist/is not available",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "missing value for required argument 0"),
        (["0x1", "0x2", "0x3"], "too many arguments, want at most 2"),
        (["1"], "invalid argument 0: hex string without 0x prefix"),
        (["0x01"], "invalid argument 0: hex number with leading zero digits"),
        (["0xzz"], "invalid argument 0: invalid hex string"),
        (
            [1],
            "invalid argument 0: json: cannot unmarshal non-string into Go value of type hexutil.Big",
        ),
        ({"a": "0x1"}, "non-array args"),
    ],
)
def test_invalid_params_have_geth_messages(params: object, message: str) -> None:
    assert call("test_add", params)["error"] == {"code": -32602, "message": message}


def test_invalid_address_length() -> None:
    error = call("test_owner", ["0x1234"])["error"]
    assert error == {
        "code": -32602,
        "message": "invalid argument 0: hex string has length 4, want 40 for common.Address",
    }


def test_node_rejection_is_server_error_with_its_message() -> None:
    error = call(
        "test_raise", [], TransactionRejected("nonce too low", "next nonce 3, tx nonce 1")
    )["error"]
    assert error == {"code": -32000, "message": "nonce too low: next nonce 3, tx nonce 1"}


def test_revert_with_reason_is_code_3_with_data() -> None:
    from eth_abi import encode

    data = bytes.fromhex("08c379a0") + encode(["string"], ["not owner"])
    error = call("test_raise", [], ExecutionReverted(data))["error"]
    assert error == {
        "code": 3,
        "message": "execution reverted: not owner",
        "data": "0x" + data.hex(),
    }


def test_panic_revert_names_the_panic() -> None:
    from eth_abi import encode

    data = bytes.fromhex("4e487b71") + encode(["uint256"], [0x12])
    error = call("test_raise", [], ExecutionReverted(data))["error"]
    assert error["message"] == "execution reverted: division or modulo by zero"


def test_revert_without_data_is_plain_server_error() -> None:
    assert call("test_raise", [], ExecutionReverted(b""))["error"] == {
        "code": -32000,
        "message": "execution reverted",
    }


def test_future_block_is_header_not_found() -> None:
    assert call("test_raise", [], BlockNotFound("block 99"))["error"] == {
        "code": -32000,
        "message": "header not found",
    }


def test_invalid_unexpected_exception_is_internal_error_without_traceback(caplog) -> None:
    error = call("test_raise", [], ZeroDivisionError("secret detail"))["error"]
    assert error["code"] == -32603
    assert "secret detail" not in error["message"] and "Traceback" not in error["message"]
    assert "secret detail" in caplog.text  # the operator still sees it in the log


# --- batch handlers: a run of consecutive calls of one method answered together ---


class Ledger:
    """A context whose ``test_put`` appends to a list; the batch handler records each run."""

    def __init__(self, fail_run: Exception | None = None) -> None:
        self.items: list[int] = []
        self.runs: list[list[int]] = []
        self.fail_run = fail_run


def _put_many(ctx: Ledger, calls: list[list[int]]) -> list[object]:
    if ctx.fail_run is not None:
        raise ctx.fail_run
    ctx.runs.append([value for (value,) in calls])
    out: list[object] = []
    for (value,) in calls:
        if value == 13:  # a per-call refusal, returned in its place
            out.append(TransactionRejected("unlucky"))
        else:
            ctx.items.append(value)
            out.append(hex(len(ctx.items)))
    return out


BATCH_TABLE = MethodTable()


@BATCH_TABLE.method("test_put", quantity, batch=_put_many)
def _put(ctx: Ledger, value: int) -> str:
    if value == 13:
        raise TransactionRejected("unlucky")
    ctx.items.append(value)
    return hex(len(ctx.items))


@BATCH_TABLE.method("test_count")
def _count(ctx: Ledger) -> str:
    return hex(len(ctx.items))


def run_batch(calls: list[object], ctx: Ledger) -> list[dict]:
    reply = Dispatcher(BATCH_TABLE, ctx).handle_bytes(json.dumps(calls))
    return [] if reply is None else json.loads(reply)


def put(req_id: int | None, value: object) -> dict:
    request = {"jsonrpc": "2.0", "method": "test_put", "params": [value]}
    return request if req_id is None else {**request, "id": req_id}


def test_batch_run_goes_through_batch_handler_with_per_call_answers() -> None:
    ledger = Ledger()
    replies = run_batch([put(1, "0x5"), put(2, "0xd"), put(3, "0x7")], ledger)
    assert ledger.runs == [[5, 13, 7]]
    assert replies == [
        {"jsonrpc": "2.0", "id": 1, "result": "0x1"},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": -32000, "message": "unlucky"}},
        {"jsonrpc": "2.0", "id": 3, "result": "0x2"},
    ]


def test_batch_runs_stop_at_other_calls_so_they_see_earlier_effects() -> None:
    ledger = Ledger()
    count = {"jsonrpc": "2.0", "id": 9, "method": "test_count"}
    replies = run_batch([put(1, "0x1"), put(2, "0x2"), count, put(3, "0x3"), put(4, "0x4")], ledger)
    assert ledger.runs == [[1, 2], [3, 4]]
    assert [r["result"] for r in replies] == ["0x1", "0x2", "0x2", "0x3", "0x4"]


def test_invalid_params_in_a_run_answered_alone_and_rest_still_run() -> None:
    ledger = Ledger()
    replies = run_batch([put(1, "0x1"), put(2, "zz"), put(None, "0x3"), put(4, "0x4")], ledger)
    assert ledger.runs == [[1, 3, 4]]  # the notification is executed, it just gets no reply
    assert [r["id"] for r in replies] == [1, 2, 4]
    assert replies[1]["error"]["code"] == -32602
    assert replies[2]["result"] == "0x3"


def test_single_call_uses_the_plain_handler() -> None:
    ledger = Ledger()
    assert run_batch([put(1, "0x1")], ledger) == [{"jsonrpc": "2.0", "id": 1, "result": "0x1"}]
    assert ledger.runs == [] and ledger.items == [1]


def test_invalid_batch_handler_crash_is_internal_error_for_each_call(caplog) -> None:
    ledger = Ledger(fail_run=KeyError("boom"))
    replies = run_batch([put(1, "0x1"), put(2, "0x2")], ledger)
    assert [r["error"]["code"] for r in replies] == [-32603, -32603]
    assert "boom" not in json.dumps(replies)
    assert "unexpected error" in caplog.text


def test_batch_run_counts_each_call_in_metrics() -> None:
    seen: list[tuple[str, int]] = []
    dispatcher = Dispatcher(BATCH_TABLE, Ledger(), record=lambda m, c: seen.append((m, c)))
    dispatcher.handle_bytes(json.dumps([put(1, "0x1"), put(2, "0xd"), put(3, "zz")]))
    assert sorted(seen) == [("test_put", -32602), ("test_put", -32000), ("test_put", 0)]
