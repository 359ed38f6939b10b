"""The pixel-space cloak: projected gradient steps on the face pixels through the surrogate ensemble.

Why this shape:
- momentum on L1-normalised gradients (MI-FGSM, Dong et al. 2018) and input diversity (``diversity.py``) make the
  change hold after JPEG and resizing instead of fitting one exact image;
- the loss saturates once a face is ``margin`` thresholds away, so budget goes to the faces still matched;
- the change lives only inside the face mask and within an L∞ budget, so the photo looks the same;
- a deterministic re-upload check (JPEG 75, then half size and back) ends the search early once every face is
  protected with room to spare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tools.cloak.diversity import diversify, resize_round_trip
from tools.cloak.jpeg import differentiable_jpeg
from tools.cloak.ssim import ssim
from tools.cloak.surrogate import Surrogate
from tools.cloak.types import Goal, StrengthPreset

StepProgress = Callable[[int, int], None]
CHECK_EVERY = 10
STEP_QUANTILE = 0.9
STOP_RATIO = 1.25
"""Early stop when, after the re-upload check, every face is this many thresholds away (dodging) or this many times
closer than the threshold to the target (impersonation)."""


@dataclass
class PixelAttack:
    """One cloaking problem: the original image (3, H, W) float 0-255, where pixels may change (1 or 3, H, W) in
    [0, 1], and per surrogate the prepared alignment, the original embeddings and the target embeddings."""

    original: torch.Tensor
    mask: torch.Tensor
    surrogates: Sequence[Surrogate]
    prepared: Sequence[object]
    sources: Sequence[torch.Tensor]
    targets: Sequence[torch.Tensor] | None
    goal: Goal
    gray: bool = False


@dataclass
class PixelOutcome:
    """The cloaked image (3, H, W) float 0-255 (rounded to grey levels) and the number of steps taken."""

    image: torch.Tensor
    steps_run: int


SSIM_WEIGHT = 100.0
"""Loss per face per unit of SSIM below the preset's floor: large, so the floor holds while identity moves."""


def identity_loss(attack: PixelAttack, image: torch.Tensor, margin: float) -> torch.Tensor:
    """The loss to minimise: summed over surrogates and faces, distances in units of each surrogate's threshold."""
    total = image.new_zeros(())
    for index, surrogate in enumerate(attack.surrogates):
        embedding = surrogate.embed(image, attack.prepared[index])
        if attack.goal == "dodge":
            away = surrogate.distance(embedding, attack.sources[index]) / surrogate.threshold
            total = total - torch.clamp(away, max=margin).sum()
        else:
            assert attack.targets is not None
            toward = surrogate.distance(embedding, attack.targets[index]) / surrogate.threshold
            total = total + torch.clamp(toward, min=1.0 / margin).sum()
    return total


def reupload(image: torch.Tensor) -> torch.Tensor:
    """What a social network does to a photo, approximately: JPEG quality 75, then half size and back."""
    return resize_round_trip(differentiable_jpeg(image, 75), 0.5)


def distances(attack: PixelAttack, image: torch.Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per surrogate, (n,) distances of the faces in ``image`` to their originals and to their targets."""
    to_source, to_target = [], []
    with torch.no_grad():
        for index, surrogate in enumerate(attack.surrogates):
            embedding = surrogate.embed(image, attack.prepared[index])
            to_source.append(surrogate.distance(embedding, attack.sources[index]).numpy())
            if attack.targets is not None:
                to_target.append(surrogate.distance(embedding, attack.targets[index]).numpy())
    return to_source, to_target


def _done(attack: PixelAttack, image: torch.Tensor) -> bool:
    to_source, to_target = distances(attack, reupload(image))
    for index, surrogate in enumerate(attack.surrogates):
        if attack.goal == "dodge" and (to_source[index] < STOP_RATIO * surrogate.threshold).any():
            return False
        if attack.goal == "impersonate" and (to_target[index] > surrogate.threshold / STOP_RATIO).any():
            return False
    return True


def run_pixel_attack(
    attack: PixelAttack,
    preset: StrengthPreset,
    seed: int = 0,
    steps: int | None = None,
    progress: StepProgress | None = None,
) -> PixelOutcome:
    """Search the cloak; deterministic for a given ``seed``."""
    total_steps = steps or preset.steps
    rng = np.random.default_rng(seed)
    channels = 1 if attack.gray else 3
    delta = torch.zeros((channels, *attack.original.shape[-2:]), requires_grad=True)
    momentum = torch.zeros_like(delta)
    step_size = 2.5 * preset.linf / total_steps
    mask = attack.mask[:1] if attack.gray else attack.mask.expand(3, -1, -1)

    def compose(change: torch.Tensor) -> torch.Tensor:
        return (attack.original + (change * mask).expand(3, -1, -1)).clamp(0, 255)

    faces = len(attack.sources[0])
    inside = (mask > 0.5).expand_as(delta)
    steps_run = 0
    for step in range(total_steps):
        steps_run = step + 1
        composed = compose(delta)
        loss = identity_loss(attack, diversify(composed, rng), preset.margin)
        shortfall = torch.relu(preset.min_ssim - ssim(composed, attack.original))
        loss = loss + SSIM_WEIGHT * faces * shortfall
        (gradient,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            momentum.mul_(0.9).add_(gradient / gradient.abs().mean().clamp_min(1e-12))
            # Steps in proportion to the gradient up to its 90th percentile, full steps above (between a sign step
            # and a plain gradient step): pixels that matter little barely move, which keeps flat skin smooth (SSIM
            # punishes noise most where the image has little texture), while the pixels that matter move at once.
            scale = torch.quantile(momentum.abs()[inside][:: max(1, int(inside.sum()) // 100_000)], STEP_QUANTILE)
            delta.sub_(step_size * (momentum / scale.clamp_min(1e-12)).clamp(-1.0, 1.0))
            delta.clamp_(-preset.linf, preset.linf)
        if progress is not None:
            progress(steps_run, total_steps)
        if steps_run % CHECK_EVERY == 0 and _done(attack, compose(delta.detach()).round()):
            break
    return PixelOutcome(compose(delta.detach()).round(), steps_run)
