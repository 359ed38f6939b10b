"""The MEGC spotting protocol: interval matching at IoU >= 0.5, pooled P/R/F1, recognition F1 and STRS.

Intervals are inclusive frame ranges ``[onset, offset]`` of one video. A prediction is a true positive when its IoU
with a ground-truth interval of the same video is at least ``iou_threshold``; each ground truth is matched at most
once and each prediction matches at most one ground truth (pairs are taken by decreasing IoU, ties by earlier
ground truth then earlier prediction). Precision, recall and F1 are pooled over all videos (counts summed before
dividing). Recognition is scored on the true positives only: the macro-averaged F1 over the emotion classes that
occur among the matched ground truths or their predictions (MEGC's UF1). STRS = F1_spot x F1_recognition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelledInterval:
    """An inclusive frame range with an optional class (emotion) label and kind (micro | macro)."""

    onset: int
    offset: int
    label: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.offset < self.onset:
            raise ValueError(f"interval ends ({self.offset}) before it starts ({self.onset})")


def frame_iou(a: LabelledInterval, b: LabelledInterval) -> float:
    """IoU of two inclusive frame ranges: [3, 5] and [5, 7] share 1 frame of 5, IoU 0.2."""
    inter = min(a.offset, b.offset) - max(a.onset, b.onset) + 1
    if inter <= 0:
        return 0.0
    union = (a.offset - a.onset + 1) + (b.offset - b.onset + 1) - inter
    return inter / union


def match_intervals(
    predictions: Sequence[LabelledInterval], truths: Sequence[LabelledInterval], iou_threshold: float = IOU_THRESHOLD
) -> list[tuple[int, int, float]]:
    """One-to-one (prediction index, truth index, IoU) pairs with IoU >= ``iou_threshold``, best IoU first."""
    pairs = [
        (iou, t, p)
        for p, pred in enumerate(predictions)
        for t, truth in enumerate(truths)
        if (iou := frame_iou(pred, truth)) >= iou_threshold
    ]
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for iou, t, p in pairs:
        if p in used_p or t in used_t:
            continue
        used_p.add(p)
        used_t.add(t)
        out.append((p, t, iou))
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def f1_score(tp: int, fp: int, fn: int) -> float:
    """2TP / (2TP + FP + FN); 0 when there is nothing to count."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


@dataclass(frozen=True)
class SpottingScore:
    """Pooled counts and scores; ``recognition_f1`` is over the true positives' labels."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    recognition_f1: float
    strs: float
    per_class_f1: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
            "recognition_f1": round(self.recognition_f1, 4), "strs": round(self.strs, 4),
            "per_class_f1": {k: round(v, 4) for k, v in self.per_class_f1.items()},
        }


def recognition_f1(pairs: Sequence[tuple[str | None, str | None]]) -> tuple[float, dict[str, float]]:
    """Macro F1 over classes of (true label, predicted label) pairs; a missing prediction counts as wrong."""
    classes = sorted({t for t, _ in pairs if t is not None} | {p for _, p in pairs if p is not None})
    per_class = {}
    for cls in classes:
        tp = sum(1 for t, p in pairs if t == cls and p == cls)
        fp = sum(1 for t, p in pairs if t != cls and p == cls)
        fn = sum(1 for t, p in pairs if t == cls and p != cls)
        per_class[cls] = f1_score(tp, fp, fn)
    return (sum(per_class.values()) / len(per_class) if per_class else 0.0), per_class


def score_spotting(
    predictions: Mapping[str, Sequence[LabelledInterval]],
    truths: Mapping[str, Sequence[LabelledInterval]],
    iou_threshold: float = IOU_THRESHOLD,
    kind: str | None = None,
) -> SpottingScore:
    """Pooled MEGC scores over videos (keys: video names; a video missing from one side has no intervals there).

    With ``kind`` ("micro" or "macro") only intervals of that kind count on both sides, as MEGC reports them.
    """
    tp = fp = fn = 0
    labels: list[tuple[str | None, str | None]] = []
    for video in sorted(set(predictions) | set(truths)):
        preds = [p for p in predictions.get(video, ()) if kind is None or p.kind == kind]
        gts = [t for t in truths.get(video, ()) if kind is None or t.kind == kind]
        matched = match_intervals(preds, gts, iou_threshold)
        tp += len(matched)
        fp += len(preds) - len(matched)
        fn += len(gts) - len(matched)
        labels.extend((gts[t].label, preds[p].label) for p, t, _ in matched)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = f1_score(tp, fp, fn)
    rec_f1, per_class = recognition_f1(labels)
    return SpottingScore(tp, fp, fn, precision, recall, f1, rec_f1, f1 * rec_f1, per_class)
