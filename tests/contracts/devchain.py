"""A bare py-evm chain for contract tests: Prague rules, one funded key, one block per tx.

It uses py-evm directly (no eth-tester, no sequencer) so these tests prove only what the
Solidity toolchain owns: that solc-js output for the chosen evmVersion runs on the VM the
node is built on. ``precompiles`` adds stand-in precompiles, e.g. a fake 0xF4 that answers
inference requests, so the example contracts can be exercised without the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth import constants
from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PRAGUE_PRECOMPILES, PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode, encode
from eth_keys import keys
from eth_utils import function_abi_to_4byte_selector, keccak
from eth_utils.abi import collapse_if_tuple

from neurostack.solidity import CompiledContract

CHAIN_ID = 1337
KEY = keys.PrivateKey(b"\x42" * 32)
SENDER = KEY.public_key.to_canonical_address()
GAS_PRICE = 2 * 10**9

Precompile = Callable[[ComputationAPI], ComputationAPI]


@dataclass
class Result:
    """What a transaction or a call did."""

    success: bool
    output: bytes  # return data, or revert data when not successful
    logs: list[tuple[bytes, list[int], bytes]]  # (address, topics, data)
    gas_used: int


def _vm_with(precompiles: Mapping[bytes, Precompile]) -> type[PragueVM]:
    computation = type(
        "TestComputation",
        (PragueComputation,),
        {"_precompiles": {**PRAGUE_PRECOMPILES, **precompiles}},
    )
    state = type("TestState", (PragueState,), {"computation_class": computation})
    return type("TestVM", (PragueVM,), {"_state_class": state})  # type: ignore[return-value]


class DevChain:
    def __init__(self, precompiles: Mapping[bytes, Precompile] | None = None) -> None:
        vm_class = _vm_with(precompiles or {})
        chain_class = MiningChain.configure(
            __name__="ContractTestChain", vm_configuration=((0, vm_class),), chain_id=CHAIN_ID
        )
        params = {
            "difficulty": 0,
            "gas_limit": 30_000_000,
            "timestamp": 1,
            "extra_data": b"",
            "base_fee_per_gas": 10**9,
            "nonce": b"\x00" * 8,
            "mix_hash": b"\x00" * 32,
            "coinbase": constants.ZERO_ADDRESS,
        }
        alloc = {SENDER: {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}}}
        self.chain = chain_class.from_genesis(AtomicDB(), params, alloc)

    def _unsigned(self, to: bytes, data: bytes, gas: int = 8_000_000) -> Any:
        vm = self.chain.get_vm()
        nonce = vm.state.get_nonce(SENDER)
        return vm.create_unsigned_transaction(
            nonce=nonce, gas_price=GAS_PRICE, gas=gas, to=to, value=0, data=data
        )

    def _tx(self, to: bytes, data: bytes) -> Any:
        return self._unsigned(to, data).as_signed_transaction(KEY, chain_id=CHAIN_ID)

    def transact(self, to: bytes, data: bytes) -> Result:
        tx = self._tx(to, data)
        _, receipt, computation = self.chain.apply_transaction(tx)
        self.chain.mine_block()
        logs = [(log.address, list(log.topics), log.data) for log in receipt.logs]
        output = computation.output if computation.is_success else _revert_data(computation)
        return Result(computation.is_success, output, logs, receipt.gas_used)

    def call(self, to: bytes, data: bytes) -> Result:
        """Like eth_call: run on the latest block's state, change nothing."""
        # A spoofed sender: costless execution re-prices the transaction, which would
        # change a signed transaction's recovered sender.
        tx = SpoofTransaction(self._unsigned(to, data), from_=SENDER)
        head = self.chain.get_canonical_head()
        with self.chain.get_vm(head).in_costless_state() as state:
            computation = state.costless_execute_transaction(tx)
        output = computation.output if computation.is_success else _revert_data(computation)
        return Result(computation.is_success, output, [], 0)

    def deploy(self, contract: CompiledContract, *args: Any) -> Contract:
        nonce = self.chain.get_vm().state.get_nonce(SENDER)
        ctor = next((e for e in contract.abi if e["type"] == "constructor"), None)
        encoded = encode([collapse_if_tuple(i) for i in ctor["inputs"]], args) if ctor else b""
        result = self.transact(b"", contract.bytecode + encoded)
        assert result.success, f"deploying {contract.name} failed: {result.output.hex()}"
        address = generate_contract_address(SENDER, nonce)
        return Contract(self, address, contract.abi)

    def code_at(self, address: bytes) -> bytes:
        return self.chain.get_vm().state.get_code(address)


def _revert_data(computation: ComputationAPI) -> bytes:
    # py-evm keeps the REVERT payload on the computation even when it is an error
    return bytes(computation._output) if hasattr(computation, "_output") else b""


class Contract:
    """A deployed contract: ``transact(fn, *args)`` / ``call(fn, *args)`` by function name."""

    def __init__(self, chain: DevChain, address: bytes, abi: list[dict[str, Any]]) -> None:
        self.chain, self.address, self.abi = chain, address, abi

    def _fn(self, name: str) -> dict[str, Any]:
        matches = [e for e in self.abi if e.get("type") == "function" and e["name"] == name]
        assert len(matches) == 1, f"{name}: {len(matches)} functions with that name"
        return matches[0]

    def encode_call(self, name: str, *args: Any) -> bytes:
        fn = self._fn(name)
        types = [collapse_if_tuple(i) for i in fn["inputs"]]
        return function_abi_to_4byte_selector(fn) + encode(types, args)

    def decode_output(self, name: str, data: bytes) -> tuple[Any, ...]:
        return tuple(decode([collapse_if_tuple(o) for o in self._fn(name)["outputs"]], data))

    def transact(self, name: str, *args: Any) -> Result:
        return self.chain.transact(self.address, self.encode_call(name, *args))

    def call(self, name: str, *args: Any) -> Any:
        result = self.chain.call(self.address, self.encode_call(name, *args))
        assert result.success, f"{name} reverted: {result.output.hex()}"
        values = self.decode_output(name, result.output)
        return values[0] if len(values) == 1 else values

    def events(self, result: Result, name: str) -> list[tuple[list[int], tuple[Any, ...]]]:
        """Decoded (topics, non-indexed values) of the logs of event ``name`` in ``result``."""
        event = next(e for e in self.abi if e.get("type") == "event" and e["name"] == name)
        signature = f"{name}({','.join(collapse_if_tuple(i) for i in event['inputs'])})"
        topic0 = int.from_bytes(keccak(text=signature), "big")
        data_types = [collapse_if_tuple(i) for i in event["inputs"] if not i["indexed"]]
        return [
            (topics, tuple(decode(data_types, data)))
            for address, topics, data in result.logs
            if address == self.address and topics and topics[0] == topic0
        ]


def error_selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


__all__: Sequence[str] = ["CHAIN_ID", "SENDER", "Contract", "DevChain", "Result", "error_selector"]
