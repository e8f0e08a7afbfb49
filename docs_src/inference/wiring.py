# What PIPE does with a parked transaction: simulate it to find the model call it waits on.
import tempfile
from pathlib import Path

from eth_account import Account
from eth_utils import to_checksum_address

from neurostack.protocol import InferenceMode, encode_inference_call, model_input_from_mapping
from sequencer.chain.inference import (
    INFERENCE_PRECOMPILE_ADDRESS,
    block_environment,
    extra_data,
    policy_from_config,
    simulate_transaction,
)
from sequencer.config import ChainConfig
from sequencer.node import Node

config = ChainConfig.model_validate({"chain": {"name": "demo", "chain_id": 4242, "block_time": 0}})
config.root = Path(tempfile.mkdtemp())
node = Node(config)  # no PIPE attached: the node just queues the transaction
policy = policy_from_config(config.inference)  # modes, default model gas, limits

model = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
call = encode_inference_call(
    InferenceMode.VANILLA, model, model_input_from_mapping({"x": [[1.0, 2.0]]})
)
signed = Account.sign_transaction(
    {"chainId": 4242, "nonce": 0, "to": to_checksum_address(INFERENCE_PRECOMPILE_ADDRESS),
     "data": call, "gas": 500_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9},
    config.dev_accounts()[0].private_key,
)  # fmt: skip
node.send_raw_transaction(signed.raw_transaction)
(tx,) = node.pending_transactions()

# SEAL-mode environment of the next block, with the receipts known so far (none yet).
env = block_environment(policy, node.state_at(0), witness={})
simulation = simulate_transaction(node.state_at(0), tx, env)  # the state is left untouched
assert not simulation.ready
request = simulation.pending  # InferenceRequest(request_id, chain_id, model_cid, mode, ...)
print("waits on", request.model_cid, "request 0x" + bytes(request.request_id).hex())
print("extraData without inference:", "0x" + extra_data(env).hex())  # the zero root
node.stop()
