"""Follower (Judge) benchmark: what verifying costs next to what producing costs.

    .venv/bin/python bench/verify.py [--inferences 6] [--blocks 20] [--txs 200]

In one run, on this machine:

1. Inference (the real stack, ``tests/e2e/stack.py``: embedded Redis, hub API, two
   sprinter workers running onnxruntime, the sequencer with PIPE): ``--inferences`` model
   calls per mode (VANILLA, TEE) on the MLP sample, each first obtained off-chain through
   the hub (``POST /v1/infer``: queue, sprinter, onnxruntime, signature; the path the
   sequencer's PIPE takes for a model call) and timed, then sent as transactions. The
   chain's blocks and witnesses are fetched as a follower does (``debug_getRawBlock``,
   ``neuro_getInferenceWitness``) and imported by an in-process follower node: the
   state-transition time per block, and per inference the time of the STF's receipt check
   (``verify_receipt``: hashes, signature, admission from the parent's registry), next to
   the hub time. Witness bytes per inference: the receipt's ABI encoding (what
   ``inferenceRoot`` commits to) and its JSON as served.
2. Sync rate (in process, no hub): a sequencer node receives ``--blocks`` × ``--txs``
   pre-signed transfers over its JSON-RPC (batches) and builds the blocks (production
   rate, transfers/s); a follower node then verifies the same blocks over HTTP (sync
   rate). The ratio follower/sequencer is the target (>= 1.0: a follower keeps up);
   ``--rounds`` repeats it (the median is the figure: a shared machine scatters single runs).

Targets (issue 7): a VANILLA/TEE receipt verifies in under 1 ms; the ratio is >= 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e.stack and the node-test helpers

from hub_client import HubClient
from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.receipts import encode_receipt, receipt_from_json
from sequencer.chain.inference import precompile
from sequencer.config import load_chain_config
from sequencer.follower import Follower, FollowerNode, RpcBlockSource, decode_witness
from sequencer.node import Node
from sequencer.rpc.server import RpcServer
from tests.e2e.stack import GWEI, Options, RollupStack, predict
from tests.sequencer.helpers import dev_keys, make_config

DECIMALS = 3


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class Timed:
    """Wraps the precompile's ``verify_receipt`` and records each call's time by mode."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.inner = precompile.verify_receipt

        self.samples: dict[str, tuple[Any, Any, dict[str, Any]]] = {}

    def __call__(self, receipt: Any, request: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(receipt, request, **kwargs)
        finally:
            mode = InferenceMode(receipt.mode).name
            self.calls[mode].append(time.perf_counter() - start)
            self.samples.setdefault(mode, (receipt, request, kwargs))

    def repeated(self, mode: str, times: int = 200) -> float:
        """The median of ``times`` more runs of the mode's first check (warm caches: the
        registry's trie nodes, py-evm's account cache), less exposed to a busy machine."""
        receipt, request, kwargs = self.samples[mode]
        runs = []
        for _ in range(times):
            start = time.perf_counter()
            self.inner(receipt, request, **kwargs)
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)


def inference_part(root: Path, per_mode: int) -> None:
    print(f"1. inference: {per_mode} model calls per mode through the hub, then verified")
    with RollupStack(root / "stack", Options(workers=2, tee=True)) as stack:
        cid = stack.upload_sample("mlp_regressor")
        consumers = {
            InferenceMode.VANILLA: stack.deploy("ModelConsumer", "x", 0),
            InferenceMode.TEE: stack.deploy("ModelConsumer", "x", 2),
        }
        hub_times: dict[str, list[float]] = defaultdict(list)
        hashes = []
        with HubClient(stack.hub.url) as hub:
            for mode, consumer in consumers.items():
                for i in range(per_mode):
                    features = [100 * (i + 1), -50 * i, 7 * mode.value + i, 400]
                    x = np.array([features], dtype=np.float32) / 10**DECIMALS
                    start = time.perf_counter()
                    hub.infer(cid, {"x": x}, mode)
                    hub_times[mode.name].append(time.perf_counter() - start)
                    sender = stack.accounts[1 + (i % 8)]
                    hashes.append(stack.send(sender, consumer, predict(cid, features[::-1])))
        for tx in hashes:
            assert stack.wait_receipt(tx)["status"] == "0x1"
        head = int(stack.rpc("eth_blockNumber"), 16)
        source = RpcBlockSource(stack.rpc_url)
        blocks = list(source.fetch(0, head + 1))
        source.close()

        config = load_chain_config(stack.project / "chain.toml")
        config.sequencer.data_dir = root / "follower-1"
        node = FollowerNode(config)
        follower = Follower(node, source)
        timed = Timed()
        precompile.verify_receipt = timed  # type: ignore[assignment]
        per_block: list[tuple[int, float, int]] = []
        try:
            for sourced in blocks[1:]:
                block = follower._decode_block(sourced)
                witness = decode_witness(sourced.witness)
                start = time.perf_counter()
                node.engine.import_block(block, witness)
                elapsed = time.perf_counter() - start
                per_block.append((len(witness), elapsed, block.header.gas_used))
            repeated = {mode: timed.repeated(mode) for mode in ("VANILLA", "TEE")}
        finally:
            precompile.verify_receipt = timed.inner
            node.stop()

    sizes = [
        len(encode_receipt(receipt_from_json(r))) for b in blocks for r in b.witness["receipts"]
    ]
    json_sizes = [len(httpx.Response(200, json=r).content) for b in blocks
                  for r in b.witness["receipts"]]  # fmt: skip
    outputs = [len(receipt_from_json(r).output) for b in blocks for r in b.witness["receipts"]]
    with_inf = [t for k, t, _ in per_block if k]
    without = [t for k, t, _ in per_block if not k]
    print(f"   blocks: {len(per_block)} ({len(with_inf)} with model calls)")
    print(f"   STF per block, median: {ms(statistics.median(with_inf))} with model calls "
          f"(max {max(k for k, _, _ in per_block)} receipts), "
          f"{ms(statistics.median(without)) if without else '-'} without")  # fmt: skip
    for k, t, gas in per_block:
        print(f"     {k} receipts, {gas:>9,} gas: {ms(t)} ({gas / t / 1e6:.2f} Mgas/s)")
    for mode in ("VANILLA", "TEE"):
        verify = timed.calls[mode]
        hub_t = hub_times[mode]
        print(f"   {mode}: receipt check in the STF median {ms(statistics.median(verify))} "
              f"(max {ms(max(verify))}, n={len(verify)}; repeated x200: "
              f"{ms(repeated[mode])}); hub round trip median {ms(statistics.median(hub_t))}: "
              f"verifying is {statistics.median(hub_t) / statistics.median(verify):.0f}x "
              f"cheaper")  # fmt: skip
    print(
        f"   witness per inference: {statistics.median(sizes):.0f} bytes ABI "
        f"({statistics.median(sizes) - statistics.median(outputs):.0f} + output "
        f"{statistics.median(outputs):.0f}), {statistics.median(json_sizes):.0f} bytes JSON"
    )


def rate_part(root: Path, n_blocks: int, per_block: int) -> float:
    print(f"2. sync rate: {n_blocks} blocks x {per_block} transfers, in process over HTTP")
    root.mkdir(parents=True, exist_ok=True)
    config = make_config(root / "sequencer")
    node = Node(config)
    keys = [k for _, k in dev_keys(config)]
    senders = [Account.create() for _ in range(per_block)]
    # fund the senders in one block (part of neither measurement)
    fund = [_signed(keys[i % len(keys)], i // len(keys), senders[i].address, 10**18, config)
            for i in range(per_block)]  # fmt: skip
    for raw in fund:
        node.send_raw_transaction(raw)
    node.mine()
    raws = [[_signed(s.key, b, senders[0].address, 1, config) for s in senders]
            for b in range(n_blocks)]  # fmt: skip
    server = RpcServer(node).start()
    client = httpx.Client(timeout=120)
    try:
        building = 0.0
        start = time.perf_counter()
        for block in raws:
            batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                      "params": ["0x" + raw.hex()]} for i, raw in enumerate(block)]  # fmt: skip
            replies = client.post(server.url, json=batch).json()
            assert all("result" in r for r in replies), replies[:2]
            built = time.perf_counter()
            node.mine()
            building += time.perf_counter() - built
        produce = time.perf_counter() - start
        total = n_blocks * per_block
        assert (
            sum(len(node.block_by_number(n).transactions) for n in range(2, n_blocks + 2)) == total
        )

        fconfig = make_config(root / "follower")
        follower_node = FollowerNode(fconfig)
        follower = Follower(follower_node, RpcBlockSource(server.url))
        assert follower.sync_to(1)  # the funding block: part of neither measurement
        start = time.perf_counter()
        assert follower.sync_to(n_blocks + 1)
        sync = time.perf_counter() - start
        assert follower_node.head().hash == node.head().hash
        follower_node.stop()
    finally:
        client.close()
        server.stop()
        node.stop()
    ratio = produce / sync
    print(f"   sequencer: {total / produce:.0f} transfers/s ({n_blocks / produce:.2f} blocks/s: "
          f"admission over RPC + building)")  # fmt: skip
    print(f"   follower:  {total / sync:.0f} transfers/s ({n_blocks / sync:.2f} blocks/s: "
          f"fetch over RPC + state transition + commit)")  # fmt: skip
    print(f"   ratio follower/sequencer: {ratio:.2f} (target >= 1.0); against building alone "
          f"({total / building:.0f} transfers/s, admission left out): {building / sync:.2f}")  # fmt: skip
    return ratio


def _signed(key: Any, nonce: int, to: str, value: int, config: Any) -> bytes:
    tx = {"chainId": config.chain.chain_id, "nonce": nonce, "to": to, "value": value,
          "gas": 21_000, "maxFeePerGas": 2 * GWEI, "maxPriorityFeePerGas": GWEI // 10,
          "type": 2}  # fmt: skip
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inferences", type=int, default=6, help="model calls per mode")
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--txs", type=int, default=200, help="transfers per block")
    parser.add_argument("--skip-inference", action="store_true")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rate measurements (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_inference:
            inference_part(Path(tmp), args.inferences)
        if not args.skip_rate:
            ratios = [
                rate_part(Path(tmp) / f"rate-{i}", args.blocks, args.txs)
                for i in range(args.rounds)
            ]
            print(f"   ratio over {args.rounds} rounds: median {statistics.median(ratios):.2f} "
                  f"({', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip


if __name__ == "__main__":
    main()
