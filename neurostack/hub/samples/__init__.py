"""Two tiny ONNX models the project generates itself (see ``build.py``), shipped as
package data for tests, examples and demos:

- ``mlp_regressor``: float32 ``x`` [N, 4] -> float32 ``y`` [N, 1] (two dense layers, Relu);
- ``text_classifier``: float32 ``x`` [N, 4] -> string ``label`` [N] and float32
  ``probabilities`` [N, 3] (labels ``negative``, ``neutral``, ``positive``).
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_NAMES = ("mlp_regressor", "text_classifier")


def sample_model_path(name: str) -> Path:
    """Path of the shipped sample model ``name`` (with or without ``.onnx``)."""
    stem = name.removesuffix(".onnx")
    if stem not in SAMPLE_NAMES:
        raise KeyError(f"no sample model {name!r}; choose one of {', '.join(SAMPLE_NAMES)}")
    return SAMPLES_DIR / f"{stem}.onnx"


__all__ = ["SAMPLES_DIR", "SAMPLE_NAMES", "sample_model_path"]
