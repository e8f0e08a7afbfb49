neurostack explorer --rpc http://127.0.0.1:8545 [--port 8700] [--host 127.0.0.1] \
    [--project DIR] [--data-dir DIR] [--public-rpc URL]
