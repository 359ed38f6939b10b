"""The textual ID anchor: text embeddings of representative person names.

The ID-Enhancer expresses a face-recognition embedding as attention over these, so the pseudo-token it makes starts
in the region of the text embedding space where the text encoder already "knows" people; that region, not the raw
face vector, is what the UNet's cross-attention has learned to turn into faces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

# Widely photographed people of many origins, ages and both sexes: CLIP-style encoders have seen their faces captioned
# with their names. Only their text embeddings are used, never a picture of them.
REPRESENTATIVE_NAMES: tuple[str, ...] = (
    "Barack Obama",
    "Angela Merkel",
    "Tom Hanks",
    "Meryl Streep",
    "Denzel Washington",
    "Emma Watson",
    "Jackie Chan",
    "Priyanka Chopra",
    "Morgan Freeman",
    "Scarlett Johansson",
    "Keanu Reeves",
    "Oprah Winfrey",
    "Shah Rukh Khan",
    "Lupita Nyongo",
    "Leonardo DiCaprio",
    "Penelope Cruz",
    "Ken Watanabe",
    "Michelle Yeoh",
    "Idris Elba",
    "Cate Blanchett",
    "Will Smith",
    "Salma Hayek",
    "Hugh Jackman",
    "Zendaya",
    "Brad Pitt",
    "Judi Dench",
    "Samuel L Jackson",
    "Gong Li",
    "Antonio Banderas",
    "Viola Davis",
    "George Clooney",
    "Aishwarya Rai",
    "Dwayne Johnson",
    "Nicole Kidman",
    "Tom Cruise",
    "Rihanna",
)


def anchor_embeddings(pipe: Any, names: Sequence[str] = REPRESENTATIVE_NAMES) -> torch.Tensor:
    """(len(names), dim): each name's mean input token embedding (the space pseudo-tokens live in), frozen."""
    tokenizer = pipe.tokenizer
    table = pipe.text_encoder.get_input_embeddings().weight.detach()
    special = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id}
    rows = []
    for name in names:
        ids = [
            i
            for i in tokenizer(name.lower(), truncation=True, max_length=tokenizer.model_max_length).input_ids
            if i not in special
        ]
        rows.append(table[ids].mean(dim=0))
    return torch.stack(rows).float().clone()
