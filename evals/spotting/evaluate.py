"""Spotting F1 (micro and macro), STRS and false positives per minute of still video, on the generated clips.

    python -m evals.spotting.evaluate --clips 60 --out out/spotting-eval

Clips are written once to ``<out>/clips`` and reused. Ground truth: every event's frames (``evals.spotting.clips``);
emotion labels from the warp that made it (smile Happiness, brows down Anger, brows up Surprise, mouth corners
down Sadness). A prediction counts as a false positive on a still stretch when it overlaps one (head motion,
lighting drift, noise and compression only).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics.spotting import LabelledInterval, SpottingScore, score_spotting
from evals.spotting.clips import ClipSpec, evaluation_set, write_clip
from tools.spotting.spot import SpotOptions, spot_video
from tools.spotting.types import SpottingResult, kind_for_duration
from tools.storage import atomic_write_bytes


@dataclass(frozen=True)
class Evaluation:
    overall: SpottingScore
    micro: SpottingScore
    macro: SpottingScore
    still_fp: int
    still_minutes: float
    clips: int
    video_s: float
    processing_s: float

    @property
    def fp_per_minute(self) -> float:
        return self.still_fp / self.still_minutes if self.still_minutes > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "clips": self.clips,
            "overall": self.overall.to_dict(),
            "micro": self.micro.to_dict(),
            "macro": self.macro.to_dict(),
            "still_false_positives": self.still_fp,
            "still_minutes": round(self.still_minutes, 3),
            "false_positives_per_still_minute": round(self.fp_per_minute, 3),
            "video_s": round(self.video_s, 1),
            "processing_s": round(self.processing_s, 1),
        }


def truth_of(spec: ClipSpec) -> list[LabelledInterval]:
    return [
        LabelledInterval(e.onset_frame, e.offset_frame, e.label, kind_for_duration(e.frames / spec.fps))
        for e in spec.events
    ]


def predictions_of(result: SpottingResult) -> list[LabelledInterval]:
    return [LabelledInterval(i.onset_frame, i.offset_frame, i.label, i.kind) for i in result.intervals]


def evaluate(specs: list[ClipSpec], folder: Path, options: SpotOptions | None = None,
             verbose: bool = False) -> tuple[Evaluation, dict[str, Any]]:
    """Write (if missing) and spot every clip; score them. Returns the evaluation and per-clip details."""
    folder.mkdir(parents=True, exist_ok=True)
    preds: dict[str, list[LabelledInterval]] = {}
    truths: dict[str, list[LabelledInterval]] = {}
    details: dict[str, Any] = {}
    still_fp, still_frames, video_s, processing_s = 0, 0, 0.0, 0.0
    for spec in specs:
        path = folder / f"{spec.name}.mp4"
        if not path.exists():
            write_clip(spec, folder)
        result = spot_video(path, options)
        preds[spec.name], truths[spec.name] = predictions_of(result), truth_of(spec)
        video_s += result.duration_s
        processing_s += result.processing_s
        for start, end in spec.still:
            still_frames += end - start + 1
            still_fp += sum(1 for p in result.intervals if p.onset_frame <= end and p.offset_frame >= start)
        details[spec.name] = {
            "spec": spec.to_dict(),
            "truth": [t.__dict__ for t in truths[spec.name]],
            "predicted": [i.to_dict() for i in result.intervals],
        }
        if verbose:
            print(spec.name, spec.person, "truth", [(t.onset, t.offset, t.label) for t in truths[spec.name]],
                  "pred", [(p.onset, p.offset, p.label) for p in preds[spec.name]], flush=True)
    fps = specs[0].fps if specs else 30.0
    evaluation = Evaluation(
        score_spotting(preds, truths), score_spotting(preds, truths, kind="micro"),
        score_spotting(preds, truths, kind="macro"), still_fp, still_frames / fps / 60.0, len(specs), video_s,
        processing_s,
    )
    return evaluation, details


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--first", type=int, default=0, help="skip this many clips of the set (for quick looks)")
    parser.add_argument("--out", type=Path, default=Path("out/spotting-eval"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    specs = evaluation_set(max(args.clips + args.first, 1)).specs[args.first : args.first + args.clips]
    started = time.perf_counter()
    evaluation, details = evaluate(specs, args.out / "clips", verbose=args.verbose)
    report = {"evaluation": evaluation.to_dict(), "clips": details, "wall_s": round(time.perf_counter() - started, 1)}
    atomic_write_bytes(args.out / "report.json", json.dumps(report, indent=1).encode())
    e = evaluation
    print(f"{e.clips} clips, {e.video_s / 60:.1f} min of video, spotted in {e.processing_s:.0f} s "
          f"({e.video_s / max(e.processing_s, 1e-9):.1f}x real time, shared CPU)")
    for name, s in (("overall", e.overall), ("micro", e.micro), ("macro", e.macro)):
        print(f"{name:8s} TP {s.tp:3d} FP {s.fp:3d} FN {s.fn:3d}  P {s.precision:.3f} R {s.recall:.3f} "
              f"F1 {s.f1:.3f}  recognition F1 {s.recognition_f1:.3f}  STRS {s.strs:.3f}")
    print(f"still stretches: {e.still_fp} false positives in {e.still_minutes:.2f} min = "
          f"{e.fp_per_minute:.2f} per minute")
    print(f"report: {args.out / 'report.json'}")


if __name__ == "__main__":
    main()
