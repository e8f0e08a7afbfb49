"""PIPE hands its backend the chain's rule for result signers: the registry as of the block
being built, so a result signed by an unregistered or revoked key is never used (the job
client then asks another sprinter; tests/jobs and tests/e2e/test_redis_attacks.py)."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.registry import REGISTRY_ADDRESS
from neurostack.solidity import CompiledContract
from tests.sequencer.inference.kit import OWNER_KEY, SPRINTER_KEY, STRANGER_KEY, address_of

from .kit import Pipe, Wallet
from .test_pool import predict


def test_backend_gets_the_registry_rule_of_the_block_being_built(
    pipe: Pipe, consumer: bytes, consumer_abi: CompiledContract
) -> None:
    pipe.wallets[1].send(consumer, predict(consumer_abi, [3, 4]))
    pipe.settle()
    admissible = pipe.backend.admissible
    assert admissible is not None
    sprinter, stranger = address_of(SPRINTER_KEY), address_of(STRANGER_KEY)
    assert admissible(sprinter, InferenceMode.VANILLA) is None  # type: ignore[arg-type]
    assert "not registered" in admissible(stranger, InferenceMode.VANILLA)  # type: ignore[arg-type, operator]
    assert "not admitted" in admissible(sprinter, InferenceMode.TEE)  # type: ignore[arg-type, operator]

    owner = Wallet(pipe.node, "0x" + OWNER_KEY.hex())
    revoke = keccak(text="revokeSprinter(address)")[:4] + encode(["address"], [sprinter])
    owner.send(bytes(REGISTRY_ADDRESS), revoke, gas=200_000)
    pipe.mine()  # the next block is built on a registry without the key
    assert "revoked" in admissible(sprinter, InferenceMode.VANILLA)  # type: ignore[arg-type, operator]
