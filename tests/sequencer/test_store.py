"""The sqlite key-value store: atomic block transactions, persistence across reopen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sequencer.store import SqliteStore


def test_writes_persist_across_reopen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "chain.sqlite")
    store[b"a"] = b"1"
    with store.transaction():
        store[b"b"] = b"2"
    store.close()
    again = SqliteStore(tmp_path / "chain.sqlite")
    assert again[b"a"] == b"1" and again[b"b"] == b"2"
    assert b"c" not in again
    with pytest.raises(KeyError):
        again[b"c"]


def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "chain.sqlite")
    store[b"keep"] = b"old"
    with pytest.raises(RuntimeError), store.transaction():
        store[b"keep"] = b"new"
        store[b"extra"] = b"x"
        del store[b"keep"]
        assert b"keep" not in store  # reads inside see the transaction's own writes
        raise RuntimeError("crash mid-block")
    assert store[b"keep"] == b"old"
    assert b"extra" not in store


def test_nested_transactions_commit_once_with_the_outer(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    store = SqliteStore(path)
    reader = sqlite3.connect(path)  # another connection sees only committed data

    def committed(key: bytes) -> bool:
        return reader.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone() is not None

    with store.transaction():
        with store.atomic_batch() as batch:  # py-evm's batches join the block transaction
            batch[b"k"] = b"v"
        assert store[b"k"] == b"v"
        assert not committed(b"k")
    assert committed(b"k")


def test_invalid_delete_of_a_missing_key(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "chain.sqlite")
    with pytest.raises(KeyError):
        del store[b"nothing"]


def test_invalid_second_store_on_the_same_data_dir(tmp_path: Path) -> None:
    from sequencer.errors import StoreError

    first = SqliteStore(tmp_path / "chain.sqlite")
    with pytest.raises(StoreError, match="another node is using this data dir"):
        SqliteStore(tmp_path / "chain.sqlite")
    first.close()
    SqliteStore(tmp_path / "chain.sqlite").close()  # free again once the first one closed


def test_an_open_block_is_invisible_to_other_threads_and_does_not_block_them(
    tmp_path: Path,
) -> None:
    import threading

    store = SqliteStore(tmp_path / "chain.sqlite")
    store[b"head"] = b"old"
    seen: list[bytes] = []
    with store.transaction():
        store[b"head"] = b"new"
        reader = threading.Thread(target=lambda: seen.append(store[b"head"]))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive()  # not blocked by the open transaction
        assert store[b"head"] == b"new"  # the writing thread reads its own write
    assert seen == [b"old"]  # the other thread saw only committed data
    assert store[b"head"] == b"new"
