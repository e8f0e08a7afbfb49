"""TEE mode out of the box: a freshly scaffolded chain (`neurostack new`) run with
`neurostack up` accepts TEE-mode model calls from its own sprinters, because genesis
admitted their keys with development attestation documents the chain verified."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from hub_client import HubClient, InferenceDropped, RollupClient
from neurostack.devnet.heartbeat import CHECK_INTERVAL_S, RENEW_AFTER_S
from neurostack.devnet.project import create_project
from neurostack.hub.broker import free_port
from neurostack.hub.samples import sample_model_path
from neurostack.protocol.modes import InferenceMode
from neurostack.solidity import load_artifact
from sequencer.chain.inference.attestation import DEV_MEASUREMENT
from sequencer.config import ChainConfig, load_chain_config
from tests.cli.test_up import Up, logs_tail

from .models import FEATURES, chain_value, mlp_output
from .stack import selector

pytestmark = pytest.mark.slow

REGISTRY = "0x4E53000000000000000000000000000000000001"


@dataclass
class Devnet:
    project: Path
    config: ChainConfig
    up: Up
    rpc_url: str
    hub_url: str
    accounts: list[LocalAccount]
    rollup: RollupClient

    def rpc(self, method: str, *params: Any) -> Any:
        return self.rollup.request(method, *params)

    def transact(self, account: LocalAccount, to: str | None, data: bytes) -> dict[str, Any]:
        try:
            receipt = self.rollup.transact(account, to, data, gas=3_000_000, check=False)
        except (TimeoutError, InferenceDropped) as exc:
            pytest.fail(f"{exc}\n{logs_tail(self.project)}")
        return dict(receipt.raw)

    def call(self, to: str, data: bytes) -> bytes:
        return self.rollup.call(to, data)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    rpc_port, hub_port = free_port(), free_port()
    project = create_project(
        "teenet",
        tmp_path_factory.mktemp("tee"),
        {"rpc_port": rpc_port, "hub_port": hub_port, "block_time": 0.5, "workers": 2},
    )
    config = load_chain_config(project / "chain.toml")
    up = Up(project)
    try:
        up.wait_for("Press Ctrl-C to stop.")
        accounts = [Account.from_key(a.private_key) for a in config.dev_accounts()]
        rpc_url = f"http://127.0.0.1:{rpc_port}"
        with RollupClient(rpc_url, timeout=60) as rollup:
            yield Devnet(project, config, up, rpc_url, f"http://127.0.0.1:{hub_port}",
                         accounts, rollup)  # fmt: skip
    finally:
        up.close()


def test_tee_mode_call_on_a_new_devnet_is_included_and_verifies(devnet: Devnet) -> None:
    tee_keys = [entry.key for entry in devnet.config.inference.tee_keys]
    assert sorted(tee_keys) == sorted(devnet.config.inference.sprinters)  # the workers' keys
    for key in tee_keys:
        measurement, _, active = tee_key_of(devnet, key)
        assert (measurement, active) == (DEV_MEASUREMENT, True)

    with HubClient(devnet.hub_url) as hub:
        cid = hub.upload_model(sample_model_path("mlp_regressor"), private_key=devnet.accounts[0].key,
                               name="mlp", progress=False).cid  # fmt: skip
    artifact = load_artifact("ModelConsumer")
    deployed = devnet.transact(
        devnet.accounts[0], None, artifact.bytecode + encode(["string", "uint8"], ["x", 2])
    )
    assert deployed["status"] == "0x1"
    consumer = deployed["contractAddress"]
    data = selector("ModelConsumer", "predict") + encode(
        ["string", "int128[]", "int128"], [cid, FEATURES, 3]
    )

    receipt = devnet.transact(devnet.accounts[1], consumer, data)

    assert receipt["status"] == "0x1", logs_tail(devnet.project)
    stored = tuple(
        decode([kind], devnet.call(consumer, selector("ModelConsumer", getter)))[0]
        for getter, kind in (("lastValue", "int256"), ("lastDecimals", "int128"))
    )
    assert stored == chain_value(mlp_output(FEATURES))
    (call,) = receipt["inferences"]
    assert call["mode"] == "TEE"
    assert call["sprinter"] in tee_keys
    with RollupClient(devnet.rpc_url, timeout=60) as rollup:
        proof = rollup.inference_proof(receipt["transactionHash"])
        checked = rollup.verify_inference_proof(
            proof, int(receipt["blockNumber"], 16), expected_signers=tee_keys
        )
    assert "0x" + checked.block_hash.hex() == receipt["blockHash"]
    assert checked.receipt.mode == InferenceMode.TEE


def tee_key_of(devnet: Devnet, key: str) -> tuple[bytes, int, bool]:
    data = keccak(text="teeKeyOf(address)")[:4] + encode(["address"], [key])
    measurement, attested_at, active = decode(
        ["bytes32", "uint64", "bool"], devnet.call(REGISTRY, data)
    )
    return measurement, attested_at, active


def test_up_renews_aging_tee_keys_with_heartbeats(devnet: Devnet) -> None:
    """Runs last: it moves the chain's clock half a TTL ahead of the hub's."""
    keys = [entry.key for entry in devnet.config.inference.tee_keys]
    before = {key: tee_key_of(devnet, key)[1] for key in keys}

    devnet.rpc("evm_increaseTime", RENEW_AFTER_S + 60)
    devnet.rpc("evm_mine")
    chain_now = int(devnet.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    end = time.monotonic() + CHECK_INTERVAL_S + 30
    while time.monotonic() < end:
        now = {key: tee_key_of(devnet, key) for key in keys}
        if all(attested > before[key] for key, (_, attested, _) in now.items()):
            break
        time.sleep(0.5)
    else:
        output = devnet.up.output[-3000:] + logs_tail(devnet.project)
        pytest.fail(f"no heartbeat renewed {keys} in time:\n{output}")
    for measurement, attested, active in now.values():
        assert active and measurement == DEV_MEASUREMENT
        assert attested >= chain_now  # a fresh document, verified by the chain
