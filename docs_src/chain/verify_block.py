# docs/chain.md example: verify a published block with the chain core alone
import json
import tempfile
from pathlib import Path

from eth.db.atomic import AtomicDB
from eth_account import Account

from sequencer.chain import InvalidBlock, create_genesis, genesis_hash, state_transition
from sequencer.chainspec import chain_spec
from sequencer.config import load_chain_config
from sequencer.node import Node

project = Path(tempfile.mkdtemp())
(project / "chain.toml").write_text(
    '[chain]\nname = "demo"\nchain_id = 4242\nblock_time = 0\n'
    '[sequencer]\naddress = "0x00000000000000000000000000000000000000aa"\n'
)
config = load_chain_config(project / "chain.toml")  # public: there is no key file
spec = chain_spec(config)  # everything sequencer.chain needs

# a sequencer makes block 1 (a follower would fetch it and its witness over JSON-RPC)
sequencer = Node(config)
sender = config.dev_accounts()[0]
transfer = {"chainId": 4242, "nonce": 0, "to": "0x" + "11" * 20, "value": 1, "gas": 21_000,
            "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "type": 2}
sequencer.send_raw_transaction(Account.sign_transaction(transfer, sender.private_key).raw_transaction)
block = sequencer.mine()
witness = sequencer.engine.records.load(block.hash).receipts  # = neuro_getInferenceWitness(1)
sequencer.stop()

# the STF on a chain built from the spec alone (its head is the block's parent)
verifier = create_genesis(spec, AtomicDB())
assert verifier.get_canonical_head().hash == genesis_hash(spec)
executed = state_transition(verifier, block, witness)
print("valid:", executed.block.hash.hex(), len(executed.receipts), "receipt(s)")

# a tampered block is refused with a typed, machine-readable reason
forged = block.copy(header=block.header.copy(state_root=b"\x01" * 32))
try:
    state_transition(verifier, forged, witness)
except InvalidBlock as error:
    print("refused:", json.dumps(error.to_json()))

# a follower node's engine validates and commits a block with its witness in one step
follower_config = config.model_copy(update={"root": project / "follower"})
follower = Node(follower_config, dev_methods=False)
follower.engine.import_block(block, witness)  # raises InvalidBlock and writes nothing if bad
print("follower head:", follower.head().number, follower.head().hash == block.hash)
follower.stop()
