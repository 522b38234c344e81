"""A scikit-learn MLP end to end: fit an MLPClassifier on the 8×8 digits, convert it with
strata_convert (no ONNX step needed), and check that Strata's probabilities are scikit-learn's
predict_proba.

    python examples/sklearn_mlp.py [OUT_DIR]       (default build/examples)

Writes OUT_DIR/sklearn_mlp.strata; prints the accuracy, the largest difference from
predict_proba and whether every predicted class agrees.
Needs: pip install strata-runtime strata-convert scikit-learn.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # scikit-learn's fit is faster on one thread here

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import strata  # noqa: E402
from strata_convert import sklearn_source  # noqa: E402


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)                          # [1797, 64]
    classifier = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=300, random_state=0)
    classifier.fit(x[:1500], digits.target[:1500])

    path = out_dir / "sklearn_mlp.strata"
    sklearn_source.save(classifier, str(path))                           # class labels from classes_

    test_x, test_y = x[1500:], digits.target[1500:]
    with strata.Model(path) as model:
        probabilities = model.run(test_x)
        labels = model.class_labels
    expected = classifier.predict_proba(test_x)
    predicted = np.array([labels[k] for k in probabilities.argmax(axis=1)])

    print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(f"accuracy: {(predicted == test_y.astype(str)).mean():.3f} on {len(test_y)} test digits")
    print(f"max |strata - predict_proba|: {np.abs(probabilities - expected).max():.2e}")
    print(f"same class as scikit-learn: {(predicted == classifier.predict(test_x).astype(str)).all()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/examples"))
