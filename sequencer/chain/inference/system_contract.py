"""The registry system contract at ``0x4E53…0001``: a native contract administering the registry.

It is a precompile whose storage lives at its own address (:mod:`.registry` owns the
layout), so its state is ordinary chain state: in the state root, journaled, reverted with
the calling frame, readable with ``eth_getStorageAt``. The ABI (``contracts/INeuroRegistry.sol``
mirrors it; docs/inference.md lists it) is in :data:`FUNCTIONS` and :data:`EVENTS`.

Access rules: functions marked *owner* may only be called by the chain owner (the
sequencer key's address, stored in genesis); ``registerTeeKey`` and ``heartbeat`` are open
to anyone because the attestation document is the credential. State-changing functions
refuse static calls, ``DELEGATECALL``/``CALLCODE`` (which would write into the caller's
storage) and value. Every refusal is an ``Error(string)`` revert saying what to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from eth.abc import ComputationAPI
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from neurostack.protocol.cid import cid_digest, parse_model_cid
from neurostack.protocol.errors import InvalidCID
from neurostack.protocol.registry import MAX_ZK_BLOB_BYTES, MAX_ZK_TENSORS
from neurostack.protocol.types import Address, Hash32
from neurostack.zk.circuit import parse_settings
from neurostack.zk.errors import InvalidCircuitSettings

from ..environment import environment_of, fork_state
from ..spec import GasSchedule
from . import optimistic as _opt
from .constants import MAX_ROYALTY_BPS, REGISTRY_ADDRESS, TEE_ATTESTATION_TTL
from .errors import InvalidAttestation
from .registry import (
    ModelEntry,
    RegistryView,
    Status,
    TeeKey,
    ZkModelEntry,
    attestation_root_status,
    chain_owner,
    live_registry,
    measurement_status,
    model_of,
    set_attestation_root,
    set_chain_owner,
    set_measurement,
    set_model,
    set_sprinter,
    set_tee_key,
    set_zk_blob,
    set_zk_model,
    sprinter_status,
    tee_key_of,
    zk_blob_slot,
    zk_model_of,
)
from .revert import revert_with

Handler = Callable[["Call"], tuple[Any, ...] | None]
Price = Callable[[GasSchedule], int]


def _read(gas: GasSchedule) -> int:
    return gas.registry_read


def _write(gas: GasSchedule) -> int:
    return gas.registry_write


def _write3(gas: GasSchedule) -> int:
    return 3 * gas.registry_write


def _attest(gas: GasSchedule) -> int:
    return gas.attestation_verify + 3 * gas.registry_write


@dataclass(frozen=True)
class Call:
    """One decoded call of the system contract."""

    computation: ComputationAPI
    args: tuple[Any, ...]

    @property
    def registry(self) -> RegistryView:
        return live_registry(self.computation.state)

    def write(self, slot: int, value: int) -> None:
        self.computation.state.set_storage(REGISTRY_ADDRESS, slot, value)

    def emit(self, event: str, indexed: tuple[bytes, ...] = (), data: bytes = b"") -> None:
        topics = (int.from_bytes(EVENTS[event], "big"),) + tuple(
            int.from_bytes(t.rjust(32, b"\x00"), "big") for t in indexed
        )
        self.computation.add_log_entry(REGISTRY_ADDRESS, topics, data)

    def fail(self, reason: str) -> NoReturn:
        revert_with(self.computation, reason)


@dataclass(frozen=True)
class Function:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    handler: Handler
    owner_only: bool = False
    writes: bool = False
    price: Price = _read
    """The function's gas, from the chain spec's gas schedule."""
    payable: bool = False
    """Accepts value (``stake``): the EVM has moved it to the registry's balance."""

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]


EVENT_SIGNATURES = (
    "SprinterAdded(address)",
    "SprinterRevoked(address)",
    "MeasurementApproved(bytes32)",
    "MeasurementRevoked(bytes32)",
    "AttestationRootAdded(address)",
    "AttestationRootRevoked(address)",
    "TeeKeyRegistered(address,bytes32,uint64)",
    "TeeKeyRevoked(address)",
    "ModelRegistered(string,bytes32,address,uint64,uint16)",
    "OwnershipTransferred(address,address)",
    "ZkModelRegistered(string,bytes32,bytes32)",
)
EVENTS: dict[str, bytes] = {s.split("(")[0]: keccak(text=s) for s in EVENT_SIGNATURES}
"""Event name -> topic 0. Indexed: the addresses/measurement of every event except
``TeeKeyRegistered.attestedAt`` and ``ModelRegistered``'s cid, hash, gas and royalty."""


# --- views -------------------------------------------------------------------------------


def _owner(call: Call) -> tuple[Any, ...]:
    return (chain_owner(call.registry),)


def _is_sprinter(call: Call) -> tuple[Any, ...]:
    return (sprinter_status(call.registry, _addr(call.args[0])) is Status.ACTIVE,)


def _is_measurement_approved(call: Call) -> tuple[Any, ...]:
    return (measurement_status(call.registry, call.args[0]) is Status.ACTIVE,)


def _is_attestation_root(call: Call) -> tuple[Any, ...]:
    return (attestation_root_status(call.registry, _addr(call.args[0])) is Status.ACTIVE,)


def _tee_key_of(call: Call) -> tuple[Any, ...]:
    key = tee_key_of(call.registry, _addr(call.args[0]))
    if key is None:
        return (b"\x00" * 32, 0, False)
    return (key.measurement, key.attested_at, key.status is Status.ACTIVE)


def _model_of(call: Call) -> tuple[Any, ...]:
    entry = model_of(call.registry, call.args[0])
    if entry is None:
        return (b"\x00" * 32, b"\x00" * 20, 0, 0, False)
    return (entry.model_hash, entry.owner, entry.inference_gas, entry.royalty_bps, True)


# --- owner functions ---------------------------------------------------------------------


def _set_status(setter: Callable[..., None], event: str, status: Status) -> Handler:
    def handler(call: Call) -> None:
        key = call.args[0]
        key = _addr(key) if isinstance(key, str) else key
        setter(call.write, key, status)
        call.emit(event, (key,))

    return handler


def _revoke_tee_key(call: Call) -> None:
    key = _addr(call.args[0])
    entry = tee_key_of(call.registry, key)
    if entry is None:
        call.fail(f"{to_checksum_address(key)} is not a TEE key; nothing to revoke")
        return
    set_tee_key(call.write, TeeKey(key, entry.measurement, entry.attested_at, Status.REVOKED))
    call.emit("TeeKeyRevoked", (key,))


def _register_model(call: Call) -> None:
    cid, model_hash, owner, inference_gas, royalty_bps = call.args
    try:
        parse_model_cid(cid)
    except InvalidCID as exc:
        call.fail(f"registerModel: {exc}")
    if cid_digest(cid) != model_hash:
        call.fail("registerModel: modelHash is not the sha256 digest inside the model CID")
    if royalty_bps > MAX_ROYALTY_BPS:
        call.fail(f"registerModel: royaltyBps {royalty_bps} exceeds {MAX_ROYALTY_BPS} (100 %)")
    set_model(call.write, cid, ModelEntry(model_hash, _addr(owner), inference_gas, royalty_bps))
    call.emit(
        "ModelRegistered",
        (_addr(owner),),
        encode(
            ["string", "bytes32", "uint64", "uint16"], [cid, model_hash, inference_gas, royalty_bps]
        ),
    )


def _transfer_ownership(call: Call) -> None:
    previous = chain_owner(call.registry)
    new = _addr(call.args[0])
    set_chain_owner(call.write, new)
    call.emit("OwnershipTransferred", (previous, new))


# --- attested functions ------------------------------------------------------------------


def _admit_tee_key(call: Call, *, renewal: bool) -> None:
    key, document = _addr(call.args[0]), call.args[1]
    state = call.computation.state
    now = state.timestamp
    existing = tee_key_of(call.registry, key)
    if existing is not None and existing.status is Status.REVOKED:
        call.fail(f"TEE key {to_checksum_address(key)} was revoked by the chain owner")
    if renewal and existing is None:
        call.fail(f"{to_checksum_address(key)} is not a TEE key yet; call registerTeeKey first")
    verifier = fork_state(state).attestation_verifier
    try:
        attestation = verifier.verify(bytes(document), registry=call.registry, now=now)
    except InvalidAttestation as exc:
        call.fail(f"attestation rejected: {exc}")
    if attestation.key != key:
        call.fail(
            f"attestation is for {to_checksum_address(attestation.key)}, not {to_checksum_address(key)}"
        )
    if measurement_status(call.registry, attestation.measurement) is not Status.ACTIVE:
        call.fail(
            f"attestation measurement 0x{attestation.measurement.hex()} is not approved on this "
            "chain; the chain owner must approveMeasurement it"
        )
    if not now - TEE_ATTESTATION_TTL <= attestation.timestamp <= now:
        call.fail(
            f"attestation timestamp {attestation.timestamp} is not within the last "
            f"{TEE_ATTESTATION_TTL} s of block time {now}; produce a fresh document"
        )
    if existing is not None and attestation.timestamp <= existing.attested_at:
        call.fail("attestation is not newer than the key's current one")
    set_tee_key(
        call.write, TeeKey(key, attestation.measurement, attestation.timestamp, Status.ACTIVE)
    )
    call.emit(
        "TeeKeyRegistered",
        (key, attestation.measurement),
        encode(["uint64"], [attestation.timestamp]),
    )


# --- ZK models (mode ZK) -------------------------------------------------------------------


def _write4(gas: GasSchedule) -> int:
    return 4 * gas.registry_write


def _zk_model_of(call: Call) -> tuple[Any, ...]:
    entry = zk_model_of(call.registry, call.args[0])
    if entry is None:
        return (b"\x00" * 32, b"\x00" * 32, [], [], False)
    return (
        entry.settings_hash,
        entry.verifying_key_hash,
        list(entry.input_scales),
        list(entry.output_scales),
        True,
    )


def _register_zk_model(call: Call) -> None:
    """``registerZkModel(cid, settings, verifyingKey)``: checks that the circuit settings
    parse, that the verifying key is the one they name and that their SRS is one of the
    chain's, then stores both documents by sha256 (``zkblob``; paying per new 32-byte word)
    and the model's ``zkmodel`` entry."""
    cid, settings, verifying_key = call.args[0], bytes(call.args[1]), bytes(call.args[2])
    try:
        parse_model_cid(cid)
    except InvalidCID as exc:
        call.fail(f"registerZkModel: {exc}")
    for what, blob in (("settings", settings), ("verifyingKey", verifying_key)):
        if not 0 < len(blob) <= MAX_ZK_BLOB_BYTES:
            call.fail(f"registerZkModel: {what} must have 1 to {MAX_ZK_BLOB_BYTES} bytes")
    try:
        parsed = parse_settings(settings)
    except InvalidCircuitSettings as exc:
        call.fail(f"registerZkModel: {exc}")
    vk_hash = hashlib.sha256(verifying_key).digest()
    if vk_hash != parsed.verifying_key_sha256:
        call.fail(
            "registerZkModel: verifyingKey is not the key these circuit settings were made "
            "with (its sha256 differs from the settings' verifyingKeySha256)"
        )
    env, _ = environment_of(call.computation)
    if parsed.srs_sha256 not in env.spec.inference.zk_srs:
        call.fail(
            f"registerZkModel: the circuit was made with SRS 0x{parsed.srs_sha256.hex()}, "
            "which this chain does not list; make the circuit with the chain's SRS (hub "
            "serve --zk-srs-dir) or add the file to [[inference.zk_srs]] on every node"
        )
    inputs = tuple(t.scale for t in parsed.inputs)
    outputs = tuple(t.scale for t in parsed.outputs)
    scales = inputs + outputs
    if len(scales) > MAX_ZK_TENSORS or not all(-128 <= x <= 127 for x in scales):
        call.fail(
            f"registerZkModel: a registered circuit has at most {MAX_ZK_TENSORS} tensors "
            "with scales from -128 to 127"
        )
    settings_hash = hashlib.sha256(settings).digest()
    new = [
        (digest, blob)
        for digest, blob in ((settings_hash, settings), (vk_hash, verifying_key))
        if call.registry.read(zk_blob_slot(digest)) == 0  # not stored yet
    ]
    words = sum(1 + (len(blob) + 31) // 32 for _, blob in new)
    call.computation.consume_gas(
        words * env.spec.gas.registry_write, reason="registerZkModel storage"
    )
    for digest, blob in new:
        set_zk_blob(call.write, digest, blob)
    set_zk_model(
        call.write,
        cid,
        ZkModelEntry(Hash32(settings_hash), Hash32(vk_hash), inputs, outputs),
    )
    call.emit(
        "ZkModelRegistered",
        (),
        encode(["string", "bytes32", "bytes32"], [cid, settings_hash, vk_hash]),
    )


def _addr(value: str | bytes) -> Address:
    return Address(bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value))


_W = _write
FUNCTIONS: tuple[Function, ...] = (
    Function("owner", (), ("address",), _owner),
    Function("isSprinter", ("address",), ("bool",), _is_sprinter),
    Function("isMeasurementApproved", ("bytes32",), ("bool",), _is_measurement_approved),
    Function("isAttestationRoot", ("address",), ("bool",), _is_attestation_root),
    Function("teeKeyOf", ("address",), ("bytes32", "uint64", "bool"), _tee_key_of),
    Function("modelOf", ("string",), ("bytes32", "address", "uint64", "uint16", "bool"), _model_of),
    Function("addSprinter", ("address",), (), _set_status(set_sprinter, "SprinterAdded", Status.ACTIVE), True, True, _W),
    Function("revokeSprinter", ("address",), (), _set_status(set_sprinter, "SprinterRevoked", Status.REVOKED), True, True, _W),
    Function("approveMeasurement", ("bytes32",), (), _set_status(set_measurement, "MeasurementApproved", Status.ACTIVE), True, True, _W),
    Function("revokeMeasurement", ("bytes32",), (), _set_status(set_measurement, "MeasurementRevoked", Status.REVOKED), True, True, _W),
    Function("addAttestationRoot", ("address",), (), _set_status(set_attestation_root, "AttestationRootAdded", Status.ACTIVE), True, True, _W),
    Function("revokeAttestationRoot", ("address",), (), _set_status(set_attestation_root, "AttestationRootRevoked", Status.REVOKED), True, True, _W),
    Function("revokeTeeKey", ("address",), (), _revoke_tee_key, True, True, _W),
    Function("registerModel", ("string", "bytes32", "address", "uint64", "uint16"), (), _register_model, True, True, _write3),
    Function("transferOwnership", ("address",), (), _transfer_ownership, True, True, _W),
    Function("registerTeeKey", ("address", "bytes"), (), lambda c: _admit_tee_key(c, renewal=False), False, True, _attest),
    Function("heartbeat", ("address", "bytes"), (), lambda c: _admit_tee_key(c, renewal=True), False, True, _attest),
    Function("zkModelOf", ("string",), ("bytes32", "bytes32", "int8[]", "int8[]", "bool"), _zk_model_of),
    Function("registerZkModel", ("string", "bytes", "bytes"), (), _register_zk_model, True, True, _write4),
)  # fmt: skip

# --- staking and OPTIMISTIC challenges (issue 9; handlers in .optimistic) ----------------


def _write2(gas: GasSchedule) -> int:
    return 2 * gas.registry_write


EVENTS.update({s.split("(")[0]: keccak(text=s) for s in _opt.OPTIMISTIC_EVENT_SIGNATURES})
FUNCTIONS = FUNCTIONS + (
    Function("isFinal", ("bytes32",), ("bool",), _opt.is_final_view),
    Function("optimisticResultOf", ("bytes32",), ("address", "bytes32", "uint64", "uint64", "uint8"), _opt.optimistic_result_view),
    Function("bondOf", ("address",), ("uint256", "uint256", "uint64"), _opt.bond_view),
    Function("stakingParams", (), ("bool", "uint256", "uint64", "uint64", "uint16"), _opt.staking_params_view),
    Function("totalSlashBurned", (), ("uint256",), _opt.slash_burned_view),
    Function("stake", (), (), _opt.stake, False, True, _write2, payable=True),
    Function("unstake", ("uint256",), (), _opt.unstake, False, True, _write3),
    Function("withdraw", (), (), _opt.withdraw, False, True, _write2),
    Function("challenge", ("bytes32", "bytes", "bytes"), (), _opt.challenge, False, True, _write4),
)  # fmt: skip
BY_SELECTOR: dict[bytes, Function] = {f.selector: f for f in FUNCTIONS}


def run_registry(computation: ComputationAPI) -> ComputationAPI:
    """Execute one call of the registry system contract."""
    data = computation.msg.data_as_bytes
    function = BY_SELECTOR.get(data[:4])
    if function is None:
        revert_with(
            computation,
            f"the registry has no function with selector 0x{data[:4].hex()}; see INeuroRegistry.sol",
        )
    msg = computation.msg
    if function.writes:
        if msg.is_static:
            revert_with(computation, f"{function.name} changes state; it cannot be a static call")
        if msg.storage_address != REGISTRY_ADDRESS:
            revert_with(
                computation, f"call {function.name} directly, not with DELEGATECALL/CALLCODE"
            )
    if msg.value and not function.payable:
        revert_with(computation, f"{function.name} is not payable; send no value")
    if function.owner_only:
        owner = chain_owner(live_registry(computation.state))
        if bytes(msg.sender) != bytes(owner):
            revert_with(
                computation,
                f"only the chain owner {to_checksum_address(owner)} may call {function.name}",
            )

    # GAS
    env, _ = environment_of(computation)
    computation.consume_gas(function.price(env.spec.gas), reason=f"registry {function.name}")

    # OPERATION
    try:
        args = tuple(decode(list(function.inputs), data[4:], strict=True))
    except (DecodingError, ValueError, OverflowError) as exc:
        revert_with(computation, f"{function.signature}: malformed arguments: {exc}")
    result = function.handler(Call(computation, args))
    computation.output = encode(list(function.outputs), list(result)) if result is not None else b""
    return computation


def registry_calldata(function_name: str, *args: Any) -> bytes:
    """Calldata of a registry function (for CLIs and devnet set-up), e.g.
    ``registry_calldata("registerTeeKey", key, make_dev_attestation(...))``."""
    by_name = {f.name: f for f in FUNCTIONS}
    if function_name not in by_name:
        raise ValueError(f"the registry has no function {function_name!r}; see INeuroRegistry.sol")
    function = by_name[function_name]
    return function.selector + encode(list(function.inputs), list(args))
