"""The server side of the encrypted gallery: stores ciphertexts, adds them up, multiplies them. Never decrypts.

``GalleryEngine`` holds the public context (no secret key: it refuses a context that has one) and the encrypted
preselection segments in memory; full templates stay in SQLite and are read only for the segments a search
asks to score. It checks every ciphertext it receives (envelope, key id, SEAL validity, level, scale) and every
placement before it writes anything, and writes each change in one SQLite transaction, so a damaged request
leaves the gallery exactly as it was.

What it learns is listed in ``docs/encrypted-search.md`` ("Leakage"): sizes, times, ids and positions, which full
segments a search scores, never a template, probe, score or name.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

from tools.encrypted.ckks import POLY_MODULUS_DEGREE, SLOTS, Ciphertext, CkksOps, has_secret_key, load_context
from tools.encrypted.envelope import open_envelope, seal_envelope
from tools.encrypted.errors import StaleLayoutError
from tools.encrypted.keys import key_id_of
from tools.encrypted.messages import (
    CiphertextDelta,
    EnrollRequest,
    FetchRequest,
    FetchResponse,
    GalleryInfo,
    InitRequest,
    LayoutResponse,
    MutationResponse,
    Placement,
    PreselectRequest,
    PreselectResponse,
    RemoveRequest,
    ScoreRequest,
    ScoreResponse,
    SegmentCiphertexts,
    SegmentResult,
)
from tools.encrypted.occupancy import Occupancy, positions
from tools.encrypted.packing import GalleryLayout, Tier
from tools.encrypted.store import FORMAT_VERSION, AuditRecord, GalleryStore, StoreChanges, dumps_meta
from tools.errors import CryptoError, GalleryError, UnknownIdentityError

log = logging.getLogger(__name__)

SegmentKey = tuple[str, int]
_IN_MEMORY_TIERS = ("staging", "block")
# A ciphertext in memory: 2 polynomials x 2 primes x N coefficients x 8 bytes.
CIPHERTEXT_MEMORY_BYTES = 2 * 2 * POLY_MODULUS_DEGREE * 8


class GalleryEngine:
    """The encrypted gallery at ``store_path``, served in this process. Implements ``GalleryService``."""

    def __init__(self, store_path: str | Path) -> None:
        self.store = GalleryStore(store_path)
        self._lock = threading.RLock()
        self._ops: CkksOps | None = None
        self._meta: dict[str, str] = {}
        self._segments: dict[SegmentKey, list[Ciphertext]] = {}
        self._stored_segments: dict[str, set[int]] = defaultdict(set)
        self._occupancy = Occupancy()
        # Searches may run against an older revision as long as every change since only added templates (see
        # ``_check_read_revision``); this is the revision of the last change that moved or removed any.
        self._additive_since = 0
        self._load()

    # -- reading -------------------------------------------------------------------------------------------------
    @property
    def ops(self) -> CkksOps:
        """The CKKS operations of the public context (raises before the gallery exists)."""
        if self._ops is None:
            raise GalleryError(f"{self.store.path}: the encrypted gallery has not been created yet")
        return self._ops

    @property
    def layout_params(self) -> GalleryLayout:
        self.ops  # noqa: B018 - raises when uninitialized
        return GalleryLayout.from_dict(_json_dict(self._meta["layout"]))

    @property
    def key_id(self) -> str:
        self.ops  # noqa: B018
        return self._meta["key_id"]

    def info(self) -> GalleryInfo:
        with self._lock:
            if self._ops is None:
                return GalleryInfo(initialized=False, format_version=FORMAT_VERSION)
            coordinates = self._meta.get("projection_coordinates")
            return GalleryInfo(
                initialized=True,
                format_version=FORMAT_VERSION,
                gallery_id=self._meta["gallery_id"],
                key_id=self._meta["key_id"],
                embedder=self._meta["embedder"],
                layout=self.layout_params.to_dict(),
                revision=int(self._meta["revision"]),
                templates=len(self._occupancy.placements),
                staged=self._occupancy.count("staging"),
                segments={tier: len(ids) for tier, ids in sorted(self._stored_segments.items()) if ids},
                projection_fingerprint=self._meta.get("projection_fingerprint"),
                projection_coordinates=int(coordinates) if coordinates else None,
            )

    def layout(self) -> LayoutResponse:
        with self._lock:
            self.ops  # noqa: B018
            return LayoutResponse(revision=self._revision, placements=list(self._occupancy.placements.values()))

    def fetch(self, request: FetchRequest) -> FetchResponse:
        with self._lock:
            self.ops  # noqa: B018
            out = []
            for segment in request.segments:
                parts = self.store.segment(request.tier, segment)
                if not parts:
                    raise GalleryError(f"the gallery has no {request.tier} segment {segment}")
                out.append(SegmentCiphertexts(tier=request.tier, segment=segment, parts=parts))
            return FetchResponse(revision=self._revision, segments=out)

    def ciphertexts_in_memory(self) -> int:
        """How many preselection ciphertexts this process holds (each ``CIPHERTEXT_MEMORY_BYTES``)."""
        with self._lock:
            return sum(len(parts) for parts in self._segments.values())

    # -- searching -----------------------------------------------------------------------------------------------
    def preselect(self, request: PreselectRequest) -> PreselectResponse:
        """Encrypted preselection estimates for every staging and block segment (one result ciphertext each)."""
        start = time.perf_counter()
        with self._lock:
            self._check_key(request.key_id)
            if request.expected_revision is not None:
                self._check_read_revision(request.expected_revision)
            layout = self.layout_params
            staging = self._probe(request.staging_probe, "staging") if request.staging_probe is not None else None
            block_parts = layout.tier("block").parts
            block = [self._open(b, f"block probe part {i}") for i, b in enumerate(request.block_probe)]
            results = []
            for (tier, segment), parts in sorted(self._segments.items()):
                if tier == "staging":
                    if staging is None:
                        if request.expected_revision not in (None, self._revision):
                            raise StaleLayoutError("templates were staged since the client's revision; re-read")
                        raise GalleryError("the gallery has staged templates: the request needs a staging probe")
                    probe = [staging]
                else:
                    if len(block) != block_parts:
                        raise GalleryError(f"the request needs {block_parts} block probe parts, got {len(block)}")
                    probe = block
                total = self.ops.sum_of_products(zip(parts, probe, strict=True))
                results.append(SegmentResult(tier=tier, segment=segment, blob=self._seal(total)))  # type: ignore[arg-type]
            return PreselectResponse(revision=self._revision, results=results, server_s=time.perf_counter() - start)

    def score(self, request: ScoreRequest) -> ScoreResponse:
        """Encrypted full-template products for the requested full segments (one result ciphertext each)."""
        start = time.perf_counter()
        with self._lock:
            self._check_key(request.key_id)
            if request.expected_revision is not None:
                self._check_read_revision(request.expected_revision)
            if len(set(request.segments)) != len(request.segments):
                raise GalleryError("score request names a segment twice")
            missing = [s for s in request.segments if s not in self._stored_segments["full"]]
            if missing:
                raise GalleryError(f"the gallery has no full segments {missing[:5]}")
            probe = self._probe(request.probe, "full")
            results = []
            for segment in request.segments:
                (blob,) = self.store.segment("full", segment)
                stored = self._open(blob, f"stored full segment {segment}")
                total = self.ops.sum_of_products([(stored, probe)])
                results.append(SegmentResult(tier="full", segment=segment, blob=self._seal(total)))
            return ScoreResponse(revision=self._revision, results=results, server_s=time.perf_counter() - start)

    # -- changing ------------------------------------------------------------------------------------------------
    def init(self, request: InitRequest, actor: str = "local") -> GalleryInfo:
        """Create the gallery for ``request.key_id``; repeating the same creation is harmless. ``actor`` (who
        asked: an API key's name) goes to the audit log, as for every change."""
        with self._lock:
            if self._ops is not None:
                if self._meta["key_id"] != request.key_id:
                    raise CryptoError(
                        f"this gallery was created with key {self._meta['key_id'][:12]}…; the client uses key "
                        f"{request.key_id[:12]}…: the keys are mixed up"
                    )
                if self._meta["embedder"] != request.embedder or self.layout_params.to_dict() != request.layout:
                    raise GalleryError(
                        f"this gallery holds {self._meta['embedder']} templates with layout "
                        f"{self.layout_params.to_dict()}; cannot reuse it for {request.embedder} {request.layout}"
                    )
                return self.info()
            if key_id_of(request.public_context) != request.key_id:
                raise CryptoError("the public context sent does not match the key id sent with it")
            context = load_context(request.public_context)
            if has_secret_key(context):
                raise CryptoError("the context sent holds a secret key; a gallery server must never receive it")
            layout = GalleryLayout.from_dict(request.layout)
            meta = {
                "gallery_id": uuid.uuid4().hex,
                "key_id": request.key_id,
                "embedder": request.embedder,
                "layout": dumps_meta(layout.to_dict()),
                "revision": "0",
                "created_s": f"{time.time():.3f}",
            }
            self.store.initialize(meta, request.public_context)
            self.store.append_audit(AuditRecord(who=actor, action="init", revision=0))
            self._load()
            log.info("created encrypted gallery %s for key %s…", meta["gallery_id"], request.key_id[:12])
            return self.info()

    def enroll(self, request: EnrollRequest, actor: str = "local") -> MutationResponse:
        """Add templates and/or compact, after checking every placement and ciphertext; one transaction."""
        with self._lock:
            self._check_revision(request.expected_revision)
            layout = self.layout_params
            self._check_placements(request, layout)
            required = _required_parts(request.placements, layout, full=True)
            required |= _required_parts(request.moves, layout, full=False)
            projection = self._projection_changes(request, layout)
            changes, opened = self._apply_deltas(request.deltas, required, drop_staging=request.clear_staging)
            if request.clear_staging:
                changes.delete_tiers.add("staging")
            changes.put_ciphertexts.update(projection.put_ciphertexts)
            changes.delete_tiers |= projection.delete_tiers
            changes.meta.update(projection.meta)
            changes.upsert_placements = [*request.placements, *request.moves]
            changes.meta["revision"] = str(self._revision + 1)
            action = "enroll" if request.placements else "compact"
            additive = not (request.moves or request.clear_staging or request.projection is not None)
            changes.audit = AuditRecord(
                who=actor, action=action, revision=self._revision + 1,
                template_ids=tuple(p.template_id for p in request.placements or request.moves),
            )  # fmt: skip
            self._commit(changes, opened)
            if not additive:
                self._additive_since = self._revision
            return MutationResponse(revision=self._revision, templates=len(self._occupancy.placements))

    def remove(self, request: RemoveRequest, actor: str = "local") -> MutationResponse:
        """Forget templates; cancel their values in segments others still use, drop segments left empty."""
        with self._lock:
            self._check_revision(request.expected_revision)
            layout = self.layout_params
            occupancy = self._occupancy
            gone = set(request.template_ids)
            unknown = [i for i in gone if i not in occupancy.placements]
            if unknown:
                raise UnknownIdentityError(f"{len(unknown)} template ids are not in the gallery (e.g. {unknown[0]})")
            leaving: dict[tuple[str, int], int] = defaultdict(int)
            for template_id in gone:
                for key, _ in positions(occupancy.placements[template_id]):
                    leaving[key] += 1
            emptied = {key for key, count in leaving.items() if len(occupancy.members(*key)) == count}
            required = {
                (tier, segment, part)
                for tier, segment in set(leaving) - emptied
                for part in range(layout.tier(tier).parts)  # type: ignore[arg-type]
            }
            kept = [d for d in request.deltas if (d.tier, d.segment) not in emptied]
            changes, opened = self._apply_deltas(kept, required, drop_staging=False)
            changes.delete_segments |= emptied
            changes.delete_placements = sorted(gone)
            changes.meta["revision"] = str(self._revision + 1)
            changes.audit = AuditRecord(
                who=actor, action="remove", revision=self._revision + 1, template_ids=tuple(sorted(gone))
            )
            self._commit(changes, opened)
            self._additive_since = self._revision
            return MutationResponse(revision=self._revision, templates=len(occupancy.placements))

    # -- internals -----------------------------------------------------------------------------------------------
    @property
    def _revision(self) -> int:
        return int(self._meta.get("revision", "0"))

    def _load(self) -> None:
        """Read the state from SQLite: metadata, placements and the in-memory preselection segments."""
        meta = self.store.meta()
        if "gallery_id" not in meta:
            self._ops, self._meta = None, {}
            return
        context = load_context(self.store.public_context())
        if has_secret_key(context):
            raise CryptoError(
                f"{self.store.path} holds a secret key; refusing to serve it (a gallery server must never hold one)"
            )
        self._ops = CkksOps(context)
        self._meta = meta
        self._occupancy = Occupancy(self.store.placements())
        segments: dict[SegmentKey, list[Ciphertext]] = defaultdict(list)
        stored: dict[str, set[int]] = defaultdict(set)
        for tier, segment, part, blob in self.store.iter_ciphertexts(("full", "staging", "block")):
            stored[tier].add(segment)
            if tier in _IN_MEMORY_TIERS:
                if part != len(segments[(tier, segment)]):
                    raise GalleryError(f"{self.store.path}: {tier} segment {segment} is missing part {part - 1}")
                segments[(tier, segment)].append(self._open(blob, f"stored {tier} segment {segment} part {part}"))
        self._segments = dict(segments)
        self._stored_segments = stored
        self._additive_since = self._revision

    def _commit(self, changes: StoreChanges, opened: dict[tuple[str, int, int], Ciphertext]) -> None:
        """Write ``changes`` to SQLite, then mirror them in memory (only after the transaction succeeded)."""
        self.store.apply(changes)
        layout = self.layout_params
        for tier in changes.delete_tiers:
            self._stored_segments.pop(tier, None)
            self._segments = {key: parts for key, parts in self._segments.items() if key[0] != tier}
        for tier, segment in changes.delete_segments:
            self._stored_segments[tier].discard(segment)
            self._segments.pop((tier, segment), None)
        for (tier, segment, part), ciphertext in opened.items():
            self._stored_segments[tier].add(segment)
            if tier in _IN_MEMORY_TIERS:
                parts = self._segments.setdefault((tier, segment), [None] * layout.tier(tier).parts)  # type: ignore[arg-type]
                parts[part] = ciphertext
        for template_id in changes.delete_placements:
            self._occupancy.drop(template_id)
        for placement in changes.upsert_placements:
            self._occupancy.add(placement)
        self._meta.update(changes.meta)

    def _check_placements(self, request: EnrollRequest, layout: GalleryLayout) -> None:
        """New templates get new ids and free, in-range positions; a compaction moves every staged template
        from staging into free block positions and nothing else."""
        occupancy = self._occupancy
        if request.moves and not request.clear_staging:
            raise GalleryError("templates can only be moved by a compaction (clear_staging)")
        if request.clear_staging:
            unmoved = set(occupancy.template_ids("staging")) - {m.template_id for m in request.moves}
            if unmoved:
                raise GalleryError(f"clearing staging would lose {len(unmoved)} staged templates not moved")
        claimed: set[tuple[str, int, int]] = set()

        def claim(tier: str, segment: int, slot: int, template_id: str) -> None:
            if slot >= layout.tier(tier).capacity:  # type: ignore[arg-type]
                raise GalleryError(f"template {template_id} is placed outside its {tier} segment")
            cleared = request.clear_staging and tier == "staging"
            if (tier, segment, slot) in claimed or (not cleared and occupancy.is_taken(tier, segment, slot)):
                raise GalleryError(f"two templates would share {tier} segment {segment} slot {slot}")
            claimed.add((tier, segment, slot))

        for move in request.moves:
            old = occupancy.placements.get(move.template_id)
            if old is None:
                raise UnknownIdentityError(f"template {move.template_id} to move is not in the gallery")
            if old.pre_tier != "staging" or move.pre_tier != "block":
                raise GalleryError("a compaction moves templates from staging into blocks only")
            if (old.full_segment, old.full_slot) != (move.full_segment, move.full_slot):
                raise GalleryError(f"moving template {move.template_id} may not change its full position")
            claim(move.pre_tier, move.pre_segment, move.pre_slot, move.template_id)
        seen: set[str] = set()
        for placement in request.placements:
            if placement.template_id in occupancy.placements or placement.template_id in seen:
                raise GalleryError(f"template id {placement.template_id} is already enrolled")
            seen.add(placement.template_id)
            claim("full", placement.full_segment, placement.full_slot, placement.template_id)
            claim(placement.pre_tier, placement.pre_segment, placement.pre_slot, placement.template_id)

    def _check_key(self, key_id: str) -> None:
        if key_id != self.key_id:
            raise CryptoError(
                f"the probe was encrypted under key {key_id[:12]}… but this gallery uses key {self.key_id[:12]}…: "
                "the keys are mixed up"
            )

    def _check_revision(self, expected: int) -> None:
        self.ops  # noqa: B018
        if expected != self._revision:
            raise StaleLayoutError(
                f"the gallery changed (revision {self._revision}, the client expected {expected}); re-read and retry"
            )

    def _check_read_revision(self, expected: int) -> None:
        """A search made on the layout of revision ``expected`` is still exact if every change since then only
        added templates: their values sit in slots the client does not read, so each template it knows keeps its
        result; it simply does not see the newer ones (a search as of its revision). Without this, searches
        starve while enrollments keep arriving (tests/hardening: 3 enrolling processes). Anything that moved or
        removed templates since is refused as before."""
        self.ops  # noqa: B018
        if not self._additive_since <= expected <= self._revision:
            raise StaleLayoutError(
                f"the gallery's layout changed (revision {self._revision}, the client expected {expected}); "
                "re-read and retry"
            )

    def _open(self, blob: bytes, what: str) -> Ciphertext:
        return self.ops.load(open_envelope(blob, self.key_id, what), "fresh")

    def _probe(self, blob: bytes, tier: Tier) -> Ciphertext:
        return self._open(blob, f"{tier} probe")

    def _seal(self, ciphertext: Ciphertext) -> bytes:
        return seal_envelope(self.ops.dump(ciphertext), self.key_id)

    def _current(self, tier: str, segment: int, part: int) -> Ciphertext | None:
        if tier in _IN_MEMORY_TIERS:
            parts = self._segments.get((tier, segment))
            return parts[part] if parts is not None and part < len(parts) else None
        blobs = self.store.segment("full", segment) if segment in self._stored_segments["full"] else []
        return self._open(blobs[part], f"stored full segment {segment}") if part < len(blobs) else None

    def _apply_deltas(
        self, deltas: list[CiphertextDelta], required: set[tuple[str, int, int]], *, drop_staging: bool
    ) -> tuple[StoreChanges, dict[tuple[str, int, int], Ciphertext]]:
        """Each touched part plus its deltas, as blobs to store and as ciphertexts to keep in memory.

        Checks first that ``deltas`` cover exactly the ``required`` parts, and opens every ciphertext before
        anything is written.
        """
        grouped: dict[tuple[str, int, int], list[bytes]] = defaultdict(list)
        for delta in deltas:
            grouped[(delta.tier, delta.segment, delta.part)].append(delta.blob)
        if set(grouped) != required:
            missing, extra = sorted(required - set(grouped)), sorted(set(grouped) - required)
            raise GalleryError(
                "the ciphertexts sent do not match the templates placed "
                f"(missing {missing[:3]}{'…' if len(missing) > 3 else ''}, "
                f"unexpected {extra[:3]}{'…' if len(extra) > 3 else ''})"
            )
        changes = StoreChanges()
        totals: dict[tuple[str, int, int], Ciphertext] = {}
        for (tier, segment, part), blobs in grouped.items():
            opened = [self._open(b, f"{tier} segment {segment} part {part} ciphertext") for b in blobs]
            base = None if drop_staging and tier == "staging" else self._current(tier, segment, part)
            if base is None and len(opened) == 1:
                changes.put_ciphertexts[(tier, segment, part)] = blobs[0]  # fresh and seeded: stored as received
                totals[(tier, segment, part)] = opened[0]
                continue
            total = opened[0] if base is None else self.ops.add(base, opened[0])
            for extra_ct in opened[1:]:
                total = self.ops.add(total, extra_ct)
            changes.put_ciphertexts[(tier, segment, part)] = self._seal(total)
            totals[(tier, segment, part)] = total
        return changes, totals

    def _projection_changes(self, request: EnrollRequest, layout: GalleryLayout) -> StoreChanges:
        changes = StoreChanges()
        has_projection = "projection_fingerprint" in self._meta
        if request.projection is None:
            if not has_projection and request.placements:
                raise GalleryError("the first enrollment must carry the encrypted projection")
            return changes
        if self._occupancy.count("block"):
            raise GalleryError("the projection cannot change once templates are compacted into blocks")
        projection = request.projection
        if projection.coordinates != layout.feature_dim:
            raise GalleryError(f"projection has {projection.coordinates} rows, the layout needs {layout.feature_dim}")
        expected_parts = -(-projection.coordinates * layout.dim // SLOTS)
        if len(projection.blobs) != expected_parts:
            raise GalleryError(f"projection needs {expected_parts} ciphertexts, got {len(projection.blobs)}")
        for index, blob in enumerate(projection.blobs):
            self._open(blob, f"projection part {index}")
            changes.put_ciphertexts[("projection", 0, index)] = blob
        changes.delete_tiers.add("projection")
        changes.meta["projection_fingerprint"] = projection.fingerprint
        changes.meta["projection_coordinates"] = str(projection.coordinates)
        return changes


def _required_parts(changed: list[Placement], layout: GalleryLayout, *, full: bool) -> set[tuple[str, int, int]]:
    """The (tier, segment, part) ciphertexts an enrollment must send: every part its templates' values touch."""
    required: set[tuple[str, int, int]] = set()
    for p in changed:
        if full:
            required.add(("full", p.full_segment, 0))
        for part in range(layout.tier(p.pre_tier).parts):
            required.add((p.pre_tier, p.pre_segment, part))
    return required


def _json_dict(text: str) -> dict[str, int]:
    import json

    value = json.loads(text)
    if not isinstance(value, dict):
        raise GalleryError("gallery metadata is damaged")
    return {str(k): int(v) for k, v in value.items()}
