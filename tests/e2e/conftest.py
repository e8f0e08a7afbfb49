"""Fixtures the end-to-end modules share; each module defines its own ``stack``."""

from __future__ import annotations

import pytest

from .stack import RollupStack


@pytest.fixture(scope="module")
def mlp(stack: RollupStack) -> str:
    """The MLP sample uploaded to the module's hub: its CID."""
    return stack.upload_sample("mlp_regressor")


@pytest.fixture(scope="module")
def consumer(stack: RollupStack) -> str:
    """A ModelConsumer (input name "x", VANILLA) deployed on the module's chain."""
    return stack.deploy("ModelConsumer", "x", 0)
