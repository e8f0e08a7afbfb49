# A node with PIPE; NoInference stands in for the hub here.
import tempfile
from pathlib import Path

from neurostack.protocol import InferenceMode, encode_inference_call, model_input_from_mapping
from sequencer.chain.inference import INFERENCE_PRECOMPILE_ADDRESS
from sequencer.config import ChainConfig, ChainSection
from sequencer.node import Node
from sequencer.pipe import InferenceUnavailable, NoInference, attach
from sequencer.types import CallParams

config = ChainConfig(
    chain=ChainSection(name="demo", chain_id=4242, block_time=0), root=Path(tempfile.mkdtemp())
)
node = Node(config)
backend = NoInference()  # with a hub: bridge.CeleryBridge(redis_url, chain_id=..., ...)
pool = attach(node, backend)  # admission check, pending listener, block inputs, detection
try:
    model = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    data = encode_inference_call(
        InferenceMode.VANILLA, model, model_input_from_mapping({"x": [[1.0, 2.0]]})
    )
    node.call(CallParams(to=INFERENCE_PRECOMPILE_ADDRESS, data=data))  # eth_call runs the model
except InferenceUnavailable as error:
    print(error)  # inference failed: request 0x… (model bafkrei…, VANILLA): this node has no …
finally:
    pool.close()
    node.stop()
