"""PIPE detection: one simulation as an ``eth_call`` on the head (before issue 8) against
the signed transaction run as the next block would (``Node.simulate_next``, now).

    .venv/bin/python bench/detection.py [--rounds 40]

One process, one node with PIPE over an in-process backend that answers at once: a
``ModelConsumer.predict`` transaction is made ready (its receipt cached), then both kinds
of simulation run it to the end over the same witness, alternating, ``--rounds`` times
each. Prints the medians and their ratio (the same run's baseline is the old kind).
About 20 s on 2 shared cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eth_abi import encode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for the PIPE tests' kit (node + in-process backend)

from neurostack.protocol.modes import InferenceMode
from neurostack.protocol.types import Address
from neurostack.solidity import load_artifact
from sequencer.chain import ExecutionMode, block_environment
from sequencer.chain.inference import RecordingRecorder
from sequencer.types import CallParams
from tests.sequencer.pipe.kit import MODEL_CID, FakeBackend, open_pipe, selector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pipe = open_pipe(Path(tmp), FakeBackend(auto=True))
        try:
            abi = load_artifact("ModelConsumer")
            consumer = pipe.deploy(abi, ["string", "uint8"], ["x", InferenceMode.VANILLA])
            data = selector(abi, "predict") + encode(
                ["string", "int128[]", "int128"], [MODEL_CID, [3, 4, 5], 0]
            )
            tx_hash = pipe.wallets[1].send(consumer, data)
            pipe.settle()
            assert pipe.status(tx_hash) == "ready"
            found = pipe.node.transaction(tx_hash)
            assert found is not None
            tx = found.tx
            node = pipe.node
            witness = dict(pipe.pool._witness())  # the cached receipts
            head = node.head().header.block_number

            def env():  # type: ignore[no-untyped-def]
                return block_environment(
                    node.spec, node.state_at(head), witness=witness,
                    mode=ExecutionMode.SIMULATE, recorder=RecordingRecorder(),
                )  # fmt: skip

            params = CallParams(
                sender=Address(tx.sender), to=Address(tx.to), gas=tx.gas, value=tx.value,
                data=bytes(tx.data),
            )  # fmt: skip
            old: list[float] = []
            new: list[float] = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                node.call(params, head, environment=env())
                old.append(time.perf_counter() - start)
                start = time.perf_counter()
                node.simulate_next(tx, env())
                new.append(time.perf_counter() - start)
        finally:
            pipe.close()
    o, n = statistics.median(old), statistics.median(new)
    print(f"{'simulation of ModelConsumer.predict':44} {'median':>10}  ratio")
    print(f"{'eth_call on the head (before)':44} {o * 1000:8.1f} ms  1.00")
    print(f"{'signed tx as the next block (now)':44} {n * 1000:8.1f} ms  {n / o:.2f}")


if __name__ == "__main__":
    main()
