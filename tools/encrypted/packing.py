"""Slot layouts: how many templates share a ciphertext, and where each value sits. Plain numpy, no crypto.

A *segment* is a group of ``parts`` ciphertexts that together hold ``capacity`` templates of ``width`` values.
Template ``i`` of a segment keeps its values in the ``group`` slots ``[i * group, (i + 1) * group)`` of every
part: part ``g`` holds values ``g * group ... g * group + group - 1``. A query ciphertext holds the probe's values
in the same pattern, tiled over all templates, so the slot-wise product of a segment's parts with the query's
parts, summed over parts, leaves in slot ``i * group + q`` a partial inner product; the key owner adds each
template's ``group`` partial sums after decryption. No rotation is ever needed, which is why the server needs no
Galois keys (the costly operation in CKKS inner products).

``group`` trades uploads against downloads: ``group == width`` is template-major (one part, one query
ciphertext, one result ciphertext per ``4096 / width`` templates: PFIP's packing, used for full templates and for
freshly enrolled preselection features), and ``group == 1`` is feature-major (``width`` query ciphertexts, one
result per 4,096 templates). The gallery uses three layouts (``GalleryLayout``):

- ``full``: whole templates, template-major (128-d: 32 per ciphertext; 512-d: 8);
- ``staging``: preselection features of new enrollments, template-major (64 features: 64 templates per
  ciphertext), so enrolling one template encrypts one preselection ciphertext and never touches the others;
- ``block``: preselection features after compaction, 4 features side by side (1,024 templates per segment of
  16 ciphertexts for 64 features), so a 100,000-template search downloads 98 result ciphertexts instead of 1,563.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from tools.encrypted.ckks import SLOTS
from tools.errors import GalleryError

Tier = Literal["full", "staging", "block"]
PreselectionTier = Literal["staging", "block"]
TIERS: tuple[Tier, ...] = ("full", "staging", "block")


@dataclass(frozen=True)
class SlotLayout:
    """``capacity`` templates of ``width`` values per segment of ``parts`` ciphertexts, ``group`` slots each."""

    width: int
    group: int
    slots: int = SLOTS

    def __post_init__(self) -> None:
        if not 1 <= self.group <= self.slots or self.width < 1:
            raise GalleryError(f"invalid slot layout: width {self.width}, group {self.group}")

    @property
    def capacity(self) -> int:
        """Templates per segment."""
        return self.slots // self.group

    @property
    def parts(self) -> int:
        """Ciphertexts per segment."""
        return -(-self.width // self.group)

    def pack(self, values: np.ndarray, positions: Sequence[int]) -> np.ndarray:
        """Slot values (parts, slots) of a segment holding ``values`` (n, width) at ``positions`` (n,), zero
        elsewhere."""
        values = np.asarray(values, dtype=np.float64).reshape(len(positions), self.width)
        out = np.zeros((self.parts, self.capacity, self.group), dtype=np.float64)
        padded = np.zeros((len(positions), self.parts * self.group), dtype=np.float64)
        padded[:, : self.width] = values
        index = np.asarray(positions, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= self.capacity):
            raise GalleryError(f"slot position out of range 0..{self.capacity - 1}")
        out[:, index, :] = padded.reshape(len(positions), self.parts, self.group).transpose(1, 0, 2)
        return self._to_slots(out)

    def tile(self, vector: np.ndarray) -> np.ndarray:
        """Query slot values (parts, slots): ``vector`` (width,) repeated for every template position."""
        padded = np.zeros(self.parts * self.group, dtype=np.float64)
        padded[: self.width] = np.asarray(vector, dtype=np.float64).reshape(self.width)
        per_part = padded.reshape(self.parts, 1, self.group)
        return self._to_slots(np.broadcast_to(per_part, (self.parts, self.capacity, self.group)))

    def template_sums(self, result: np.ndarray) -> np.ndarray:
        """Per-template inner products (capacity,) from a decrypted sum-of-products (slots,)."""
        used = np.asarray(result, dtype=np.float64)[: self.capacity * self.group]
        return used.reshape(self.capacity, self.group).sum(axis=1)

    def unpack(self, parts_values: np.ndarray) -> np.ndarray:
        """The stored values (capacity, width) of every position, from a segment's decrypted parts (parts, slots)."""
        used = np.asarray(parts_values, dtype=np.float64)[:, : self.capacity * self.group]
        per = used.reshape(self.parts, self.capacity, self.group).transpose(1, 0, 2)
        return per.reshape(self.capacity, self.parts * self.group)[:, : self.width]

    def _to_slots(self, blocks: np.ndarray) -> np.ndarray:
        out = np.zeros((self.parts, self.slots), dtype=np.float64)
        out[:, : self.capacity * self.group] = blocks.reshape(self.parts, -1)
        return out


@dataclass(frozen=True)
class GalleryLayout:
    """The layouts of one encrypted gallery, fixed when it is created (stored in its metadata).

    ``feature_dim`` preselection values per template: its coordinates in the projection's basis
    (``tools.encrypted.projection``; 64 for 128-d templates, 128 for 512-d). ``staging_limit``
    enrolled-but-not-compacted templates trigger a compaction into blocks.
    """

    dim: int
    feature_dim: int = 64
    block_group: int = 4
    staging_limit: int = 1024

    def __post_init__(self) -> None:
        if not 2 <= self.dim <= SLOTS:
            raise GalleryError(f"template dimension must be between 2 and {SLOTS}, got {self.dim}")
        if not 2 <= self.feature_dim <= SLOTS or self.feature_dim % self.block_group:
            raise GalleryError(f"feature_dim {self.feature_dim} must be a multiple of block_group {self.block_group}")
        if self.staging_limit < 1:
            raise GalleryError("staging_limit must be positive")

    def tier(self, tier: Tier) -> SlotLayout:
        if tier == "full":
            return SlotLayout(self.dim, self.dim)
        if tier == "staging":
            return SlotLayout(self.feature_dim, self.feature_dim)
        if tier == "block":
            return SlotLayout(self.feature_dim, self.block_group)
        raise GalleryError(f"unknown tier {tier!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GalleryLayout:
        try:
            return cls(**{key: int(data[key]) for key in ("dim", "feature_dim", "block_group", "staging_limit")})
        except (KeyError, TypeError, ValueError) as error:
            raise GalleryError(f"gallery layout metadata is unreadable ({error})") from error
