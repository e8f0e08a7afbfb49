"""OPTIMISTIC mode and staking, through the state transition of a real node (issue 9).

One chain in ``sprinter_admission = "stake"`` mode with a 3-block challenge window and a
5-block unbonding delay: sprinters bond with ``stake()``; a contract gets a bonded
sprinter's OPTIMISTIC result at once; a forged result is challenged with a TEE receipt
(bond slashed, challenger paid, the rest burned, event logged); failed challenges revert
and cost their gas; an honest result cannot be slashed and becomes final; unstaking does
not escape a challenge; native-token supply is conserved exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode
from eth_utils import keccak

from neurostack.protocol.admission import signer_problem
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import InferenceReceipt, decode_receipt, encode_receipt
from neurostack.protocol.registry import (
    Admission,
    Bond,
    StakingParams,
    Status,
    registry_from_storage,
    set_bond,
    set_sprinter,
    set_staking_params,
    slot_of,
    staking_params,
)
from neurostack.protocol.request import request_id
from neurostack.protocol.tensors import ModelOutput, Number, NumberTensor, encode_model_output
from neurostack.protocol.types import Address
from neurostack.solidity import CompiledContract
from sequencer.chain import ExecutionMode
from sequencer.chain.inference import (
    REGISTRY_ADDRESS,
    InferenceRequest,
    InvalidInferenceReceipt,
    make_dev_attestation,
)
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.errors import ConfigError, ExecutionReverted

from .conftest import Rig, deploy, make_rig
from .kit import (
    CHAIN_ID,
    GWEI,
    MEASUREMENT,
    ROOT_KEY,
    TEE_KEY,
    Wallet,
    address_of,
    make_config,
    receipt_for,
    toy_model_output,
)

pytestmark = pytest.mark.slow

ETHER = 10**18
MIN_BOND = ETHER
WINDOW, UNBONDING, SHARE_BPS = 3, 5, 4_000
CHEAT_KEY = bytes.fromhex("a7" * 32)  # a bonded sprinter that forges
HONEST_KEY = bytes.fromhex("a8" * 32)  # a bonded sprinter that does not
LEAVER_KEY = bytes.fromhex("a9" * 32)  # forges, then unstakes at once
POOR_KEY = bytes.fromhex("aa" * 32)  # bonds less than the minimum
SPRINTER_KEYS = (CHEAT_KEY, HONEST_KEY, LEAVER_KEY, POOR_KEY)


@dataclass
class Opt:
    rig: Rig
    consumer: bytes  # ModelConsumer in OPTIMISTIC mode
    sprinters: dict[bytes, Wallet]
    challenger: Wallet
    user: Wallet

    def predict(self, features: list[int]) -> tuple[bytes, InferenceRequest]:
        data = self.rig.predict_data(features)
        return data, self.user.requests_of(self.consumer, data)

    def answer(self, request: InferenceRequest, key: bytes, output: bytes | None = None) -> None:
        self.rig.feed.witness[request.request_id] = receipt_for(request, key=key, output=output)

    def view(self, name: str, *args: Any) -> Any:
        fn = _function(name)
        raw = self.user.call(REGISTRY_ADDRESS, registry_calldata(name, *args))
        out = decode(list(fn.outputs), raw)
        return out[0] if len(out) == 1 else list(out)

    def send(self, wallet: Wallet, name: str, *args: Any, value: int = 0) -> Any:
        tx = wallet.send(REGISTRY_ADDRESS, registry_calldata(name, *args), gas=400_000,
                         value=value)  # fmt: skip
        block = self.rig.mine()
        return self.rig.receipt_of(block, tx)

    def balance(self, address: bytes) -> int:
        return self.rig.node.state_at(self.rig.node.head().header.block_number).get_balance(address)


def _function(name: str) -> Any:
    from sequencer.chain.inference.system_contract import FUNCTIONS

    return next(f for f in FUNCTIONS if f.name == name)


def forged_output() -> bytes:
    return encode_model_output(ModelOutput(numbers=(NumberTensor("y", (Number(666, 1),), (1, 1)),)))


def tee_receipt(request: InferenceRequest, output: bytes | None = None) -> InferenceReceipt:
    """A TEE counter-proof of ``request``'s model and input (the honest output by default)."""
    tee = dataclasses.replace(
        request,
        mode=InferenceMode.TEE,
        request_id=request_id(CHAIN_ID, request.model_cid, InferenceMode.TEE, request.input_abi),
    )
    return receipt_for(tee, key=TEE_KEY, output=output)


def topic(signature: str) -> int:
    return int.from_bytes(keccak(text=signature), "big")


@pytest.fixture(scope="module")
def opt(
    tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, CompiledContract]
) -> Iterator[Opt]:
    for rig in make_rig(
        tmp_path_factory.mktemp("optimistic"), contracts,
        modes=["VANILLA", "TEE", "OPTIMISTIC"], sprinter_admission="stake", min_bond=MIN_BOND,
        challenge_window=WINDOW, unbonding_delay=UNBONDING, challenger_share_bps=SHARE_BPS,
    ):  # fmt: skip
        consumer = deploy(rig.node, rig.wallets[0], contracts["ModelConsumer"],
                          ["string", "uint8"], ["x", InferenceMode.OPTIMISTIC])  # fmt: skip
        for key in SPRINTER_KEYS:
            rig.owner.send(address_of(key), b"", gas=21_000, value=10 * ETHER)
        document = make_dev_attestation(
            key=address_of(TEE_KEY), measurement=MEASUREMENT,
            timestamp=rig.node.head().header.timestamp, root_private_key=ROOT_KEY,
        )  # fmt: skip
        rig.wallets[3].send(
            REGISTRY_ADDRESS, registry_calldata("registerTeeKey", address_of(TEE_KEY), document),
            gas=300_000,
        )  # fmt: skip
        rig.mine()
        sprinters = {k: Wallet(rig.node, "0x" + k.hex()) for k in SPRINTER_KEYS}
        state = Opt(rig, consumer, sprinters, rig.wallets[2], rig.wallets[1])
        for key in (CHEAT_KEY, HONEST_KEY, LEAVER_KEY):
            sprinters[key].send(REGISTRY_ADDRESS, registry_calldata("stake"), gas=200_000,
                                value=2 * ETHER)  # fmt: skip
        sprinters[POOR_KEY].send(REGISTRY_ADDRESS, registry_calldata("stake"), gas=200_000,
                                 value=MIN_BOND - 1)  # fmt: skip
        rig.mine()
        yield state


# --- config and the admission rule (no chain) ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"challenge_window": 10, "unbonding_delay": 10}, "must be longer than challenge_window"),
        ({"sprinter_admission": "vote"}, 'use "list" or "stake"'),
        ({"challenger_share_bps": 10_001}, "challenger_share_bps"),
        ({"min_bond": 0}, "min_bond"),
    ],
)
def test_config_refuses_unsafe_staking_parameters(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    from sequencer.config import load_chain_config

    make_config(tmp_path)  # writes the key file
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in fields.items())
    (tmp_path / "chain.toml").write_text(
        f'[chain]\nname = "x"\nchain_id = 7\n\n[inference]\n{lines}\n'
    )
    with pytest.raises(ConfigError, match=message):
        load_chain_config(tmp_path / "chain.toml")


def test_admission_rule_by_mode_and_admission() -> None:
    listed, bonded, both, revoked = (Address(bytes([i]) * 20) for i in (1, 2, 3, 4))
    for admission in Admission:
        storage: dict[int, int] = {}
        write = storage.__setitem__
        set_staking_params(write, StakingParams(admission=admission, min_bond=100))
        for who in (listed, both, revoked):
            set_sprinter(write, who, Status.ACTIVE)
        set_sprinter(write, revoked, Status.REVOKED)
        for who in (bonded, both, revoked):
            set_bond(write, who, Bond(100, 0, 0))
        view = registry_from_storage(storage)

        def ok(who: Address, mode: InferenceMode, view: Any = view) -> bool:
            return signer_problem(who, mode, registry=view, now=0) is None

        vanilla = {w: ok(w, InferenceMode.VANILLA) for w in (listed, bonded, both, revoked)}
        optimistic = {w: ok(w, InferenceMode.OPTIMISTIC) for w in (listed, bonded, both, revoked)}
        if admission is Admission.LIST:
            assert vanilla == {listed: True, bonded: False, both: True, revoked: False}
            assert optimistic == {listed: False, bonded: False, both: True, revoked: False}
        else:
            assert vanilla == {listed: False, bonded: True, both: True, revoked: False}
            assert optimistic == {listed: False, bonded: True, both: True, revoked: False}
    storage = {}
    set_staking_params(storage.__setitem__, StakingParams(admission=Admission.STAKE))
    set_bond(storage.__setitem__, listed, Bond(0, 10**18, 9))  # unbonding does not count
    unbonding = registry_from_storage(storage)
    problem = signer_problem(listed, InferenceMode.OPTIMISTIC, registry=unbonding, now=0)
    assert problem is not None and "bonds 0 wei, less than the minimum" in problem


def test_genesis_stores_the_parameters_only_when_they_are_not_the_defaults() -> None:
    from sequencer.chain.inference.attestation import DevAttestationVerifier
    from sequencer.chain.inference.genesis import registry_storage
    from sequencer.chain.spec import RegistrySeed

    owner = Address(b"\x01" * 20)
    custom = StakingParams(Admission.STAKE, 5, 7, 9, 100)
    for params, words in ((StakingParams(), 0), (custom, 5)):
        storage = registry_storage(RegistrySeed(owner, staking=params), DevAttestationVerifier())
        assert sum(slot_of(b"stakecfg") + i in storage for i in range(5)) == words
        assert staking_params(registry_from_storage(storage)) == params


def test_genesis_bond_backs_every_genesis_sprinter_and_new_devnets_with_optimistic_get_it(
    tmp_path: Path,
) -> None:
    from neurostack.devnet.project import create_project
    from sequencer.chain.genesis import genesis_state
    from sequencer.chainspec import chain_spec
    from sequencer.config import load_chain_config

    project = create_project("optnet", tmp_path, {"modes": "VANILLA,OPTIMISTIC", "workers": 2})
    config = load_chain_config(project / "chain.toml")
    assert config.inference.genesis_bond == 10 * ETHER
    spec = chain_spec(config)
    registry = genesis_state(spec)[REGISTRY_ADDRESS]
    view = registry_from_storage(registry["storage"])
    sprinters = [Address(bytes.fromhex(a[2:])) for a in config.inference.sprinters]
    assert len(sprinters) == 2 and registry["balance"] == 2 * 10 * ETHER
    for sprinter in sprinters:
        assert signer_problem(sprinter, InferenceMode.OPTIMISTIC, registry=view, now=0) is None
    plain = load_chain_config(create_project("plain", tmp_path, {"workers": 1}) / "chain.toml")
    assert plain.inference.genesis_bond == 0


def test_receipt_encoding_round_trips_and_garbage_is_refused(opt: Opt) -> None:
    _, request = opt.predict([1])
    receipt = receipt_for(request, key=HONEST_KEY)
    assert decode_receipt(encode_receipt(receipt), CHAIN_ID) == receipt
    from neurostack.protocol.errors import InvalidReceipt

    for junk in (b"", b"\x01" * 31, encode_receipt(receipt)[:-32], b"\xff" * 800):
        with pytest.raises(InvalidReceipt):
            decode_receipt(junk, CHAIN_ID)


# --- staking -----------------------------------------------------------------------------


def test_stake_bonds_value_in_the_registry_and_logs_it(opt: Opt) -> None:
    assert opt.view("stakingParams") == [True, MIN_BOND, WINDOW, UNBONDING, SHARE_BPS]
    assert opt.view("bondOf", address_of(HONEST_KEY)) == [2 * ETHER, 0, 0]
    assert opt.view("bondOf", address_of(POOR_KEY)) == [MIN_BOND - 1, 0, 0]
    honest = opt.sprinters[HONEST_KEY]
    receipt = opt.send(honest, "stake", value=ETHER)
    assert receipt.state_root == b"\x01"
    (log,) = receipt.logs
    assert log.topics[0] == topic("Staked(address,uint256,uint256)")
    assert decode(["uint256", "uint256"], log.data) == (ETHER, 3 * ETHER)
    assert opt.view("bondOf", address_of(HONEST_KEY)) == [3 * ETHER, 0, 0]
    with pytest.raises(ExecutionReverted, match="send the amount to bond"):
        honest.call(REGISTRY_ADDRESS, registry_calldata("stake"))
    for name, args in (("unstake", (1,)), ("withdraw", ()), ("isFinal", (b"\x00" * 32,))):
        data = registry_calldata(name, *args)
        tx = honest.send(REGISTRY_ADDRESS, data, gas=200_000, value=1)
        receipt = opt.rig.receipt_of(opt.rig.mine(), tx)
        assert receipt.state_root == b""  # "is not payable; send no value"


def test_stake_admission_admits_bonded_vanilla_signers_only(opt: Opt) -> None:
    data = opt.rig.predict_data([41])
    request = opt.user.requests_of(opt.rig.consumer, data)  # the VANILLA consumer
    for key, reason in ((POOR_KEY, "less than the minimum"), (TEE_KEY, "bonds 0 wei")):
        opt.rig.feed.witness[request.request_id] = receipt_for(request, key=key)
        with pytest.raises(InvalidInferenceReceipt, match=reason):
            seal(opt, opt.rig.consumer, data)
    opt.rig.feed.witness[request.request_id] = receipt_for(request, key=HONEST_KEY)
    tx = opt.user.send(opt.rig.consumer, data)
    assert opt.rig.receipt_of(opt.rig.mine(), tx).state_root == b"\x01"


def seal(opt: Opt, to: bytes, data: bytes) -> None:
    """Execute a call the way a block would (SEAL mode); raises what the block would."""
    opt.rig.feed.call_mode = ExecutionMode.SEAL
    try:
        opt.user.call(to, data)
    finally:
        opt.rig.feed.call_mode = ExecutionMode.SIMULATE


def test_unbonded_signer_cannot_sign_optimistic_receipts(opt: Opt) -> None:
    data, request = opt.predict([42])
    opt.answer(request, POOR_KEY)
    with pytest.raises(InvalidInferenceReceipt, match="less than the minimum"):
        seal(opt, opt.consumer, data)
    tx = opt.user.send(opt.consumer, data)
    assert tx not in [t.hash for t in opt.rig.mine().transactions]  # deferred, not included
    opt.answer(request, HONEST_KEY)
    assert opt.rig.receipt_of(opt.rig.mine(), tx).state_root == b"\x01"


# --- the challenge game ------------------------------------------------------------------


def use_forged_result(opt: Opt, features: list[int], key: bytes) -> tuple[InferenceRequest, int]:
    """A contract call answered by ``key`` with a forged output; (request, its block)."""
    data, request = opt.predict(features)
    opt.answer(request, key, forged_output())
    tx = opt.user.send(opt.consumer, data)
    block = opt.rig.mine()
    receipt = opt.rig.receipt_of(block, tx)
    assert receipt.state_root == b"\x01"
    assert opt.rig.read("lastValue", "int256", opt.consumer) == 666  # usable at once
    recorded = [log for log in receipt.logs if log.address == REGISTRY_ADDRESS]
    assert [log.topics[0] for log in recorded] == [
        topic("OptimisticResultRecorded(bytes32,address,bytes32,string,bytes)")
    ]
    assert decode(["bytes32", "string", "bytes"], recorded[0].data) == (
        keccak(forged_output()), request.model_cid, request.input_abi,
    )  # fmt: skip
    return request, block.header.block_number


def challenge_data(request: InferenceRequest, counter: InferenceReceipt | bytes,
                   input_abi: bytes | None = None) -> bytes:  # fmt: skip
    encoded = counter if isinstance(counter, bytes) else encode_receipt(counter)
    return registry_calldata("challenge", request.request_id,
                             request.input_abi if input_abi is None else input_abi, encoded)  # fmt: skip


def test_forged_result_is_challenged_bond_slashed_challenger_paid_rest_burned(opt: Opt) -> None:
    request, used_at = use_forged_result(opt, [51, 2], CHEAT_KEY)
    cheat = address_of(CHEAT_KEY)
    sprinter, output_hash, block, deadline, state = opt.view(
        "optimisticResultOf", request.request_id
    )
    assert (sprinter, block, deadline, state) == ("0x" + cheat.hex(), used_at,
                                                  used_at + WINDOW, 1)  # fmt: skip
    assert output_hash == keccak(forged_output())
    assert opt.view("isFinal", request.request_id) is False

    bond = opt.view("bondOf", cheat)[0]
    burned_before = opt.view("totalSlashBurned")
    registry_before = opt.balance(REGISTRY_ADDRESS)
    challenger = opt.challenger
    before = opt.balance(challenger.address)
    tx = challenger.send(REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)),
                         gas=600_000)  # fmt: skip
    mined = opt.rig.mine()
    receipt = opt.rig.receipt_of(mined, tx)
    assert receipt.state_root == b"\x01"
    reward = bond * SHARE_BPS // 10_000
    gas_paid = _gas_paid(opt, mined, tx)
    assert opt.balance(challenger.address) == before + reward - gas_paid
    assert opt.balance(REGISTRY_ADDRESS) == registry_before - bond
    assert opt.view("totalSlashBurned") == burned_before + bond - reward
    assert opt.view("bondOf", cheat) == [0, 0, 0]
    (log,) = receipt.logs
    assert log.address == REGISTRY_ADDRESS
    assert tuple(log.topics) == (
        topic("ResultChallenged(bytes32,address,address,bytes32,bytes32,uint256,uint256)"),
        int.from_bytes(request.request_id, "big"), int.from_bytes(cheat, "big"),
        int.from_bytes(challenger.address, "big"),
    )  # fmt: skip
    honest_output = toy_model_output(request)
    assert decode(["bytes32", "bytes32", "uint256", "uint256"], log.data) == (
        keccak(forged_output()), keccak(honest_output), bond, reward,
    )  # fmt: skip
    result = opt.view("optimisticResultOf", request.request_id)
    assert result[1] == keccak(honest_output) and result[4] == 3  # challenged
    assert opt.view("isFinal", request.request_id) is False
    with pytest.raises(ExecutionReverted, match="was already challenged"):
        challenger.call(REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)))
    # the slashed sprinter can no longer sign OPTIMISTIC receipts
    data, other = opt.predict([52])
    opt.answer(other, CHEAT_KEY)
    with pytest.raises(InvalidInferenceReceipt, match="bonds 0 wei"):
        seal(opt, opt.consumer, data)
    opt.rig.feed.witness.pop(other.request_id)
    # a later OPTIMISTIC use of the request must carry the proven output
    data = opt.rig.predict_data([51, 2])
    opt.answer(request, HONEST_KEY, forged_output())
    with pytest.raises(InvalidInferenceReceipt, match="contradicts it"):
        seal(opt, opt.consumer, data)
    opt.answer(request, HONEST_KEY)
    tx = opt.user.send(opt.consumer, data)
    assert opt.rig.receipt_of(opt.rig.mine(), tx).state_root == b"\x01"
    assert opt.rig.read("lastValue", "int256", opt.consumer) == 2 * (51 + 2)


def _gas_paid(opt: Opt, block: Any, tx_hash: bytes) -> int:
    receipts = opt.rig.node.receipts(block)
    index = [t.hash for t in block.transactions].index(tx_hash)
    used = receipts[index].gas_used - (receipts[index - 1].gas_used if index else 0)
    tx = block.transactions[index]
    base = block.header.base_fee_per_gas
    return used * min(tx.max_fee_per_gas, base + tx.max_priority_fee_per_gas)


CHEAT2_KEY = bytes.fromhex("ab" * 32)


def staked_cheater(opt: Opt) -> bytes:
    """A second bonded cheater (the first one is slashed), bonded on first use."""
    if opt.view("bondOf", address_of(CHEAT2_KEY))[0] < MIN_BOND:
        opt.rig.owner.send(address_of(CHEAT2_KEY), b"", gas=21_000, value=5 * ETHER)
        opt.rig.mine()
        wallet = Wallet(opt.rig.node, "0x" + CHEAT2_KEY.hex())
        assert opt.send(wallet, "stake", value=2 * ETHER).state_root == b"\x01"
    return CHEAT2_KEY


def test_failed_challenges_revert_with_the_reason_and_cost_gas(opt: Opt) -> None:
    request, _ = use_forged_result(opt, [61, 3], staked_cheater(opt))
    _, other = opt.predict([62, 3])
    tee_request = dataclasses.replace(
        request, mode=InferenceMode.TEE,
        request_id=request_id(CHAIN_ID, request.model_cid, InferenceMode.TEE, request.input_abi),
    )  # fmt: skip
    cases = [
        (receipt_for(request, key=HONEST_KEY), "a OPTIMISTIC receipt is no counter-proof"),
        (
            receipt_for(
                dataclasses.replace(
                    request, mode=InferenceMode.VANILLA, request_id=tee_request.request_id
                ),
                key=HONEST_KEY,
            ),
            "a VANILLA receipt is no counter-proof",
        ),
        (tee_receipt(request, forged_output()), "gives the same output"),
        (tee_receipt(other), "for another request"),
        (dataclasses.replace(tee_receipt(request), signature=b"\x01" * 65), "does not verify"),
        (dataclasses.replace(tee_receipt(request), output=forged_output()), "does not verify"),
        (receipt_for(tee_request, key=HONEST_KEY), "does not verify: .* not admitted"),
        (receipt_for(tee_request, key=TEE_KEY, expiry=1), "does not verify: .*expired"),
        (b"\x00" * 64, "counter-proof: not an ABI-encoded receipt"),
    ]
    datas = [(challenge_data(request, counter), reason) for counter, reason in cases]
    datas.append((challenge_data(request, tee_receipt(other), other.input_abi),
                  "for another request"))  # fmt: skip
    datas.append((challenge_data(other, tee_receipt(other)), "no OPTIMISTIC result is recorded"))
    challenger = opt.challenger
    for data, reason in datas:
        with pytest.raises(ExecutionReverted, match=reason):
            challenger.call(REGISTRY_ADDRESS, data)
    # sent as a transaction: included, failed, gas paid, nothing slashed
    bond = opt.view("bondOf", address_of(CHEAT2_KEY))
    before = opt.balance(challenger.address)
    tx = challenger.send(REGISTRY_ADDRESS, datas[2][0], gas=600_000)
    mined = opt.rig.mine()
    assert opt.rig.receipt_of(mined, tx).state_root == b""
    paid = _gas_paid(opt, mined, tx)
    assert paid > 0 and opt.balance(challenger.address) == before - paid
    assert opt.view("bondOf", address_of(CHEAT2_KEY)) == bond


def test_honest_result_is_not_slashable_and_is_final_after_the_window(opt: Opt) -> None:
    data, request = opt.predict([71])
    opt.answer(request, HONEST_KEY)
    tx = opt.user.send(opt.consumer, data)
    used_at = opt.rig.mine().header.block_number
    bond = opt.view("bondOf", address_of(HONEST_KEY))
    with pytest.raises(ExecutionReverted, match="gives the same output; the result stands"):
        opt.challenger.call(REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)))
    assert tx
    # a challenge is accepted up to block used_at + WINDOW (eth_call runs as the head block)
    while opt.rig.node.head().header.block_number <= used_at + WINDOW:
        assert opt.view("isFinal", request.request_id) is False
        opt.rig.mine()
    assert opt.view("isFinal", request.request_id) is True
    assert opt.view("optimisticResultOf", request.request_id)[4] == 2  # final
    with pytest.raises(ExecutionReverted, match="closed at block .*the result is final"):
        opt.challenger.call(
            REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request, forged_output()))
        )
    assert opt.view("bondOf", address_of(HONEST_KEY)) == bond


def test_challenge_after_the_window_is_refused_even_for_a_forged_result(opt: Opt) -> None:
    wallet_key = staked_cheater(opt)
    request, used_at = use_forged_result(opt, [81], wallet_key)
    while opt.rig.node.head().header.block_number <= used_at + WINDOW:
        opt.rig.mine()
    assert opt.view("isFinal", request.request_id) is True
    bond = opt.view("bondOf", address_of(wallet_key))
    tx = opt.challenger.send(REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)),
                             gas=600_000)  # fmt: skip
    assert opt.rig.receipt_of(opt.rig.mine(), tx).state_root == b""
    assert opt.view("bondOf", address_of(wallet_key)) == bond


def test_unstake_then_cheat_is_still_slashed_inside_the_unbonding_delay(opt: Opt) -> None:
    leaver = opt.sprinters[LEAVER_KEY]
    request, _ = use_forged_result(opt, [91], LEAVER_KEY)
    receipt = opt.send(leaver, "unstake", 2 * ETHER)
    assert receipt.state_root == b"\x01"
    bonded, unbonding, release = opt.view("bondOf", address_of(LEAVER_KEY))
    assert (bonded, unbonding) == (0, 2 * ETHER)
    assert release == opt.rig.node.head().header.block_number + UNBONDING
    with pytest.raises(ExecutionReverted, match=f"unbonding until block {release}"):
        leaver.call(REGISTRY_ADDRESS, registry_calldata("withdraw"))
    with pytest.raises(ExecutionReverted, match="amount must be from 1 to your bonded 0 wei"):
        leaver.call(REGISTRY_ADDRESS, registry_calldata("unstake", 1))
    burned = opt.view("totalSlashBurned")
    receipt = opt.send(opt.challenger, "challenge", request.request_id, request.input_abi,
                       encode_receipt(tee_receipt(request)))  # fmt: skip
    assert receipt.state_root == b"\x01"
    reward = 2 * ETHER * SHARE_BPS // 10_000
    assert opt.view("totalSlashBurned") == burned + 2 * ETHER - reward
    assert opt.view("bondOf", address_of(LEAVER_KEY)) == [0, 0, 0]
    while opt.rig.node.head().header.block_number < release:
        opt.rig.mine()
    with pytest.raises(ExecutionReverted, match="nothing is unbonding"):
        leaver.call(REGISTRY_ADDRESS, registry_calldata("withdraw"))


def test_supply_is_conserved_over_stakes_slashes_rewards_and_withdrawals(opt: Opt) -> None:
    """Sum of balances + wei burned by slashing == before − the chain's fee burn, exactly."""
    rig = opt.rig
    start = rig.node.head().header.block_number
    wallet_key = bytes.fromhex("ac" * 32)
    rig.owner.send(address_of(wallet_key), b"", gas=21_000, value=5 * ETHER)
    rig.mine()
    staker = Wallet(rig.node, "0x" + wallet_key.hex())
    opt.send(staker, "stake", value=3 * ETHER)
    opt.send(staker, "unstake", ETHER)
    request, _ = use_forged_result(opt, [101], wallet_key)  # pays the sprinter inference fees
    honest_data, honest = opt.predict([102])
    opt.answer(honest, HONEST_KEY)
    opt.user.send(opt.consumer, honest_data)
    opt.challenger.send(REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)),
                        gas=600_000)  # fmt: skip
    rig.mine()
    honest_wallet = opt.sprinters[HONEST_KEY]
    opt.send(honest_wallet, "unstake", ETHER)
    for _ in range(UNBONDING):
        rig.mine()
    opt.send(honest_wallet, "withdraw")
    end = rig.node.head().header.block_number

    accounts = ({w.address for w in rig.wallets} | {w.address for w in opt.sprinters.values()}
                | {rig.owner.address, staker.address, REGISTRY_ADDRESS, opt.consumer,
                   rig.consumer, address_of(TEE_KEY), address_of(CHEAT2_KEY)})  # fmt: skip
    fee_burn = 0
    for number in range(start + 1, end + 1):
        block = rig.node.block_by_number(number)
        accounts.add(block.header.coinbase)
        executed = next(b for b in rig.feed.blocks if b.block.header.block_number == number)
        paid = {t.tx_hash: sum(p.amount for p in t.payouts) for t in executed.inferences}
        previous = 0
        base = block.header.base_fee_per_gas
        for tx, receipt in zip(block.transactions, rig.node.receipts(block), strict=True):
            used, previous = receipt.gas_used - previous, receipt.gas_used
            price = min(tx.max_fee_per_gas, base + tx.max_priority_fee_per_gas)
            inference_gas, rest = divmod(paid.get(tx.hash, 0), price)
            assert rest == 0
            fee_burn += (used - inference_gas) * base

    def supply(number: int) -> int:
        state = rig.node.state_at(number)
        slash_burned = state.get_storage(REGISTRY_ADDRESS, slot_of(b"slashburn"))
        return sum(state.get_balance(a) for a in accounts) + slash_burned

    slashed = rig.node.state_at(end).get_storage(REGISTRY_ADDRESS, slot_of(b"slashburn"))
    assert slashed > rig.node.state_at(start).get_storage(REGISTRY_ADDRESS, slot_of(b"slashburn"))
    assert supply(end) == supply(start) - fee_burn
    assert fee_burn > 0 and GWEI


def test_a_result_challenged_earlier_in_a_block_is_not_served_again_in_that_block(opt: Opt) -> None:
    key = bytes.fromhex("ad" * 32)
    opt.rig.owner.send(address_of(key), b"", gas=21_000, value=5 * ETHER)
    opt.rig.mine()
    assert opt.send(Wallet(opt.rig.node, "0x" + key.hex()), "stake", value=2 * ETHER).state_root
    request, _ = use_forged_result(opt, [111], key)
    challenge = opt.challenger.send(
        REGISTRY_ADDRESS, challenge_data(request, tee_receipt(request)), gas=600_000
    )
    again = opt.user.send(opt.consumer, opt.rig.predict_data([111]))  # the block's forged receipt
    block = opt.rig.mine()
    assert opt.rig.receipt_of(block, challenge).state_root == b"\x01"
    assert opt.rig.receipt_of(block, again).state_root == b""  # reverted: call again later
    assert all(t.tx_hash != again for t in opt.rig.feed.blocks[-1].inferences)  # nobody paid
    data = opt.rig.predict_data([111])
    with pytest.raises(InvalidInferenceReceipt, match="bonds 0 wei"):
        seal(opt, opt.consumer, data)  # the next block refuses the slashed signer outright
    opt.answer(request, HONEST_KEY)
    tx = opt.user.send(opt.consumer, data)
    assert opt.rig.receipt_of(opt.rig.mine(), tx).state_root == b"\x01"
