"""The Stable Diffusion pipeline for personalization, from a local diffusers folder, and the placeholder tokens.

The learned pseudo-token embeddings are not written into the text encoder's embedding table: a forward hook on that
table puts them in at the placeholder's positions, so the same encoder serves the baseline (tokens are parameters)
and ID-EA (tokens are the ID-Enhancer's output, which gradients must reach) without copying weights.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from tools.cloak.diffaim import check_sd_folder
from tools.errors import ConfigError, ModelUnavailableError
from tools.settings import get_settings


def resolve_sd_folder(folder: str | Path | None) -> Path:
    """``folder``, else ``MIEN_SD_MODEL``; a clear error when neither names a complete diffusers folder."""
    chosen = folder if folder is not None else get_settings().sd_model
    if chosen is None:
        raise ModelUnavailableError(
            "no Stable Diffusion model is configured: pass --model SD_DIR or set MIEN_SD_MODEL to a local diffusers "
            "folder (nothing is downloaded)"
        )
    return check_sd_folder(chosen)


def load_sd(folder: str | Path | None, device: str = "cpu") -> Any:
    """The diffusers pipeline from a local folder only, every weight frozen, in eval mode."""
    from diffusers import StableDiffusionPipeline

    root = resolve_sd_folder(folder)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA device is available here (use --device cpu)")
    try:
        with _quiet_loading():
            pipe = StableDiffusionPipeline.from_pretrained(
                str(root), local_files_only=True, safety_checker=None, requires_safety_checker=False
            )
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelUnavailableError(f"{root}: diffusers cannot load it ({error})") from error
    for module in (pipe.unet, pipe.vae, pipe.text_encoder):
        module.requires_grad_(False)
        module.eval()
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No loading progress bars from diffusers and transformers (they would interleave with Mien's own output)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    shown = (diffusers_logging.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled())
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown[0]:
            diffusers_logging.enable_progress_bar()
        if shown[1]:
            transformers_logging.enable_progress_bar()


def placeholder_for(name: str) -> str:
    """The prompt word standing for the person: ``<slug>`` of the name (CLIP's tokenizer lower-cases)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ConfigError(f"{name!r} cannot name a personalization (use letters or digits)")
    return f"<{slug}>"


def token_strings(placeholder: str, count: int) -> list[str]:
    """The tokenizer entries of a placeholder with ``count`` pseudo-tokens: ``<ada>``, ``<ada>_1``, ..."""
    return [placeholder] + [f"{placeholder}_{i}" for i in range(1, count)]


def add_placeholder_tokens(pipe: Any, strings: Sequence[str]) -> list[int]:
    """Add the token strings to the tokenizer (and rows to the embedding table); their ids in order."""
    tokenizer = pipe.tokenizer
    missing = [s for s in strings if s not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing)
        # the new rows are never read (the hook puts the learned embeddings in), so skip mean resizing
        pipe.text_encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    ids = [int(tokenizer.convert_tokens_to_ids(s)) for s in strings]
    return ids


def expand_prompt(prompt: str, placeholder: str, strings: Sequence[str]) -> str:
    """The prompt with the placeholder written out as all its pseudo-tokens."""
    return prompt.replace(placeholder, " ".join(strings))


@contextlib.contextmanager
def token_override(text_encoder: Any, ids: Sequence[int], embeddings: torch.Tensor) -> Iterator[None]:
    """While active, the input embedding of token ``ids[k]`` is ``embeddings[..., k, :]``.

    ``embeddings`` is (tokens, dim) or (batch, tokens, dim); gradients flow back into it.
    """
    table = text_encoder.get_input_embeddings()

    def hook(_module: Any, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        input_ids = inputs[0]
        result = output
        for k, token_id in enumerate(ids):
            row = embeddings[..., k, :].to(output.dtype)
            if row.dim() == 2:  # one embedding per prompt in the batch
                row = row[:, None, :]
            result = torch.where((input_ids == token_id)[..., None], row, result)
        return result

    handle = table.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def tokenize(pipe: Any, prompts: Sequence[str], required_ids: Sequence[int] = ()) -> torch.Tensor:
    """Token ids (batch, max_length); a prompt whose placeholder would be cut off by the tokenizer's length is an
    error, since the learned identity would silently vanish from it."""
    tokenizer = pipe.tokenizer
    ids = tokenizer(
        list(prompts),
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    for row, prompt in zip(ids, prompts, strict=True):
        for token_id in required_ids:
            if not bool((row == token_id).any()):
                raise ConfigError(
                    f"prompt {prompt!r} is too long for the tokenizer ({tokenizer.model_max_length} tokens): the "
                    "learned token would be cut off; put it earlier or shorten the prompt"
                )
    return ids.to(pipe.device)


def encode_prompts(
    pipe: Any, prompts: Sequence[str], ids: Sequence[int] = (), embeddings: torch.Tensor | None = None
) -> torch.Tensor:
    """Text-encoder states (batch, length, dim) of ``prompts``, with the pseudo-tokens put in when given."""
    input_ids = tokenize(pipe, prompts, ids if embeddings is not None else ())
    if embeddings is None:
        return pipe.text_encoder(input_ids)[0]
    with token_override(pipe.text_encoder, ids, embeddings):
        return pipe.text_encoder(input_ids)[0]


def cross_attention_kv(unet: Any) -> dict[str, torch.nn.Linear]:
    """The UNet's cross-attention key and value projections (``attn2.to_k``/``to_v``), by parameter-name prefix:
    the only UNet weights ID-EA trains (they read the text condition; self-attention and convolutions stay)."""
    layers: dict[str, torch.nn.Linear] = {}
    for name, module in unet.named_modules():
        if name.endswith("attn2.to_k") or name.endswith("attn2.to_v"):
            layers[name] = module
    if not layers:
        raise ModelUnavailableError("this UNet has no cross-attention (attn2.to_k/to_v) layers to personalize")
    return layers


def native_size_px(folder: Path) -> int:
    """The image side the model was trained at (UNet sample size x the VAE's downsampling), from the configs only."""
    import json

    try:
        unet = json.loads((folder / "unet" / "config.json").read_text())
        vae = json.loads((folder / "vae" / "config.json").read_text())
        return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelUnavailableError(f"{folder}: unreadable unet/ or vae/ config.json ({error})") from error
