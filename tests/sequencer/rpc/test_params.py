"""Parameter parsers: what clients send and what geth would say about bad values."""

from __future__ import annotations

import pytest

from sequencer.rpc.eth import call_params, storage_slot
from sequencer.rpc.params import (
    ArgumentError,
    BlockRef,
    block_ref,
    data,
    int_or_quantity,
    percentiles,
    quantity,
)


def test_quantities_and_data_decode() -> None:
    assert quantity("0x0") == 0
    assert quantity("0xFF") == 255
    assert data("0x") == b""
    assert data("0xdeadBEEF") == bytes.fromhex("deadbeef")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("latest", BlockRef(tag="latest")),
        ("finalized", BlockRef(tag="finalized")),
        ("0x10", BlockRef(number=16)),
        ({"blockNumber": "0x2"}, BlockRef(number=2)),
        ("0x" + "ab" * 32, BlockRef(hash=b"\xab" * 32)),
        ({"blockHash": "0x" + "cd" * 32, "requireCanonical": True}, BlockRef(hash=b"\xcd" * 32)),
    ],
)
def test_block_references(value: object, expected: BlockRef) -> None:
    assert block_ref(value) == expected


@pytest.mark.parametrize("value", ["newest", "0x", "12", {"foo": 1}, None, True])
def test_invalid_block_references(value: object) -> None:
    with pytest.raises(ArgumentError):
        block_ref(value)


def test_fee_history_count_accepts_int_and_hex() -> None:
    assert int_or_quantity(4) == 4
    assert int_or_quantity("0x4") == 4
    assert int_or_quantity("4") == 4


def test_invalid_percentiles_must_increase_within_0_100() -> None:
    assert percentiles([10, 50.5, 90]) == [10.0, 50.5, 90.0]
    with pytest.raises(ArgumentError, match="invalid reward percentile"):
        percentiles([50, 10])
    with pytest.raises(ArgumentError, match="invalid reward percentile"):
        percentiles([101])


def test_call_object_accepts_input_or_data_and_fee_fields() -> None:
    params = call_params(
        {
            "from": "0x" + "11" * 20,
            "to": "0x" + "22" * 20,
            "input": "0x01",
            "gas": "0x5208",
            "value": "0x1",
        }
    )
    assert params.sender == b"\x11" * 20 and params.to == b"\x22" * 20
    assert params.data == b"\x01" and params.gas == 21000 and params.value == 1
    assert call_params({"data": "0x02"}).data == b"\x02"
    assert call_params({}).sender is None


def test_invalid_call_objects() -> None:
    with pytest.raises(ArgumentError, match='both "data" and "input"'):
        call_params({"data": "0x01", "input": "0x02"})
    with pytest.raises(ArgumentError, match="both gasPrice and"):
        call_params({"gasPrice": "0x1", "maxFeePerGas": "0x2"})
    with pytest.raises(ArgumentError, match="field to"):
        call_params({"to": "0x1234"})


def test_storage_slots_allow_leading_zeros() -> None:
    assert storage_slot("0x0") == 0
    assert storage_slot("0x" + "00" * 31 + "05") == 5
    with pytest.raises(ArgumentError):
        storage_slot("0x" + "00" * 33)
