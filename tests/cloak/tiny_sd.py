"""A tiny, randomly initialised Stable Diffusion pipeline in diffusers' folder layout, built by the tests.

It exercises the whole DiffAIM code path (loading from a folder, VAE, DDIM inversion, UNet, text encoder, tokenizer,
attacked reverse steps) in seconds on a CPU. Its images are noise-like: it tests the machinery, not naturalness.
"""

from __future__ import annotations

from pathlib import Path


def _byte_characters() -> list[str]:
    """GPT-2's reversible byte-to-character table (printable bytes map to themselves, the rest above 255)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def _tiny_vocabulary() -> dict[str, int]:
    """A byte-level CLIP vocabulary with no merges (every character is a token)."""
    characters = _byte_characters()
    vocab = {c: i for i, c in enumerate(characters)}
    vocab.update({f"{c}</w>": len(characters) + i for i, c in enumerate(characters)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def build_tiny_sd(folder: Path) -> Path:
    """Write the tiny pipeline to ``folder`` and return it."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=32,
    )
    tokenizer = CLIPTokenizer(vocab=_tiny_vocabulary(), merges=[])
    tokenizer.model_max_length = 16
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=16,
            bos_token_id=len(tokenizer) - 2,
            eos_token_id=len(tokenizer) - 1,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder / "sd"))
    return folder / "sd"
