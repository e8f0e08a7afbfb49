neurostack new zknet --modes vanilla,tee,zk   # with ZK: also zk/kzg10.srs, listed in chain.toml
neurostack model upload model.onnx --name mlp --zk
neurostack model register-zk CID --rpc http://127.0.0.1:8545 --key-file keys/sequencer.key --hub http://127.0.0.1:8000
neurostack verify-inference --rpc http://127.0.0.1:8545 --tx 0xTX --zk-srs zk/kzg10.srs
