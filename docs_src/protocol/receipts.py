import numpy as np

from neurostack.protocol import (
    InferenceMode,
    check_receipt,
    decode_model_output,
    encode_model_input,
    encode_model_output,
    make_receipt,
    model_cid,
    model_hash,
    model_input_from_json,
    model_input_to_feeds,
    model_output_to_arrays,
    outputs_to_model_output,
    receipt_from_json,
    receipt_to_json,
    request_id,
)

model_file = b"...the ONNX bytes..."
cid = model_cid(model_file)  # "bafkrei..."
inp = model_input_from_json({"x": [[1.5, 2.0, 0.1]]})  # friendly JSON form
input_abi = encode_model_input(inp)  # abi.encode(ModelInput)
rid = request_id(1337, cid, InferenceMode.VANILLA, input_abi)

# Sprinter side: feeds for onnxruntime, outputs back into the ABI.
feeds = model_input_to_feeds(inp, {"x": ("tensor(float)", ["batch", 3])})
assert feeds["x"].dtype == np.float32 and feeds["x"].shape == (1, 3)
outputs = {"y": feeds["x"] * 2}  # stands in for session.run
output_abi = encode_model_output(outputs_to_model_output(outputs))
key = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
receipt = make_receipt(
    chain_id=1337,
    model_cid=cid,
    model_hash=model_hash(model_file),
    mode=InferenceMode.VANILLA,
    input_abi=input_abi,
    output_abi=output_abi,
    expiry=2_000_000_000,
    private_key=key,
)

# Verifier side: from JSON, check everything it can, read the output.
received = receipt_from_json(receipt_to_json(receipt))
signer = check_receipt(received, chain_id=1337, request_id=rid, now=1_900_000_000)
assert signer == received.sprinter  # is the signer admissible? the registry decides
y = model_output_to_arrays(decode_model_output(received.output))["y"]
assert y.astype(np.float32).tolist() == (feeds["x"] * 2).tolist()
