"""The requests and answers between the key owner and the gallery server, as pydantic models.

The same models serve in-process calls (``GalleryEngine``) and HTTP (``servers.gallery``; bytes travel as base64
in JSON). Every ciphertext field holds an envelope (``tools.encrypted.envelope``). Nothing here carries a name, a
template, a probe or a score in the clear: templates are known to the server only by random 32-hex-digit ids.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tools.encrypted.packing import PreselectionTier, Tier

TemplateId = str
TEMPLATE_ID_PATTERN = r"^[0-9a-f]{32}$"
StoredTier = Literal["full", "staging", "block", "projection"]


class WireModel(BaseModel):
    """Base of every message: unknown fields are refused, bytes travel as base64 in JSON."""

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")


class Placement(WireModel):
    """Where one template's ciphertext values sit: its full template and its preselection features."""

    template_id: TemplateId = Field(pattern=TEMPLATE_ID_PATTERN)
    full_segment: int = Field(ge=0)
    full_slot: int = Field(ge=0)
    pre_tier: PreselectionTier
    pre_segment: int = Field(ge=0)
    pre_slot: int = Field(ge=0)


class CiphertextDelta(WireModel):
    """A ciphertext added slot-wise into part ``part`` of segment ``segment`` of ``tier`` (created if absent)."""

    tier: Tier
    segment: int = Field(ge=0)
    part: int = Field(ge=0)
    blob: bytes


class ProjectionUpload(WireModel):
    """The preselection basis, encrypted row by row in 4,096-value chunks, and its SHA-256."""

    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    coordinates: int = Field(ge=1)
    blobs: list[bytes]


class GalleryInfo(WireModel):
    """What the server tells anyone: sizes and identifiers, nothing about content."""

    initialized: bool
    format_version: int
    gallery_id: str | None = None
    key_id: str | None = None
    embedder: str | None = None
    layout: dict[str, int] | None = None
    revision: int = 0
    templates: int = 0
    staged: int = 0
    segments: dict[str, int] = Field(default_factory=dict)
    projection_fingerprint: str | None = None
    projection_coordinates: int | None = None


class InitRequest(WireModel):
    """Create the gallery: the key owner's public context and the fixed layout."""

    key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    public_context: bytes
    embedder: str = Field(min_length=1, max_length=200)
    layout: dict[str, int]


class LayoutResponse(WireModel):
    revision: int
    placements: list[Placement]


class EnrollRequest(WireModel):
    """Add templates (``placements``), optionally compacting: ``moves`` re-place existing templates' features,
    ``clear_staging`` drops the staging ciphertexts first, and ``projection`` (re)sets the basis (only while the
    gallery has no block segments)."""

    expected_revision: int
    placements: list[Placement] = Field(default_factory=list)
    moves: list[Placement] = Field(default_factory=list)
    deltas: list[CiphertextDelta] = Field(default_factory=list)
    clear_staging: bool = False
    projection: ProjectionUpload | None = None


class RemoveRequest(WireModel):
    """Forget ``template_ids``; ``deltas`` cancel their values in place (computed by the key owner)."""

    expected_revision: int
    template_ids: list[TemplateId]
    deltas: list[CiphertextDelta] = Field(default_factory=list)


class MutationResponse(WireModel):
    revision: int
    templates: int


class FetchRequest(WireModel):
    """Stored ciphertexts, for the key owner's maintenance (removal, compaction, reading the projection)."""

    tier: StoredTier
    segments: list[int]


class SegmentCiphertexts(WireModel):
    tier: StoredTier
    segment: int
    parts: list[bytes]


class FetchResponse(WireModel):
    revision: int
    segments: list[SegmentCiphertexts]


class PreselectRequest(WireModel):
    """The encrypted probe features: one tiled ciphertext for staging, ``feature_dim / block_group`` for blocks."""

    key_id: str
    expected_revision: int | None = None
    staging_probe: bytes | None = None
    block_probe: list[bytes] = Field(default_factory=list)


class SegmentResult(WireModel):
    """One encrypted sum of products (a rescaled ciphertext) for segment ``segment`` of ``tier``."""

    tier: Tier
    segment: int
    blob: bytes


class PreselectResponse(WireModel):
    revision: int
    results: list[SegmentResult]
    server_s: float


class ScoreRequest(WireModel):
    """The encrypted probe, tiled over a full segment, and the full segments to score."""

    key_id: str
    expected_revision: int | None = None
    probe: bytes
    segments: list[int]


class ScoreResponse(WireModel):
    revision: int
    results: list[SegmentResult]
    server_s: float


class ErrorBody(WireModel):
    type: str
    message: str


class ErrorResponse(WireModel):
    error: ErrorBody


class GalleryService(Protocol):
    """The server's operations; ``GalleryEngine`` runs them in-process, ``RemoteGalleryService`` over HTTP."""

    def info(self) -> GalleryInfo: ...

    def init(self, request: InitRequest) -> GalleryInfo: ...

    def layout(self) -> LayoutResponse: ...

    def enroll(self, request: EnrollRequest) -> MutationResponse: ...

    def remove(self, request: RemoveRequest) -> MutationResponse: ...

    def fetch(self, request: FetchRequest) -> FetchResponse: ...

    def preselect(self, request: PreselectRequest) -> PreselectResponse: ...

    def score(self, request: ScoreRequest) -> ScoreResponse: ...


def blob_bytes(message: Any) -> int:
    """Total ciphertext bytes inside a message (what travels, before base64)."""
    if isinstance(message, bytes):
        return len(message)
    if isinstance(message, BaseModel):
        return sum(blob_bytes(getattr(message, name)) for name in type(message).model_fields)
    if isinstance(message, list | tuple):
        return sum(blob_bytes(item) for item in message)
    return 0
