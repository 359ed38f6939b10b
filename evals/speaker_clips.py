"""A two-person clip in which each person speaks in turn: espeak-ng speech, mouth motion warped on the speaker.

Left: the astronaut (upper body); right: t1.jpg's Monica (both real photos). Person 1 (left) says ``LEFT_TEXT``,
then after a pause person 2 (right) says ``RIGHT_TEXT``, each in their own espeak-ng voice. While a person
speaks, their lower lip and jaw are pulled down (a piecewise-affine warp driven by their own face mesh) in
proportion to the speech envelope, and the gap between the lips is darkened as an open mouth is; the listener's
mouth stays still. While person 2 speaks, person 1 lays a real hand (t1.jpg's Phoebe's) at her neck for 1.5 s.

What it can test: that mouth motion is found on the right face and matched to voice activity, and that speech
is then given to the right person. What it cannot: real talking faces (lips shaping phonemes, head motion while
speaking), overlapping speech, or a listener who moves their mouth. The darkened mouth is crude (a dark patch
between the lips, visible in a contact sheet); the mesh reads it as lips apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from evals.body_clips import hand_cutout, paste_hand
from evals.clips import background, group_person
from evals.mesh_warps import warp_face
from evals.samples import astronaut
from tools.expression.action_units import face_frame
from tools.media import SPEECH_SAMPLE_RATE, write_video

LEFT_TEXT = "I am so happy to see you all here today, this is wonderful news."
RIGHT_TEXT = "I am worried, this is terrible and I feel afraid of what comes next."
CLIP_FPS = 10.0
SIZE = (640, 360)
LOWER_LIP = (146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324)
JAW = (152, 148, 176, 149, 150, 377, 400, 378, 379, 199, 175, 200, 18, 83, 313)
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (324, 318, 402, 317, 14, 87, 178, 88, 95)
PEAK_OPEN_IOD = 0.28  # how far the lower lip drops at the loudest syllable
LEVELS = 4


@dataclass(frozen=True)
class Turn:
    """Who speaks when (seconds in the clip); ``person`` is 1 (left) or 2 (right)."""

    person: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SpeakerClip:
    """The clip, who speaks when, and when person 1 (left, listening) touches her neck."""

    path: Path
    turns: tuple[Turn, ...]
    neck_touch_s: tuple[float, float]


def _speech(text: str, pitch: int, folder: Path, name: str) -> np.ndarray:
    from tools.media import load_audio
    from tools.speech.espeak import synthesize_speech

    wav = synthesize_speech(text, folder / f"{name}.wav", pitch=pitch, words_per_minute=160)
    return load_audio(wav)


def _envelope(samples: np.ndarray, fps: float) -> np.ndarray:
    """RMS per video frame, scaled to [0, 1] by its 95th percentile."""
    hop = int(SPEECH_SAMPLE_RATE / fps)
    frames = len(samples) // hop
    rms = np.sqrt(np.mean(samples[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    return np.clip(rms / max(float(np.percentile(rms, 95)), 1e-6), 0.0, 1.0)


def open_mouth(mesh: np.ndarray, amount_iod: float) -> np.ndarray:
    """(478, 2) displacement: lower lip down by ``amount_iod`` IODs, the jaw by 70% of it, falling off around."""
    _, rotation, iod = face_frame(mesh)
    right = rotation[0, :2] / np.linalg.norm(rotation[0, :2])
    down = np.array([-right[1], right[0]])
    centres = list(LOWER_LIP) + list(JAW)
    vectors = np.array([down * amount_iod * iod] * len(LOWER_LIP) + [down * 0.7 * amount_iod * iod] * len(JAW))
    points = mesh[:, :2]
    weights = np.stack(
        [np.exp(-np.sum((points - points[c]) ** 2, axis=1) / (2 * (0.1 * iod) ** 2)) for c in centres], 1
    )
    moved = weights @ vectors / np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    upper = [i for i in range(478) if float((points[i] - points[13]) @ down) < -0.02 * iod]
    moved[upper] = 0.0  # nothing above the upper lip moves
    return np.asarray(moved)


def _talking(face: np.ndarray, mesh: np.ndarray, amount_iod: float) -> np.ndarray:
    if amount_iod <= 0.01:
        return face
    displacement = open_mouth(mesh, amount_iod)
    out = warp_face(face, mesh, lambda _: displacement)
    lips = np.vstack([mesh[list(INNER_UPPER), :2], (mesh[:, :2] + displacement)[list(INNER_LOWER)]])
    mask = np.zeros(face.shape[:2], np.uint8)
    cv2.fillPoly(mask, [lips.round().astype(np.int32)], 255)
    alpha = (cv2.GaussianBlur(mask, (0, 0), 1.5).astype(np.float32) / 255.0)[..., None] * 0.85
    dark = np.array([45, 18, 22], np.float32)
    return np.clip(out * (1 - alpha) + dark * alpha, 0, 255).astype(np.uint8)


def speaker_clip(path: str | Path, gap_s: float = 0.8, lead_s: float = 0.6) -> SpeakerClip:
    """Write the clip to ``path``; the returned turns are the true speaker times (speech start to end)."""
    from tools.faces import FaceOptions, analyze_image

    width, height = SIZE
    with tempfile.TemporaryDirectory() as folder:
        left_voice = _speech(LEFT_TEXT, 35, Path(folder), "left")
        right_voice = _speech(RIGHT_TEXT, 70, Path(folder), "right")
    rate = SPEECH_SAMPLE_RATE
    left_start = lead_s
    right_start = left_start + len(left_voice) / rate + gap_s
    total = right_start + len(right_voice) / rate + lead_s
    audio = np.zeros(int(total * rate), np.float32)
    audio[int(left_start * rate) : int(left_start * rate) + len(left_voice)] += left_voice
    audio[int(right_start * rate) : int(right_start * rate) + len(right_voice)] += right_voice
    envelope = _envelope(audio, CLIP_FPS)

    def fitted(image: np.ndarray) -> np.ndarray:
        target = int(height * 0.8)
        return cv2.resize(image, (round(image.shape[1] * target / image.shape[0]), target))

    people = [fitted(astronaut()), fitted(group_person(1))]
    scale = people[0].shape[0] / astronaut().shape[0]
    meshes = []
    for person in people:
        mesh = analyze_image(person, FaceOptions(embeddings=False, pose=False))[0].mesh
        assert mesh is not None
        meshes.append(mesh)
    turns = (
        Turn(1, left_start, left_start + len(left_voice) / rate),
        Turn(2, right_start, right_start + len(right_voice) / rate),
    )
    # While person 2 speaks, person 1 (listening) lays a real hand at her neck: a body cue with known frames.
    touch = (right_start + 0.5, right_start + 2.0)
    touching = people[0].copy()
    paste_hand(touching, hand_cutout("open"), 226.0 * scale, 232.0 * scale, 1.3 * scale)
    # The mouth opens in LEVELS steps: each step's warp is computed once (a warp takes a fifth of a second).
    looks = [
        [_talking(person, mesh, PEAK_OPEN_IOD * step / LEVELS) for step in range(LEVELS + 1)]
        for person, mesh in zip(people, meshes, strict=True)
    ]
    canvas = background(width, height)
    y0 = (height - people[0].shape[0]) // 2
    xs = (20, width - people[1].shape[1] - 20)

    def frames() -> Iterator[np.ndarray]:
        for index in range(round(total * CLIP_FPS)):
            t = index / CLIP_FPS
            frame = canvas.copy()
            for number, (look, x) in enumerate(zip(looks, xs, strict=True), start=1):
                speaking = any(turn.person == number and turn.start_s <= t <= turn.end_s for turn in turns)
                level = float(envelope[min(index, len(envelope) - 1)]) if speaking else 0.0
                face = look[round(level * LEVELS)]
                if number == 1 and touch[0] <= t < touch[1]:
                    face = touching
                frame[y0 : y0 + face.shape[0], x : x + face.shape[1]] = face
            yield frame

    written = write_video(path, frames(), CLIP_FPS, audio=audio, sample_rate=rate)
    return SpeakerClip(written, turns, touch)
