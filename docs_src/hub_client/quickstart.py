# Upload a model and run it; every output arrives with a receipt verified on this machine.
import os

import numpy as np

from hub_client import HubClient
from neurostack.hub.samples import sample_model_path

HUB_URL = os.environ.get("NEUROSTACK_HUB_URL", "http://127.0.0.1:8600")  # `neurostack up`'s
OWNER_KEY = os.environ["NEUROSTACK_PRIVATE_KEY"]  # the model owner's key, 0x-hex

with HubClient(HUB_URL) as hub:
    info = hub.upload_model(sample_model_path("mlp_regressor"), private_key=OWNER_KEY, name="mlp")
    print(info.cid)  # content id: the same bytes always give the same id
    result = hub.infer(info.cid, {"x": np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)})
    print(result.arrays()["y"])  # numpy; floats as float64
    print(result.worker, "0x" + result.signer.hex())  # the receipt is already verified
