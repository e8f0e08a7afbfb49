neurostack up [--config chain.toml] [--reset] [--workers N] [--no-hub] [--block-time S] [--redis-url URL]
