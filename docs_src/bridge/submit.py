# Send one inference job to the hub's sprinters, as the node's PIPE does.
# Needs a hub: REDIS_URL from the `neurostack up` banner, MODEL_CID of an uploaded model.
import os
import time

from bridge import CeleryBridge
from neurostack.protocol import (
    InferenceMode,
    encode_model_input,
    model_input_from_json,
    request_id,
)
from neurostack.protocol.jobs import InferenceJob

model = os.environ["MODEL_CID"]
input_abi = encode_model_input(model_input_from_json({"x": [[0.5, -1.0, 2.0, 0.25]]}))
job = InferenceJob(
    request_id=request_id(0, model, InferenceMode.VANILLA, input_abi),  # chain id 0: off-chain
    chain_id=0,
    model_cid=model,
    mode=InferenceMode.VANILLA,
    input_abi=input_abi,
    expiry=int(time.time()) + 3600,  # goes into the signed receipt
    deadline=time.time() + 30,  # when to stop waiting
)
bridge = CeleryBridge(os.environ["REDIS_URL"], redundancy=2, speculative_after=5.0)
try:
    result = bridge.submit(job).result()  # JobResult: .receipt (verified) or .error
    print(result.error or f"signed by 0x{result.receipt.sprinter.hex()} ({result.worker})")
finally:
    bridge.close()
