"""The rollup node: chain, mempool, block producer, persistence, JSON-RPC."""
