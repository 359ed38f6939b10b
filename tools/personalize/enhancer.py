"""ID-Enhancer: a face-recognition embedding attends over the textual ID anchor and becomes pseudo-token embeddings.

Per pseudo-token, a query made from the identity embedding attends over the anchor's name embeddings (keys and
values projected from them); the attended mix lies in the span of real name embeddings, and a small residual from
the identity embedding, starting at zero, refines it. At initialisation the output is a softmax-weighted mix of names,
an in-distribution "person" embedding, so training starts from a token the text encoder can read.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class IDEnhancer(nn.Module):
    """(batch, face_dim) identity embeddings -> (batch, tokens, text_dim) pseudo-token embeddings."""

    def __init__(self, anchors: torch.Tensor, face_dim: int, tokens: int = 1) -> None:
        super().__init__()
        _names, text_dim = anchors.shape
        self.tokens = tokens
        self.text_dim = text_dim
        self.register_buffer("anchors", anchors.detach().clone().float())
        self.query = nn.Linear(face_dim, tokens * text_dim)
        self.token_queries = nn.Parameter(torch.zeros(tokens, text_dim))
        self.key = nn.Linear(text_dim, text_dim, bias=False)
        self.value = nn.Linear(text_dim, text_dim, bias=False)
        self.refine = nn.Linear(face_dim, tokens * text_dim)
        with torch.no_grad():  # values start as the names themselves, the refinement at nothing
            self.value.weight.copy_(torch.eye(text_dim))
            self.refine.weight.zero_()
            self.refine.bias.zero_()
            self.query.weight.mul_(math.sqrt(text_dim))  # unit-scale queries so attention is not uniform from step 0

    def forward(self, identity: torch.Tensor) -> torch.Tensor:
        batch = identity.shape[0]
        identity = nn.functional.normalize(identity.float(), dim=-1)
        anchors: torch.Tensor = self.anchors  # type: ignore[assignment]
        queries = self.query(identity).view(batch, self.tokens, self.text_dim) + self.token_queries
        keys = self.key(anchors)  # (names, dim)
        weights = torch.softmax(queries @ keys.T / math.sqrt(self.text_dim), dim=-1)  # (batch, tokens, names)
        anchored = weights @ self.value(anchors)
        return anchored + self.refine(identity).view(batch, self.tokens, self.text_dim)
