# Mode ZK: upload with zk=True, wait for the circuit, get a proof verified on this machine.
import os

from hub_client import HubClient, InferenceMode
from neurostack.hub.samples import sample_model_path

HUB_URL = os.environ.get("NEUROSTACK_HUB_URL", "http://127.0.0.1:8600")  # `neurostack up`'s
OWNER_KEY = os.environ["NEUROSTACK_PRIVATE_KEY"]  # the model owner's key, 0x-hex

with HubClient(HUB_URL) as hub:
    info = hub.upload_model(sample_model_path("mlp_regressor"), private_key=OWNER_KEY,
                            name="mlp", zk=True)
    info = hub.wait_for_zk(info.cid)  # about 5 s for this model on 2 cores
    assert info.zk.status == "ready", info.zk.reason
    result = hub.infer(info.cid, {"x": [[0.5, -1.0, 2.0, 0.25]]}, mode=InferenceMode.ZK)
    assert result.verified and len(result.receipt.proof) == info.zk.proof_bytes
    assert result.arrays()["y"].item() == -2.3731689453125  # the circuit's value, -19441/2^13
