# Check a transaction's model output against its block, trusting only your chain's sprinters.
# Run it in the chain project's folder: python verify_proof.py 0x<transaction hash>
import sys
import tomllib
from pathlib import Path

from hub_client import InferenceDropped, RollupClient

config = tomllib.loads(Path("chain.toml").read_text())
rpc_url = f"http://127.0.0.1:{config['rpc']['port']}"
sprinters = config["inference"]["sprinters"]  # the keys you trust to sign results
tx_hash = sys.argv[1]

with RollupClient(rpc_url) as rollup:
    info = rollup.chain_info()  # ChainInfo(chain_id, name, token_*, block_time)
    try:
        rollup.wait_for_inference(tx_hash, timeout=60)  # InferenceStatus(status="included")
    except InferenceDropped as dropped:
        sys.exit(f"dropped: {dropped.reason}")  # e.g. "deadline passed: no inference result …"
    proof = rollup.inference_proof(tx_hash)  # or a request id
    checked = rollup.verify_inference_proof(proof, expected_signers=sprinters)
    print(info.name, "block", checked.block_number, "signed by 0x" + checked.sprinter.hex())
    print(checked.arrays()["y"])  # the model's output, as the block committed to it
