"""Log criteria: address and topic matching as geth defines it (OR-lists, nulls, positions)."""

from __future__ import annotations

import pytest
from eth_bloom import BloomFilter

from sequencer.rpc.filters import log_criteria
from sequencer.rpc.params import ArgumentError

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
T1 = "0x" + "01" * 32
T2 = "0x" + "02" * 32
T3 = "0x" + "03" * 32


def t(hex_topic: str) -> int:
    return int(hex_topic, 16)


def test_address_single_or_list() -> None:
    assert log_criteria({"address": A}).matches(bytes.fromhex("aa" * 20), ())
    crit = log_criteria({"address": [A, B]})
    assert crit.matches(bytes.fromhex("bb" * 20), ())
    assert not crit.matches(bytes.fromhex("cc" * 20), ())


def test_topics_by_position_with_null_wildcards_and_or_lists() -> None:
    crit = log_criteria({"topics": [None, [T2, T3]]})
    addr = bytes(20)
    assert crit.matches(addr, (t(T1), t(T2)))
    assert crit.matches(addr, (t(T2), t(T3), t(T1)))
    assert not crit.matches(addr, (t(T1), t(T1)))
    assert not crit.matches(addr, (t(T1),))  # too few topics for position 1


def test_null_inside_or_list_matches_anything() -> None:
    assert log_criteria({"topics": [[T1, None]]}).matches(bytes(20), (t(T3),))


def test_bloom_precheck_skips_blocks_without_the_topic() -> None:
    bloom = BloomFilter.from_iterable([bytes.fromhex("aa" * 20), bytes.fromhex("01" * 32)])
    assert log_criteria({"address": A, "topics": [T1]}).may_match_bloom(int(bloom))
    assert not log_criteria({"topics": [T2]}).may_match_bloom(int(bloom))


def test_invalid_filter_objects() -> None:
    with pytest.raises(ArgumentError, match="cannot specify both BlockHash"):
        log_criteria({"blockHash": T1, "fromBlock": "0x1"})
    with pytest.raises(ArgumentError, match="exceed max topics"):
        log_criteria({"topics": [T1] * 5})
    with pytest.raises(ArgumentError):
        log_criteria({"address": "0x12"})
    with pytest.raises(ArgumentError):
        log_criteria("latest")
