neurostack new mychain --chain-id 777 --token-symbol MYC --no-input   # scaffold a chain project
cd mychain && neurostack up                                            # run it; `pytest` in a 2nd terminal
neurostack compile                                                     # contracts/ -> contracts/artifacts/
neurostack demo                                                        # a contract calls a model (examples/01)
neurostack node --config chain.toml                                    # only the node + RPC
neurostack node --follow http://127.0.0.1:8545 --data-dir judge        # a verifier: re-executes every block
neurostack hub serve                                                   # the hub: registry + inference API
neurostack hub worker --redis-url URL --key-file KEY                   # a sprinter, on any machine
REDIS_URL=... neurostack up --hub-url http://127.0.0.1:8600            # join a running hub
neurostack model upload model.onnx --name my-model --key-file owner.key
neurostack model list
neurostack model show CID
neurostack infer --model CID --input input.json
neurostack verify-inference --rpc URL --tx HASH [--trusted-block HASH] # check a tx's model outputs, trusting no RPC
neurostack explorer --rpc http://127.0.0.1:8545                       # the explorer (`up` starts one)
