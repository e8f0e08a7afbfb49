"""Build two versions of a student's tutor model ("learning twin") for example 08.

The model predicts whether she will recall a topic: features ``[hours studied, days since
last review, last quiz score 0..100, difficulty 1..5]``, output P(recall). Version 1 learned
from her first 120 quizzes, version 2 from 3,000 (the same synthetic student, who forgets
faster on hard topics than version 1 could tell). Logistic regressions (scikit-learn)
exported with skl2onnx without ZipMap: input ``x`` float32 [N, 4], outputs ``label`` int64
[N] and ``probabilities`` float32 [N, 2] (column 1: recall). ``python build_model.py``
rewrites them; a test rebuilds them byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def quizzes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic quizzes of one student and whether she recalled the topic."""
    x = np.column_stack([
        rng.uniform(0, 6, n), rng.uniform(0, 30, n), rng.uniform(20, 100, n),
        rng.integers(1, 6, n).astype(float),
    ])  # fmt: skip
    logit = 0.6 * x[:, 0] - 0.12 * x[:, 1] * (x[:, 3] / 3) + 0.04 * (x[:, 2] - 60) + 0.8
    return x, (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def build() -> dict[str, bytes]:
    from sklearn.linear_model import LogisticRegression

    models = {}
    for version, (seed, n) in {1: (81, 120), 2: (82, 3000)}.items():
        x, recalled = quizzes(np.random.default_rng(seed), n)
        with single_threaded():
            model = LogisticRegression(max_iter=2000).fit(x, recalled)
        models[f"tutor_v{version}.onnx"] = to_onnx(model, "tutor", 4, classifier=True)
    return models


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
