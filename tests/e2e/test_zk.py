"""Mode ZK end to end on the real stack: `neurostack new` with ZK in the chain's modes (it
makes a development SRS and lists it in chain.toml), `neurostack up`, a model uploaded with ZK (the hub makes
its circuit with the chain's SRS), `neurostack model register-zk` recording the circuit in
the registry, and a contract calling the model in mode ZK. The transaction is included with
a proof the state transition verified (NEUROSTACK_VERIFY_BUILT_BLOCKS re-runs every built
block through it), the contract stores the circuit's output (onnxruntime's within the
documented quantisation error), and the light client (`RollupClient.verify_inference`,
`neurostack verify-inference --zk-srs`) verifies the proof from the node's answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from hub_client import HubClient, RollupClient, VerificationFailed
from hub_client.light import verify_inference
from neurostack.cli.main import app
from neurostack.devnet.project import create_project
from neurostack.hub.broker import free_port
from neurostack.hub.samples import sample_model_path
from neurostack.solidity import load_artifact
from sequencer.config import load_chain_config
from tests.cli.test_up import Up, logs_tail

from .models import DECIMALS, FEATURES, mlp_output
from .stack import selector

pytestmark = pytest.mark.slow
pytest.importorskip("ezkl")

QUANTISATION_ERROR = 2e-3  # docs/inference.md: at most 1.2e-3 over 200 inputs, scale 13
runner = CliRunner()


@dataclass
class ZkNet:
    project: Path
    rpc_url: str
    hub_url: str
    accounts: list[LocalAccount]
    rollup: RollupClient
    cid: str
    register_output: str
    receipt: dict[str, Any]
    consumer: str


@pytest.fixture(scope="module")
def zknet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZkNet]:
    rpc_port, hub_port = free_port(), free_port()
    project = create_project(
        "zknet",
        tmp_path_factory.mktemp("zk"),
        {"rpc_port": rpc_port, "hub_port": hub_port, "block_time": 0.5, "workers": 1,
         "modes": "vanilla,zk"},
    )  # fmt: skip
    # `neurostack new` with ZK among the modes made a development SRS and listed it
    assert (project / "zk" / "kzg10.srs").is_file()
    config = load_chain_config(project / "chain.toml")
    up = Up(project, "--explorer-port", "0")
    try:
        up.wait_for("Press Ctrl-C to stop.")
        accounts = [Account.from_key(a.private_key) for a in config.dev_accounts()]
        rpc_url, hub_url = f"http://127.0.0.1:{rpc_port}", f"http://127.0.0.1:{hub_port}"
        with HubClient(hub_url) as hub:
            cid = hub.upload_model(
                sample_model_path("mlp_regressor"), private_key=accounts[0].key, name="mlp",
                zk=True, progress=False,
            ).cid  # fmt: skip
            info = hub.wait_for_zk(cid, timeout=300)
            assert info.zk is not None and info.zk.status == "ready", info.zk
        register = ["model", "register-zk", cid, "--rpc", rpc_url, "--hub", hub_url,
                    "--key-file", str(project / "keys" / "sequencer.key")]  # fmt: skip
        unfunded = runner.invoke(app, register)  # a fresh devnet's owner has no balance
        assert unfunded.exit_code == 1 and "no native token to pay" in unfunded.output
        with RollupClient(rpc_url, timeout=60) as rollup:  # the owner pays registerZkModel
            owner = Account.from_key((project / "keys" / "sequencer.key").read_text().strip())
            rollup.transact(accounts[2], owner.address, value=10**18, gas=21_000)
        registered = runner.invoke(app, register)
        assert registered.exit_code == 0, registered.output + logs_tail(project)
        with RollupClient(rpc_url, timeout=60) as rollup:
            artifact = load_artifact("ModelConsumer")
            deployed = rollup.transact(
                accounts[0], None, artifact.bytecode + encode(["string", "uint8"], ["x", 1]),
                gas=3_000_000,
            )  # fmt: skip
            consumer = str(deployed.contract_address)
            data = selector("ModelConsumer", "predict") + encode(
                ["string", "int128[]", "int128"], [cid, FEATURES, DECIMALS]
            )
            try:
                mined = rollup.transact(accounts[1], consumer, data, gas=3_000_000, check=False)
            except Exception as exc:  # noqa: BLE001 - show the stack's logs with the failure
                pytest.fail(f"{exc}\n{logs_tail(project)}")
            yield ZkNet(project, rpc_url, hub_url, accounts, rollup, cid, registered.output,
                        dict(mined.raw), consumer)  # fmt: skip
    finally:
        up.close()


def test_a_zk_call_is_included_with_a_proof_and_matches_onnxruntime(zknet: ZkNet) -> None:
    receipt = zknet.receipt
    assert receipt["status"] == "0x1", logs_tail(zknet.project)
    (call,) = receipt["inferences"]
    assert call["mode"] == "ZK" and call["modelCID"] == zknet.cid
    assert "input" in call  # what a light client checks the proof against
    proof = zknet.rollup.inference_proof(receipt["transactionHash"])
    assert len(proof.receipt.proof) == 3072
    value, decimals = (
        decode([kind], zknet.rollup.call(zknet.consumer, selector("ModelConsumer", getter)))[0]
        for getter, kind in (("lastValue", "int256"), ("lastDecimals", "int128"))
    )
    assert decimals == 13 and value % 5**13 == 0  # the circuit's value x·5^13, 13 decimals
    expected = float(mlp_output(FEATURES).ravel()[0])
    assert abs(value / 10**decimals - expected) <= QUANTISATION_ERROR


def test_register_zk_printed_what_it_recorded(zknet: ZkNet) -> None:
    out = zknet.register_output
    assert f"registered   ZK circuit of {zknet.cid}" in out
    assert "settings     0x" in out and "verifying key 0x" in out and "in block" in out


def test_the_light_client_verifies_the_zk_proof(zknet: ZkNet) -> None:
    srs = zknet.project / "zk" / "kzg10.srs"
    result = zknet.rollup.verify_inference(zknet.receipt["transactionHash"], zk_srs=srs)
    zk = [c for c in result.checks if c.name.value == "zk"]
    assert len(zk) == 1 and zk[0].outcome.value == "passed", result.checks
    cli = runner.invoke(
        app,
        ["verify-inference", "--tx", zknet.receipt["transactionHash"], "--rpc", zknet.rpc_url,
         "--zk-srs", str(srs)],
    )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert "zk" in cli.output and "proof verified" in cli.output


def test_invalid_light_client_verification_without_the_srs_names_the_option(zknet: ZkNet) -> None:
    cli = runner.invoke(
        app, ["verify-inference", "--tx", zknet.receipt["transactionHash"], "--rpc", zknet.rpc_url]
    )
    assert cli.exit_code == 2
    assert "--zk-srs FILE" in cli.output


class Tampering:
    """The node's answers with one thing changed, as a lying RPC would serve them."""

    def __init__(self, rollup: RollupClient, change: Any) -> None:
        self.rollup, self.change = rollup, change

    def request(self, method: str, *params: Any) -> Any:
        return self.change(method, self.rollup.request(method, *params))


def _other_input(method: str, answer: Any) -> Any:
    if method == "eth_getTransactionReceipt" or method == "eth_getBlockReceipts":
        receipts = answer if isinstance(answer, list) else [answer]
        for r in receipts:
            for call in r.get("inferences") or []:
                if "input" in call:
                    call["input"] = call["input"][:-2] + (
                        "00" if call["input"][-2:] != "00" else "01"
                    )
    return answer


def test_invalid_zk_answers_are_refused_by_the_light_client(zknet: ZkNet, tmp_path: Path) -> None:
    tx = bytes.fromhex(zknet.receipt["transactionHash"][2:])
    srs = (zknet.project / "zk" / "kzg10.srs").read_bytes()
    with pytest.raises(VerificationFailed, match="does not hash to the receipt's inputHash") as e:
        verify_inference(Tampering(zknet.rollup, _other_input), tx, zk_srs=srs)
    assert e.value.check == "zk"
    other_srs = bytes(srs[:-1]) + bytes([srs[-1] ^ 1])
    with pytest.raises(VerificationFailed, match="the SRS file given has sha256") as e:
        verify_inference(zknet.rollup, tx, zk_srs=other_srs)
    assert e.value.check == "zk"
