"""Training and saving SpottingNet: Adam on whole sequences (one per step), checkpoints written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tools.errors import ConfigError, ModelUnavailableError
from tools.spotting.fedn.losses import location_targets, spotting_loss
from tools.spotting.fedn.model import KINDS, NetConfig, SpottingNet
from tools.storage import atomic_path


@dataclass(frozen=True)
class TrainingSequence:
    """One training sequence: features (T, D) float32 and intervals (onset, offset, kind index), inclusive."""

    features: np.ndarray
    intervals: tuple[tuple[int, int, int], ...]


@dataclass
class TrainReport:
    losses: list[float] = field(default_factory=list)

    @property
    def first(self) -> float:
        return float(np.mean(self.losses[: max(1, len(self.losses) // 10)]))

    @property
    def last(self) -> float:
        return float(np.mean(self.losses[-max(1, len(self.losses) // 10) :]))


def train(
    net: SpottingNet, sequences: Sequence[TrainingSequence], steps: int, lr: float = 2e-3, seed: int = 0
) -> TrainReport:
    """``steps`` Adam steps, each on one sequence drawn at random (sequences differ in length)."""
    if not sequences:
        raise ConfigError("no training sequences: the data folder has no labelled video")
    generator = np.random.default_rng(seed)
    torch.manual_seed(seed)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    targets = [location_targets(s.intervals, len(s.features), net.config) for s in sequences]
    report = TrainReport()
    net.train()
    for _ in range(steps):
        index = int(generator.integers(len(sequences)))
        features = torch.from_numpy(np.asarray(sequences[index].features, np.float32))[None]
        loss, _ = spotting_loss(net(features), [targets[index]])
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimiser.step()
        report.losses.append(float(loss.detach()))
    net.eval()
    return report


def save_net(net: SpottingNet, path: str | Path, feature_mean: np.ndarray, feature_std: np.ndarray) -> Path:
    """Write the weights, config and feature normalisation to ``path`` (one file, atomically)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        torch.save({"config": net.config.to_dict(), "state": net.state_dict(), "kinds": list(KINDS),
                    "mean": feature_mean.tolist(), "std": feature_std.tolist()}, tmp)
    return target


def load_net(path: str | Path) -> tuple[SpottingNet, np.ndarray, np.ndarray]:
    """The network saved by ``save_net`` and its feature mean and std."""
    source = Path(path)
    if not source.is_file():
        raise ModelUnavailableError(f"{source}: no SpottingNet checkpoint there (make one with `mien spot train`)")
    try:
        data = torch.load(source, map_location="cpu", weights_only=True)
        config = dict(data["config"])
        config["level_ranges"] = tuple(tuple(r) for r in config["level_ranges"])
        net = SpottingNet(NetConfig(**config))
        net.load_state_dict(data["state"])
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise ModelUnavailableError(f"{source}: not a SpottingNet checkpoint ({error})") from error
    net.eval()
    return net, np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32)
