"""One file through the asked perception tools, as one ``FileResult``: the body of each Ray task.

Every tool is called through its public API (the same one ``mien faces`` / ``mien emotions`` ... use), so a batch
row says what the single-file command says. A tool that fails becomes a ``ToolProblem`` on the row; a tool that
does not apply to the file (spotting on a photo, transcripts without an audio track) is recorded as skipped. Only
a file that cannot be opened at all gets status "error". Nothing here raises for a bad file.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.batch.types import (
    BatchTool,
    EmotionsSummary,
    EmotionTrackSummary,
    FacesSummary,
    FileResult,
    IdentitiesSummary,
    IntervalSummary,
    LivenessSummary,
    LivenessTrackSummary,
    SpottingSummary,
    Status,
    ToolProblem,
    TrackSpanSummary,
    TranscriptSummary,
    result_key,
)
from tools.errors import MienError
from tools.media import MediaInfo, probe_media


class _NotApplicable(Exception):
    """The tool has nothing to read in this kind of file (recorded as skipped, not as an error)."""


def _spans(tracks: list[Any]) -> list[TrackSpanSummary]:
    return [
        TrackSpanSummary(
            track_id=t.track_id,
            start_s=round(float(t.start_s), 3),
            end_s=round(float(t.end_s), 3),
            frames=len(t.faces),
            name=t.identity,
            score=None if t.identity_score is None else round(float(t.identity_score), 4),
        )
        for t in tracks
    ]


class _FileJob:
    """The tools run on one file, sharing the face analysis between ``faces`` and ``identities``."""

    def __init__(self, info: MediaInfo, gallery: Path | None, fps: float | None) -> None:
        self.info, self.gallery, self.fps = info, gallery, fps
        self._faces: Any = None

    def _needs_pictures(self) -> None:
        if self.info.kind == "audio":
            raise _NotApplicable("an audio-only file has no faces")

    def _face_result(self) -> Any:
        from tools.faces.pipeline import FaceOptions, analyze_file

        self._needs_pictures()
        if self._faces is None:
            self._faces = analyze_file(self.info.path, FaceOptions(), fps=self.fps)
        return self._faces

    def faces(self) -> FacesSummary:
        result = self._face_result()
        return FacesSummary(
            people=len(result.tracks),
            frames_analysed=result.frames_analysed,
            detections=sum(len(t.faces) for t in result.tracks),
            embedder=result.embedder,
            tracks=_spans(result.tracks),
        )

    def identities(self) -> IdentitiesSummary:
        from tools.recognition import PlainGallery
        from tools.recognition.service import name_tracks

        if self.gallery is None or not self.gallery.exists():
            raise MienError(f"no gallery at {self.gallery}; enroll people with `mien gallery add` first")
        result = self._face_result()
        identities = name_tracks(PlainGallery(self.gallery), result)
        return IdentitiesSummary(
            gallery=str(self.gallery),
            named=sum(1 for i in identities if i.name),
            tracks=_spans(result.tracks),
        )

    def emotions(self) -> EmotionsSummary:
        from tools.expression.analyze import analyze_emotions

        self._needs_pictures()
        analysis = analyze_emotions(self.info.path, fps=self.fps)
        tracks = []
        for timeline in analysis.timelines:
            summary = timeline.to_dict(with_frames=False)
            mean = summary.get("mean_probabilities") or {}
            top = summary.get("top_label")
            tracks.append(
                EmotionTrackSummary(
                    track_id=timeline.track_id,
                    top_label=top,
                    top_probability=None if top is None else round(float(mean[top]), 4),
                    frames=len(timeline.estimates),
                )
            )
        return EmotionsSummary(model=analysis.model, au_source=analysis.au_source, tracks=tracks)

    def transcripts(self) -> TranscriptSummary:
        from tools.speech import transcribe

        if not self.info.has_audio:
            raise _NotApplicable("no audio track")
        transcript = transcribe(self.info.path)
        return TranscriptSummary(
            model=transcript.model,
            language=transcript.language,
            text=transcript.text,
            words=len(transcript.words),
            speech_regions=len(transcript.speech_regions),
            note=transcript.note,
        )

    def spotting(self) -> SpottingSummary:
        from tools.spotting import SpotOptions, spot_video

        if self.info.kind != "video":
            raise _NotApplicable(f"spotting needs a video; this is an {self.info.kind} file")
        result = spot_video(self.info.path, SpotOptions(fps=self.fps))
        return SpottingSummary(
            method=result.method,
            frames=result.frames,
            micro=len(result.of_kind("micro")),
            macro=len(result.of_kind("macro")),
            intervals=[
                IntervalSummary(
                    track_id=i.track_id,
                    kind=i.kind,
                    onset_s=round(i.onset_s, 3),
                    apex_s=round(i.apex_s, 3),
                    offset_s=round(i.offset_s, 3),
                    label=i.label,
                )
                for i in result.intervals
            ],
        )

    def liveness(self) -> LivenessSummary:
        from tools.attack.liveness import assess_liveness

        self._needs_pictures()
        report = assess_liveness(self.info.path)
        return LivenessSummary(
            verdict=report.verdict,
            model=report.model,
            tracks=[
                LivenessTrackSummary(
                    track_id=t.track_id,
                    verdict=t.verdict,
                    attack_probability=None if t.model is None else round(float(t.model.fake_probability), 4),
                    reasons=list(t.reasons),
                )
                for t in report.tracks
            ],
        )


def analyse_file(
    path: str | Path,
    tools: tuple[BatchTool, ...],
    gallery: Path | None = None,
    fps: float | None = None,
    key: str | None = None,
) -> FileResult:
    """Run ``tools`` on the file at ``path``. Never raises for a bad file: failures are recorded on the result."""
    started = time.perf_counter()
    path = Path(path)
    common: dict[str, Any] = {
        "path": str(path),
        "key": key or result_key(path, tools),
        "tools": tools,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        info = probe_media(path)
    except Exception as exc:  # a file that cannot even be probed: one error row, the run goes on
        return FileResult(
            **common, status="error", error=_describe(exc), seconds=time.perf_counter() - started,
            finished_at=time.time(),
        )
    job = _FileJob(info, gallery, fps)
    found: dict[str, Any] = {}
    problems: list[ToolProblem] = []
    for tool in tools:
        run: Callable[[], Any] = getattr(job, tool)
        try:
            found[tool] = run()
        except _NotApplicable as reason:
            problems.append(ToolProblem(tool=tool, kind="skipped", error_type="NotApplicable", message=str(reason)))
        except Exception as exc:  # a bug or bad input in one tool must not lose the other tools' results
            problems.append(ToolProblem(tool=tool, kind="error", error_type=type(exc).__name__, message=str(exc)))
    failed = [p for p in problems if p.kind == "error"]
    status: Status = "ok" if not failed else ("error" if len(failed) == len(tools) else "partial")
    return FileResult(
        **common,
        status=status,
        error="; ".join(f"{p.tool}: {p.error_type}: {p.message}" for p in failed) or None,
        seconds=time.perf_counter() - started,
        finished_at=time.time(),
        kind=info.kind,
        duration_s=round(info.duration_s, 3),
        problems=problems,
        **found,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def analyse_row(row: dict[str, Any]) -> dict[str, Any]:
    """The Ray Data map function: a job row (path, key, tools, gallery, fps) in, a stored result row out."""
    tools = tuple(t for t in str(row["tools"]).split(",") if t)
    gallery = Path(row["gallery"]) if row.get("gallery") else None
    fps = float(row["fps"]) if row.get("fps") else None
    result = analyse_file(row["path"], tools, gallery, fps, key=row["key"])  # type: ignore[arg-type]
    return result.to_row()
