"""A streaming recurrent model end to end: a GRU keyword spotter (2 layers, 40 features, 64
hidden, per-frame logits) converted once for one frame, then fed a 49-frame utterance one frame at
a time through a stateful session — the session keeps each GRU layer's state between runs — and
compared with PyTorch running the whole utterance at once.

    python examples/streaming_gru.py [OUT_DIR]       (default build/examples)

Writes OUT_DIR/streaming_gru.strata; prints the largest difference from PyTorch, whether the
frame-by-frame outputs equal one whole-utterance call of Strata bit for bit, and the median
per-frame latency. Random weights (no training: the point is the streaming, not the accuracy).
Needs: pip install strata-runtime "strata-convert[torch]".
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import strata
from strata_convert import torch_source

FRAMES, FEATURES, HIDDEN, KEYWORDS = 49, 40, 64, 12


class KeywordSpotter(nn.Module):
    """x [N, T, 40] -> per-frame keyword logits [N, T, 12]."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, HIDDEN, num_layers=2, batch_first=True)
        self.head = nn.Linear(HIDDEN, KEYWORDS)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out)


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    module = KeywordSpotter().eval()

    # A file's time length is fixed: one file for a single frame (streaming), one for the whole
    # utterance (to compare with one call).
    frame_path, whole_path = out_dir / "streaming_gru.strata", out_dir / "streaming_gru_whole.strata"
    torch_source.save(module, torch.zeros(1, 1, FEATURES), str(frame_path))
    torch_source.save(module, torch.zeros(1, FRAMES, FEATURES), str(whole_path))

    utterance = np.random.default_rng(1).standard_normal((1, FRAMES, FEATURES), dtype=np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(utterance)).numpy()

    latencies, streamed = [], []
    with strata.Model(frame_path) as model, model.session(stateful=True) as session:
        for t in range(FRAMES):                      # frames arrive one at a time
            frame = np.ascontiguousarray(utterance[:, t:t + 1])
            start = time.perf_counter()
            streamed.append(session.run(frame))
            latencies.append(time.perf_counter() - start)
        session.reset_state()                        # the next utterance starts from zero state
    streamed = np.concatenate(streamed, axis=1)

    with strata.Model(whole_path) as whole:
        one_call = whole.run(utterance)

    print(f"frames: {FRAMES}")
    print(f"max |strata - pytorch|: {float(np.abs(streamed - expected).max()):.3g}")
    print(f"frame by frame equals one call bitwise: {np.array_equal(streamed.view(np.uint32), one_call.view(np.uint32))}")
    print(f"keyword per frame: {' '.join(str(k) for k in streamed[0].argmax(axis=1))}")
    print(f"median latency per frame: {np.median(latencies) * 1e6:.1f} us")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/examples"))
