"""The key owner's side: ``EncryptedGallery`` implements ``IdentityGallery`` over an encrypted gallery server.

A search is two or more round trips (``docs/encrypted-search.md`` has the numbers):

1. *preselection*: the probe's projected coordinates are encrypted (1 ciphertext for the staging tier,
   ``feature_dim / block_group`` = 16 or 32 for blocks) and the server returns one encrypted sum of products
   per segment. Decrypted, each template's value estimates its cosine with the probe; adding
   ``|r_p| |r_t|`` makes it an upper bound (``tools.encrypted.projection``).
2. *full scores*: the probe, tiled, is encrypted once; the server multiplies it with the full-template segments
   that hold the ``candidates`` best-estimated templates, and the key owner sums each template's products.
3. with ``exact``, more full segments are scored until the answer is *certified*: the best full score is at
   least every unscored template's bound (top-1 certified), or, when it is below the threshold, no unscored
   bound reaches the threshold (rejection certified). The certificate is the Cauchy-Schwarz bound, so a
   certified answer is the plaintext search's answer, up to CKKS error (~1e-8, ``margin`` covers it).

The client decides accept/reject with the caller's threshold; the server never sees a score.
"""

from __future__ import annotations

import functools
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from tools.encrypted.ckks import SLOTS
from tools.encrypted.errors import StaleLayoutError
from tools.encrypted.keys import ClientKeys
from tools.encrypted.messages import (
    CiphertextDelta,
    EnrollRequest,
    FetchRequest,
    GalleryInfo,
    GalleryService,
    InitRequest,
    Placement,
    PreselectRequest,
    ProjectionUpload,
    RemoveRequest,
    ScoreRequest,
    SegmentResult,
    blob_bytes,
)
from tools.encrypted.names import NameBook
from tools.encrypted.occupancy import Occupancy, positions
from tools.encrypted.packing import GalleryLayout, Tier
from tools.encrypted.projection import Projection, fit_projection
from tools.errors import CryptoError, GalleryError, UnknownIdentityError
from tools.recognition.templates import clean_identity_name, unit_templates
from tools.recognition.types import Candidate, Identity

log = logging.getLogger(__name__)

HidingMode = Literal["none", "padded", "all"]
_SCORE_LIMIT = 1.0 + 1e-3
_ENROLL_CHUNK = 4096
_MAX_ROUNDS = 256
# Optimistic concurrency: a change or search made against a revision another client has moved past is refused
# (StaleLayoutError) and redone on the new layout. With several writers each attempt can lose the race again, so
# attempts back off with random jitter (capped) instead of retrying in lock step; measured with 3 enrolling and
# 2 identifying processes (tests/hardening), 3 plain retries were not enough.
_STALE_ATTEMPTS = 12
_STALE_BACKOFF_S = 0.02
_STALE_BACKOFF_CAP_S = 0.5
# A search answered at a later revision than the client's layout (the server allows it when templates were only
# added since) is redone on the new layout this many times, so a search sees what others just enrolled; past
# that (enrollments keep arriving) the answer stands as of the client's revision, instead of starving.
_FRESH_RETRIES = 2


def _stale_pause(attempt: int) -> None:
    """Sleep before retry ``attempt`` (1, 2, …): uniform in [0, min(cap, base * 2^attempt))."""
    ceiling = min(_STALE_BACKOFF_CAP_S, _STALE_BACKOFF_S * 2**attempt)
    time.sleep(ceiling * secrets.randbelow(1000) / 1000)


@dataclass(frozen=True)
class SearchOptions:
    """How a search trades cost against certainty and leakage.

    ``candidates``: templates whose full scores are computed after preselection (None: 8 for templates up to
    256-d, 16 above, where near-orthogonal embeddings make the preselection noisier). ``exact``: then keep scoring
    the templates whose bound could still change the answer, as long as they fit in ``exact_segments`` more
    full segments (when they do not, as with near-orthogonal 512-d embeddings whose bounds are loose, the
    answer is left uncertified rather than turned into an exhaustive search). ``hiding``: ``none`` (the server
    learns which full segments were scored),
    ``padded`` (every scoring request names exactly ``pad_segments`` segments, the needed ones hidden among
    random others), ``all`` (no preselection; every full segment is scored, the server learns nothing about
    candidates). ``margin`` absorbs CKKS error when bounds are compared.
    """

    candidates: int | None = None
    exact: bool = True
    exact_segments: int = 32
    hiding: HidingMode = "none"
    pad_segments: int = 16
    margin: float = 1e-4


@dataclass
class QueryStats:
    """What one search cost and whether its answer is certified."""

    rounds: int = 0
    segments_preselected: int = 0
    segments_scored: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    encrypt_s: float = 0.0
    server_s: float = 0.0
    decrypt_s: float = 0.0
    total_s: float = 0.0
    certified: Literal["top1", "reject", "no"] = "no"

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SearchResult:
    """Encrypted-search scores by template id: ``scores`` exact (full templates); the preselection bounds of
    every template as ``bound_ids`` and ``bound_values`` (n,)."""

    scores: dict[str, float]
    bound_ids: list[str]
    bound_values: np.ndarray
    stats: QueryStats

    @property
    def bounds(self) -> dict[str, float]:
        return dict(zip(self.bound_ids, self.bound_values.tolist(), strict=True))


class _View:
    """The client's copy of the server's layout at ``revision`` (kept up to date with our own changes)."""

    def __init__(self, revision: int, placements: Sequence[Placement]) -> None:
        self.revision = revision
        self.occupancy = Occupancy(placements)
        self._arrays: dict[tuple[str, int], tuple[np.ndarray, list[str]]] = {}

    @property
    def placements(self) -> dict[str, Placement]:
        return self.occupancy.placements

    def slots(self, tier: str, segment: int) -> tuple[np.ndarray, list[str]]:
        """(slot numbers, template ids) of one segment's occupied slots."""
        key = (tier, segment)
        if key not in self._arrays:
            members = self.occupancy.members(tier, segment)
            slots = np.fromiter(members.keys(), dtype=np.int64, count=len(members))
            self._arrays[key] = (slots, list(members.values()))
        return self._arrays[key]

    def apply(self, revision: int, upserts: Sequence[Placement], removed: Sequence[str]) -> None:
        """Our own change, acknowledged by the server at ``revision``."""
        touched = [self.occupancy.drop(i) for i in removed]
        for placement in upserts:
            if placement.template_id in self.placements:
                touched.append(self.placements[placement.template_id])
            self.occupancy.add(placement)
            touched.append(placement)
        for placement in touched:
            for key, _ in positions(placement):
                self._arrays.pop(key, None)
        self.revision = revision


class EncryptedGallery:
    """The encrypted gallery seen by its key owner (``IdentityGallery``); ``service`` is the server.

    ``feature_dim``, ``block_group`` and ``staging_limit`` are the layout (``GalleryLayout``) used if this client
    creates the gallery; the template dimension comes from the first enrollment.
    """

    method = "encrypted"

    def __init__(
        self,
        keys: ClientKeys,
        service: GalleryService,
        names: NameBook,
        options: SearchOptions | None = None,
        *,
        feature_dim: int | None = None,
        block_group: int = 4,
        staging_limit: int = 1024,
    ) -> None:
        self.keys = keys
        self.service = service
        self.names_book = names
        self.options = options or SearchOptions()
        self._new_layout: dict[str, Any] = {
            "feature_dim": feature_dim,
            "block_group": block_group,
            "staging_limit": staging_limit,
        }
        self._info: GalleryInfo | None = None
        self._view: _View | None = None
        self._answered_revision = 0  # the latest revision a search request was answered at
        self._projection: Projection | None = None
        self._bound: str | None = None
        self._residuals: dict[str, float] | None = None
        self.last_stats: QueryStats | None = None

    # -- IdentityGallery ------------------------------------------------------------------------------------------
    def enroll(self, name: str, embeddings: np.ndarray, embedder: str) -> int:
        """Encrypt and add templates (n, dim) for ``name``; returns how many templates ``name`` now has."""
        return self.enroll_many([(name, embeddings)], embedder)[clean_identity_name(name)]

    def remove(self, name: str) -> int:
        """Delete ``name``: its values are cancelled in place (decrypted, negated, re-encrypted by this client)."""
        name = clean_identity_name(name)
        for attempt in range(3):
            view = self._sync(force=attempt > 0)
            ids = [i for i in self.names_book.ids_of(name) if i in view.placements]
            if not ids:
                raise UnknownIdentityError(f"{name!r} is not enrolled in the encrypted gallery")
            try:
                self._remove_ids(view, ids)
            except StaleLayoutError:
                continue
            self.names_book.forget(ids)
            return len(ids)
        raise StaleLayoutError("the gallery kept changing during the removal; try again")

    def names(self) -> list[tuple[str, int]]:
        """(name, template count) of every identity, sorted by name."""
        view = self._sync(force=True)
        counts: dict[str, int] = {}
        for template_id, name in self.names_book.all().items():
            if template_id in view.placements:
                counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items())

    def identify(self, probe: np.ndarray, embedder: str, threshold: float, top_k: int = 5) -> Identity:
        """The best identity for one probe (dim,), or unknown below ``threshold``, like the plaintext gallery."""
        result = self.search(probe, embedder, threshold)
        if not result.scores:
            return Identity(None, 0.0, threshold, "encrypted", embedder)
        names = self.names_book.names_of(result.scores)
        best: dict[str, float] = {}
        for template_id, score in result.scores.items():
            name = names.get(template_id)
            if name is None:
                log.warning("template %s has no name in %s; ignored", template_id, self.names_book.path)
                continue
            best[name] = max(score, best.get(name, -2.0))
        if not best:
            return Identity(None, 0.0, threshold, "encrypted", embedder)
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:top_k]
        top_name, top_score = ranked[0]
        candidates = tuple(Candidate(n, s) for n, s in ranked)
        name = top_name if top_score >= threshold else None
        return Identity(name, top_score, threshold, "encrypted", embedder, candidates)

    # -- more than the protocol ------------------------------------------------------------------------------------
    def enroll_many(self, items: Sequence[tuple[str, np.ndarray]], embedder: str) -> dict[str, int]:
        """Enroll several identities in as few requests as possible (chunks of 4,096 templates).

        Returns each name's template count afterwards. Batches that reach the staging limit go straight into
        block segments (a compaction that includes them).
        """
        ids: list[str] = []
        owners: list[str] = []
        vectors: list[np.ndarray] = []
        for name, embeddings in items:
            clean = clean_identity_name(name)
            rows = unit_templates(embeddings)
            vectors.append(rows)
            owners.extend([clean] * len(rows))
            ids.extend(secrets.token_hex(16) for _ in range(len(rows)))
        if not ids:
            raise GalleryError("nothing to enroll")
        matrix = np.vstack(vectors)
        self._ensure_gallery(embedder, matrix.shape[1])
        self.names_book.add(zip(ids, owners, strict=True))
        done = 0
        try:
            while done < len(ids):
                stop = min(done + _ENROLL_CHUNK, len(ids))
                self._with_retry(functools.partial(self._enroll_ids, ids[done:stop], matrix[done:stop]))
                done = stop
        except BaseException:
            self.names_book.forget(ids[done:])
            raise
        view = self._sync()
        return {owner: sum(1 for i in self.names_book.ids_of(owner) if i in view.placements) for owner in set(owners)}

    def compact(self) -> int:
        """Move every staged template into block segments now; returns how many were moved."""
        view = self._sync(force=True)
        staged = view.occupancy.count("staging")
        if staged:
            self._with_retry(functools.partial(self._enroll_ids, [], np.zeros((0, self._dim()))))
        return staged

    def search(self, probe: np.ndarray, embedder: str, threshold: float) -> SearchResult:
        """Encrypted scores of the templates that matter for ``probe`` (dim,); see the module docstring."""
        info = self._gallery_info()
        if not info.initialized or info.templates == 0:
            info = self._gallery_info(refresh=True)
        if not info.initialized or info.templates == 0:
            self.last_stats = QueryStats(certified="top1")
            return SearchResult({}, [], np.zeros(0), self.last_stats)
        self._check_embedder(info, embedder)
        vector = unit_templates(probe)
        if vector.shape != (1, self._dim()):
            raise GalleryError(f"probe has {vector.shape[1]} dimensions, gallery templates {self._dim()}")
        for attempt in range(_STALE_ATTEMPTS):
            if attempt:
                _stale_pause(attempt)
            view = self._sync(force=attempt > 0)
            self._answered_revision = view.revision
            try:
                result = self._search_once(vector[0].astype(np.float64), threshold, view)
            except StaleLayoutError:
                continue
            if self._answered_revision > view.revision and attempt < _FRESH_RETRIES:
                continue  # templates were added since our cached layout: search again so that they are seen too
            self.last_stats = result.stats
            return result
        raise StaleLayoutError("the gallery kept changing during the search; try again")

    # -- search ----------------------------------------------------------------------------------------------------
    def _search_once(self, probe: np.ndarray, threshold: float, view: _View) -> SearchResult:
        stats = QueryStats()
        start = time.perf_counter()
        options = self.options
        ids: list[str] = []
        ranking = bounds = np.zeros(0)
        if options.hiding != "all":
            ids, estimates = self._preselect(probe, view, stats)
            known = self._residual_map()
            residuals = np.fromiter((known.get(i, np.nan) for i in ids), dtype=np.float64, count=len(ids))
            # Bound: |r_t| <= 1 when unknown. Ranking: the estimate over |W t| = sqrt(1 - |r_t|^2), a projected
            # cosine: a basis fitted on some templates projects those longer, and unnormalized estimates would
            # favour them (a 512-d simulation put true matches outside the fitted set 16th instead of 1st).
            probe_residual = float(self._get_projection().residual_norms(probe)[0])
            bounds = estimates + probe_residual * np.nan_to_num(residuals, nan=1.0)
            ranking = estimates / np.sqrt(np.clip(1.0 - np.nan_to_num(residuals, nan=0.0) ** 2, 1e-6, None))
        tick = time.perf_counter()
        probe_blob = self.keys.encrypt(self._layout().tier("full").tile(probe)[0])
        stats.encrypt_s += time.perf_counter() - tick
        all_segments = view.occupancy.segments("full")
        by_estimate, by_bound = _Ranked(ids, ranking), _Ranked(ids, bounds)
        scores: dict[str, float] = {}
        scored: set[int] = set()
        first_round = 0
        while stats.rounds < _MAX_ROUNDS:
            if options.hiding == "all":
                wanted = [s for s in all_segments if s not in scored]
            elif stats.rounds == 0:
                wanted = self._first_segments(by_estimate, view)
            elif options.exact:
                budget = options.exact_segments - (len(scored) - first_round)
                wanted = self._certifying_segments(by_bound, scores, scored, view, threshold, budget)
            else:
                wanted = []
            if not wanted:
                break
            for batch in self._score_batches(wanted, all_segments, scored):
                self._score(probe_blob, batch, view, scores, stats)
                scored.update(batch)
            if stats.rounds == 0:
                first_round = len(scored)
            stats.rounds += 1
        stats.certified = _certificate(scores, by_bound, threshold, options.margin)
        stats.total_s = time.perf_counter() - start
        return SearchResult(scores, ids, bounds, stats)

    def _preselect(self, probe: np.ndarray, view: _View, stats: QueryStats) -> tuple[list[str], np.ndarray]:
        """Template ids and their decrypted preselection estimates."""
        layout = self._layout()
        features = self._get_projection().features(probe[None, :])[0]
        occupancy = view.occupancy
        tick = time.perf_counter()
        staging = self.keys.encrypt(layout.tier("staging").tile(features)[0]) if occupancy.count("staging") else None
        block = [self.keys.encrypt(p) for p in layout.tier("block").tile(features)] if occupancy.count("block") else []
        request = PreselectRequest(
            key_id=self.keys.key_id, expected_revision=view.revision, staging_probe=staging, block_probe=block
        )
        stats.encrypt_s += time.perf_counter() - tick
        response = self.service.preselect(request)
        stats.server_s += response.server_s
        stats.bytes_up += blob_bytes(request)
        stats.bytes_down += blob_bytes(response)
        if response.revision < view.revision:  # later revisions: the server vouches that they only added templates
            raise StaleLayoutError("gallery changed")
        self._answered_revision = max(self._answered_revision, response.revision)
        stats.segments_preselected = len(response.results)
        tick = time.perf_counter()
        ids: list[str] = []
        values: list[np.ndarray] = []
        for result in response.results:
            sums = self._decrypt_sums(result, result.tier)
            slots, members = view.slots(result.tier, result.segment)
            ids.extend(members)
            values.append(sums[slots])
        stats.decrypt_s += time.perf_counter() - tick
        if len(ids) != len(view.placements):
            raise GalleryError(f"the server's preselection covered {len(ids)} of {len(view.placements)} templates")
        return ids, np.concatenate(values) if values else np.zeros(0)

    def _first_segments(self, ranked: _Ranked, view: _View) -> list[int]:
        """The full segments holding the ``candidates`` best-estimated templates."""
        segments: list[int] = []
        candidates = self.options.candidates or (8 if self._dim() <= 256 else 16)
        for template_id, _ in itertools.islice(ranked, candidates):
            segment = view.placements[template_id].full_segment
            if segment not in segments:
                segments.append(segment)
        return segments

    def _certifying_segments(
        self,
        ranked: _Ranked,
        scores: dict[str, float],
        scored: set[int],
        view: _View,
        threshold: float,
        budget: int,
    ) -> list[int]:
        """The full segments of every unscored template that could still beat the best score (or reach the
        threshold while the best score is below it); none when they are more than ``budget``."""
        margin = self.options.margin
        best = max(scores.values(), default=-2.0)
        bar = best if best >= threshold else threshold
        segments: list[int] = []
        for template_id, bound in ranked:
            if bound + margin < bar:
                break  # ranked by bound: nothing further down can change the answer
            segment = view.placements[template_id].full_segment
            if template_id not in scores and segment not in scored and segment not in segments:
                segments.append(segment)
                if len(segments) > budget:
                    return []  # certifying would cost more than allowed: the answer stays uncertified
        return segments

    def _score_batches(self, wanted: list[int], all_segments: list[int], scored: set[int]) -> list[list[int]]:
        """Split (and, in ``padded`` mode, pad with random decoys) the segments one scoring round asks for."""
        if self.options.hiding != "padded":
            return [wanted]
        size = min(self.options.pad_segments, len(all_segments))
        pick = secrets.SystemRandom()
        batches = []
        for start in range(0, len(wanted), size):
            real = wanted[start : start + size]
            decoys = [s for s in all_segments if s not in real and s not in scored]
            if len(decoys) < size - len(real):
                decoys += [s for s in all_segments if s not in real and s not in decoys]
            batch = real + pick.sample(decoys, size - len(real))
            pick.shuffle(batch)
            batches.append(batch)
        return batches

    def _score(
        self, probe_blob: bytes, segments: list[int], view: _View, scores: dict[str, float], stats: QueryStats
    ) -> None:
        request = ScoreRequest(
            key_id=self.keys.key_id, expected_revision=view.revision, probe=probe_blob, segments=segments
        )
        response = self.service.score(request)
        stats.server_s += response.server_s
        stats.bytes_up += blob_bytes(request)
        stats.bytes_down += blob_bytes(response)
        if response.revision < view.revision:  # later revisions: the server vouches that they only added templates
            raise StaleLayoutError("gallery changed")
        self._answered_revision = max(self._answered_revision, response.revision)
        if [r.segment for r in response.results] != segments:
            raise GalleryError("the server scored other segments than the ones asked for")
        stats.segments_scored += len(segments)
        tick = time.perf_counter()
        for result in response.results:
            sums = self._decrypt_sums(result, "full")
            slots, ids = view.slots("full", result.segment)
            scores.update(zip(ids, sums[slots].tolist(), strict=True))
        stats.decrypt_s += time.perf_counter() - tick

    def _decrypt_sums(self, result: SegmentResult, tier: Tier) -> np.ndarray:
        """Per-slot-group sums of one result ciphertext, checked to be cosine-sized.

        Decrypting a ciphertext made under another key, or damaged, gives values around 1e18: the range check
        turns that into a clear error instead of a confident wrong answer."""
        values = self.keys.decrypt(result.blob, "result", f"{tier} segment {result.segment} result")
        sums = self._layout().tier(tier).template_sums(values)
        if not np.all(np.isfinite(sums)) or float(np.max(np.abs(sums))) > _SCORE_LIMIT:
            raise CryptoError(
                f"decrypted scores of {tier} segment {result.segment} are out of range (max |score| "
                f"{float(np.max(np.abs(sums))):.3g}): the gallery's ciphertexts were not made with this key, or "
                "were damaged"
            )
        return sums

    # -- enrollment and removal ------------------------------------------------------------------------------------
    def _enroll_ids(self, ids: list[str], vectors: np.ndarray) -> None:
        view = self._sync()
        occupancy = view.occupancy
        layout = self._layout()
        staged = [view.placements[i] for i in occupancy.template_ids("staging")]
        compact = (bool(staged) and not ids) or len(staged) + len(ids) >= layout.staging_limit
        upload: ProjectionUpload | None = None
        moves: list[Placement] = []
        deltas: list[CiphertextDelta] = []
        residuals: dict[str, float] = {}
        full_positions = occupancy.free_positions("full", layout.tier("full").capacity, len(ids))
        if not compact:
            projection = self._maybe_projection()
            if projection is None:
                projection = fit_projection(vectors, layout.feature_dim)
                upload = self._projection_upload(projection)
            pre_tier: Literal["staging", "block"] = "staging"
            pre_positions = occupancy.free_positions("staging", layout.tier("staging").capacity, len(ids))
            deltas += self._deltas("staging", projection.features(vectors), pre_positions)
        else:
            if not occupancy.count("block"):  # the first compaction fits the basis on every template so far
                staged_vectors = self._read_full(staged)
                projection = fit_projection(np.vstack([staged_vectors, vectors]), layout.feature_dim)
                upload = self._projection_upload(projection)
                staged_features = projection.features(staged_vectors)
                staged_residuals = projection.residual_norms(staged_vectors)
                residuals.update(zip((p.template_id for p in staged), staged_residuals.tolist(), strict=True))
            else:
                projection = self._get_projection()
                staged_features = self._read_staged_features(staged)
            pre_tier = "block"
            block_positions = occupancy.free_positions("block", layout.tier("block").capacity, len(staged) + len(ids))
            moves = [
                p.model_copy(update={"pre_tier": "block", "pre_segment": seg, "pre_slot": slot})
                for p, (seg, slot) in zip(staged, block_positions[: len(staged)], strict=True)
            ]
            pre_positions = block_positions[len(staged) :]
            features = np.vstack([staged_features, projection.features(vectors)]) if ids else staged_features
            deltas += self._deltas("block", features, block_positions)
        if ids:
            residuals.update(zip(ids, projection.residual_norms(vectors).tolist(), strict=True))
        deltas += self._deltas("full", vectors, full_positions)
        placements = [
            Placement(
                template_id=template_id,
                full_segment=fs,
                full_slot=fslot,
                pre_tier=pre_tier,
                pre_segment=ps,
                pre_slot=pslot,
            )
            for template_id, (fs, fslot), (ps, pslot) in zip(ids, full_positions, pre_positions, strict=True)
        ]
        request = EnrollRequest(
            expected_revision=view.revision,
            placements=placements,
            moves=moves,
            deltas=deltas,
            clear_staging=compact,
            projection=upload,
        )
        response = self.service.enroll(request)
        if upload is not None:
            self._projection = projection
        self._advance(view, response.revision, [*placements, *moves], [])
        self.names_book.set_residuals(residuals)
        if self._residuals is not None:
            self._residuals.update(residuals)

    def _remove_ids(self, view: _View, ids: list[str]) -> None:
        placements = [view.placements[i] for i in ids]
        vectors = self._read_full(placements)
        features = self._get_projection().features(vectors)
        leaving: dict[tuple[str, int], int] = {}
        for placement in placements:
            for key, _ in positions(placement):
                leaving[key] = leaving.get(key, 0) + 1
        alive = {key for key, count in leaving.items() if len(view.occupancy.members(*key)) > count}
        deltas: list[CiphertextDelta] = []
        keep = [k for k, p in enumerate(placements) if ("full", p.full_segment) in alive]
        full_positions = [(placements[k].full_segment, placements[k].full_slot) for k in keep]
        deltas += self._deltas("full", -vectors[keep], full_positions)
        for tier in ("staging", "block"):
            keep = [k for k, p in enumerate(placements) if p.pre_tier == tier and (tier, p.pre_segment) in alive]
            pre_positions = [(placements[k].pre_segment, placements[k].pre_slot) for k in keep]
            deltas += self._deltas(tier, -features[keep], pre_positions)  # type: ignore[arg-type]
        response = self.service.remove(RemoveRequest(expected_revision=view.revision, template_ids=ids, deltas=deltas))
        self._advance(view, response.revision, [], ids)

    def _deltas(self, tier: Tier, values: np.ndarray, positions: Sequence[tuple[int, int]]) -> list[CiphertextDelta]:
        """Encrypted deltas putting ``values`` (n, width) at (segment, slot) ``positions`` of ``tier``: one
        ciphertext per part of every segment touched, holding only these values (zeros elsewhere)."""
        slot_layout = self._layout().tier(tier)
        by_segment: dict[int, list[int]] = {}
        for index, (segment, _) in enumerate(positions):
            by_segment.setdefault(segment, []).append(index)
        out = []
        for segment, rows in sorted(by_segment.items()):
            packed = slot_layout.pack(values[rows], [positions[r][1] for r in rows])
            for part in range(slot_layout.parts):
                out.append(CiphertextDelta(tier=tier, segment=segment, part=part, blob=self.keys.encrypt(packed[part])))
        return out

    def _read_full(self, placements: Sequence[Placement]) -> np.ndarray:
        """Decrypt the full templates (n, dim) of ``placements`` (the key owner may; removal and refits need it)."""
        if not placements:
            return np.zeros((0, self._dim()))
        full = self._layout().tier("full")
        segments = sorted({p.full_segment for p in placements})
        fetched = self.service.fetch(FetchRequest(tier="full", segments=segments))
        rows = {}
        for seg in fetched.segments:
            values = full.unpack(self.keys.decrypt(seg.parts[0], "fresh", f"full segment {seg.segment}")[None, :])
            rows[seg.segment] = values
        return np.stack([rows[p.full_segment][p.full_slot] for p in placements])

    def _read_staged_features(self, placements: Sequence[Placement]) -> np.ndarray:
        staging = self._layout().tier("staging")
        if not placements:
            return np.zeros((0, staging.width))
        segments = sorted({p.pre_segment for p in placements})
        fetched = self.service.fetch(FetchRequest(tier="staging", segments=segments))
        rows = {}
        for seg in fetched.segments:
            values = self.keys.decrypt(seg.parts[0], "fresh", f"staging segment {seg.segment}")
            rows[seg.segment] = staging.unpack(values[None, :])
        return np.stack([rows[p.pre_segment][p.pre_slot] for p in placements])

    # -- gallery state ---------------------------------------------------------------------------------------------
    def _ensure_gallery(self, embedder: str, dim: int) -> GalleryInfo:
        info = self._gallery_info(refresh=self._info is None or not self._info.initialized)
        if not info.initialized:
            layout = _default_layout(dim, **self._new_layout)
            info = self.service.init(
                InitRequest(
                    key_id=self.keys.key_id,
                    public_context=self.keys.public_context,
                    embedder=embedder,
                    layout=layout.to_dict(),
                )
            )
            self._accept(info)
        self._check_embedder(info, embedder)
        if dim != self._dim():
            raise GalleryError(f"templates have {dim} dimensions, this gallery's templates {self._dim()}")
        return info

    def _gallery_info(self, refresh: bool = False) -> GalleryInfo:
        if self._info is None or refresh:
            self._accept(self.service.info())
        assert self._info is not None
        return self._info

    def _accept(self, info: GalleryInfo) -> None:
        if info.initialized:
            if info.key_id != self.keys.key_id:
                raise CryptoError(
                    f"the gallery was created with key {str(info.key_id)[:12]}… but the keys in {self.keys.keys_dir} "
                    f"are {self.keys.key_id[:12]}…: the keys are mixed up"
                )
            if self._bound != info.gallery_id:
                self.names_book.bind(str(info.gallery_id))
                self._bound = info.gallery_id
        self._info = info

    def _check_embedder(self, info: GalleryInfo, embedder: str) -> None:
        if info.embedder != embedder:
            raise GalleryError(f"this encrypted gallery holds {info.embedder} templates, not {embedder}")

    def _layout(self) -> GalleryLayout:
        info = self._gallery_info()
        if info.layout is None:
            raise GalleryError("the encrypted gallery has not been created yet")
        return GalleryLayout.from_dict(info.layout)

    def _dim(self) -> int:
        return self._layout().dim

    def _sync(self, force: bool = False) -> _View:
        """The layout as the server has it: cached, or re-read (when forced) if the revision moved."""
        if self._view is not None and not force:
            return self._view
        info = self._gallery_info(refresh=True)
        if not info.initialized:
            self._view = _View(0, [])
        elif self._view is None or self._view.revision != info.revision:
            layout = self.service.layout()
            self._view = _View(layout.revision, layout.placements)
        return self._view

    def _advance(self, view: _View, revision: int, upserts: list[Placement], removed: list[str]) -> None:
        """Apply our own change to the cached layout (the server answered with the next revision)."""
        if revision != view.revision + 1:
            self._view = None
            return
        view.apply(revision, upserts, removed)
        if self._info is not None:
            self._info = self._info.model_copy(
                update={
                    "revision": revision,
                    "templates": len(view.placements),
                    "staged": view.occupancy.count("staging"),
                    "projection_fingerprint": self._projection.fingerprint() if self._projection else None,
                    "projection_coordinates": self._projection.coordinates if self._projection else None,
                }
            )

    def _with_retry(self, action: Callable[[], None]) -> None:
        for attempt in range(_STALE_ATTEMPTS):
            if attempt:
                _stale_pause(attempt)
                self._sync(force=True)
            try:
                action()
                return
            except StaleLayoutError:
                if attempt == _STALE_ATTEMPTS - 1:
                    raise

    def _residual_map(self) -> dict[str, float]:
        """Every template's residual norm, read once per process from the name map."""
        if self._residuals is None:
            self._residuals = self.names_book.residuals()
        return self._residuals

    def _get_projection(self) -> Projection:
        projection = self._maybe_projection()
        if projection is None:
            raise GalleryError("the encrypted gallery has no projection yet (nothing enrolled)")
        return projection

    def _maybe_projection(self) -> Projection | None:
        """The gallery's basis, decrypted once per process and checked against its fingerprint."""
        info = self._gallery_info()
        if info.projection_fingerprint is None or info.projection_coordinates is None:
            info = self._gallery_info(refresh=True)
        fingerprint, coordinates = info.projection_fingerprint, info.projection_coordinates
        if fingerprint is None or coordinates is None:
            return None
        if self._projection is not None and self._projection.fingerprint() == fingerprint:
            return self._projection
        fetched = self.service.fetch(FetchRequest(tier="projection", segments=[0]))
        values = np.concatenate(
            [self.keys.decrypt(b, "fresh", f"projection part {i}") for i, b in enumerate(fetched.segments[0].parts)]
        )
        self._projection = Projection.from_flat(values, coordinates, self._dim(), fingerprint)
        return self._projection

    def _projection_upload(self, projection: Projection) -> ProjectionUpload:
        flat = projection.flat_values()
        blobs = [self.keys.encrypt(flat[start : start + SLOTS]) for start in range(0, len(flat), SLOTS)]
        return ProjectionUpload(fingerprint=projection.fingerprint(), coordinates=projection.coordinates, blobs=blobs)


class _Ranked:
    """Template ids in decreasing order of their preselection bound, iterated lazily as (id, bound)."""

    def __init__(self, ids: list[str], bounds: np.ndarray) -> None:
        self.ids = ids
        self.bounds = bounds
        self.order = np.argsort(-bounds, kind="stable") if len(ids) else np.zeros(0, dtype=np.int64)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        for index in self.order:
            yield self.ids[index], float(self.bounds[index])

    def __len__(self) -> int:
        return len(self.ids)


def _certificate(
    scores: dict[str, float], ranked: _Ranked, threshold: float, margin: float
) -> Literal["top1", "reject", "no"]:
    """Whether no unscored template can change the answer (see the module docstring)."""
    best = max(scores.values(), default=-2.0)
    unscored = next((bound for template_id, bound in ranked if template_id not in scores), -2.0)
    if not len(ranked) and scores:
        return "top1"  # every template was scored
    if unscored + margin <= best:
        return "top1"
    if best < threshold and unscored + margin < threshold:
        return "reject"
    return "no"


def _default_layout(dim: int, *, feature_dim: int | None, block_group: int, staging_limit: int) -> GalleryLayout:
    """64 preselection coordinates for templates up to 256-d, 128 above (enough for near-orthogonal 512-d
    embeddings to rank their match first among 100,000 in simulation), at most ``dim``."""
    wanted = feature_dim if feature_dim is not None else (64 if dim <= 256 else 128)
    usable = max(block_group, min(wanted, dim // block_group * block_group))
    return GalleryLayout(dim=dim, feature_dim=usable, block_group=block_group, staging_limit=staging_limit)
