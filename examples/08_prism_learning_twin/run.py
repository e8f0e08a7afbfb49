"""Example 08, blueprint "Prism": a private learning twin owned by a wallet.

A student's tutor model predicts whether she will recall a topic. ``Prism`` belongs to her
wallet: only her key publishes a new version (a stranger's attempt is refused), and the
contract always answers with the current one. ``StudyApp``, a third-party app, asks the
twin what a learner should review and pays the twin's fee per question; the fee lands in
the student's account in the same transaction.

    python examples/08_prism_learning_twin/run.py --rpc http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_kit.py: endpoints, accounts, models
import _kit

from hub_client import Contract, ContractReverted, TransactionReceipt

MODELS = [HERE / "models" / "tutor_v1.onnx", HERE / "models" / "tutor_v2.onnx"]
ARTIFACTS = HERE / "contracts" / "artifacts"
QUERY_FEE = 2 * 10**15  # wei per question
TOPIC = [2000, 8000, 65000, 4000]  # 2 h studied, 8 days ago, quiz 65, difficulty 4 (3 dp)


@dataclass(frozen=True)
class Answer:
    version: int
    cid: str
    recall_bps: int
    review: bool
    receipt: TransactionReceipt
    owner_gain: int  # the student's balance change in that block


@dataclass(frozen=True)
class Result:
    prism: Contract
    app: Contract
    owner: str
    cids: list[str]
    answers: list[Answer]
    refused: dict[str, str]
    gas: dict[str, int]


def run(devnet: _kit.Devnet, args: argparse.Namespace) -> Result:
    rollup = devnet.rollup
    student, developer, learner, stranger = devnet.accounts[1:5]
    cids = [devnet.upload(path, f"tutor_v{i + 1}") for i, path in enumerate(MODELS)]
    prism = rollup.deploy(student, ARTIFACTS / "Prism.json", QUERY_FEE)
    app = rollup.deploy(developer, ARTIFACTS / "StudyApp.json")
    print(f"twin        Prism {prism.address}, owned by the student {student.address}\n"
          f"app         StudyApp {app.address}, fee {QUERY_FEE} wei per question")  # fmt: skip

    answers: list[Answer] = []
    for version, cid in enumerate(cids, start=1):
        prism.transact(student, "publish", cid)
        receipt = app.transact(learner, "advise", prism.address, TOPIC, 3, value=QUERY_FEE)
        (answered,) = prism.events("Answered", receipt)
        (advice,) = app.events("Advice", receipt)
        gain = (rollup.balance(student.address, receipt.block_number)
                - rollup.balance(student.address, receipt.block_number - 1))  # fmt: skip
        answers.append(Answer(answered["version"], receipt.inferences[0].model_cid,
                              answered["recallBps"], advice["review"], receipt, gain))  # fmt: skip
        print(f"\nversion {version}   {cid} published by the student\n"
              f"  advice    P(recall) {answered['recallBps'] / 100:.2f} % -> "
              f"{'review it' if advice['review'] else 'no review needed'} "
              f"(model {receipt.inferences[0].model_cid[:24]}…)\n"
              f"  paid      the student's balance rose by {gain} wei")  # fmt: skip

    refused: dict[str, str] = {}
    print()
    for what, fn, call_args, value in (
        ("a stranger publishes a version", "publish", (cids[0],), 0),
        ("a stranger changes the fee", "setQueryFee", (0,), 0),
        ("an app pays less than the fee", "ask", (TOPIC, 3), QUERY_FEE - 1),
    ):
        try:
            prism.transact(stranger, fn, *call_args, value=value)
        except ContractReverted as exc:
            refused[what] = exc.reason
            print(f"refused     {what}: {exc.reason}")
        else:
            raise ValueError(f"Prism accepted: {what}")
    assert prism.receipt is not None
    gas = {"deploy Prism": prism.receipt.gas_used, "advise (app -> twin -> model)":
           answers[-1].receipt.gas_used}  # fmt: skip
    return Result(prism, app, student.address, cids, answers, refused, gas)


def main(argv: list[str] | None = None) -> int:
    return _kit.main(argv, __doc__, run)


if __name__ == "__main__":
    raise SystemExit(main())
