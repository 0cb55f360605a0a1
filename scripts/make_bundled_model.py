"""Regenerate the bundled example network ``src/reluscope/data/digits_mlp.npz``.

A 64-16-16-10 ReLU MLP trained with scikit-learn on its bundled 8x8 digits
(pixels scaled to [0, 1]); run by hand: ``python scripts/make_bundled_model.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from reluscope import Network

OUT = Path(__file__).resolve().parents[1] / "src" / "reluscope" / "data" / "digits_mlp.npz"


def main() -> None:
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    clf = MLPClassifier((16, 16), alpha=1e-3, max_iter=2000, random_state=0).fit(xtr, ytr)
    acc = clf.score(xte, yte)
    n = len(clf.coefs_)
    layers = [
        (w.T, b, "relu" if i < n - 1 else "identity")
        for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True))
    ]
    net = Network(
        layers,
        metadata={
            "source": "scikit-learn MLPClassifier on sklearn.datasets.load_digits (x / 16)",
            "test_accuracy": round(float(acc), 4),
            "domain": [0.0, 1.0],
            "split": "train_test_split(test_size=0.25, random_state=0, stratify=y)",
        },
    )
    assert np.array_equal(net(xte).argmax(1), clf.predict(xte))
    net.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
