"""DiffAIM-style cloaking in a Stable Diffusion latent (Stable Diffusion from a local diffusers folder).

The face region is encoded by the VAE, inverted with DDIM to a noisy latent under the empty prompt, and regenerated;
during the last ``attack_steps`` reverse steps the latent takes signed gradient steps that move the decoded face away
from its identity (or towards a target's) over the surrogate ensemble, kept within an L∞ ball around the inverted
trajectory, with a structure term (pixel distance to the original face) so the face keeps its layout. The result is
pasted back with the face mask. Why a latent: changes there are image-like (texture, shading), not high-frequency
noise, so they look natural and survive JPEG. On CPU this is slow; ``python -m evals.cloak.gpu_diffaim`` runs it on
CUDA.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tools.cloak.pixel import PixelAttack, PixelOutcome, identity_loss
from tools.cloak.types import CloakOptions
from tools.errors import ConfigError, ModelUnavailableError
from tools.faces.types import Face

REQUIRED_PARTS = ("model_index.json", "unet", "vae", "text_encoder", "tokenizer", "scheduler")


@dataclass(frozen=True)
class DiffaimSettings:
    """``steps`` DDIM steps for inversion and regeneration; the last ``attack_steps`` are attacked with ``inner``
    gradient steps each; ``latent_linf`` bounds the latent change; ``structure_weight`` the pull to the original."""

    steps: int = 20
    attack_steps: int = 5
    inner: int = 3
    latent_linf: float = 0.06
    structure_weight: float = 0.02
    crop_px: int = 512


def check_sd_folder(folder: str | Path) -> Path:
    """The folder, or a ``ModelUnavailableError`` naming the first missing part of a diffusers pipeline."""
    root = Path(folder)
    if not root.is_dir():
        raise ModelUnavailableError(f"{root}: no such Stable Diffusion folder")
    for part in REQUIRED_PARTS:
        if not (root / part).exists():
            raise ModelUnavailableError(f"{root}: incomplete Stable Diffusion folder, {part} is missing")
    return root


def load_pipeline(folder: str | Path, device: str = "cpu") -> Any:
    """The diffusers pipeline from a local folder only (nothing is downloaded), with a DDIM scheduler, frozen."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    root = check_sd_folder(folder)
    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            str(root), local_files_only=True, safety_checker=None, requires_safety_checker=False
        )
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(f"{root}: diffusers cannot load it ({error})") from error
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    for module in (pipe.unet, pipe.vae, pipe.text_encoder):
        module.requires_grad_(False)
        module.eval()
    return pipe.to(device)


def _empty_prompt(pipe: Any) -> torch.Tensor:
    tokens = pipe.tokenizer([""], padding="max_length", max_length=pipe.tokenizer.model_max_length, return_tensors="pt")
    with torch.no_grad():
        return pipe.text_encoder(tokens.input_ids.to(pipe.device))[0]


def _crop_box(faces: Sequence[Face], width: int, height: int) -> tuple[int, int, int, int]:
    """A square around all faces (1.6x their extent), clipped to the image."""
    x0 = min(f.box.x0 for f in faces)
    y0 = min(f.box.y0 for f in faces)
    x1 = max(f.box.x1 for f in faces)
    y1 = max(f.box.y1 for f in faces)
    side = 1.6 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    right, bottom = min(width, int(cx + side / 2)), min(height, int(cy + side / 2))
    return left, top, right, bottom


def _predicted_original(scheduler: Any, latent: torch.Tensor, noise: torch.Tensor, step: int) -> torch.Tensor:
    alpha = scheduler.alphas_cumprod[step]
    return (latent - (1 - alpha).sqrt() * noise) / alpha.sqrt()


def run_diffaim(
    attack: PixelAttack,
    faces: Sequence[Face],
    options: CloakOptions,
    progress: Callable[[int, int], None] | None = None,
    settings: DiffaimSettings | None = None,
    pipe: Any = None,
) -> PixelOutcome:
    """Cloak through the SD latent; returns the whole image (3, H, W) float 0-255, rounded, on the CPU.

    The pipeline runs on its own device (``load_pipeline(folder, "cuda")``); the surrogates run where the attack's
    tensors are.
    """
    if pipe is None:
        if not options.sd_model:
            raise ConfigError("the diffaim method needs a Stable Diffusion folder (--model SD_DIR)")
        pipe = load_pipeline(options.sd_model)
    settings = settings or DiffaimSettings(steps=options.steps or DiffaimSettings.steps)
    torch.manual_seed(options.seed)
    height, width = attack.original.shape[-2:]
    left, top, right, bottom = _crop_box(faces, width, height)
    crop = attack.original[:, top:bottom, left:right]
    side = settings.crop_px
    scale = pipe.vae.config.scaling_factor
    x = F.interpolate(crop[None], size=(side, side), mode="bilinear", align_corners=False) / 127.5 - 1.0
    with torch.no_grad():
        latent = pipe.vae.encode(x.to(pipe.device)).latent_dist.mean * scale
    condition = _empty_prompt(pipe)
    scheduler = pipe.scheduler
    scheduler.set_timesteps(settings.steps)
    timesteps = list(scheduler.timesteps.flip(0))  # ascending, for inversion
    trajectory = [latent]
    with torch.no_grad():  # DDIM inversion: x_t -> x_t+1 with the noise predicted at x_t
        for index in range(len(timesteps) - 1):
            now, nxt = int(timesteps[index]), int(timesteps[index + 1])
            noise = pipe.unet(latent, now, encoder_hidden_states=condition).sample
            predicted = _predicted_original(scheduler, latent, noise, now)
            latent = (
                scheduler.alphas_cumprod[nxt].sqrt() * predicted + (1 - scheduler.alphas_cumprod[nxt]).sqrt() * noise
            )
            trajectory.append(latent)
    descending = list(reversed(timesteps))
    total = len(descending)
    mask = attack.mask
    done = 0

    def paste(decoded: torch.Tensor) -> torch.Tensor:
        face = F.interpolate((decoded + 1.0) * 127.5, size=crop.shape[-2:], mode="bilinear", align_corners=False)[0]
        face = face.to(crop.device)
        image = attack.original.clone()
        region = mask[:, top:bottom, left:right]
        image[:, top:bottom, left:right] = crop + region * (face.clamp(0, 255) - crop)
        return image

    for index, step in enumerate(descending):
        step = int(step)
        reference = trajectory[total - 1 - index]
        if index >= total - settings.attack_steps:
            latent = latent.detach().requires_grad_(True)
            for _ in range(settings.inner):
                noise = pipe.unet(latent, step, encoder_hidden_states=condition).sample
                decoded = pipe.vae.decode(_predicted_original(scheduler, latent, noise, step) / scale).sample
                image = paste(decoded)
                loss = identity_loss(attack, image, options.preset.margin)
                loss = loss + settings.structure_weight * F.mse_loss(image, attack.original)
                (gradient,) = torch.autograd.grad(loss, latent)
                with torch.no_grad():
                    latent = latent - settings.latent_linf / settings.inner * gradient.sign()
                    latent = reference + (latent - reference).clamp(-settings.latent_linf, settings.latent_linf)
                latent = latent.detach().requires_grad_(True)
        with torch.no_grad():
            noise = pipe.unet(latent, step, encoder_hidden_states=condition).sample
            latent = scheduler.step(noise, step, latent).prev_sample
        done += 1
        if progress is not None:
            progress(done, total)
    with torch.no_grad():
        image = paste(pipe.vae.decode(latent / scale).sample)
    return PixelOutcome(image.round(), done)
