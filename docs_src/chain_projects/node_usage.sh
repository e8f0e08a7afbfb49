neurostack node [--config chain.toml] [--reset] [--block-time S] [--redis-url URL] [--rpc-port P]
neurostack node --follow RPC_URL --data-dir DIR [--config chain.toml] [--rpc-port P] [--once]
