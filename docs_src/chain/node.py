# The node without its RPC: send a transfer, mine it, read its receipt.
import tempfile
from pathlib import Path

from eth_account import Account

from sequencer.config import ChainConfig
from sequencer.node import Node

config = ChainConfig.model_validate({"chain": {"name": "demo", "chain_id": 4242, "block_time": 0}})
config.root = Path(tempfile.mkdtemp())  # chain.toml's folder: data_dir is relative to it
sender = config.dev_accounts()[0]  # funded in genesis from [dev].mnemonic

node = Node(config)  # opens or creates <data_dir>/chain.sqlite
node.start()  # the block-time loop (block_time > 0); block_time = 0 mines on demand
raw = Account.sign_transaction(
    {"chainId": 4242, "nonce": 0, "to": "0x" + "11" * 20, "value": 10**18, "gas": 21_000,
     "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9},
    sender.private_key,
).raw_transaction  # fmt: skip
tx_hash = node.send_raw_transaction(raw)  # durable (journal fsync'ed) when it returns
assert node.transaction(tx_hash).block_number is None  # TxLookup: pending until mined
node.mine()  # what evm_mine does
lookup = node.transaction(tx_hash)
(receipt,) = node.receipts(node.block_by_number(lookup.block_number))
print("block", lookup.block_number, "gas used", receipt.gas_used)
node.stop()  # stops the loop, closes the store
