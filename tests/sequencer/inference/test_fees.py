"""Inference fees in the native token: model gas pays the sprinter and the model owner's
royalty in the same block; supply is conserved apart from the base-fee burn on
non-inference gas."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from neurostack.protocol.cid import model_cid, model_hash
from sequencer.chain.inference import REGISTRY_ADDRESS

from .conftest import Rig
from .kit import GWEI, MODEL_CID, SPRINTER_KEY, address_of, receipt_for

pytestmark = pytest.mark.slow

REG_FILE = b"a registered, priced model"
REG_CID, REG_HASH = model_cid(REG_FILE), model_hash(REG_FILE)
MODEL_OWNER = address_of(bytes.fromhex("a1" * 32))
SPRINTER_B = bytes.fromhex("b2" * 32)
MODEL_GAS, ROYALTY_BPS = 200_000, 2_500
RECIPIENT = b"\xee" * 20


def _admin(rig: Rig, signature: str, types: list[str], args: list[object]) -> bytes:
    data = keccak(text=signature)[:4] + encode(types, args)
    return rig.owner.send(REGISTRY_ADDRESS, data, gas=300_000)


def test_inference_gas_pays_sprinter_and_owner_and_supply_is_conserved(rig: Rig) -> None:
    _admin(rig, "registerModel(string,bytes32,address,uint64,uint16)",
           ["string", "bytes32", "address", "uint64", "uint16"],
           [REG_CID, REG_HASH, MODEL_OWNER, MODEL_GAS, ROYALTY_BPS])  # fmt: skip
    _admin(rig, "addSprinter(address)", ["address"], [address_of(SPRINTER_B)])
    rig.mine()

    w0, w1, w2, w3 = rig.wallets
    shared = rig.predict_data([5, 6], cid=REG_CID)
    own = rig.predict_data([7], cid=MODEL_CID)
    req_shared = w1.requests_of(rig.consumer, shared)
    req_own = w3.requests_of(rig.consumer, own)
    rig.feed.witness[req_shared.request_id] = receipt_for(req_shared, file_hash=REG_HASH)
    rig.feed.witness[req_own.request_id] = receipt_for(req_own, key=SPRINTER_B)
    txs = {
        w1.send(rig.consumer, shared, tip=GWEI): (MODEL_GAS, SPRINTER_KEY),
        w2.send(rig.consumer, shared, tip=2 * GWEI): (MODEL_GAS, SPRINTER_KEY),
        w3.send(rig.consumer, own, tip=GWEI // 10): (
            rig.node.config.inference.default_model_gas,
            SPRINTER_B,
        ),
        w0.send(RECIPIENT, b"", gas=21_000, value=10**18, tip=GWEI): (0, None),
    }
    parent = rig.node.head()
    block = rig.mine()
    assert sorted(t.hash for t in block.transactions) == sorted(txs)

    before, after = (
        rig.node.state_at(parent.header.block_number),
        rig.node.state_at(block.header.block_number),
    )
    coinbase = block.header.coinbase
    accounts = {w.address for w in rig.wallets} | {coinbase, rig.consumer, RECIPIENT, MODEL_OWNER,
                                                    address_of(SPRINTER_KEY), address_of(SPRINTER_B)}  # fmt: skip
    base_fee = block.header.base_fee_per_gas
    receipts = rig.node.receipts(block)
    expected = {a: 0 for a in accounts}
    burned = 0
    previous = 0
    for tx, receipt in zip(block.transactions, receipts):
        gas_used, previous = receipt.gas_used - previous, receipt.gas_used
        assert receipt.state_root == b"\x01"
        price = min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
        tip = price - base_fee
        model_gas, sprinter_key = txs[tx.hash]
        expected[tx.sender] -= gas_used * price + tx.value
        expected[tx.to] += tx.value
        expected[coinbase] += (gas_used - model_gas) * tip  # no tip on inference gas
        fee = model_gas * price  # inference gas is paid at the full price
        royalty = fee * ROYALTY_BPS // 10_000 if model_gas == MODEL_GAS else 0
        expected[MODEL_OWNER] += royalty
        if sprinter_key is not None:
            expected[address_of(sprinter_key)] += fee - royalty
        burned += (gas_used - model_gas) * base_fee

    changes = {a: after.get_balance(a) - before.get_balance(a) for a in accounts}
    assert changes == expected
    assert changes[MODEL_OWNER] > 0 and changes[address_of(SPRINTER_B)] > 0
    # supply: only the base fee of non-inference gas is burned
    assert sum(changes.values()) == -burned
    assert (
        burned
        == (block.header.gas_used - 2 * MODEL_GAS - rig.node.config.inference.default_model_gas)
        * base_fee
    )
    # what the chain recorded for transaction receipts' `inferences` and for the PIPE
    executed = rig.feed.blocks[-1]
    paid = {p.recipient: 0 for t in executed.inferences for p in t.payouts}
    for record in executed.inferences:
        for p in record.payouts:
            paid[p.recipient] += p.amount
    assert paid == {a: v for a, v in expected.items() if a in paid}
