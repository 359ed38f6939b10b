"""Checking the written video, not the frames we meant to write: decode it and search every frame for faces.

BlazeFace scores a blurred head (an oval under hair) near its 0.5 floor, and the H.264 encoder's small changes to
the pixels can push such a region over it. So the file itself is decoded and searched; frames where anything is
still found get those regions hidden too and the clip is rendered again from the source. Re-encoding can change
later frames of the same group of pictures, so the next round searches every frame whose decoded pixels changed
(a 16-byte digest per frame is kept, not the frames), until nothing is found or ``max_rounds`` is reached. As for
images, each round hides what it finds over a larger area (``grown_for_round``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.deidentify.hiding import RESIDUAL_ROUNDS, FaceHider, grown_for_round
from tools.faces.types import Box
from tools.media import iter_frames

MAX_FIX_ROUNDS = RESIDUAL_ROUNDS


@dataclass(frozen=True)
class VerifyOutcome:
    """``rounds``: times the clip was rendered again; ``residual_faces``: regions found in the written file and
    hidden; ``frames_flagged``: frames where something was still found after the last round (0 means clean)."""

    rounds: int
    residual_faces: int
    frames_flagged: int


def verify_written_video(
    written: Path,
    hider: FaceHider,
    render_again: Callable[[dict[int, list[Box]]], None],
    *,
    max_rounds: int = MAX_FIX_ROUNDS,
    on_frame: Callable[[], None] | None = None,
    check_every: int = 0,
) -> VerifyOutcome:
    """Search ``written`` frame by frame with ``hider.find_residual``; call ``render_again`` with the boxes found
    per frame index (it must rewrite ``written`` with them hidden) and repeat on the frames that changed.

    In the first round, every ``check_every``-th frame (0: none) is also searched by ``hider.check``, the
    detectors that did not choose the regions; a face they find is hidden (head and hair) on the frames around it,
    ``check_every`` on either side, since it was not looked for on those."""
    digests: dict[int, bytes] = {}
    residual_faces = 0
    for round_index in range(max_rounds + 1):
        found: dict[int, list[Box]] = {}
        for frame in iter_frames(written):
            if round_index == 0 and check_every and frame.index % check_every == 0 and hider.video_checkers:
                checked = hider.check(frame.image, video=True)
                for near in range(max(0, frame.index - check_every + 1), frame.index + check_every):
                    if checked:
                        found.setdefault(near, []).extend(checked)
            digest = _digest(frame.image)
            if digests.get(frame.index) != digest:
                digests[frame.index] = digest
                boxes = hider.find_residual(frame.image)
                if boxes:
                    # Each round hides what is left over a larger area: a head-shaped outline must go.
                    found[frame.index] = grown_for_round(boxes, round_index)
            if on_frame is not None:
                on_frame()
        if not found:
            return VerifyOutcome(round_index, residual_faces, 0)
        if round_index == max_rounds:
            return VerifyOutcome(round_index, residual_faces, len(found))
        residual_faces += sum(len(boxes) for boxes in found.values())
        render_again(found)
    raise AssertionError("unreachable")  # pragma: no cover


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()
