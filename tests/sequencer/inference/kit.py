"""Test kit of the inference tests: a node fed witnesses by the test, keys, a toy model.

``WitnessFeed`` is the smallest real inference stage: the node's block inputs are every
pooled transaction with the receipts the test put into ``feed.witness`` (blocks execute
in ``SEAL`` mode with them); calls run in ``SIMULATE`` mode with a recording recorder,
which is how a test (like the PIPE) learns a transaction's request. ``feed.blocks`` holds
each committed block with what its execution produced (witness, calls, payouts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth_account import Account
from eth_keys import keys
from eth_utils import to_checksum_address

from neurostack.protocol.cid import model_cid, model_hash
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, make_receipt
from neurostack.protocol.tensors import (
    ModelOutput,
    Number,
    NumberTensor,
    decode_model_input,
    encode_model_output,
)
from neurostack.protocol.types import RequestId
from sequencer.chain import (
    BlockEnvironment,
    BlockInputs,
    ExecutedBlock,
    ExecutionMode,
    ReadyTransaction,
    block_environment,
)
from sequencer.chain.inference import InferencePending, InferenceRequest, RecordingRecorder
from sequencer.config import Allocation, ChainConfig, ChainSection, DevSection, InferenceSection
from sequencer.node import Node
from sequencer.types import CallParams

CHAIN_ID = 4242
GWEI = 10**9
OWNER_KEY = bytes.fromhex("11" * 32)
SPRINTER_KEY = bytes.fromhex("22" * 32)
ROOT_KEY = bytes.fromhex("33" * 32)
TEE_KEY = bytes.fromhex("44" * 32)
STRANGER_KEY = bytes.fromhex("55" * 32)
MEASUREMENT = bytes.fromhex("6d" * 32)
MODEL_FILE = b"a toy model: y = 2 * sum(x)"
MODEL_CID = model_cid(MODEL_FILE)
MODEL_HASH = model_hash(MODEL_FILE)
FAR_FUTURE = 4_000_000_000  # receipts of most tests never expire


def address_of(private_key: bytes) -> bytes:
    return keys.PrivateKey(private_key).public_key.to_canonical_address()


def make_config(tmp_path: Path, **inference: Any) -> ChainConfig:
    (tmp_path / "keys").mkdir(exist_ok=True)
    (tmp_path / "keys" / "sequencer.key").write_text("0x" + OWNER_KEY.hex())
    section: dict[str, Any] = {
        "sprinters": ["0x" + address_of(SPRINTER_KEY).hex()],
        "attestation_roots": ["0x" + address_of(ROOT_KEY).hex()],
        "approved_measurements": ["0x" + MEASUREMENT.hex()],
    }
    section.update(inference)
    return ChainConfig(
        chain=ChainSection(name="inference-test", chain_id=CHAIN_ID, block_time=0),
        dev=DevSection(accounts=4),
        inference=InferenceSection(**section),
        alloc=[Allocation(address="0x" + address_of(OWNER_KEY).hex(), balance=10**21)],
        root=tmp_path,
    )


@dataclass
class WitnessFeed:
    """Block inputs carrying the receipts in ``witness``; calls record requests."""

    node: Node
    witness: dict[RequestId, InferenceReceipt] = field(default_factory=dict)
    blocks: list[ExecutedBlock] = field(default_factory=list)
    recorder: RecordingRecorder = field(default_factory=RecordingRecorder)
    call_mode: ExecutionMode = ExecutionMode.SIMULATE
    call_recorder: Any = None

    def attach(self) -> WitnessFeed:
        self.node.set_block_inputs(self)
        self.node.set_call_environments(self)
        self.node.add_commit_listener(lambda committed: self.blocks.append(committed.executed))
        return self

    def block_inputs(self, candidates: Sequence[SignedTransactionAPI]) -> BlockInputs:
        receipts = tuple(self.witness.values())
        return BlockInputs(tuple(ReadyTransaction(tx, receipts) for tx in candidates))

    def call_environment(self, header: BlockHeaderAPI) -> BlockEnvironment:
        """SIMULATE over the witness (like a PIPE re-simulation); ``call_mode`` may be SEAL."""
        self.recorder = RecordingRecorder()
        return block_environment(
            self.node.spec,
            self.node.state_at(header.block_number),
            witness=dict(self.witness),
            mode=self.call_mode,
            recorder=self.call_recorder or self.recorder,
        )


def toy_model_output(request: InferenceRequest) -> bytes:
    """The toy model's answer: ``y = 2·sum(x)`` as one Number with the input's decimals."""
    tensor = decode_model_input(request.input_abi).numbers[0]
    total = sum(n.value for n in tensor.values)
    decimals = tensor.values[0].decimals if tensor.values else 0
    out = ModelOutput(numbers=(NumberTensor("y", (Number(2 * total, decimals),), (1, 1)),))
    return encode_model_output(out)


def receipt_for(
    request: InferenceRequest,
    *,
    key: bytes = SPRINTER_KEY,
    output: bytes | None = None,
    expiry: int = FAR_FUTURE,
    chain_id: int | None = None,
    file_hash: bytes = MODEL_HASH,
    mode: InferenceMode | None = None,
) -> InferenceReceipt:
    """A sprinter's signed receipt for ``request`` (each keyword tampers with one aspect)."""
    return make_receipt(
        chain_id=request.chain_id if chain_id is None else chain_id,
        model_cid=request.model_cid,
        model_hash=file_hash,
        mode=request.mode if mode is None else mode,
        input_abi=request.input_abi,
        output_abi=toy_model_output(request) if output is None else output,
        expiry=expiry,
        private_key=key,
    )


class Wallet:
    """Signs transactions of one funded dev account, tracking its nonce."""

    def __init__(self, node: Node, private_key: str) -> None:
        self.node = node
        self.key = private_key
        self.address = bytes.fromhex(Account.from_key(private_key).address[2:])
        self.nonce = node.pending_nonce(self.address)

    def sign(self, to: bytes | None, data: bytes, *, gas: int = 2_000_000, value: int = 0,
             tip: int = GWEI // 10) -> bytes:  # fmt: skip
        """A raw signed transaction with the next nonce (not sent, nonce not advanced)."""
        tx = {
            "chainId": CHAIN_ID, "nonce": self.nonce, "gas": gas, "value": value, "data": data,
            "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": tip, "type": 2,
        }  # fmt: skip
        if to is not None:
            tx["to"] = to_checksum_address(to)
        return bytes(Account.sign_transaction(tx, self.key).raw_transaction)

    def send(self, to: bytes | None, data: bytes, *, gas: int = 2_000_000, value: int = 0,
             tip: int = GWEI // 10) -> bytes:  # fmt: skip
        raw = self.sign(to, data, gas=gas, value=value, tip=tip)
        self.nonce += 1
        return self.node.send_raw_transaction(raw)

    def call(self, to: bytes, data: bytes, gas: int = 2_000_000) -> bytes:
        return self.node.call(CallParams(sender=self.address, to=to, data=data, gas=gas))

    def requests_of(self, to: bytes, data: bytes, gas: int = 2_000_000) -> InferenceRequest:
        """Simulate a call (eth_call path) and return the request it stops at."""
        params = CallParams(sender=self.address, to=to, data=data, gas=gas)
        try:
            self.node.call(params)
        except InferencePending as pending:
            return pending.request
        raise AssertionError("the call did not stop at an inference request")
