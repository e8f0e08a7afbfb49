# The dApp toolkit: deploy a contract, call a model through it, read the event and the state.
# Needs a devnet: NEUROSTACK_RPC_URL, a funded NEUROSTACK_PRIVATE_KEY, MODEL_CID of an
# uploaded model (tests/e2e/test_inference.py runs it).
import os

from eth_account import Account

from hub_client import RollupClient
from neurostack.solidity import load_artifact

account = Account.from_key(os.environ["NEUROSTACK_PRIVATE_KEY"])  # e.g. a dev account of `up`
with RollupClient(os.environ.get("NEUROSTACK_RPC_URL", "http://127.0.0.1:8545")) as rollup:
    consumer = rollup.deploy(account, load_artifact("ModelConsumer"), "x", 0)  # or a .json path
    receipt = consumer.transact(
        account, "predict", os.environ["MODEL_CID"], [500, -1250, 2000, 125], 3
    )
    (event,) = consumer.events("Prediction", receipt)
    print(consumer.address, receipt.status, receipt.sender)
    print(event["value"], event["decimals"], consumer.call("lastValue"), receipt.gas_used)
    print(receipt.inferences[0].sprinter, rollup.balance(account.address))
