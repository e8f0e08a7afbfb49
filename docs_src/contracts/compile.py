# Compiling with the pinned solc-js, run from the repository root.
from neurostack.solidity import compile_contracts, compile_files, load_artifact

source = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Box { uint256 public x; function set(uint256 v) external { x = v; } }
"""
# in-memory sources: {source unit name: text}
compiled = compile_contracts({"Box.sol": source})  # evm_version="cancun", optimize=True
box = compiled["Box"]  # CompiledContract(name, abi, bytecode, deployed_bytecode, source, ...)
print(len(box.bytecode), "bytes of creation code")  # append ABI-encoded constructor args
print(len(box.deployed_bytecode), "bytes of runtime code")  # what eth_getCode returns

# files: imports resolve next to the files, then contracts/, then the shipped library
compiled = compile_files(["contracts/examples/ModelConsumer.sol"])
print(sorted(compiled))  # the contract and everything it imports

# no compiler needed: the committed artifacts
consumer = load_artifact("ModelConsumer")
print(consumer.name, [f["name"] for f in consumer.abi if f["type"] == "function"])
