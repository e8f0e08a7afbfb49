"""Mode ZK in the state-transition function, on real blocks and real ezkl proofs.

A node whose chain lists the sample MLP's SRS registers the MLP's circuit
(``registerZkModel``) and includes a ``ModelConsumer`` call in mode ZK whose receipt
carries a real proof. A verifier at the parent block then re-runs the block with each
tampering of the ZK receipt a sprinter could try (every one re-signed, so only the proof
check can catch it): each is refused with ``InvalidInference`` at check
``inference_receipt``, naming the transaction and the request. The registry's own checks
(``registerZkModel`` refusing a key that is not the settings', an SRS the chain does not
list, a non-owner) are here too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth.db.atomic import AtomicDB
from eth_abi import decode, encode

from neurostack.hub.samples import sample_model_path
from neurostack.protocol.cid import model_cid, model_hash
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, make_receipt
from neurostack.protocol.tensors import (
    ModelOutput,
    Number,
    NumberTensor,
    decode_model_output,
    encode_model_output,
)
from neurostack.solidity import load_artifact
from neurostack.zk import backend_for
from sequencer.chain import Check, InvalidInference, NeuroChain, state_transition
from sequencer.chain.genesis import create_genesis
from sequencer.chain.inference import InferenceRequest
from sequencer.chain.inference.constants import REGISTRY_ADDRESS
from sequencer.chain.inference.registry import live_registry, zk_model_of
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.errors import ExecutionReverted
from sequencer.node import Node
from sequencer.types import CallParams
from tests.sequencer.inference.kit import (
    FAR_FUTURE,
    OWNER_KEY,
    STRANGER_KEY,
    Wallet,
    WitnessFeed,
    make_config,
)
from tests.sequencer.pipe.kit import selector
from tests.zk.conftest import Circuit, make_circuit, other_weights_mlp

pytestmark = pytest.mark.slow

ezkl = pytest.importorskip("ezkl")
MLP = sample_model_path("mlp_regressor")
CID = model_cid(MLP.read_bytes())


@dataclasses.dataclass
class ZkBlock:
    block: Any
    witness: list[InferenceReceipt]
    request: InferenceRequest
    other_request: InferenceRequest  # another input to the same model
    mlp: Circuit
    sibling: Circuit
    verifier: NeuroChain
    node: Node
    consumer: bytes
    owner: Wallet


def prove(circuit: Circuit, request: InferenceRequest) -> tuple[bytes, bytes]:
    """(proof, output ABI) of ``circuit`` on the request's input."""
    proof = backend_for("ezkl").prove(circuit.files, circuit.settings, request.input_abi)
    return proof.proof, encode_model_output(proof.output)


def zk_receipt(request: InferenceRequest, proof: bytes, output: bytes) -> InferenceReceipt:
    """A ZK receipt signed by a key that is not a registered sprinter (any key may)."""
    return make_receipt(
        chain_id=request.chain_id,
        model_cid=request.model_cid,
        model_hash=model_hash(MLP.read_bytes()),
        mode=InferenceMode.ZK,
        input_abi=request.input_abi,
        output_abi=output,
        expiry=FAR_FUTURE,
        private_key=STRANGER_KEY,
        proof=proof,
    )


def srs_entry(root: Path, srs: bytes) -> dict[str, str]:
    (root / "zk").mkdir(exist_ok=True)
    (root / "zk" / "kzg10.srs").write_bytes(srs)
    return {"file": "zk/kzg10.srs", "sha256": "0x" + hashlib.sha256(srs).hexdigest()}


@pytest.fixture(scope="module")
def zk_block(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZkBlock]:
    srs_dir = tmp_path_factory.mktemp("zk-srs")
    mlp = make_circuit(MLP, tmp_path_factory.mktemp("zk-mlp"), srs_dir)
    work = tmp_path_factory.mktemp("zk-sibling")
    sibling = make_circuit(other_weights_mlp(work / "sibling.onnx"), work / "c", srs_dir)
    root = tmp_path_factory.mktemp("zk-chain")
    config = make_config(root, modes=["VANILLA", "ZK"], zk_srs=[srs_entry(root, mlp.srs)])
    node = Node(config)
    try:
        feed = WitnessFeed(node).attach()
        owner = Wallet(node, "0x" + OWNER_KEY.hex())
        owner.send(
            REGISTRY_ADDRESS,
            registry_calldata("registerZkModel", CID, mlp.settings_bytes, mlp.verifying_key),
            gas=8_000_000,
        )
        node.mine()
        wallets = [Wallet(node, a.private_key) for a in node.config.dev_accounts()]
        consumer_abi = load_artifact("ModelConsumer")
        wallets[0].send(
            None, consumer_abi.bytecode + encode(["string", "uint8"], ["x", InferenceMode.ZK]),
            gas=4_000_000,
        )  # fmt: skip
        node.mine()
        consumer = generate_contract_address(wallets[0].address, wallets[0].nonce - 1)
        request = wallets[1].requests_of(consumer, predict(consumer_abi, [50, -100, 200, 25]))
        other = wallets[2].requests_of(consumer, predict(consumer_abi, [10, 20, 30, 40]))
        feed.witness[request.request_id] = zk_receipt(request, *prove(mlp, request))
        wallets[1].send(consumer, predict(consumer_abi, [50, -100, 200, 25]), gas=3_000_000)
        block = node.mine()
        assert len(block.transactions) == 1
        witness = list(feed.blocks[-1].witness)
        verifier = create_genesis(node.spec, AtomicDB())
        for number in range(1, block.number):
            verifier.persist_block(
                state_transition(
                    verifier, node.block_by_number(number), list(feed.blocks[number - 1].witness)
                ).block
            )
        yield ZkBlock(block, witness, request, other, mlp, sibling, verifier, node, consumer, owner)
    finally:
        node.stop()


def predict(abi: Any, values: list[int]) -> bytes:
    """``predict(CID, values, 2)``: the features are ``values / 100``."""
    return selector(abi, "predict") + encode(["string", "int128[]", "int128"], [CID, values, 2])


def test_a_zk_call_is_included_with_its_proof_and_returns_the_circuit_output(
    zk_block: ZkBlock,
) -> None:
    node, block = zk_block.node, zk_block.block
    (receipt,) = node.receipts(block)
    assert receipt.state_root == b"\x01"  # status: success
    (used,) = zk_block.witness
    assert used.mode == InferenceMode.ZK and len(used.proof) == zk_block.mlp.settings.proof_bytes
    output = decode_model_output(used.output).numbers[0].values[0]
    assert output.decimals == 13 and output.value % 5**13 == 0  # x·5^13: a circuit value
    abi = load_artifact("ModelConsumer")
    last = decode(["int256"], zk_block.owner.call(zk_block.consumer, selector(abi, "lastValue")))
    assert last == (output.value,)
    # the verifier (a follower) accepts the same block
    state_transition(zk_block.verifier, block, zk_block.witness)


def test_the_registry_records_the_circuit(zk_block: ZkBlock) -> None:
    state = zk_block.node.state_at(zk_block.block.number)
    entry = zk_model_of(live_registry(state), CID)
    assert entry is not None
    assert entry.settings_hash == hashlib.sha256(zk_block.mlp.settings_bytes).digest()
    assert entry.verifying_key_hash == hashlib.sha256(zk_block.mlp.verifying_key).digest()
    assert (entry.input_scales, entry.output_scales) == ((13,), (13,))
    view = zk_block.owner.call(REGISTRY_ADDRESS, registry_calldata("zkModelOf", CID))
    assert decode(["bytes32", "bytes32", "int8[]", "int8[]", "bool"], view) == (
        entry.settings_hash, entry.verifying_key_hash, (13,), (13,), True,
    )  # fmt: skip


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def _one_unit_more(output: bytes) -> bytes:
    tensor = decode_model_output(output).numbers[0]
    n = tensor.values[0]
    bumped = Number(n.value + 5**13, n.decimals)
    return encode_model_output(
        ModelOutput(numbers=(NumberTensor(tensor.name, (bumped,), tensor.shape),))
    )


def _same_value_other_decimals(output: bytes) -> bytes:
    tensor = decode_model_output(output).numbers[0]
    n = tensor.values[0]
    return encode_model_output(
        ModelOutput(numbers=(NumberTensor(tensor.name, (Number(n.value * 10, 14),), tensor.shape),))
    )


def _resigned(
    z: ZkBlock, *, proof: bytes | None = None, output: bytes | None = None
) -> InferenceReceipt:
    (used,) = z.witness
    return zk_receipt(
        z.request,
        used.proof if proof is None else proof,
        used.output if output is None else output,
    )


def _proof_for_another_input(z: ZkBlock) -> InferenceReceipt:
    proof, _ = prove(z.mlp, z.other_request)
    return _resigned(z, proof=proof)


def _proof_under_another_models_key(z: ZkBlock) -> InferenceReceipt:
    proof, output = prove(z.sibling, z.request)  # same input, the sibling's weights
    return _resigned(z, proof=proof, output=output)


CASES = {
    "tampered_proof_byte": (lambda z: _resigned(z, proof=_flip(z.witness[0].proof, 100)), "does not verify"),
    "tampered_last_proof_byte": (lambda z: _resigned(z, proof=_flip(z.witness[0].proof, len(z.witness[0].proof) - 1)), "does not verify"),
    "proof_with_a_byte_appended": (lambda z: _resigned(z, proof=z.witness[0].proof + b"\x00"), "this circuit's proofs are"),
    "proof_truncated": (lambda z: _resigned(z, proof=z.witness[0].proof[:-32]), "this circuit's proofs are"),
    "no_proof": (lambda z: _resigned(z, proof=b""), "without a proof"),
    "proof_for_another_input": (_proof_for_another_input, "does not verify"),
    "proof_under_another_models_key": (_proof_under_another_models_key, "does not verify"),
    "output_changed_after_proving": (lambda z: _resigned(z, output=_one_unit_more(z.witness[0].output)), "does not verify"),
    "output_in_another_decimal_form": (lambda z: _resigned(z, output=_same_value_other_decimals(z.witness[0].output)), "not a circuit value at scale 13"),
    "proof_bytes_swapped_unsigned": (lambda z: dataclasses.replace(z.witness[0], proof=_flip(z.witness[0].proof, 7)), "does not verify"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_zk_receipt_is_refused_by_the_stf(zk_block: ZkBlock, case: str) -> None:
    tamper, reason = CASES[case]
    receipt = tamper(zk_block)
    head = zk_block.verifier.get_canonical_head()
    with pytest.raises(InvalidInference) as caught:
        state_transition(zk_block.verifier, zk_block.block, [receipt])
    error = caught.value
    assert error.check is Check.INFERENCE_RECEIPT
    assert error.tx_index == 0 and error.request_id == zk_block.request.request_id
    assert reason in error.reason
    assert zk_block.verifier.get_canonical_head() == head


REGISTER_REFUSALS = {
    "key_not_the_settings": (lambda z: (CID, z.mlp.settings_bytes, z.sibling.verifying_key), "verifyingKey is not the key these circuit settings"),
    "settings_not_json": (lambda z: (CID, b"{not json", z.mlp.verifying_key), "circuit settings are not JSON"),
    "srs_the_chain_does_not_list": (lambda z: (CID, _with_srs(z.mlp.settings_bytes, b"\x07" * 32), z.mlp.verifying_key), "which this chain does not list"),
    "bad_cid": (lambda z: ("bafkreinotacid", z.mlp.settings_bytes, z.mlp.verifying_key), "registerZkModel: "),
    "empty_key": (lambda z: (CID, z.mlp.settings_bytes, b""), "verifyingKey must have 1 to 65536 bytes"),
}  # fmt: skip


def _with_srs(settings: bytes, srs_sha256: bytes) -> bytes:
    import json

    doc = json.loads(settings)
    doc["srsSha256"] = "0x" + srs_sha256.hex()
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("case", list(REGISTER_REFUSALS))
def test_invalid_register_zk_model_reverts_with_the_fix(zk_block: ZkBlock, case: str) -> None:
    args, reason = REGISTER_REFUSALS[case]
    data = registry_calldata("registerZkModel", *args(zk_block))
    with pytest.raises(ExecutionReverted, match=reason):
        zk_block.owner.call(REGISTRY_ADDRESS, data, gas=8_000_000)


def test_invalid_register_zk_model_by_a_non_owner_reverts(zk_block: ZkBlock) -> None:
    stranger = Wallet(zk_block.node, zk_block.node.config.dev_accounts()[3].private_key)
    data = registry_calldata(
        "registerZkModel", CID, zk_block.mlp.settings_bytes, zk_block.mlp.verifying_key
    )
    with pytest.raises(ExecutionReverted, match="only the chain owner .* may call registerZkModel"):
        stranger.call(REGISTRY_ADDRESS, data, gas=8_000_000)


def test_invalid_zk_call_for_a_model_without_a_circuit_reverts(zk_block: ZkBlock) -> None:
    abi = load_artifact("ModelConsumer")
    other_cid = model_cid(b"a model nobody made a circuit for")
    data = selector(abi, "predict") + encode(
        ["string", "int128[]", "int128"], [other_cid, [1, 2, 3, 4], 0]
    )
    with pytest.raises(ExecutionReverted, match="has no ZK circuit on this chain"):
        zk_block.owner.call(zk_block.consumer, data)


def test_registering_the_same_circuit_again_stores_nothing_twice(zk_block: ZkBlock) -> None:
    """The first registration paid per stored word (about 4.3 million gas for the sample
    MLP's settings and key); registering the same documents again pays only the entry."""
    first = zk_block.node.receipts(zk_block.node.block_by_number(1))[0].gas_used
    data = registry_calldata(
        "registerZkModel", CID, zk_block.mlp.settings_bytes, zk_block.mlp.verifying_key
    )
    again = zk_block.node.estimate_gas(
        CallParams(sender=zk_block.owner.address, to=REGISTRY_ADDRESS, data=data, gas=8_000_000)
    )
    words = sum(
        1 + (len(b) + 31) // 32 for b in (zk_block.mlp.settings_bytes, zk_block.mlp.verifying_key)
    )
    assert first - again >= words * 25_000 * 0.99
    assert 4_000_000 < first < 4_600_000
