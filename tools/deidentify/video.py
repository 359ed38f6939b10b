"""De-identifying a video: every frame's faces hidden (tracked, gaps filled), the voice anonymized, same timing.

First pass: each decoded frame is searched for faces, then waits in a short look-ahead buffer
(``FrameCoverage.lookahead_frames`` frames) until the detections after it are known, so that a frame where the
detector missed a face still gets that face's box, interpolated from its neighbours; hidden frames stream into
the encoder. Then the written file is decoded and searched again (``tools.deidentify.verify``); where anything
is still found, the clip is rendered again from the source with those regions hidden as well. Only the look-ahead
buffer of frames is ever held; per frame, only its boxes are kept. The output appears atomically, once verified:
a failure anywhere leaves no partial file.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tools.deidentify.coverage import FrameBoxes, FrameCoverage
from tools.deidentify.hiding import FaceHider
from tools.deidentify.output import VIDEO_OUTPUT_SUFFIXES, checked_output
from tools.deidentify.types import AudioOutcome, DeidentifyReport
from tools.deidentify.verify import VerifyOutcome, verify_written_video
from tools.errors import MediaError
from tools.faces.types import Box
from tools.media import SPEECH_SAMPLE_RATE, Frame, iter_frames, load_audio, probe_media, write_video
from tools.settings import Settings, get_settings
from tools.storage import atomic_path

ProgressCallback = Callable[[int, int | None], None]
"""Called as work advances with (frames processed, frames expected or None). A frame counts once when it is
hidden and once when the written file is checked (when verifying), and again if a round renders it again."""

DEFAULT_FPS = 25.0


@dataclass
class _Pass:
    """What the first pass did, and the boxes hidden per frame (kept to render the clip again if needed):
    ``boxes`` from detection and tracking, ``residual`` from searching the written file again (already grown),
    in the order they were hidden."""

    boxes: list[list[Box]] = field(default_factory=list)
    residual: dict[int, list[Box]] = field(default_factory=dict)
    faces_detected: int = 0

    @property
    def residual_faces(self) -> int:
        return sum(len(boxes) for boxes in self.residual.values())


def deidentify_video(
    in_path: str | Path,
    out_path: str | Path,
    *,
    mode: str = "blur",
    voice: bool = True,
    fps: float | None = None,
    progress: bool | ProgressCallback = True,
    verify: bool = True,
    hider: FaceHider | None = None,
    settings: Settings | None = None,
) -> DeidentifyReport:
    """Write ``in_path`` to ``out_path`` (MP4) with every face hidden and, when ``voice``, the voice anonymized.

    ``mode``: blur | mask | pixelate. ``fps``: output rate (frames are sampled at it); None keeps every frame at
    the source rate, so frame count and duration are kept. ``voice=False`` keeps the original audio. ``verify``
    decodes the written file, searches it for faces again and hides what is found. ``progress``: True for a bar
    on stderr, or a callback. ``hider`` replaces the detectors from the settings. Raises ``MediaError`` for
    unreadable input and ``ConfigError`` for a bad output path or mode; in both cases nothing is written.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    info = probe_media(in_path, settings)
    if info.kind != "video":
        article = "an image" if info.kind == "image" else "an audio-only file"
        raise MediaError(f"{info.path}: is {article}, not a video; de-identify images with deidentify_image")
    target = checked_output(info.path, out_path, VIDEO_OUTPUT_SUFFIXES, "video")
    hider = hider or FaceHider.from_settings(mode, verify=verify, settings=settings)
    rate = float(fps) if fps else (info.fps if info.fps > 0 else DEFAULT_FPS)
    audio, audio_outcome = _output_audio(info.path, info.has_audio, voice, settings)
    # A face only the full-scan members see is detected every full_every frames: the tracking must bridge that gap
    # and hold the box up to the next scan (at the clip's end too).
    full_every = settings.deidentify_full_scan_frames if hider.scans_in_part else 1
    coverage = FrameCoverage(
        max(settings.deidentify_max_gap_frames, full_every - 1), max(settings.deidentify_hold_frames, full_every - 1)
    )
    expected = round(info.duration_s * rate) if info.duration_s > 0 else None
    tick, close_bar = _progress(progress, None if expected is None else expected * (2 if hider.residual else 1))
    first = _Pass()

    def frames_of_source() -> Iterator[Frame]:
        return iter_frames(info.path, fps, settings=settings)

    try:
        with atomic_path(target) as written:
            frames = _first_pass(frames_of_source(), hider, coverage, first, tick, full_every)
            write_video(written, frames, rate, audio=audio, sample_rate=SPEECH_SAMPLE_RATE)

            def render_again(found: dict[int, list[Box]]) -> None:
                for index, boxes in found.items():
                    first.residual.setdefault(index, []).extend(boxes)
                again = _render(frames_of_source(), hider, first, tick)
                write_video(written, again, rate, audio=audio, sample_rate=SPEECH_SAMPLE_RATE)

            checked = (
                verify_written_video(
                    written,
                    hider,
                    render_again,
                    on_frame=lambda: tick(1),
                    check_every=max(1, round(rate * settings.deidentify_video_check_s)),
                )
                if hider.residual is not None
                else VerifyOutcome(0, 0, 0)
            )
    finally:
        close_bar()
    frames_written = len(first.boxes)
    return DeidentifyReport(
        input_path=str(info.path),
        output_path=str(target),
        kind="video",
        mode=hider.style.mode,
        frames_written=frames_written,
        frames_with_faces=sum(1 for index, boxes in enumerate(first.boxes) if boxes or index in first.residual),
        faces_hidden=sum(len(boxes) for boxes in first.boxes) + first.residual_faces,
        faces_detected=first.faces_detected,
        boxes_interpolated=coverage.boxes_interpolated,
        boxes_held=coverage.boxes_held,
        residual_faces=first.residual_faces,
        frames_flagged=checked.frames_flagged,
        verify_rounds=checked.rounds,
        tracks=coverage.tracks_opened,
        audio=audio_outcome,
        fps=rate,
        duration_s=frames_written / rate,
        elapsed_s=time.perf_counter() - started,
    )


def _first_pass(
    frames: Iterator[Frame],
    hider: FaceHider,
    coverage: FrameCoverage,
    record: _Pass,
    tick: Callable[[int], None],
    full_every: int = 1,
) -> Iterator[np.ndarray]:
    """The frames with faces hidden, in order, each once its coverage is final (a bounded look-ahead).

    The finder's cheap members run on every frame, all of them on every ``full_every``-th frame (a full scan):
    a face only the expensive members see is found every ``full_every`` frames, and the coverage tracking
    interpolates its box over the frames between (``full_every`` must stay within ``max_gap_frames``)."""
    waiting: deque[Frame] = deque()

    def release(final: FrameBoxes) -> np.ndarray:
        frame = waiting.popleft()
        if frame.index != final.frame_index:  # pragma: no cover - FrameCoverage emits frames in order
            raise RuntimeError(f"frame {frame.index} paired with boxes of frame {final.frame_index}")
        boxes = [cover.box for cover in final.boxes]
        record.boxes.append(boxes)
        tick(1)
        # No search of the hidden frame here: the written file is searched afterwards (searching both costs a
        # detection more per frame and, measured on the benchmark clip, saved no re-render round).
        return hider.hide(frame.image, boxes, search_again=False).image

    for position, frame in enumerate(frames):
        # iter_frames numbers sampled frames 0, 1, 2...; the coverage is keyed by that position.
        boxes = hider.find(frame.image, full_scan=position % full_every == 0)
        record.faces_detected += len(boxes)
        waiting.append(Frame(position, frame.time_s, frame.image))
        for final in coverage.push(position, boxes):
            yield release(final)
    for final in coverage.finish():
        yield release(final)


def _render(
    frames: Iterator[Frame], hider: FaceHider, record: _Pass, tick: Callable[[int], None]
) -> Iterator[np.ndarray]:
    """The source frames again, each with its recorded boxes hidden (no detection)."""
    for position, frame in enumerate(frames):
        tick(1)
        boxes = record.boxes[position] if position < len(record.boxes) else []
        hidden = hider.hide(frame.image, boxes, search_again=False).image
        yield hider.hide_residual(hidden, record.residual.get(position, []))


def _output_audio(
    path: Path, has_audio: bool, voice: bool, settings: Settings
) -> tuple[np.ndarray | None, AudioOutcome]:
    """The audio track to write (16 kHz mono) and what it is. Decoded before any frame, so a bad track fails early."""
    if not has_audio:
        return None, "none"
    samples = load_audio(path, SPEECH_SAMPLE_RATE, settings)
    if samples.size == 0:
        return None, "none"
    if not voice:
        return samples, "original"
    from tools.deidentify.voice import anonymize_voice

    return anonymize_voice(samples, SPEECH_SAMPLE_RATE), "anonymized"


def _progress(progress: bool | ProgressCallback, total: int | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(advance by n frames, close) for ``progress``: a tqdm bar on stderr, a user callback, or nothing."""
    done = 0
    if callable(progress):
        user = progress

        def advance(n: int) -> None:
            nonlocal done
            done += n
            user(done, total)

        return advance, lambda: None
    if not progress:
        return (lambda n: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="frame", desc="de-identifying", leave=False)
    return bar.update, bar.close
