"""Example 04 against the shared devnet: the light client accepts the honest node's answers,
anchored or not, and refuses each lie of a node in between with the check it breaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _kit
import pytest

from conftest import assert_gas_as_catalogued, load, run_example
from hub_client import Outcome, RollupClient, VerificationFailed

EXAMPLE = "04_verify_without_trust"


@pytest.fixture(scope="module")
def result(devnet: _kit.Devnet) -> Iterator[Any]:
    yield run_example(devnet, EXAMPLE)


@pytest.mark.slow
def test_the_honest_node_verifies_and_every_lie_is_refused(
    devnet: _kit.Devnet, result: Any
) -> None:
    example = load(EXAMPLE)
    assert isinstance(result, example.Result) and result.receipt is not None

    # Honest answers prove the transaction; only the anchored check ties it to the hash the
    # user trusts (without one, the anchor check is skipped, not passed).
    assert result.trusted_block_hash == result.receipt.block_hash
    assert not result.unanchored.anchored and result.anchored.anchored
    outcomes = {c.name.value: c.outcome for c in result.unanchored.checks}
    assert outcomes.pop("anchor") == Outcome.SKIPPED
    assert set(outcomes.values()) == {Outcome.PASSED}
    assert {c.outcome for c in result.anchored.checks} == {Outcome.PASSED}
    assert [c.name.value for c in result.anchored.checks] == [
        "header", "anchor", "transaction", "status", "receipt", "merkle", "parent", "registry",
        "admission",
    ]  # fmt: skip
    (inference,) = result.anchored.inferences
    (call,) = result.receipt.inferences
    assert "0x" + inference.request_id.hex() == call.request_id
    assert "0x" + inference.block_hash.hex() == result.receipt.block_hash
    assert "sprinter" in inference.admission
    # The verified output is the model's, as onnxruntime computes it here.
    local = _kit.local_output(example.MODEL, _kit.row("x", *example.FEATURES))
    assert _kit.number(inference.output, "y") == _kit.number(local, "y")

    # Each lie fails the check that covers what was changed.
    caught = {says: exc.check for says, exc in result.caught.items()}
    assert caught == {
        "one byte of the model's output is different": "receipt",
        "the model's output and its hash are different": "receipt",
        "one byte of the header's extraData (the inferenceRoot) is different": "header",
        "the transaction reverted": "status",
        "the transaction is in another (genuine) block": "anchor",
    }
    for exc in result.caught.values():
        assert exc.checks[-1].outcome == Outcome.FAILED and exc.checks[-1].name == exc.check
    # A consistent forgery of the output no longer matches the sprinter's signature.
    forged = result.caught["the model's output and its hash are different"]
    assert "signature" in forged.reason or "signer" in forged.reason, forged.reason
    assert_gas_as_catalogued(EXAMPLE, {
        "deploy": result.deployment.gas_used, "predict": result.receipt.gas_used,
    })  # fmt: skip


@pytest.mark.slow
def test_invalid_answers_are_refused_without_a_trusted_hash_too(
    devnet: _kit.Devnet, result: Any
) -> None:
    """A user with no trusted hash still catches every lie above: the misplaced transaction
    is not in the (genuine) block the node names."""
    example = load(EXAMPLE)
    other = devnet.rollup.header(result.receipt.block_number - 1).hash_hex
    expected = ["receipt", "receipt", "header", "status", "transaction"]
    proxy = example.LyingProxy(devnet.rollup.rpc_url)
    with proxy.running(), RollupClient(proxy.url) as untrusted:
        for lie, check in zip(example.lies(result.tx_hash, other), expected, strict=True):
            proxy.lie = lie
            with pytest.raises(VerificationFailed) as failed:
                untrusted.verify_inference(result.tx_hash)
            assert failed.value.check == check, lie.says


@pytest.mark.slow
def test_invalid_trusted_block_is_one_error_line(
    devnet_project: Path, result: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The honest node's block is not the one the user trusts: the script says so and fails."""
    code = load(EXAMPLE).main([
        "--config", str(devnet_project / "chain.toml"), "--tx", result.tx_hash,
        "--trusted-block", "0x" + "11" * 32,
    ])  # fmt: skip

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: anchor did not verify: ") and err.count("\n") == 1
