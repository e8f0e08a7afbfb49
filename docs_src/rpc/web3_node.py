# A node on a temporary data dir, served on a free port.
import tempfile
from pathlib import Path

from web3 import Web3

from sequencer.config import ChainConfig
from sequencer.node import Node
from sequencer.rpc import RpcServer

config = ChainConfig.model_validate({"chain": {"name": "demo", "chain_id": 4242, "block_time": 0}})
config.root = Path(tempfile.mkdtemp())
node = Node(config)
node.start()
with RpcServer(node, host="127.0.0.1", port=0) as server:  # port 0: any free port
    w3 = Web3(Web3.HTTPProvider(server.url))
    assert w3.eth.chain_id == 4242
    w3.provider.make_request("evm_mine", [])  # dev methods are on by default
    print(server.url, "block", w3.eth.block_number)
node.stop()
