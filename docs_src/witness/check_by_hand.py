# The light client by hand: a receipt, its Merkle branch and its signer's admission, with
# neurostack.protocol only (tests/e2e/test_light_client.py runs it).
import os

import httpx

from neurostack.protocol import (
    check_receipt,
    keccak,
    receipt_from_json,
    receipt_leaf,
    signer_problem,
    verify_account_proof,
    verify_merkle_branch,
    verify_storage_proof,
)
from neurostack.protocol.registry import REGISTRY_ADDRESS, RegistryView

RPC_URL = os.environ.get("NEUROSTACK_RPC_URL", "http://127.0.0.1:8545")  # `neurostack up`'s
TX_HASH = os.environ["TX_HASH"]  # a transaction that called a model


def rpc(method, *params):
    reply = httpx.post(RPC_URL, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": list(params)}).json()
    return reply["result"]


def raw(value):
    return bytes.fromhex(value[2:])


tx = rpc("eth_getTransactionByHash", TX_HASH)
header = rpc("eth_getBlockByHash", tx["blockHash"], False)   # (check its hash: step 1)
call = rpc("eth_getTransactionReceipt", TX_HASH)["inferences"][0]
proof = rpc("neuro_getInferenceProof", TX_HASH)  # the transaction's first call, in its block

receipt = receipt_from_json(proof["receipt"])
signer = check_receipt(receipt, chain_id=int(tx["chainId"], 16),
                       request_id=raw(call["requestId"]), now=int(header["timestamp"], 16))
assert verify_merkle_branch(receipt_leaf(receipt), [raw(h) for h in proof["branch"]],
                            proof["index"], raw(header["extraData"]), proof["leafCount"])

parent = rpc("eth_getBlockByHash", header["parentHash"], False)


def proven_word(slot):
    answer = rpc("eth_getProof", "0x" + REGISTRY_ADDRESS.hex(), [hex(slot)], parent["number"])
    account = verify_account_proof(raw(parent["stateRoot"]), REGISTRY_ADDRESS,
                                   [raw(n) for n in answer["accountProof"]])
    nodes = [raw(n) for n in answer["storageProof"][0]["proof"]]
    return verify_storage_proof(account.storage_root, slot, nodes)


problem = signer_problem(signer, receipt.mode, registry=RegistryView(proven_word),
                         now=int(header["timestamp"], 16))
assert problem is None, problem
print("output", "0x" + keccak(receipt.output).hex(), "signed by", "0x" + signer.hex())
