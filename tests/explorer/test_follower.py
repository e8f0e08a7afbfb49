"""The index follows the node through reorgs (``evm_revert``) and chain resets (a new
genesis at the same URL) without a restart, and keeps only canonical data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neurostack.explorer import ExplorerServer, ExplorerSettings, queries
from neurostack.explorer.follower import Follower
from neurostack.explorer.index import Index
from neurostack.explorer.node import NodeReader
from sequencer.node import Node
from sequencer.rpc import RpcServer

from .chain import DevChain
from .waits import wait_health

DEAD = "0x000000000000000000000000000000000000dead"
BEEF = "0x000000000000000000000000000000000000beef"


@pytest.fixture
def fresh_chain(tmp_path: Path) -> Iterator[DevChain]:
    with DevChain(root=tmp_path / "chain") as c:
        yield c


@pytest.fixture
def follower(fresh_chain: DevChain, tmp_path: Path) -> Iterator[Follower]:
    reader = NodeReader(fresh_chain.url)
    index = Index(tmp_path / "index.sqlite")
    yield Follower(reader, index)
    reader.close()
    index.close()


def canonical(chain: DevChain, follower: Follower) -> None:
    """Every indexed block is the node's block at that height, up to the node's head."""
    head = int(chain.rpc("eth_blockNumber"), 16)
    assert follower.index.head() is not None
    assert follower.index.head()[0] == head  # type: ignore[index]
    for n in range(head + 1):
        assert follower.index.hash_at(n) == chain.rpc("eth_getBlockByNumber", hex(n), False)["hash"]


def test_blocks_and_transactions_are_indexed(fresh_chain: DevChain, follower: Follower) -> None:
    for _ in range(3):
        fresh_chain.send(DEAD, value=1)
        fresh_chain.mine()
    assert follower.sync_once() == 4  # genesis + 3
    canonical(fresh_chain, follower)
    assert queries.address_tx_count(follower.index, DEAD) == 3
    assert follower.sync_once() == 0


def test_evm_revert_rolls_the_index_back_and_reindexes(
    fresh_chain: DevChain, follower: Follower
) -> None:
    fresh_chain.send(DEAD, value=1)
    fresh_chain.mine()
    snapshot = fresh_chain.rpc("evm_snapshot")
    for _ in range(3):
        fresh_chain.send(DEAD, value=1)
        fresh_chain.mine()
    follower.sync_once()
    assert queries.address_tx_count(follower.index, DEAD) == 4

    fresh_chain.rpc("evm_revert", snapshot)  # back to block 1: the index is ahead
    follower.sync_once()
    canonical(fresh_chain, follower)
    assert follower.reorgs == 1
    assert queries.address_tx_count(follower.index, DEAD) == 1

    fresh_chain.send(BEEF, value=1)  # a different block 2 at a height we had indexed
    fresh_chain.mine()
    follower.sync_once()
    canonical(fresh_chain, follower)
    assert queries.address_tx_count(follower.index, BEEF) == 1


def test_revert_then_equal_height_is_detected_by_the_head_hash(
    fresh_chain: DevChain, follower: Follower
) -> None:
    snapshot = fresh_chain.rpc("evm_snapshot")
    fresh_chain.send(DEAD, value=1)
    fresh_chain.mine()
    follower.sync_once()
    fresh_chain.rpc("evm_revert", snapshot)
    fresh_chain.send(BEEF, value=2)
    fresh_chain.mine()  # same height, another block
    follower.sync_once()
    canonical(fresh_chain, follower)
    assert queries.address_tx_count(follower.index, DEAD) == 0
    assert queries.address_tx_count(follower.index, BEEF) == 1


def test_a_new_genesis_at_the_url_rebuilds_the_index(
    fresh_chain: DevChain, follower: Follower, tmp_path: Path
) -> None:
    fresh_chain.send(DEAD, value=1)
    fresh_chain.mine()
    follower.sync_once()
    with DevChain(root=tmp_path / "other", chain_id=5555) as other:
        other.send(BEEF, value=1)
        other.mine()
        follower.reader = NodeReader(other.url)  # the URL now answers another chain
        follower.sync_once()
        canonical(other, follower)
        assert follower.resets == 1
        assert queries.address_tx_count(follower.index, DEAD) == 0
        assert queries.address_tx_count(follower.index, BEEF) == 1
        follower.reader.close()


def test_the_index_survives_an_explorer_restart(fresh_chain: DevChain, tmp_path: Path) -> None:
    fresh_chain.send(DEAD, value=1)
    fresh_chain.mine()
    reader = NodeReader(fresh_chain.url)
    first = Follower(reader, Index(tmp_path / "i.sqlite"))
    assert first.sync_once() == 2
    head = first.index.head()
    first.index.close()
    again = Follower(reader, Index(tmp_path / "i.sqlite"))
    assert again.sync_once() == 0 and again.index.head() == head
    reader.close()


def test_a_node_reset_on_the_same_url_is_followed_live(tmp_path: Path) -> None:
    """`neurostack up --reset` seen from a running explorer: the node goes away, comes back
    on the same URL from genesis; the explorer (threads running) follows, no restart."""
    with DevChain(root=tmp_path / "chain") as chain:
        for _ in range(4):
            chain.send(DEAD, value=1)
            chain.mine()
        settings = ExplorerSettings(chain.url, tmp_path / "explorer", poll_interval=0.05)
        with ExplorerServer(settings) as explorer:
            wait_health(explorer, lambda h: h["indexedHead"] == 4)
            port = chain.server.port  # type: ignore[union-attr]
            chain.server.stop()  # type: ignore[union-attr]
            chain.node.stop()
            shutil.rmtree(chain.config.data_dir)
            wait_health(explorer, lambda h: h["nodeError"] is not None)
            chain.node = Node(chain.config)
            chain.node.start()
            chain.server = RpcServer(chain.node, host="127.0.0.1", port=port).start()
            chain.send(BEEF, value=1)
            chain.mine()
            health = wait_health(explorer, lambda h: h["indexedHead"] == 1 and h["reorgs"] == 1)
            assert health["nodeError"] is None
            page = httpx.get(f"{explorer.url}/address/{DEAD}").text
            assert "Transactions (0)" in page
            assert "Transactions (1)" in httpx.get(f"{explorer.url}/address/{BEEF}").text
