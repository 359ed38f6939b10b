"""A learned personalization: its pseudo-tokens, ID-Adapter and cross-attention weights, as ONE safetensors file.

The file holds only what training changed (for SD 1.5: the 16 cross-attention key/value projections in float16,
about 40 MB with ID-EA; a few KB for the textual-inversion baseline) and names the base model it was learned on.
Writes are atomic. ``apply`` puts it into a freshly loaded pipeline of the same base model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools.errors import ConfigError
from tools.personalize.adapter import IDAdapter
from tools.personalize.model import add_placeholder_tokens, cross_attention_kv
from tools.personalize.types import Method
from tools.storage import atomic_path

FORMAT = "mien-personalization-1"
KV_DTYPE = torch.float16  # what the UNet's trained weights are stored (and applied) as


@dataclass
class Personalization:
    """What was learned for one person. ``tokens`` (n, text_dim) are the pseudo-token embeddings; ``adapter`` the
    ID-Adapter's state (ID-EA only); ``unet_kv`` the trained ``attn2.to_k/to_v`` weights by parameter name (ID-EA
    only); ``reference_embedding`` the mean identity embedding of the photos by ``embedder``."""

    name: str
    method: Method
    placeholder: str
    token_strings: list[str]
    tokens: torch.Tensor
    embedder: str
    reference_embedding: np.ndarray
    photos: list[str]
    model: str
    adapter: dict[str, torch.Tensor] = field(default_factory=dict)
    unet_kv: dict[str, torch.Tensor] = field(default_factory=dict)
    adapter_heads: int = 4
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def text_dim(self) -> int:
        return int(self.tokens.shape[-1])


@dataclass
class Applied:
    """A personalization in a pipeline: the placeholder's token ids and the adapter module (None for the baseline)."""

    personalization: Personalization
    ids: list[int]
    adapter: IDAdapter | None


def apply(personalization: Personalization, pipe: Any) -> Applied:
    """Add the placeholder tokens to ``pipe``, load the cross-attention weights into its UNet, build the adapter."""
    hidden = int(pipe.text_encoder.config.hidden_size)
    if hidden != personalization.text_dim:
        raise ConfigError(
            f"{personalization.name!r} was learned on a text encoder of width {personalization.text_dim}, this model's "
            f"is {hidden}: use the Stable Diffusion model it was trained on ({personalization.model})"
        )
    ids = add_placeholder_tokens(pipe, personalization.token_strings)
    if personalization.unet_kv:
        layers = cross_attention_kv(pipe.unet)
        for key, weight in personalization.unet_kv.items():
            layer = layers.get(key.removesuffix(".weight"))
            if layer is None or tuple(layer.weight.shape) != tuple(weight.shape):
                raise ConfigError(
                    f"{personalization.name!r} does not fit this UNet ({key}); use the Stable Diffusion model it was "
                    f"trained on ({personalization.model})"
                )
            with torch.no_grad():
                layer.weight.copy_(weight.to(layer.weight))
    adapter = None
    if personalization.adapter:
        adapter = IDAdapter(hidden, personalization.adapter_heads)
        adapter.load_state_dict(personalization.adapter)
        adapter = adapter.to(device=pipe.device, dtype=pipe.text_encoder.dtype).eval().requires_grad_(False)
    return Applied(personalization, ids, adapter)


def save(personalization: Personalization, path: str | Path) -> Path:
    """Write the personalization to ``path`` (.safetensors) atomically."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {
        "tokens": personalization.tokens.detach().float().cpu().contiguous(),
        "reference_embedding": torch.as_tensor(personalization.reference_embedding, dtype=torch.float32),
    }
    tensors.update({f"adapter.{k}": v.detach().cpu().contiguous() for k, v in personalization.adapter.items()})
    tensors.update({f"unet.{k}": v.detach().cpu().contiguous() for k, v in personalization.unet_kv.items()})
    metadata = {
        "format": FORMAT,
        "name": personalization.name,
        "method": personalization.method,
        "placeholder": personalization.placeholder,
        "token_strings": json.dumps(personalization.token_strings),
        "embedder": personalization.embedder,
        "photos": json.dumps(personalization.photos),
        "model": personalization.model,
        "adapter_heads": str(personalization.adapter_heads),
        "info": json.dumps(personalization.info),
    }
    target = Path(path)
    with atomic_path(target) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return target


def load(path: str | Path) -> Personalization:
    """Read a personalization file; a missing or foreign file is a ``ConfigError`` naming it."""
    from safetensors import SafetensorError, safe_open

    source = Path(path)
    if not source.is_file():
        raise ConfigError(f"{source}: no such personalization file (train one with `mien personalize train`)")
    try:
        with safe_open(str(source), framework="pt") as handle:
            metadata: Mapping[str, str] = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise ConfigError(f"{source}: not a readable personalization file ({error})") from error
    if metadata.get("format") != FORMAT or "tokens" not in tensors:
        raise ConfigError(f"{source}: not a Mien personalization file (format {metadata.get('format')!r})")
    return Personalization(
        name=metadata["name"],
        method=metadata["method"],  # type: ignore[arg-type]
        placeholder=metadata["placeholder"],
        token_strings=list(json.loads(metadata["token_strings"])),
        tokens=tensors["tokens"],
        embedder=metadata["embedder"],
        reference_embedding=tensors["reference_embedding"].numpy(),
        photos=list(json.loads(metadata["photos"])),
        model=metadata["model"],
        adapter={k.removeprefix("adapter."): v for k, v in tensors.items() if k.startswith("adapter.")},
        unet_kv={k.removeprefix("unet."): v for k, v in tensors.items() if k.startswith("unet.")},
        adapter_heads=int(metadata.get("adapter_heads", "4")),
        info=dict(json.loads(metadata.get("info", "{}"))),
    )
