neurostack node [--config chain.toml] [--reset] [--block-time S] [--redis-url URL]
