"""A CNN classifier end to end: train a small convolutional network on scikit-learn's 8×8 digits
(they ship with it: nothing is downloaded), convert it to .strata, run it with Strata and compare
with PyTorch.

    python examples/cnn_digits.py [OUT_DIR]        (default build/examples)

Writes OUT_DIR/cnn_digits.strata and the test images as OUT_DIR/digits_test.npy (float32,
[N, 1, 8, 8]) and OUT_DIR/digits_test.f32 (the same values as raw little-endian float32, for the
C example), and prints the accuracy, the largest difference from PyTorch and one predicted class
per test image ("predictions: 3 7 ..."), which the C and Swift examples reproduce.
Needs: pip install strata-runtime "strata-convert[torch]" scikit-learn.
"""
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

import strata
from strata_convert import torch_source


class DigitsCNN(torch.nn.Module):
    """conv 3×3 (8) → ReLU → max-pool 2 → conv 3×3 (16) → ReLU → flatten → linear 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))  # a fixed shuffled split
    images = (digits.images[order] / 16.0).astype(np.float32)[:, None]  # [1797, 1, 8, 8] in [0, 1]
    labels = digits.target[order]
    train_x, test_x = torch.from_numpy(images[:1500]), images[1500:]
    train_y, test_y = torch.from_numpy(labels[:1500]), labels[1500:]

    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(10):                                                 # a few seconds on one core
        for start in range(0, len(train_x), 50):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train_x[start:start + 50]), train_y[start:start + 50])
            loss.backward()
            optimizer.step()
    model.eval()

    path = out_dir / "cnn_digits.strata"
    torch_source.save(model, torch.zeros(1, 1, 8, 8), str(path), class_labels=[str(d) for d in range(10)])

    with strata.Model(path) as strata_model:                             # load once, run many times
        logits = strata_model.run(test_x)
    with torch.no_grad():
        expected = model(torch.from_numpy(test_x)).numpy()
    predictions = logits.argmax(axis=1)

    np.save(out_dir / "digits_test.npy", test_x)
    test_x.astype("<f4").tofile(out_dir / "digits_test.f32")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(f"accuracy: {(predictions == test_y).mean():.3f} on {len(test_y)} test digits")
    print(f"max |strata - pytorch|: {np.abs(logits - expected).max():.2e}")
    print("predictions:", " ".join(map(str, predictions)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/examples"))
