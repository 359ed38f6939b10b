"""SpottingNet (FEDN-style) learns to find intervals in synthetic feature sequences.

What is tested: the architecture, targets, losses and decoding on sequences made here (noise plus bumps at known
frames) — the loss falls, and intervals of held-out sequences are recovered at MEGC IoU >= 0.5. Not tested: how
it does on real CAS(ME) data, which does not ship in any package.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evals.metrics.spotting import LabelledInterval, score_spotting
from tests.spotting.synthetic import synthetic_sequence
from tools.errors import ModelUnavailableError
from tools.spotting.fedn import NetConfig, SpottingNet
from tools.spotting.fedn.decode import decode
from tools.spotting.fedn.losses import diou_1d, location_targets
from tools.spotting.fedn.model import KINDS
from tools.spotting.fedn.train import load_net, save_net, train


def test_diou_is_zero_for_a_perfect_interval_and_grows_with_offset() -> None:
    target = torch.tensor([[3.0, 5.0]])
    assert float(diou_1d(target, target)[0]) == pytest.approx(0.0)
    # Predicted [-2, 4] vs target [-3, 5]: IoU 6/8 and the same centre (1), so only the IoU term: 1 - 0.75.
    assert float(diou_1d(torch.tensor([[2.0, 4.0]]), target)[0]) == pytest.approx(0.25)
    # Shifted: p = [0, 8] vs g = [-3, 5]: inter 5, union 11, hull 11, centres 4 vs 1 -> 1 - 5/11 + (3/11)^2.
    assert float(diou_1d(torch.tensor([[0.0, 8.0]]), target)[0]) == pytest.approx(1 - 5 / 11 + (3 / 11) ** 2)


def test_targets_put_each_interval_on_the_level_for_its_length() -> None:
    config = NetConfig(features=4)
    levels = location_targets([(10, 15, 0), (40, 99, 1)], 128, config)
    cls0, reg0, pos0 = levels[0]
    assert pos0.nonzero().flatten().tolist() == list(range(10, 16))  # the 6-frame micro at stride 1
    assert reg0[10].tolist() == [0.5, 5.5] and cls0[10].tolist() == [1.0, 0.0]
    cls2, reg2, pos2 = levels[2]  # the 60-frame macro at stride 4: centres 42, 46, ..., 98 lie in [40, 100]
    assert pos2.nonzero().flatten().tolist() == list(range(10, 25))
    assert reg2[10].tolist() == [0.5, 14.5] and cls2[10].tolist() == [0.0, 1.0]
    assert not levels[1][2].any() and not levels[3][2].any()


@pytest.mark.slow
def test_net_learns_synthetic_intervals_and_recovers_held_out_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    training = [synthetic_sequence(rng) for _ in range(24)]
    held_out = [synthetic_sequence(rng) for _ in range(12)]
    net = SpottingNet(NetConfig(features=6, channels=32, heads=2, segment=16, window=8))
    report = train(net, training, steps=500, lr=3e-3)
    assert report.last < 0.5 * report.first, (report.first, report.last)

    path = save_net(net, tmp_path / "net.pt", np.zeros(6, np.float32), np.ones(6, np.float32))
    loaded, _, _ = load_net(path)
    preds, truths = {}, {}
    with torch.no_grad():
        for number, sequence in enumerate(held_out):
            found = decode(loaded(torch.from_numpy(sequence.features)[None]), len(sequence.features), threshold=0.3)
            preds[str(number)] = [LabelledInterval(i.onset, i.offset, i.kind, i.kind) for i in found]
            truths[str(number)] = [LabelledInterval(a, b, KINDS[k], KINDS[k]) for a, b, k in sequence.intervals]
    score = score_spotting(preds, truths)
    assert score.recall >= 0.6, score
    assert score.f1 >= 0.5, score


def test_loading_something_that_is_not_a_checkpoint_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelUnavailableError, match="no SpottingNet checkpoint"):
        load_net(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"hello": 1}, bad)
    with pytest.raises(ModelUnavailableError, match="not a SpottingNet checkpoint"):
        load_net(bad)
