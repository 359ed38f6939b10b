"""FA3-CLIP: the FA3 design with CLIP's image encoder as the spatial stream and learnable live/fake prompts.

As in the paper: the spatial stream is CLIP's (frozen) image encoder; the frequency stream is the same one the
small model uses; the two are fused into one vector ``f`` in CLIP's embedding space. The language branch holds
attack-agnostic learnable prompt contexts (``n_ctx`` token vectors shared by the "live face" and "fake face"
prompts) plus a conditional bias computed from ``f`` by a small meta-network (so each image gets its own prompts),
encoded by CLIP's text transformer. The live/fake logit is the difference of ``f``'s scaled cosines to the two
prompt embeddings; an attack-type head reads ``f`` directly.

No CLIP weights ship in a registry package, so this loads open_clip from a local folder (``MIEN_CLIP_CHECKPOINT``,
see ``tools.expression.modalities.clip``) and is tested on a tiny CLIP model the test builds: wiring and gradients,
not accuracy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tools.attack.frequency import FrequencyStream
from tools.attack.types import ATTACK_TYPES
from tools.errors import ModelUnavailableError

CLASS_PROMPTS = ("live face.", "fake face.")
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class PromptLearner(nn.Module):
    """Learnable context vectors + a per-image conditional bias, spliced into the two class prompts."""

    def __init__(self, clip: Any, tokenizer: Any, n_ctx: int, fused_dim: int) -> None:
        super().__init__()
        width = clip.token_embedding.weight.shape[1]
        placeholder = " ".join(["X"] * n_ctx)
        tokens = tokenizer([f"{placeholder} {name}" for name in CLASS_PROMPTS])
        with torch.no_grad():
            embedded = clip.token_embedding(tokens)
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("prefix", embedded[:, :1].clone(), persistent=False)  # start-of-text
        self.register_buffer("suffix", embedded[:, 1 + n_ctx :].clone(), persistent=False)  # class words, EOT, pad
        self.context = nn.Parameter(torch.randn(n_ctx, width) * 0.02)
        self.meta = nn.Sequential(
            nn.Linear(fused_dim, max(fused_dim // 4, 4)),
            nn.ReLU(inplace=True),
            nn.Linear(max(fused_dim // 4, 4), width),
        )

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        """(B, D) fused features -> (B, 2, L, W) prompt token embeddings."""
        batch = fused.shape[0]
        context = self.context[None] + self.meta(fused)[:, None]  # (B, n_ctx, W)
        classes = self.prefix.shape[0]
        context = context[:, None].expand(batch, classes, -1, -1)
        prefix = self.prefix[None].expand(batch, -1, -1, -1)
        suffix = self.suffix[None].expand(batch, -1, -1, -1)
        return torch.cat([prefix, context, suffix], dim=2)


class FA3Clip(nn.Module):
    """Images (B, 3, S, S) in [0, 1] -> (live/fake logit (B,), attack-type logits (B, 4)), like ``FA3Net``."""

    def __init__(
        self, clip: Any, tokenizer: Any, frequency_size: int = 64, frequency_dim: int = 48, n_ctx: int = 4
    ) -> None:
        super().__init__()
        if not hasattr(clip, "token_embedding") or not hasattr(clip, "visual"):
            raise ModelUnavailableError("FA3-CLIP needs an open_clip CLIP model (image and text towers)")
        self.clip = clip
        for parameter in clip.parameters():
            parameter.requires_grad_(False)
        embed_dim = (
            int(clip.text_projection.shape[1])
            if isinstance(clip.text_projection, torch.Tensor)
            else int(clip.text_projection.out_features)
        )
        size = clip.visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)
        self.frequency_size = frequency_size
        self.frequency = FrequencyStream(frequency_size, frequency_dim)
        self.fusion = nn.Sequential(
            nn.Linear(embed_dim + frequency_dim, embed_dim), nn.ReLU(inplace=True), nn.Linear(embed_dim, embed_dim)
        )
        self.prompts = PromptLearner(clip, tokenizer, n_ctx, embed_dim)
        self.attack_type = nn.Linear(embed_dim, len(ATTACK_TYPES))
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def encode_prompts(self, prompts: torch.Tensor) -> torch.Tensor:
        """(B, C, L, W) prompt embeddings -> (B, C, D) unit text features, as open_clip's ``encode_text`` does."""
        batch, classes, length, width = prompts.shape
        clip = self.clip
        x = prompts.reshape(batch * classes, length, width) + clip.positional_embedding
        x = clip.ln_final(clip.transformer(x, attn_mask=clip.attn_mask))
        tokens = self.prompts.tokens.repeat(batch, 1)
        x = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
        x = clip.text_projection(x) if isinstance(clip.text_projection, nn.Linear) else x @ clip.text_projection
        return F.normalize(x, dim=-1).reshape(batch, classes, -1)

    def fused(self, images: torch.Tensor) -> torch.Tensor:
        spatial = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        with torch.no_grad():
            visual = self.clip.encode_image((spatial - self.mean) / self.std)
        small = F.interpolate(
            images, size=(self.frequency_size, self.frequency_size), mode="bilinear", align_corners=False
        )
        return self.fusion(torch.cat([visual.float(), self.frequency(small)], dim=1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fused = self.fused(images)
        text = self.encode_prompts(self.prompts(fused))  # (B, 2, D)
        cosines = torch.einsum("bd,bcd->bc", F.normalize(fused, dim=-1), text)
        logits = self.clip.logit_scale.exp() * cosines
        return logits[:, 1] - logits[:, 0], self.attack_type(fused)


def fa3_clip_from_local(checkpoint: str | Path, model_name: str | None = None) -> FA3Clip:
    """FA3-CLIP around open_clip weights in a local folder or file (never downloads)."""
    from tools.expression.modalities.clip import ClipLabelMatcher

    matcher = ClipLabelMatcher.from_local(checkpoint, model_name)
    return FA3Clip(matcher.model, matcher.tokenizer)
