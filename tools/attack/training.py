"""Training and evaluating the small FA3 model on a ``FaceSamples`` split, and its checkpoint format.

Loss: binary cross-entropy on the live/fake logit (attacks weighted down to balance live against all attack types
together) plus cross-entropy of the attack-type head on attack samples only. The decision threshold is the EER
point on validation data and is stored with the weights; test data never moves it.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tools.attack.dataset import FaceSamples
from tools.attack.metrics import attack_metrics, validation_threshold
from tools.attack.model import FA3Config, FA3Net
from tools.attack.types import ATTACK_TYPES, LIVE, AttackMetrics
from tools.errors import ModelUnavailableError
from tools.storage import atomic_write_bytes

CHECKPOINT_FORMAT = "mien-fa3-small/1"


@dataclass
class TrainedModel:
    """A trained FA3 model with its validation threshold and where it came from."""

    model: nn.Module  # FA3Net, or FA3Clip
    threshold: float
    provenance: dict[str, Any] = field(default_factory=dict)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, S, S, 3) uint8 RGB -> (N, 3, S, S) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def _targets(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    fake = torch.tensor([label != LIVE for label in labels], dtype=torch.float32)
    kind = torch.tensor([ATTACK_TYPES.index(label) if label != LIVE else -100 for label in labels])
    return fake, kind


def train_model(
    train: FaceSamples,
    val: FaceSamples,
    config: FA3Config | None = None,
    epochs: int = 8,
    batch_size: int = 64,
    seed: int = 0,
    lr: float = 3e-3,
    log: Any = None,
    model: nn.Module | None = None,
) -> TrainedModel:
    """Train on ``train``, pick the threshold on ``val``. Deterministic for a seed on one thread.

    ``model`` replaces the small FA3 model built from ``config`` (e.g. ``FA3Clip``); only its parameters that
    require gradients are trained.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = model if model is not None else FA3Net(config or FA3Config())
    images, (fake, kind) = to_tensor(train.images), _targets(train.labels)
    live_share = float((fake == 0).float().mean())
    weights = torch.where(fake > 0, live_share / max(1 - live_share, 1e-6), torch.ones_like(fake))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, -(-len(images) // batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            index = order[start : start + batch_size]
            batch = images[index]
            flip = torch.rand(len(batch), generator=generator) < 0.5
            batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
            live_fake, kinds = model(batch)
            loss = F.binary_cross_entropy_with_logits(live_fake, fake[index], weight=weights[index])
            if (kind[index] >= 0).any():
                loss = loss + 0.5 * F.cross_entropy(kinds, kind[index], ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {total / len(images):.4f} ({time.perf_counter() - started:.0f} s)")
    threshold = validation_threshold(predict(model, val.images)[0].tolist(), val.labels)
    provenance = {
        "seed": seed,
        "epochs": epochs,
        "train_counts": dict(train.counts),
        "val_counts": dict(val.counts),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return TrainedModel(model.eval(), threshold, provenance)


@torch.inference_mode()
def predict(model: nn.Module, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(P(attack) (N,), attack-type probabilities (N, 4)) for uint8 crops (N, S, S, 3) at the model's size."""
    model.eval()
    fake: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    for start in range(0, len(images), batch_size):
        live_fake, type_logits = model(to_tensor(images[start : start + batch_size]))
        fake.append(torch.sigmoid(live_fake).numpy())
        kinds.append(torch.softmax(type_logits, dim=1).numpy())
    if not fake:
        return np.zeros(0), np.zeros((0, len(ATTACK_TYPES)))
    return np.concatenate(fake), np.concatenate(kinds)


def evaluate(trained: TrainedModel, test: FaceSamples) -> AttackMetrics:
    """Metrics on ``test`` at the validation threshold."""
    scores = predict(trained.model, test.images)[0]
    return attack_metrics(scores.tolist(), test.labels, trained.threshold)


def save_checkpoint(trained: TrainedModel, path: str | Path) -> Path:
    """Write the weights, config, threshold and provenance to ``path`` atomically (a few hundred KB).

    Only the small FA3 model is saved this way (a CLIP variant's checkpoint would hold CLIP's weights).
    """
    if not isinstance(trained.model, FA3Net):
        raise ModelUnavailableError("only the small FA3 model can be saved as a checkpoint")
    buffer = io.BytesIO()
    state = {
        key: value.half() if value.is_floating_point() else value for key, value in trained.model.state_dict().items()
    }
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": trained.model.config.to_dict(),
            "state_dict": state,
            "threshold": trained.threshold,
            "attack_types": list(ATTACK_TYPES),
            "provenance": trained.provenance,
        },
        buffer,
    )
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> TrainedModel:
    """A model saved by ``save_checkpoint``; ``ModelUnavailableError`` if the file is missing or not one."""
    file = Path(path)
    if not file.is_file():
        raise ModelUnavailableError(f"attack model weights not found at {file}")
    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, zip and runtime errors for foreign or damaged files
        raise ModelUnavailableError(f"{file} is not a readable attack model checkpoint ({error})") from error
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ModelUnavailableError(f"{file} is not a {CHECKPOINT_FORMAT} checkpoint")
    model = FA3Net(FA3Config(**data["config"]))
    model.load_state_dict(
        {key: value.float() if value.is_floating_point() else value for key, value in data["state_dict"].items()}
    )
    return TrainedModel(model.eval(), float(data["threshold"]), dict(data.get("provenance", {})))
