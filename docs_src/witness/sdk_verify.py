# The same checks with the SDK (tests/e2e/test_light_client.py runs it).
import os

from hub_client import RollupClient

RPC_URL = os.environ.get("NEUROSTACK_RPC_URL", "http://127.0.0.1:8545")  # `neurostack up`'s
TX_HASH = os.environ["TX_HASH"]  # a transaction that called a model

with RollupClient(RPC_URL) as rollup:
    result = rollup.verify_inference(TX_HASH)  # VerificationFailed names a failed check
    for inference in result.inferences:
        print(inference.model_cid, inference.mode.name, inference.arrays(), inference.admission)
