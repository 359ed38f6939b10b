"""A CAS(ME)^2/^3-style data folder for ``mien spot train`` / ``mien spot evaluate``.

Layout::

    DATA/
      labels.csv          one row per expression: video,onset,offset,kind[,apex][,label][,split]
      videos/<video>.mp4  (or .avi, .mov, .mkv) one file per distinct ``video`` value
      features/           written by Mien: per-frame features cached as <video>.npy

``onset``/``offset`` are inclusive frame numbers at the video's own frame rate (counting from 0), ``kind`` is
``micro`` or ``macro``, ``label`` the emotion (optional; used by recognition F1), ``split`` ``train`` or ``test``
(optional; without it every video is used for both). Videos without rows are unlabelled negatives only if they
are listed with an empty onset. Per-frame features are the training-free spotter's region motion ratios (5) and
AU measure changes from the sliding baseline (one per AU measure), for the person seen longest, zeros where no
face was meshed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tools.errors import ConfigError
from tools.expression.action_units import MEASURES
from tools.spotting.regions import REGION_NAMES
from tools.spotting.spot import SpotOptions, spot_video
from tools.spotting.types import SpottingResult
from tools.storage import atomic_path

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
FEATURES = len(REGION_NAMES) + len(MEASURES)  # region motion ratios + AU measure changes
REQUIRED = ("video", "onset", "offset", "kind")


@dataclass(frozen=True)
class LabelledExpression:
    onset: int
    offset: int
    kind: str
    label: str | None = None


@dataclass
class LabelledVideo:
    name: str
    path: Path
    split: str | None
    expressions: list[LabelledExpression] = field(default_factory=list)


def read_folder(folder: str | Path) -> list[LabelledVideo]:
    """The labelled videos of ``folder``; ``ConfigError`` naming what is missing or malformed."""
    root = Path(folder)
    labels = root / "labels.csv"
    if not labels.is_file():
        raise ConfigError(f"{root}: no labels.csv (columns {','.join(REQUIRED)}[,apex,label,split])")
    videos: dict[str, LabelledVideo] = {}
    with labels.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{labels}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            name = row["video"].strip()
            video = videos.get(name)
            if video is None:
                path = next((root / "videos" / f"{name}{s}" for s in VIDEO_SUFFIXES
                             if (root / "videos" / f"{name}{s}").is_file()), None)
                if path is None:
                    suffixes = "/".join(VIDEO_SUFFIXES)
                    raise ConfigError(f"{labels}:{line}: no video {name} ({suffixes}) under {root / 'videos'}")
                video = videos[name] = LabelledVideo(name, path, (row.get("split") or "").strip() or None)
            if not (row["onset"] or "").strip():
                continue
            try:
                onset, offset = int(row["onset"]), int(row["offset"])
            except ValueError as error:
                raise ConfigError(f"{labels}:{line}: onset/offset must be frame numbers ({error})") from error
            kind = row["kind"].strip().lower()
            if kind not in ("micro", "macro") or offset < onset:
                raise ConfigError(f"{labels}:{line}: need kind micro|macro and offset >= onset")
            video.expressions.append(LabelledExpression(onset, offset, kind, (row.get("label") or "").strip() or None))
    if not videos:
        raise ConfigError(f"{labels}: no rows")
    return list(videos.values())


def features_from_result(result: SpottingResult) -> np.ndarray:
    """(frames, FEATURES) float32 for the person seen longest in a result spotted with ``keep_features``."""
    out = np.zeros((result.frames, FEATURES), np.float32)
    if result.features:
        person = max(result.features, key=lambda k: len(result.features[k]))
        for frame, vector in result.features[person]:
            if 0 <= frame < len(out):
                out[frame] = vector
    return out


def video_features(video: LabelledVideo, cache: Path | None = None) -> tuple[np.ndarray, SpottingResult | None]:
    """Per-frame features of one video (cached as ``cache/<name>.npy``) and, when computed now, its spotting."""
    cached = cache / f"{video.name}.npy" if cache is not None else None
    if cached is not None and cached.is_file():
        return np.load(cached), None
    result = spot_video(video.path, SpotOptions(keep_features=True))
    features = features_from_result(result)
    if cached is not None:
        with atomic_path(cached) as tmp, tmp.open("wb") as handle:
            np.save(handle, features)
    return features, result
