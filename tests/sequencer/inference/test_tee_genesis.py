"""TEE keys admitted in genesis (``[inference] tee_keys``): verified like ``registerTeeKey``.

A freshly scaffolded chain (``neurostack new``) admits its own sprinter keys as TEE keys
with development attestation documents; genesis refuses any document the attestation
verifier or the chain's policy would refuse, with a config error naming the entry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from neurostack.devnet.project import create_project
from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import CompiledContract
from sequencer.chain.genesis import genesis_hash, genesis_state
from sequencer.chain.inference import InvalidInferenceReceipt
from sequencer.chain.inference.attestation import DEV_MEASUREMENT, make_dev_attestation
from sequencer.chain.inference.constants import REGISTRY_ADDRESS, TEE_ATTESTATION_TTL
from sequencer.chain.inference.registry import Status, registry_from_storage, tee_key_of
from sequencer.chainspec import chain_spec
from sequencer.config import load_chain_config
from sequencer.errors import ConfigError

from .conftest import Rig, deploy, make_rig
from .kit import (
    MEASUREMENT,
    ROOT_KEY,
    STRANGER_KEY,
    TEE_KEY,
    address_of,
    make_config,
    receipt_for,
)
from .test_registry import seal_verdict

NOW = int(time.time())
DOC_ABI = "(address,bytes32,uint64,bytes)"


def document(*, key: bytes = TEE_KEY, measurement: bytes = MEASUREMENT,
             root: bytes = ROOT_KEY, timestamp: int = NOW) -> str:  # fmt: skip
    doc = make_dev_attestation(
        key=address_of(key), measurement=measurement, timestamp=timestamp, root_private_key=root
    )
    return "0x" + doc.hex()


def entry(key: bytes = TEE_KEY, **change: Any) -> dict[str, str]:
    return {"key": to_checksum_address(address_of(key)), "attestation": document(**change)}


def genesis_tee_key(config: Any, key: bytes) -> Any:
    storage = genesis_state(chain_spec(config))[REGISTRY_ADDRESS]["storage"]
    return tee_key_of(registry_from_storage(storage), address_of(key))


@pytest.fixture(scope="module")
def tee_rig(
    tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, CompiledContract]
) -> Iterator[Rig]:
    yield from make_rig(tmp_path_factory.mktemp("tee-genesis"), contracts, tee_keys=[entry()])


def test_genesis_tee_key_signs_tee_receipts_until_its_document_is_stale(
    tee_rig: Rig, contracts: dict[str, CompiledContract]
) -> None:
    rig = tee_rig
    key = genesis_tee_key(rig.node.config, TEE_KEY)
    assert (key.measurement, key.attested_at, key.status) == (MEASUREMENT, NOW, Status.ACTIVE)
    consumer = deploy(rig.node, rig.wallets[0], contracts["ModelConsumer"], ["string", "uint8"],
                      ["x", InferenceMode.TEE])  # fmt: skip
    user = rig.wallets[1]
    data = rig.predict_data([701])
    request = user.requests_of(consumer, data)

    rig.feed.witness[request.request_id] = receipt_for(request, key=TEE_KEY)
    tx_hash = user.send(consumer, data)
    block = rig.mine()
    assert rig.receipt_of(block, tx_hash).state_root == b"\x01"
    assert rig.read("lastValue", "int256", consumer) == 2 * 701
    # Genesis admitted it as a TEE key only: it is no VANILLA sprinter.
    vanilla = user.requests_of(rig.consumer, rig.predict_data([702]))
    rig.feed.witness[vanilla.request_id] = receipt_for(vanilla, key=TEE_KEY)
    with pytest.raises(InvalidInferenceReceipt, match="not registered as a sprinter"):
        seal_verdict(rig, user, rig.consumer, rig.predict_data([702]))

    # The document's timestamp is the key's attestedAt: the usual freshness rule applies.
    rig.mine(timestamp=NOW + TEE_ATTESTATION_TTL + 1)
    with pytest.raises(InvalidInferenceReceipt, match="send a heartbeat"):
        seal_verdict(rig, user, consumer, rig.predict_data([701]))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"root": STRANGER_KEY}, r"tee_keys\[0\].*attestation rejected.*not an active attestation"),
        (
            {"measurement": b"\x99" * 32},
            r"tee_keys\[0\].*not an approved measurement.*\[inference\].*approved_measurements",
        ),
        ({"key": STRANGER_KEY}, r"tee_keys\[0\].*the attestation document is for 0x"),
    ],
)
def test_invalid_genesis_document_is_a_config_error(
    tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    config = make_config(tmp_path, tee_keys=[entry(**change)])
    with pytest.raises(ConfigError, match=reason):
        genesis_hash(chain_spec(config))


def test_invalid_genesis_document_tampered_or_garbage_is_a_config_error(tmp_path: Path) -> None:
    good = entry()
    # One flipped bit in the signature's r: it recovers to some other address, not the root.
    key, measurement, timestamp, sig = decode([DOC_ABI], bytes.fromhex(good["attestation"][2:]))[0]
    bad_sig = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    tampered = "0x" + encode([DOC_ABI], [(key, measurement, timestamp, bad_sig)]).hex()
    cases = [({**good, "attestation": tampered}, "attestation rejected"),
             ({**good, "attestation": "0x" + "ab" * 40}, "not ABI")]  # fmt: skip
    for item, reason in cases:
        config = make_config(tmp_path, tee_keys=[item])
        with pytest.raises(ConfigError, match=reason):
            genesis_hash(chain_spec(config))


def test_invalid_genesis_tee_key_listed_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path, tee_keys=[entry(), entry(timestamp=NOW + 1)])
    with pytest.raises(ConfigError, match="listed more than once"):
        genesis_hash(chain_spec(config))


def test_invalid_tee_keys_in_chain_toml_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "chain.toml"
    path.write_text(
        '[chain]\nname = "x"\nchain_id = 7\n[inference]\n'
        'tee_keys = [{ key = "0x1234", attestation = "nothex" }]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_chain_config(path)
    message = str(caught.value)
    assert "inference.tee_keys.0.key" in message and "20-byte hex address" in message
    assert "inference.tee_keys.0.attestation" in message and "0x-prefixed hex" in message


def test_new_project_admits_its_sprinters_as_tee_keys(tmp_path: Path) -> None:
    project = create_project("teechain", tmp_path, {"workers": 3})
    config = load_chain_config(project / "chain.toml")
    sprinters = [
        Account.from_key((project / path).read_text().strip()) for path in config.hub.sprinter_keys
    ]
    assert [e.key for e in config.inference.tee_keys] == [s.address for s in sprinters]
    assert config.inference.approved_measurements == ["0x" + DEV_MEASUREMENT.hex()]
    assert DEV_MEASUREMENT == keccak(b"neurostack.measurement.dev.v1")
    storage = genesis_state(chain_spec(config))[REGISTRY_ADDRESS]["storage"]
    registry = registry_from_storage(storage)
    for sprinter in sprinters:
        key = tee_key_of(registry, bytes.fromhex(sprinter.address[2:]))
        assert key is not None and key.status is Status.ACTIVE
        assert key.measurement == DEV_MEASUREMENT
        assert abs(key.attested_at - time.time()) < 120

    # A document edited by hand (signed by someone else's root) stops genesis.
    text = (project / "chain.toml").read_text()
    forged = decode([DOC_ABI], config.inference.tee_keys[0].document)[0]
    other = make_dev_attestation(
        key=bytes.fromhex(forged[0][2:]), measurement=DEV_MEASUREMENT, timestamp=forged[2],
        root_private_key=STRANGER_KEY,
    )  # fmt: skip
    (project / "chain.toml").write_text(
        text.replace(config.inference.tee_keys[0].attestation, "0x" + other.hex())
    )
    with pytest.raises(ConfigError, match=r"tee_keys\[0\].*not an active attestation root"):
        genesis_hash(chain_spec(load_chain_config(project / "chain.toml")))
