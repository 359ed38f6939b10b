"""Liveness of every person in an image or a video: the FA3 model's attack score, the rPPG pulse, blinks and
non-rigid motion, combined per track into a verdict with its reasons.

How the cues combine (per track):

* the face is too small (inter-ocular distance under ``Settings.liveness_min_face_px``): undetermined;
* in a video, a pulse, a blink or face-like non-rigid motion are signs of life: live, unless the attack model (mean
  over up to ``MODEL_FRAMES`` frames) is confident (``CONFIDENT_ATTACK``; a replayed or swapped live video keeps
  its pulse and blinks);
* no sign of life over at least ``pulse.MIN_SECONDS`` of video: attack ("a photo or a still screen held to the
  camera");
* otherwise (a single image, a short clip) the attack model alone: attack when confident, undetermined between its
  validation threshold and that, live below the threshold; all said to be weak evidence. The model alone is not
  trusted further because it was trained on synthesized attacks and scores many clean real photos above its
  threshold (docs/attack.md).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Final

import numpy as np

from tools.attack.crops import interocular_px, is_grayscale
from tools.attack.detector import AttackDetector, get_attack_detector
from tools.attack.motion import NONRIGID_LIVE_IOD, motion_cues
from tools.attack.pulse import MIN_SECONDS, estimate_pulse
from tools.attack.skin import mean_skin_rgb, smoothed_regions
from tools.attack.types import AttackScore, LivenessReport, MotionCues, PulseEstimate, TrackLiveness
from tools.errors import MediaError
from tools.faces import FaceOptions, analyze_image, analyze_video
from tools.faces.types import Face, Track
from tools.media import iter_frames, load_image, probe_media
from tools.settings import Settings, get_settings

MODEL_FRAMES: Final[int] = 5
NO_LIFE: Final[str] = "photo or still screen (no sign of life)"
CONFIDENT_ATTACK: Final[float] = 0.9  # P(attack) at which the model outweighs signs of life
MESH_ONLY = FaceOptions(mesh=True, pose=False, embeddings=False)


def _mean_score(scores: list[AttackScore]) -> AttackScore | None:
    if not scores:
        return None
    kinds = {
        name: float(np.mean([s.type_probabilities[name] for s in scores])) for name in scores[0].type_probabilities
    }
    return AttackScore(float(np.mean([s.fake_probability for s in scores])), kinds, scores[0].threshold)


def _face_size(face: Face) -> float:
    return interocular_px(face.landmarks5) if face.landmarks5 is not None else face.box.width * 0.4


def decide(
    track_id: int,
    score: AttackScore | None,
    pulse: PulseEstimate | None,
    motion: MotionCues | None,
    face_px: float,
    grayscale: bool,
    settings: Settings,
) -> TrackLiveness:
    """The verdict for one person from whatever cues were measured, with reasons a person can check."""
    reasons: list[str] = []
    result = TrackLiveness(track_id, "undetermined", reasons, score, pulse, motion, face_px, grayscale)
    if face_px < settings.liveness_min_face_px:
        reasons.append(
            f"face too small to judge: {face_px:.0f} px between the eyes (needs {settings.liveness_min_face_px:.0f})"
        )
        return result
    if grayscale:
        reasons.append("grayscale input: colour cues (ink gamut, screen colour, pulse tint) are unavailable")
    model_attack = score is not None and score.is_attack
    if score is not None:
        word = "attack" if score.is_attack else "live"
        reasons.append(
            f"attack model (trained on synthesized attacks, an estimate): P(attack) {score.fake_probability:.2f} "
            f"vs threshold {score.threshold:.2f} -> {word}"
            + (f", most like {score.likely_type}" if score.is_attack else "")
        )
    long_video = pulse is not None and pulse.seconds >= MIN_SECONDS
    signs: list[str] = []
    if pulse is not None and pulse.detected and pulse.bpm is not None:
        signs.append(f"rPPG pulse {pulse.bpm:.0f} bpm (SNR {pulse.snr_db:.1f} dB, POS heuristic)")
    elif pulse is not None and long_video:
        reasons.append(f"no rPPG pulse over {pulse.seconds:.1f} s (SNR {pulse.snr_db:.1f} dB, or no steady rate)")
    if motion is not None and motion.blinks:
        signs.append(f"{motion.blinks} blink(s) from mesh eye aspect ratio")
    if motion is not None and motion.nonrigid_motion >= NONRIGID_LIVE_IOD:
        signs.append(f"non-rigid facial motion {motion.nonrigid_motion:.4f} IOD/frame (mesh estimate)")
    elif motion is not None and motion.frames > 1 and not motion.blinks:
        reasons.append(f"face moves rigidly like a sheet ({motion.nonrigid_motion:.4f} IOD/frame), no blink")
    reasons.extend(signs)
    confident = score is not None and score.fake_probability >= CONFIDENT_ATTACK
    if signs and confident:
        result.verdict, result.attack_kind = "attack", score.likely_type if score else None
        reasons.append("the model is confident despite signs of life (a replayed or swapped live video keeps them)")
    elif signs:
        result.verdict = "live"
        if model_attack:
            reasons.append("the attack model's estimate is outweighed by the measured signs of life")
    elif long_video:
        result.verdict, result.attack_kind = "attack", NO_LIFE
        reasons.append("no sign of life: looks like a photo or a still screen held to the camera")
    elif confident:
        result.verdict, result.attack_kind = "attack", score.likely_type if score else None
        reasons.append("single image or short clip: only the attack model's estimate, weak evidence")
    elif model_attack:
        reasons.append(
            f"single image or short clip: the model leans to attack, but under the {CONFIDENT_ATTACK:.2f} it is "
            "trusted with alone (it also scores many real photos this high)"
        )
    elif score is not None:
        result.verdict = "live"
        reasons.append("single image or short clip: only the attack model's estimate, weak evidence")
    return result


def _image_report(
    path: Path, image: np.ndarray, detector: AttackDetector, settings: Settings, kind: str
) -> LivenessReport:
    faces = analyze_image(image, MESH_ONLY)
    grey = is_grayscale(image)
    scores = detector.score_faces(image, faces)
    tracks = [
        decide(f.track_id or i + 1, s, None, None, _face_size(f), grey, settings)
        for i, (f, s) in enumerate(zip(faces, scores, strict=True))
    ]
    notes = [] if kind == "image" else ["a one-frame video: no pulse or blink can be measured, judged as an image"]
    return LivenessReport(str(path), kind, tracks, 1, 0.0, detector.name, notes)


def assess_liveness(
    path: str | Path, settings: Settings | None = None, detector: AttackDetector | None = None
) -> LivenessReport:
    """Liveness of every person in the image or video at ``path``. Raises ``MediaError`` for audio-only files."""
    settings = settings or get_settings()
    detector = detector or get_attack_detector()
    info = probe_media(path, settings)
    if info.kind == "audio":
        raise MediaError(f"{info.path}: an audio-only file has no face to check for liveness")
    if info.kind == "image":
        return _image_report(info.path, load_image(info.path, settings), detector, settings, "image")
    fps = min(settings.liveness_fps, info.fps) if info.fps > 0 else settings.liveness_fps
    video = analyze_video(info, MESH_ONLY, fps=fps, settings=settings)
    if video.frames_analysed <= 1:
        frame = next(iter_frames(info.path, settings=settings)).image
        return _image_report(info.path, frame, detector, settings, "video")
    return _video_report(info.path, video.tracks, fps, video.frames_analysed, detector, settings)


def _video_report(
    path: Path, tracks: list[Track], fps: float, frames: int, detector: AttackDetector, settings: Settings
) -> LivenessReport:
    by_frame: dict[int, list[tuple[int, Face, tuple[np.ndarray, float]]]] = defaultdict(list)
    model_frames: dict[int, set[int]] = {}
    for track in tracks:
        for face, region in zip(track.faces, smoothed_regions(track.faces), strict=True):
            by_frame[face.frame_index or 0].append((track.track_id, face, region))
        picks = np.linspace(0, len(track.faces) - 1, min(MODEL_FRAMES, len(track.faces))).round().astype(int)
        model_frames[track.track_id] = {track.faces[i].frame_index or 0 for i in picks}
    traces: dict[int, list[tuple[float, np.ndarray]]] = defaultdict(list)
    crops: dict[int, list[np.ndarray]] = defaultdict(list)
    grey: dict[int, bool] = {}
    for frame in iter_frames(path, fps, settings=settings):
        for track_id, face, region in by_frame.get(frame.index, []):
            rgb = mean_skin_rgb(frame.image, face, region)
            if rgb is not None:
                traces[track_id].append((float(face.time_s or frame.time_s), rgb))
            if frame.index in model_frames[track_id]:
                crop = detector.crop(frame.image, face)
                if crop is not None:
                    crops[track_id].append(crop)
                grey.setdefault(track_id, is_grayscale(frame.image))
    results = []
    for track in tracks:
        score = _mean_score(detector.score_crops(crops[track.track_id]))
        pulse = _pulse(traces[track.track_id], fps) if not grey.get(track.track_id, False) else None
        motion = motion_cues([f.mesh for f in track.faces if f.mesh is not None])
        size = float(np.median([_face_size(f) for f in track.faces]))
        liveness = decide(track.track_id, score, pulse, motion, size, grey.get(track.track_id, False), settings)
        liveness.start_s, liveness.end_s = track.start_s, track.end_s
        results.append(liveness)
    return LivenessReport(str(path), "video", results, frames, fps, detector.name)


def _pulse(trace: list[tuple[float, np.ndarray]], fps: float) -> PulseEstimate | None:
    """The pulse of a track's skin trace, resampled to a uniform grid (tracks may miss frames)."""
    if len(trace) < 3:
        return None
    times = np.array([t for t, _ in trace])
    values = np.stack([v for _, v in trace])
    grid = np.arange(times[0], times[-1] + 1e-9, 1.0 / fps)
    uniform = np.stack([np.interp(grid, times, values[:, c]) for c in range(3)], axis=1)
    return estimate_pulse(uniform, fps)
