"""Comparing encrypted and plaintext identification probe by probe, and summarizing the margins seen."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.encrypted import EncryptedGallery
from tools.recognition import PlainGallery


@dataclass
class Comparison:
    """Probe-by-probe agreement of the two searches, and the smallest margins that were decided identically."""

    probes: int = 0
    accepted: int = 0
    certified: int = 0
    same_nearest: int = 0
    disagreements: list[str] = field(default_factory=list)
    max_score_error: float = 0.0  # |encrypted - plaintext| top-1 score, when both name the same template's owner
    smallest_top1_gap: float = float("inf")  # plaintext: best identity minus runner-up, over accepted probes
    smallest_threshold_gap: float = float("inf")  # plaintext: |best score - threshold|, over all probes

    def line(self) -> str:
        return (
            f"{self.probes} probes ({self.accepted} accepted, {self.certified} certified): identical names and "
            f"decisions; nearest identity also identical for {self.same_nearest}; max |score error| "
            f"{self.max_score_error:.2e}; smallest top-1 vs runner-up gap {self.smallest_top1_gap:.5f}; smallest "
            f"|score - threshold| {self.smallest_threshold_gap:.5f}"
        )


def compare(
    encrypted: EncryptedGallery,
    plain: PlainGallery,
    probes: list[tuple[str, np.ndarray]],
    embedder: str,
    threshold: float,
) -> Comparison:
    out = Comparison()
    for label, probe in probes:
        secret = encrypted.identify(probe, embedder, threshold)
        clear = plain.identify(probe, embedder, threshold)
        stats = encrypted.last_stats
        out.probes += 1
        out.certified += int(stats is not None and stats.certified != "no")
        if secret.name != clear.name:
            out.disagreements.append(f"{label}: encrypted {secret.name!r} {secret.score:.5f}, plaintext "
                                     f"{clear.name!r} {clear.score:.5f}")
            continue
        nearest_same = bool(secret.candidates) and secret.candidates[0].name == clear.candidates[0].name
        out.same_nearest += int(nearest_same)
        if nearest_same:
            out.max_score_error = max(out.max_score_error, abs(secret.score - clear.score))
        out.smallest_threshold_gap = min(out.smallest_threshold_gap, abs(clear.score - threshold))
        if clear.name is not None:
            out.accepted += 1
            if len(clear.candidates) > 1:
                out.smallest_top1_gap = min(out.smallest_top1_gap, clear.score - clear.candidates[1].score)
    return out
