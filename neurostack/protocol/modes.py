"""Inference modes: how much certainty a caller buys ("certainty on a slider").

The numeric values are the Solidity ``ModelInferenceMode`` enum of OpenGradient's
``OGInference`` (VANILLA, ZK, TEE) plus OPTIMISTIC, which is Neuro Stack's own.
"""

from __future__ import annotations

from enum import IntEnum


class InferenceMode(IntEnum):
    """The ``mode`` field of ``ModelInferenceRequest`` (a ``uint8`` on chain)."""

    VANILLA = 0
    ZK = 1
    TEE = 2
    OPTIMISTIC = 3
