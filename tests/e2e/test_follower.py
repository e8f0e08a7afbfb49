"""The follower ("Judge", ``neurostack node --follow``) beside a real sequencer.

One devnet for the module (hub, Redis, two sprinter workers, the sequencer with PIPE) with
mixed traffic: transfers (three in one block), contract deployments, VANILLA, TEE and
chained model calls, the same request made by two transactions, registry admin
transactions (a sprinter revoked, an attestation root added) and a TEE heartbeat.
A follower process with only the chain's public ``chain.toml`` verifies it all and serves
the same answers. The chain's blocks and witnesses are recorded once; the tamper matrix
runs them through an in-process follower with one thing altered at a time (milliseconds
a case), and a proxy between a follower process and the sequencer shows the same on the
real path: the follower halts at the bad block, names it, and keeps serving what it
verified.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import rlp
import tomli_w
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from neurostack.hub.broker import free_port
from neurostack.protocol.registry import REGISTRY_ADDRESS
from sequencer.chain import Check
from sequencer.chain.inference.attestation import DEV_MEASUREMENT, make_dev_attestation
from sequencer.chain.inference.system_contract import registry_calldata
from sequencer.config import load_chain_config
from sequencer.errors import ConfigError
from sequencer.follower import (
    BLOCK_ENCODING,
    WITNESS_ENCODING,
    Follower,
    FollowerNode,
    RpcBlockSource,
    SourcedBlock,
)
from tests.hub.stack import NEUROSTACK, _stop

from .models import DECIMALS, FEATURES, build_affine
from .stack import GWEI, Options, RollupStack, predict, selector

pytestmark = pytest.mark.slow

SYNC_TIMEOUT = 120.0
EXTRA_SPRINTER = Account.create().address  # admitted in genesis, revoked by the owner


@dataclass
class Chain:
    stack: RollupStack
    public_toml: Path  # chain.toml without keys: the follower's
    vanilla: str  # contract addresses
    tee: str
    txs: dict[str, str]  # name -> tx hash
    blocks: list[SourcedBlock]  # recorded from the sequencer: 0..head

    def block_of(self, name: str) -> int:
        receipt = self.stack.rpc("eth_getTransactionReceipt", self.txs[name])
        return int(receipt["blockNumber"], 16)


def send_together(stack: RollupStack, items: list[tuple[int, str | None, bytes, int]]) -> list[str]:
    """Sign (account index, to, data, value) items and send them in one JSON-RPC batch, so
    the sequencer admits them at once (they land in one block)."""
    batch = []
    nonces: dict[int, int] = {}
    for i, (who, to, data, value) in enumerate(items):
        account = stack.accounts[who]
        if who not in nonces:
            nonces[who] = int(stack.rpc("eth_getTransactionCount", account.address, "pending"), 16)
        tx = {"chainId": stack.chain_id, "nonce": nonces[who], "to": to, "value": value,
              "data": data, "gas": 3_000_000, "maxFeePerGas": 20 * GWEI,
              "maxPriorityFeePerGas": GWEI, "type": 2}  # fmt: skip
        nonces[who] += 1
        raw = Account.sign_transaction(tx, account.key).raw_transaction
        batch.append({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                      "params": ["0x" + bytes(raw).hex()]})  # fmt: skip
    replies = httpx.post(stack.rpc_url, json=batch, timeout=60).json()
    return [r["result"] for r in sorted(replies, key=lambda r: r["id"])]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    root = tmp_path_factory.mktemp("follow")
    options = Options(workers=2, tee=True, extra_sprinters=(EXTRA_SPRINTER,))
    with RollupStack(root, options) as stack:
        mlp = stack.upload_sample("mlp_regressor")
        affine = stack.upload(build_affine(root / "affine.onnx"), "affine")
        vanilla = stack.deploy("ModelConsumer", "x", 0)
        tee = stack.deploy("ModelConsumer", "x", 2)
        chained = stack.deploy("ChainedModels", "x", "x", 0)
        run = selector("ChainedModels", "run") + encode(
            ["string", "string", "int128[]", "int128"], [mlp, affine, FEATURES, DECIMALS]
        )
        a = stack.accounts
        names = ["transfer1", "transfer2", "transfer3"]
        hashes = send_together(stack, [(4, a[7].address, b"", 1), (5, a[8].address, b"", 2),
                                       (6, a[9].address, b"", 3)])  # fmt: skip
        names += ["vanilla", "same_request", "tee", "chained"]
        hashes += [
            stack.send(a[1], vanilla, predict(mlp, [700, 800, -900, 100])),
            stack.send(a[2], vanilla, predict(mlp, [700, 800, -900, 100])),
            stack.send(a[3], tee, predict(mlp, [100, 200, 300, 400])),
        ]
        for tx in hashes:
            assert stack.wait_receipt(tx)["status"] == "0x1"
        # in a later block than the others: the tampering cases need receipts of two blocks
        hashes.append(stack.send(a[4], chained, run))
        assert stack.wait_receipt(hashes[-1])["status"] == "0x1"
        txs = dict(zip(names, hashes, strict=True))
        owner = Account.from_key(stack.owner_key)
        stack.transact(a[0], owner.address, value=10**18)  # gas money for the chain owner
        revoke = stack.transact(owner, "0x" + REGISTRY_ADDRESS.hex(),
                                registry_calldata("revokeSprinter", EXTRA_SPRINTER))  # fmt: skip
        assert revoke["status"] == "0x1", revoke
        txs["revoke"] = revoke["transactionHash"]
        # a TEE heartbeat: the owner adds an attestation root, anyone relays its fresh document
        root_key = Account.create()
        added = stack.transact(owner, "0x" + REGISTRY_ADDRESS.hex(),
                               registry_calldata("addAttestationRoot", root_key.address))  # fmt: skip
        assert added["status"] == "0x1", added
        tee_key = next(iter(stack.sprinters.values()))
        now = int(stack.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        document = make_dev_attestation(
            key=bytes.fromhex(tee_key[2:]), measurement=DEV_MEASUREMENT, timestamp=now,
            root_private_key=bytes(root_key.key),
        )  # fmt: skip
        beat = stack.transact(a[5], "0x" + REGISTRY_ADDRESS.hex(),
                              registry_calldata("heartbeat", tee_key, document))  # fmt: skip
        assert beat["status"] == "0x1", beat
        txs["heartbeat"] = beat["transactionHash"]

        public = root / "public"
        public.mkdir()
        config = load_chain_config(stack.project / "chain.toml")
        raw = config.model_dump(mode="json", exclude_none=True)
        raw["sequencer"] = {"address": owner.address}  # public: no key file
        (public / "chain.toml").write_text(tomli_w.dumps(raw))

        head = int(stack.rpc("eth_blockNumber"), 16)
        source = RpcBlockSource(stack.rpc_url)
        blocks = list(source.fetch(0, head + 1))
        source.close()
        assert [b.number for b in blocks] == list(range(head + 1))
        yield Chain(stack, public / "chain.toml", vanilla, tee, txs, blocks)


def rpc(url: str, method: str, *params: Any) -> Any:
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": list(params)}, timeout=30).json()  # fmt: skip
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


class Proxy:
    """An HTTP JSON-RPC proxy to the sequencer; ``alter(method, params, result)`` may change
    each answer (batches included) on its way to the follower."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.alter: Callable[[str, list[Any], Any], Any] | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                reply = httpx.post(proxy.upstream, content=body, timeout=30,
                                   headers={"content-type": "application/json"}).json()  # fmt: skip
                if proxy.alter is not None:
                    requests = request if isinstance(request, list) else [request]
                    replies = reply if isinstance(reply, list) else [reply]
                    by_id = {r["id"]: r for r in requests}
                    for r in replies:
                        call = by_id[r["id"]]
                        if r.get("result") is not None:
                            r["result"] = proxy.alter(call["method"], call["params"], r["result"])
                out = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class FollowerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path


def start_follower(chain: Chain, upstream: str, data_dir: Path) -> FollowerProcess:
    port = free_port()
    log = data_dir.with_suffix(".log")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [NEUROSTACK, "node", "--follow", upstream, "--data-dir", str(data_dir),
             "--config", str(chain.public_toml), "--rpc-port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,
        )  # fmt: skip
    return FollowerProcess(proc, f"http://127.0.0.1:{port}/", log)


def wait_status(f: FollowerProcess, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    end = time.monotonic() + SYNC_TIMEOUT
    status: dict[str, Any] = {}
    while time.monotonic() < end:
        assert f.proc.poll() is None, f.log.read_text()[-3000:]
        try:
            status = rpc(f.url, "neuro_syncStatus")
            if done(status):
                return status
        except (httpx.HTTPError, RuntimeError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"follower status {status}\n{f.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def proxy(chain: Chain) -> Iterator[Proxy]:
    p = Proxy(chain.stack.rpc_url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def follower(
    chain: Chain, proxy: Proxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FollowerProcess]:
    """A follower process reading the sequencer through the (pass-through) proxy."""
    f = start_follower(chain, proxy.url, tmp_path_factory.mktemp("follower") / "data")
    try:
        head = len(chain.blocks) - 1
        wait_status(f, lambda s: int(s["verifiedHead"], 16) >= head)
        yield f
    finally:
        _stop(f.proc, grace=20)


def test_the_follower_verifies_every_block_to_the_same_hashes_and_roots(
    chain: Chain, follower: FollowerProcess
) -> None:
    for block in chain.blocks:
        ours = rpc(follower.url, "eth_getBlockByNumber", hex(block.number), False)
        theirs = chain.stack.rpc("eth_getBlockByNumber", hex(block.number), False)
        assert (
            ours["hash"]
            == theirs["hash"]
            == "0x" + keccak(rlp.encode(rlp.decode(block.raw)[0])).hex()
        )
        assert ours["stateRoot"] == theirs["stateRoot"]
        assert ours == theirs
    status = rpc(follower.url, "neuro_syncStatus")
    assert status["role"] == "follower" and status["lastError"] is None and not status["halted"]
    assert (
        status["verifiedHash"] == chain.stack.rpc("eth_getBlockByNumber", "latest", False)["hash"]
    )
    assert status["sequencerHead"] == hex(len(chain.blocks) - 1)
    assert rpc(follower.url, "eth_syncing") is False
    # the traffic the module made: several inference modes, the shared request, the revocation
    witnesses = [
        rpc(follower.url, "neuro_getInferenceWitness", hex(b.number)) for b in chain.blocks
    ]
    modes = {r["mode"] for w in witnesses for r in w["receipts"]}
    assert modes == {0, 2}
    assert max(len(w["receipts"]) for w in witnesses) >= 2  # the chained calls
    shared = {
        rpc(follower.url, "eth_getTransactionReceipt", chain.txs[name])["inferences"][0][
            "requestId"
        ]
        for name in ("vanilla", "same_request")
    }
    assert len(shared) == 1  # one request made by two transactions


def test_the_follower_answers_reads_like_the_sequencer(
    chain: Chain, follower: FollowerProcess
) -> None:
    head = hex(len(chain.blocks) - 1)
    last_value = selector("ModelConsumer", "lastValue")
    reads: list[tuple[str, list[Any]]] = [
        ("eth_chainId", []),
        ("eth_blockNumber", []),
        ("eth_getLogs", [{"fromBlock": "0x0", "toBlock": head}]),
        ("eth_call", [{"to": chain.vanilla, "data": "0x" + last_value.hex()}, "latest"]),
        ("eth_call", [{"to": chain.tee, "data": "0x" + last_value.hex()}, head]),
        ("eth_getCode", [chain.vanilla, "latest"]),
        ("eth_getProof", ["0x" + REGISTRY_ADDRESS.hex(), ["0x0", "0x1"], head]),
        ("eth_getBalance", [chain.stack.accounts[9].address, "latest"]),
        ("neuro_chainInfo", []),
    ]
    for name in ("transfer1", "vanilla", "same_request", "tee", "chained", "revoke", "heartbeat"):
        tx = chain.txs[name]
        reads += [("eth_getTransactionByHash", [tx]), ("eth_getTransactionReceipt", [tx]),
                  ("neuro_getInferenceProof", [tx])]  # fmt: skip
    for block in chain.blocks:
        reads += [("eth_getBlockReceipts", [hex(block.number)]),
                  ("neuro_getInferenceWitness", [hex(block.number)])]  # fmt: skip
    for method, params in reads:
        assert rpc(follower.url, method, *params) == chain.stack.rpc(method, *params), method
    logs = rpc(follower.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": head})
    assert len(logs) >= 3  # the Prediction events
    # filters run on the verified chain too
    filter_id = rpc(follower.url, "eth_newFilter", {"fromBlock": "0x0", "address": chain.vanilla})
    assert rpc(follower.url, "eth_getFilterLogs", filter_id) == chain.stack.rpc(
        "eth_getLogs", {"fromBlock": "0x0", "toBlock": head, "address": chain.vanilla}
    )


def test_the_follower_refuses_transactions_as_a_verifier(
    chain: Chain, follower: FollowerProcess
) -> None:
    a = chain.stack.accounts[9]
    tx = {"chainId": chain.stack.chain_id, "nonce": 0, "to": a.address, "value": 1,
          "gas": 21_000, "gasPrice": 2 * GWEI}  # fmt: skip
    raw = "0x" + bytes(Account.sign_transaction(tx, a.key).raw_transaction).hex()
    reply = httpx.post(follower.url, json={"jsonrpc": "2.0", "id": 1,
                       "method": "eth_sendRawTransaction", "params": [raw]}).json()  # fmt: skip
    assert reply["error"]["code"] == -32000
    assert "this node is a verifier" in reply["error"]["message"]
    assert "send them to the sequencer" in reply["error"]["message"]
    for method in ("evm_mine", "evm_snapshot"):
        error = httpx.post(follower.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                               "params": []}).json()["error"]  # fmt: skip
        assert error["code"] == -32601


# --- the tamper matrix, in process on the recorded blocks -------------------------------


@dataclass(frozen=True)
class Tampering:
    """Alter one recorded block (``target`` picks it); ``check`` and ``request`` are what
    the follower must report (``request``: which receipt's id, by index in the original
    witness; None: no request id)."""

    target: Callable[[Chain], int]
    change: Callable[[Chain, SourcedBlock, Any], SourcedBlock]
    check: str
    request: int | None = None
    tx_index: int | None = None


def witness_change(fn: Callable[[list[dict[str, Any]]], None]) -> Callable[..., SourcedBlock]:
    def apply(chain: Chain, sourced: SourcedBlock, block_class: Any) -> SourcedBlock:
        witness = json.loads(json.dumps(sourced.witness))
        fn(witness["receipts"])
        return replace(sourced, witness=witness)

    return apply


def header_change(**fields: Any) -> Callable[..., SourcedBlock]:
    def apply(chain: Chain, sourced: SourcedBlock, block_class: Any) -> SourcedBlock:
        block = rlp.decode(sourced.raw, sedes=block_class)
        changed = {
            k: (v(getattr(block.header, k)) if callable(v) else v) for k, v in fields.items()
        }
        header = block.header.copy(**changed)
        return replace(sourced, raw=rlp.encode(block.copy(header=header)))

    return apply


def swap_transactions(chain: Chain, sourced: SourcedBlock, block_class: Any) -> SourcedBlock:
    block = rlp.decode(sourced.raw, sedes=block_class)
    txs = list(block.transactions)
    txs[0], txs[1] = txs[1], txs[0]
    return replace(sourced, raw=rlp.encode(block.copy(transactions=txs)))


def flip_hex(value: str, index: int = -1) -> str:
    raw = bytearray(bytes.fromhex(value[2:]))
    raw[index] ^= 0x01
    return "0x" + raw.hex()


def set_key(key: str, index: int, change: Callable[[Any], Any]) -> Callable[..., SourcedBlock]:
    def fn(receipts: list[dict[str, Any]]) -> None:
        receipts[index][key] = change(receipts[index][key])

    return witness_change(fn)


def another_blocks_receipt(chain: Chain, sourced: SourcedBlock, block_class: Any) -> SourcedBlock:
    """The block's first receipt replaced by another block's (another request's)."""
    ours = {r["requestId"] for r in sourced.witness["receipts"]}
    other = next(
        r for b in chain.blocks for r in b.witness["receipts"] if r["requestId"] not in ours
    )
    witness = {**sourced.witness, "receipts": [other, *sourced.witness["receipts"][1:]]}
    return replace(sourced, witness=witness)


def truncated(chain: Chain, sourced: SourcedBlock, block_class: Any) -> SourcedBlock:
    return replace(sourced, raw=sourced.raw[:-7])


def vanilla(c: Chain) -> int:
    return c.block_of("vanilla")


def chained(c: Chain) -> int:
    return c.block_of("chained")


def transfers(c: Chain) -> int:
    return c.block_of("transfer1")


RECEIPT = Check.INFERENCE_RECEIPT.value
WITNESS = Check.WITNESS.value


def new_extra_data(extra: bytes) -> bytes:
    return bytes(extra[:-1]) + bytes([extra[-1] ^ 1])


TAMPERINGS: dict[str, Tampering] = {
    "output byte": Tampering(vanilla, set_key("output", 0, flip_hex), RECEIPT, 0),
    "output hash": Tampering(vanilla, set_key("outputHash", 0, flip_hex), RECEIPT, 0),
    "signature byte": Tampering(
        vanilla, set_key("signature", 0, lambda s: flip_hex(s, 5)), RECEIPT, 0
    ),
    "expiry": Tampering(vanilla, set_key("expiry", 0, lambda e: e + 1), RECEIPT, 0),
    "sprinter": Tampering(vanilla, set_key("sprinter", 0, lambda _: EXTRA_SPRINTER), RECEIPT, 0),
    "receipt dropped": Tampering(vanilla, witness_change(lambda r: r.pop(0)), RECEIPT, 0),
    "receipt swapped for another request's": Tampering(vanilla, another_blocks_receipt, RECEIPT, 0),
    "receipt listed twice": Tampering(
        vanilla, witness_change(lambda r: r.append(r[0])), WITNESS, 0
    ),
    "receipts reordered": Tampering(chained, witness_change(lambda r: r.reverse()), WITNESS, -1),
    "transactions reordered": Tampering(
        transfers, swap_transactions, Check.TRANSACTIONS_ROOT.value
    ),
    "state root": Tampering(
        vanilla, header_change(state_root=b"\x01" * 32), Check.STATE_ROOT.value
    ),
    "inferenceRoot (extraData)": Tampering(
        vanilla, header_change(extra_data=new_extra_data), Check.EXTRA_DATA.value
    ),
    "gas used": Tampering(transfers, header_change(gas_used=lambda g: g + 1), Check.GAS_USED.value),
    "base fee": Tampering(
        transfers, header_change(base_fee_per_gas=lambda f: f + 1), Check.BASE_FEE.value
    ),
    "mix hash": Tampering(transfers, header_change(mix_hash=b"\x01" * 32), Check.BLOCK_HASH.value),
    "block RLP": Tampering(transfers, truncated, BLOCK_ENCODING),
    "witness JSON": Tampering(vanilla, set_key("signature", 0, lambda _: "0xzz"), WITNESS_ENCODING),
}


class Recorded:
    """A block source over the recorded blocks, one of them replaced."""

    description = "recorded blocks"

    def __init__(self, blocks: list[SourcedBlock]) -> None:
        self.blocks = blocks

    def head(self) -> int:
        return len(self.blocks) - 1

    def chain_id(self) -> int | None:
        return None

    def fetch(self, first: int, count: int) -> list[SourcedBlock]:
        return self.blocks[first : first + count]

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def local(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FollowerNode]:
    """An in-process follower node on the chain's public chain.toml."""
    config = load_chain_config(chain.public_toml)
    config.sequencer.data_dir = tmp_path_factory.mktemp("local") / "data"
    node = FollowerNode(config)
    yield node
    node.stop()


def head_at(node: FollowerNode, chain: Chain, number: int) -> None:
    """Make ``number`` the node's head: rewind, or verify the recorded blocks up to it."""
    if node.head().number > number:
        node.engine.rewind(node.block_by_number(number).hash)
    assert Follower(node, Recorded(chain.blocks)).sync_to(number)


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_a_tampered_block_is_refused_naming_block_check_and_request(
    chain: Chain, local: FollowerNode, name: str
) -> None:
    tampering = TAMPERINGS[name]
    n = tampering.target(chain)
    head_at(local, chain, n - 1)
    original = chain.blocks[n]
    block_class = local.engine.chain.get_vm_class_for_block_number(n).get_block_class()
    blocks = list(chain.blocks)
    blocks[n] = tampering.change(chain, original, block_class)
    follower = Follower(local, Recorded(blocks))

    assert follower.sync_to(len(blocks) - 1) is False
    failure = follower.sync_status()["lastError"]
    assert failure["blockNumber"] == hex(n) and failure["check"] == tampering.check, failure
    if tampering.request is not None:
        expected = original.witness["receipts"][tampering.request]["requestId"]
        assert failure["requestId"] == expected, failure
    if failure["check"] == RECEIPT:
        assert failure["transactionHash"] in chain.txs.values()
    assert local.head().number == n - 1  # never adopted, nothing of it written
    assert follower.sync_status()["verifiedHead"] == hex(n - 1)
    assert Follower(local, Recorded(chain.blocks)).sync_to(n)  # the genuine block still fits
    assert local.head().hash == rlp.decode(original.raw, sedes=block_class).hash


def test_a_follower_refuses_a_sequencer_of_another_genesis(chain: Chain, tmp_path: Path) -> None:
    config = load_chain_config(chain.stack.project / "chain.toml")
    config.sequencer.data_dir = tmp_path / "data"
    config.dev.accounts = 3  # another premine: another genesis
    node = FollowerNode(config)
    try:
        with pytest.raises(ConfigError, match="is not the one chain.toml describes"):
            Follower(node, Recorded(chain.blocks)).check_genesis()
    finally:
        node.stop()


# --- the real path: a follower process behind a tampering proxy -----------------------------
# (``--once`` succeeding is tested in tests/sequencer/test_follower.py, without a hub)


def test_a_tampered_witness_halts_the_running_follower_which_keeps_serving(
    chain: Chain, follower: FollowerProcess, proxy: Proxy, tmp_path: Path
) -> None:
    stack = chain.stack
    verified = rpc(follower.url, "eth_getBlockByNumber", "latest", False)
    verified_number = int(verified["number"], 16)

    def alter(method: str, params: list[Any], result: Any) -> Any:
        fresh = method == "neuro_getInferenceWitness" and int(params[0], 16) > verified_number
        if fresh and result["receipts"]:
            result["receipts"][0]["output"] = flip_hex(result["receipts"][0]["output"])
        return result

    proxy.alter = alter
    mlp = stack.upload_sample("mlp_regressor")
    tx = stack.send(stack.accounts[1], chain.vanilla, predict(mlp, [1, 2, 3, 4]))
    receipt = stack.wait_receipt(tx)
    number = int(receipt["blockNumber"], 16)
    status = wait_status(follower, lambda s: s["halted"])
    failure = status["lastError"]
    assert failure["blockNumber"] == hex(number) and failure["check"] == RECEIPT
    assert failure["transactionHash"] == tx
    assert failure["requestId"] == receipt["inferences"][0]["requestId"]
    assert "output hash mismatch" in failure["reason"]
    assert status["verifiedHash"] == verified["hash"]
    # it keeps serving what it verified, and says where it stopped
    assert rpc(follower.url, "eth_getBlockByNumber", "latest", False) == verified
    assert rpc(follower.url, "eth_getTransactionReceipt", tx) is None
    assert f"not adopting block {number}" in follower.log.read_text()

    done = subprocess.run(
        [NEUROSTACK, "node", "--follow", proxy.url, "--data-dir", str(tmp_path / "once"),
         "--config", str(chain.public_toml), "--once"],
        capture_output=True, text=True, timeout=SYNC_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"block {number}" in done.stderr and "inference_receipt" in done.stderr
    assert receipt["inferences"][0]["requestId"] in done.stderr.replace("\n", "")
