"""ID-Adapter: a gated self-attention residual that adapts the text condition to the identity.

The text encoder's states and the identity tokens attend to each other (self-attention over their concatenation);
the text positions take the result as a residual scaled by ``tanh(gate)``. The gate starts at zero (as in GLIGEN's
gated self-attention), so an untrained adapter leaves the pretrained condition exactly as it was.
"""

from __future__ import annotations

import torch
from torch import nn


class IDAdapter(nn.Module):
    """Condition (batch, length, dim) + identity tokens (batch, tokens, dim) -> adapted condition, same shape."""

    def __init__(self, dim: int, heads: int = 4) -> None:
        super().__init__()
        heads = heads if dim % heads == 0 else 1
        self.norm = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.gate = nn.Parameter(torch.zeros(()))

    def forward(self, condition: torch.Tensor, identity_tokens: torch.Tensor) -> torch.Tensor:
        length = condition.shape[1]
        tokens = identity_tokens.to(condition.dtype).expand(condition.shape[0], -1, -1)
        joined = self.norm(torch.cat([condition, tokens], dim=1))
        attended, _ = self.attention(joined, joined, joined, need_weights=False)
        return condition + torch.tanh(self.gate) * attended[:, :length]
