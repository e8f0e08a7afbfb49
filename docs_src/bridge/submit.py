# docs/bridge.md example: one job through the bridge, its result verified before use
import os
import time

from bridge import CeleryBridge
from neurostack.protocol import (
    InferenceJob,
    InferenceMode,
    encode_model_input,
    model_input_from_mapping,
    request_id,
)

SPRINTERS = {a.lower() for a in os.environ["SPRINTERS"].split(",")}  # the chain's registry


def admissible(signer: bytes, mode: InferenceMode) -> str | None:
    """The chain's rule for a result's signer (PIPE passes the registry of the block being
    built, `sequencer.pipe.backend.registry_check`); None: it may answer."""
    return None if "0x" + signer.hex() in SPRINTERS else "not a sprinter of this chain"


chain_id, cid, mode = 4242, os.environ["MODEL_CID"], InferenceMode.VANILLA
input_abi = encode_model_input(model_input_from_mapping({"x": [[0.5, -1.25, 2.0, 0.125]]}))
job = InferenceJob(
    request_id(chain_id, cid, mode, input_abi), chain_id, cid, mode, input_abi,
    expiry=int(time.time()) + 3600,  # goes into the signed receipt
    deadline=time.time() + 30,  # per job: a ZK job may carry minutes
)
bridge = CeleryBridge(os.environ["REDIS_URL"], chain_id=chain_id, redundancy=2)
try:
    result = bridge.submit(job, admissible=admissible).result()
    print("signed by", "0x" + result.receipt.sprinter.hex() if result.receipt else result.error)
finally:
    bridge.close()
