"""One hub, many chains: three `neurostack new` projects with their own chain ids and
tokens on one hub and its two sprinter workers.

Chain A runs `neurostack up` (Redis, hub, 2 workers, node); chains B and C run `neurostack
up --hub-url` with A's Redis URL (from A's `hub/redis/url`) and admit A's sprinter keys
in their genesis. Each chain calls the same model with the same input (three request
ids: the chain id is part of each) and a model of its own; each verifies its receipts
against its own headers, and each pays the same sprinter keys in its own token. A fourth
project reusing B's chain id is refused at start with the reason.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis
import tomli_w
from eth_abi import decode
from eth_account import Account

from hub_client import HubClient
from neurostack.hub.broker import free_port
from neurostack.hub.samples import sample_model_path
from neurostack.protocol import array_to_tensor
from sequencer.config import load_chain_config
from tests.cli.test_up import NEUROSTACK, Up, logs_tail
from tests.hub.helpers import run_onnx

from .stack import ChainClient, predict, selector

pytestmark = pytest.mark.slow

DECIMALS = 3
SHARED = [500, -1250, 2000, 125]  # every chain asks the MLP this
OWN = {"A": [100, 200, 300, 400], "B": [-700, 50, 900, 10], "C": [250, 250, -250, 1000]}
OWN_MODEL = {"A": "text_classifier", "B": "mlp_regressor", "C": "text_classifier"}


@dataclass
class Chain:
    name: str
    project: Path
    chain_id: int
    symbol: str
    up: Up | None = None
    client: ChainClient | None = None


def new_project(root: Path, name: str, chain_id: int, symbol: str) -> Path:
    subprocess.run(
        [
            str(NEUROSTACK), "new", name, "--no-input", "--output-dir", str(root),
            "--chain-id", str(chain_id), "--token-name", f"{symbol} Gas",
            "--token-symbol", symbol, "--rpc-port", str(free_port()),
            "--hub-port", str(free_port()), "--block-time", "0.5",
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return root / name


def admit(project: Path, sprinters: list[str]) -> None:
    """Admit the hub's sprinter keys in the chain's genesis (before its first start)."""
    path = project / "chain.toml"
    config = tomllib.loads(path.read_text())
    config["inference"]["sprinters"] = sprinters
    path.write_text(tomli_w.dumps(config))


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Chain]]:
    root = tmp_path_factory.mktemp("multichain")
    chains = {
        "A": Chain("A", new_project(root, "alpha", 5101, "ALPHA"), 5101, "ALPHA"),
        "B": Chain("B", new_project(root, "beta", 5102, "BETA"), 5102, "BETA"),
        "C": Chain("C", new_project(root, "gamma", 5103, "GAMMA"), 5103, "GAMMA"),
    }
    a = chains["A"]
    sprinters = load_chain_config(a.project / "chain.toml").inference.sprinters
    hub_port = load_chain_config(a.project / "chain.toml").hub.port
    try:
        a.up = Up(a.project, "--workers", "2")
        a.up.wait_for("Press Ctrl-C to stop.")
        redis_url = (a.project / "hub" / "redis" / "url").read_text().strip()
        for c in (chains["B"], chains["C"]):
            admit(c.project, sprinters)
            c.up = Up(c.project, "--hub-url", f"http://127.0.0.1:{hub_port}",
                      env={"REDIS_URL": redis_url})  # fmt: skip
        for c in chains.values():
            assert c.up is not None
            c.up.wait_for("Press Ctrl-C to stop.")
            config = load_chain_config(c.project / "chain.toml")
            accounts = [Account.from_key(d.private_key) for d in config.dev_accounts()]
            c.client = ChainClient(f"http://127.0.0.1:{config.rpc.port}", c.chain_id, accounts)
        yield chains
    finally:
        for c in chains.values():
            if c.client is not None:
                c.client.client.close()
            if c.up is not None:
                c.up.close()


def onnx_first_value(model: str, features: list[int]) -> int:
    x = np.array([[f / 10**DECIMALS for f in features]], dtype=np.float32)
    outputs = run_onnx(sample_model_path(model), {"x": x})
    first = next(v for v in outputs.values() if v.dtype != object)
    return array_to_tensor("y", first).values[0].value  # type: ignore[union-attr]


def test_three_chains_share_one_hub_and_each_verifies_its_receipts(
    chains: dict[str, Chain],
) -> None:
    a = chains["A"]
    a_config = load_chain_config(a.project / "chain.toml")
    hub_url = f"http://127.0.0.1:{a_config.hub.port}"
    hub_sprinters = set(a_config.inference.sprinters)
    ready = httpx.get(hub_url + "/ready", timeout=10).json()
    assert len(ready["workers"]) == 2, ready
    for c in (chains["B"], chains["C"]):
        assert c.up is not None
        banner = c.up.output
        assert f"{hub_url}  (joined" in banner and "sprinter-0" not in banner
        assert f"({c.symbol})" in banner
        # a joining chain runs its node (and its explorer), none of the hub's services
        assert {p.name for p in (c.project / "data" / "logs").iterdir()} == {
            "node.log",
            "explorer.log",
        }

    owner = Account.create()
    with HubClient(hub_url) as hub:
        cids = {
            m: hub.upload_model(sample_model_path(m), private_key=owner.key, name=m).cid
            for m in ("mlp_regressor", "text_classifier")
        }

    sent: dict[str, list[tuple[str, str, list[int]]]] = {}
    consumers: dict[str, str] = {}
    for name, c in chains.items():
        assert c.client is not None
        consumers[name] = c.client.deploy("ModelConsumer", "x", 0)
        sent[name] = [
            (c.client.send(c.client.accounts[1], consumers[name],
                           predict(cids["mlp_regressor"], SHARED)), "mlp_regressor", SHARED),
            (c.client.send(c.client.accounts[2], consumers[name],
                           predict(cids[OWN_MODEL[name]], OWN[name])), OWN_MODEL[name], OWN[name]),
        ]  # fmt: skip

    shared_requests: dict[str, str] = {}
    paid: dict[str, dict[str, int]] = {}
    for name, c in chains.items():
        client = c.client
        assert client is not None
        paid[name] = {}
        for tx_hash, model, features in sent[name]:
            receipt = client.wait_receipt(tx_hash, timeout=90)
            assert receipt["status"] == "0x1", (name, receipt, logs_tail(c.project))
            (call,) = receipt["inferences"]
            assert call["sprinter"] in hub_sprinters and call["modelCID"] == cids[model]
            proof = client.client.inference_proof(tx_hash)
            checked = client.client.verify_inference_proof(
                proof, int(receipt["blockNumber"], 16), expected_signers=hub_sprinters
            )  # against this chain's header, for this chain's id (the node's)
            assert proof.receipt.chain_id == c.chain_id
            want = onnx_first_value(model, features)
            assert checked.output.numbers[0].values[0].value == want
            if features is SHARED:
                shared_requests[name] = call["requestId"]
            fee = int(call["modelGas"], 16) * int(receipt["effectiveGasPrice"], 16)
            paid[name][call["sprinter"]] = paid[name].get(call["sprinter"], 0) + fee
        value = decode(
            ["int256"], client.call(consumers[name], selector("ModelConsumer", "lastValue"))
        )
        assert value[0] in {onnx_first_value(m, f) for _, m, f in sent[name]}

    # The same model and input on three chains: three requests, three receipts.
    assert len(set(shared_requests.values())) == 3
    # Each chain paid the hub's sprinters in its own token, exactly the fees of its calls.
    for name, c in chains.items():
        assert c.client is not None
        for sprinter in hub_sprinters:
            assert c.client.balance(sprinter) == paid[name].get(sprinter, 0), (name, sprinter)
    earners = [s for s in hub_sprinters if sum(1 for p in paid.values() if p.get(s)) >= 2]
    assert earners, f"no sprinter key was paid on two chains: {paid}"


def test_invalid_a_second_chain_with_a_taken_chain_id_is_refused_at_start(
    chains: dict[str, Chain], tmp_path: Path
) -> None:
    a_config = load_chain_config(chains["A"].project / "chain.toml")
    redis_url = (chains["A"].project / "hub" / "redis" / "url").read_text().strip()
    clash = new_project(tmp_path, "clash", chains["B"].chain_id, "CLASH")  # other keys, genesis
    admit(clash, list(a_config.inference.sprinters))
    up = Up(clash, "--hub-url", f"http://127.0.0.1:{a_config.hub.port}",
            env={"REDIS_URL": redis_url})  # fmt: skip
    try:
        assert up.process.wait(90) == 1
        up._reader.join(5)
        assert f"chain id {chains['B'].chain_id} is already served by this hub" in up.output
        assert "[chain].chain_id" in up.output
    finally:
        up.close()
    # B is unaffected.
    b = chains["B"].client
    assert b is not None
    receipt = b.transact(b.accounts[5], Account.create().address, value=1, gas=21_000)
    assert receipt["status"] == "0x1"


def test_chains_jobs_live_in_their_own_namespaces(chains: dict[str, Chain]) -> None:
    url = (chains["A"].project / "hub" / "redis" / "url").read_text().strip()
    client = redis.Redis.from_url(url)
    try:
        registered = {int(k.decode().rsplit(":", 1)[1]) for k in client.keys("neurostack:chain:*")}
        assert registered == {5101, 5102, 5103}
        for c in chains.values():
            assert client.keys(f"neurostack:{c.chain_id}:results:*"), c.name
    finally:
        client.close()
