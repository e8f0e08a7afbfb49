"""The executor's trace lines are py-evm's, formatted only when shown (sequencer/chain/executor.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from eth.db.atomic import AtomicDB
from eth.vm.forks.frontier.computation import FrontierComputation
from eth_utils.logging import DEBUG2_LEVEL_NUM

from sequencer.chain import BlockInputs, ReadyTransaction, build_block
from sequencer.chain.executor import PY_EVM_VERSION, state_logger
from sequencer.chain.fork import NeuroComputation, NeuroState
from sequencer.chain.genesis import create_genesis
from sequencer.chainspec import chain_spec

from ..helpers import dev_keys, make_config, sign


def test_the_methods_stand_for_the_installed_py_evm() -> None:
    # executor.py restates py-evm methods of this version; another needs them compared again
    assert version("py-evm") == PY_EVM_VERSION


@pytest.fixture
def tracing() -> Iterator[None]:
    """DEBUG2 on for the state's and the computation's loggers (py-evm caches the answer
    on each logger, and replaces ``debug2`` with a no-op once it was off)."""
    loggers = [state_logger(NeuroState.__new__(NeuroState)), NeuroComputation.logger]
    saved = [(lg.level, dict(lg.__dict__)) for lg in loggers]
    for lg in loggers:
        lg.__dict__.pop("debug2", None)
        lg.__dict__["show_debug2"] = True
        lg.setLevel(DEBUG2_LEVEL_NUM)
    yield
    for lg, (level, attrs) in zip(loggers, saved, strict=True):
        lg.setLevel(level)
        lg.__dict__.clear()
        lg.__dict__.update(attrs)


def _transfer(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    chain = create_genesis(chain_spec(config), AtomicDB())
    tx = (
        chain.get_vm().get_transaction_builder().decode(sign(dev_keys(config)[0][1], 0, gas=30_000))
    )
    parent = chain.get_canonical_head()
    built = build_block(
        chain, parent, BlockInputs((ReadyTransaction(tx),)), timestamp=2, coinbase=b"\x22" * 20
    )
    assert len(built.executed.block.transactions) == 1


def test_trace_lines_when_debug2_is_on(
    tmp_path: Path, tracing: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(DEBUG2_LEVEL_NUM):
        _transfer(tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.levelno == DEBUG2_LEVEL_NUM]
    for start in (
        "TRANSACTION: ",
        "TRANSFERRED: 1 from 0x",
        "TRANSACTION REFUND: ",
        "TRANSACTION FEE: ",
    ):
        assert any(line.startswith(start) for line in lines), (start, lines)


def test_no_trace_lines_by_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _transfer(tmp_path)
    assert not [r for r in caplog.records if r.levelno == DEBUG2_LEVEL_NUM]
    assert FrontierComputation.logger is NeuroComputation.logger  # the one py-evm logs to
