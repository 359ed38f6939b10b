"""Portraits from prompts that use the learned token: the prompt is encoded with the pseudo-tokens put in, adapted
by the ID-Adapter (ID-EA), and handed to the pipeline as ``prompt_embeds``; the negative prompt stays unadapted."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch

from tools.errors import ConfigError
from tools.personalize.model import encode_prompts, expand_prompt
from tools.personalize.state import Applied, Personalization


def resolve_prompt(prompt: str, personalization: Personalization) -> str:
    """The prompt with the person written as the placeholder: ``<ada>`` as is, or the name as a whole word."""
    placeholder = personalization.placeholder
    if placeholder in prompt:
        return prompt
    pattern = re.compile(rf"(?<!\w){re.escape(personalization.name)}(?!\w)", re.IGNORECASE)
    if pattern.search(prompt):
        return pattern.sub(placeholder, prompt)
    raise ConfigError(
        f"the prompt must mention the person: write {placeholder} (or {personalization.name}) where they belong, "
        f"e.g. 'a painting of {placeholder} in the snow'"
    )


def personalized_condition(pipe: Any, applied: Applied, prompt: str) -> torch.Tensor:
    """Text condition (1, length, dim) of ``prompt`` with the learned identity."""
    learned = applied.personalization
    text = expand_prompt(resolve_prompt(prompt, learned), learned.placeholder, learned.token_strings)
    tokens = learned.tokens.to(pipe.device, pipe.text_encoder.dtype)
    with torch.no_grad():
        condition = encode_prompts(pipe, [text], applied.ids, tokens)
        if applied.adapter is not None:
            condition = applied.adapter(condition, tokens[None])
    return condition


def generate(
    pipe: Any,
    applied: Applied,
    prompt: str,
    count: int = 1,
    steps: int = 30,
    guidance: float = 7.5,
    seed: int = 0,
    size_px: int | None = None,
) -> list[np.ndarray]:
    """``count`` images (H, W, 3) uint8 RGB for ``prompt``; deterministic for a seed."""
    if count < 1 or steps < 1:
        raise ConfigError("generation needs at least one image and one step")
    condition = personalized_condition(pipe, applied, prompt)
    with torch.no_grad():
        negative = encode_prompts(pipe, [""])
    side = size_px or int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
    generator = torch.Generator("cpu").manual_seed(seed)
    output = pipe(
        prompt_embeds=condition,
        negative_prompt_embeds=negative,
        num_images_per_prompt=count,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generator,
        height=side,
        width=side,
        output_type="np",
    )
    return [np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8) for image in output.images]
