"""Build ``fraud_screen.onnx``: a logistic-regression fraud screen for card payments.

Features ``[amount (thousands), hour of day, km from home, merchant risk 0..1]``; the
synthetic ground truth makes large, late, far-away payments at risky merchants likely
frauds. Exported with skl2onnx without ZipMap: input ``x`` float32 [N, 4], outputs
``label`` int64 [N] and ``probabilities`` float32 [N, 2] (column 1: fraud). About 0.5 KB.
``python build_model.py`` rewrites it; a test rebuilds it byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def build() -> dict[str, bytes]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    n = 3000
    x = np.column_stack([
        rng.exponential(0.3, n), rng.uniform(0, 24, n), rng.exponential(20, n),
        rng.uniform(0, 1, n),
    ])  # fmt: skip
    late = np.abs(x[:, 1] - 3) < 3  # between midnight and six
    score = 2.5 * x[:, 0] + 1.5 * late + 0.04 * x[:, 2] + 3 * x[:, 3] - 5
    fraud = rng.uniform(0, 1, n) < 1 / (1 + np.exp(-score))
    with single_threaded():
        model = LogisticRegression(max_iter=1000).fit(x, fraud.astype(np.int64))
    return {"fraud_screen.onnx": to_onnx(model, "fraud_screen", 4, classifier=True)}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
