"""PIPE detection with ``simulate_transaction``: pending at the first unknown request,
ready with its witness entries once resolved, the state untouched either way."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode

from neurostack.protocol.tensors import ModelOutput, StringTensor, encode_model_output
from sequencer.chain import block_environment
from sequencer.chain.inference.simulate import simulate_transaction

from .conftest import Rig, deploy, selector
from .kit import MODEL_CID, receipt_for

pytestmark = pytest.mark.slow


def decode_tx(rig: Rig, raw: bytes):
    return rig.node.engine.chain.get_vm().get_transaction_builder().decode(raw)


def test_simulation_is_pending_then_ready_and_never_changes_state(rig: Rig) -> None:
    wallet = rig.wallets[1]
    tx = decode_tx(rig, wallet.sign(rig.consumer, rig.predict_data([811, 812])))
    head = rig.node.head().header.block_number
    state = rig.node.state_at(head)
    root, balance = state.state_root, state.get_balance(wallet.address)
    env = block_environment(rig.node.spec, rig.node.state_at(head))

    first = simulate_transaction(state, tx, env)
    assert first.pending is not None and not first.ready
    assert first.pending == wallet.requests_of(rig.consumer, rig.predict_data([811, 812]))
    assert (state.state_root, state.get_balance(wallet.address)) == (root, balance)

    bad = dataclasses.replace(
        receipt_for(first.pending),
        output=encode_model_output(ModelOutput(strings=(StringTensor("y", ("x",)),))),
    )
    env = dataclasses.replace(env, witness={first.pending.request_id: bad})
    invalid = simulate_transaction(state, tx, env)
    assert invalid.invalid is not None and "output hash mismatch" in invalid.invalid.reason

    good = receipt_for(first.pending)
    env = dataclasses.replace(env, witness={first.pending.request_id: good})
    done = simulate_transaction(state, tx, env)
    assert done.ready and done.success and done.receipts == (good,)
    assert (state.state_root, state.get_balance(wallet.address)) == (root, balance)


def test_stitching_two_chained_models(rig: Rig, contracts) -> None:
    abi = contracts["ChainedModels"]
    chained = deploy(rig.node, rig.wallets[0], abi, ["string", "string", "uint8"], ["x", "x", 0])
    data = selector(abi, "run") + encode(
        ["string", "string", "int128[]", "int128"], [MODEL_CID, MODEL_CID, [821], 0]
    )
    tx = decode_tx(rig, rig.wallets[2].sign(chained, data))
    head = rig.node.head().header.block_number
    env = block_environment(rig.node.spec, rig.node.state_at(head))
    state = rig.node.state_at(head)
    resolved = []
    for _ in range(3):
        sim = simulate_transaction(state, tx, env)
        if sim.ready:
            break
        assert sim.pending is not None
        resolved.append(receipt_for(sim.pending))
        env = dataclasses.replace(env, witness={r.request_id: r for r in resolved})
    assert sim.ready and sim.receipts == tuple(resolved) and len(resolved) == 2
