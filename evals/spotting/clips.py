"""Spotting clips composed from real photos: a person with head motion, lighting drift, sensor noise and H.264
compression, whose face is mesh-warped into expressions over known frames.

An expression's amplitude rises linearly over the first third of its frames, holds, and falls over the last third;
its ground-truth interval is every frame with a non-zero amplitude (inclusive), its apex the middle frame. What a
clip like this cannot test: real facial dynamics (skin folds, wrinkles, asymmetric or partial actions), real head
turns in depth, real camera noise. Frames are produced lazily and warps are cached per amplitude step, so a long
clip costs bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from evals.clips import astronaut_head, background, group_person, tom_hanks
from evals.mesh_warps import warp_face
from evals.spotting.warps import EXPRESSIONS
from tools.media import write_video

AMPLITUDE_STEPS = 8  # warps cached per expression: amplitude quantised to this many levels


@dataclass(frozen=True)
class Event:
    """One expression at known frames (inclusive) with its peak amplitude in IODs."""

    label: str
    onset_frame: int
    offset_frame: int
    peak_iod: float

    @property
    def frames(self) -> int:
        return self.offset_frame - self.onset_frame + 1

    @property
    def apex_frame(self) -> int:
        return (self.onset_frame + self.offset_frame) // 2

    def amplitude(self, frame: int) -> float:
        if frame < self.onset_frame or frame > self.offset_frame:
            return 0.0
        ramp = max(1.0, self.frames / 3.0)
        rise = (frame - self.onset_frame + 1) / ramp
        fall = (self.offset_frame - frame + 1) / ramp
        return self.peak_iod * min(1.0, rise, fall)


@dataclass(frozen=True)
class ClipSpec:
    """Everything that defines a clip: who, how long, the events, still stretches (frames, inclusive) and the
    motion, lighting and compression applied."""

    name: str
    person: str
    seconds: float
    fps: float = 30.0
    size: tuple[int, int] = (480, 360)
    events: tuple[Event, ...] = ()
    still: tuple[tuple[int, int], ...] = ()
    motion_px: float = 10.0
    motion_deg: float = 2.0
    light: float = 0.12
    noise: float = 2.0
    crf: int = 28
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PEOPLE: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": astronaut_head,
    "tom_hanks": tom_hanks,
    **{f"t1_person{i}": partial(group_person, i) for i in range(6)},
}


@lru_cache(maxsize=8)
def person_image(name: str, height_px: int) -> tuple[np.ndarray, np.ndarray]:
    """The person's photo scaled to ``height_px`` and its (478, 3) mesh."""
    from tools.faces import FaceOptions, analyze_image

    image = PEOPLE[name]()
    scale = height_px / image.shape[0]
    image = cv2.resize(image, (round(image.shape[1] * scale), height_px), interpolation=cv2.INTER_AREA)
    faces = analyze_image(image, FaceOptions(embeddings=False, pose=False))
    if not faces or faces[0].mesh is None:
        raise ValueError(f"no mesh on {name}")
    return image, np.asarray(faces[0].mesh)


def render_clip(spec: ClipSpec) -> Iterator[np.ndarray]:
    """The clip's frames (H, W, 3) uint8, one at a time."""
    width, height = spec.size
    face, mesh = person_image(spec.person, int(height * 0.8))
    base = background(width, height)
    rng = np.random.default_rng(spec.seed)
    phases = rng.uniform(0, 2 * np.pi, 4)
    periods = rng.uniform(2.5, 6.0, 4)
    cache: dict[tuple[str, int], np.ndarray] = {}
    gradient = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    for index in range(round(spec.seconds * spec.fps)):
        t = index / spec.fps
        image = face
        for event in spec.events:
            amount = event.amplitude(index)
            if amount > 0:
                level = max(1, round(amount / event.peak_iod * AMPLITUDE_STEPS))
                key = (event.label, level)
                if key not in cache:
                    warp = EXPRESSIONS[event.label](event.peak_iod * level / AMPLITUDE_STEPS)
                    cache[key] = warp_face(face, mesh, warp)
                image = cache[key]
        wave = np.sin(2 * np.pi * t / periods + phases)
        angle = spec.motion_deg * wave[0]
        dx, dy = spec.motion_px * wave[1], 0.6 * spec.motion_px * wave[2]
        scale = 1.0 + 0.03 * wave[3]
        centre = (face.shape[1] / 2.0, face.shape[0] / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, angle, scale)
        matrix[:, 2] += [(width - face.shape[1]) / 2.0 + dx, (height - face.shape[0]) / 2.0 + dy]
        frame = base.copy()
        cv2.warpAffine(image, matrix, (width, height), dst=frame, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_TRANSPARENT)
        gain = 1.0 + spec.light * np.sin(2 * np.pi * t / 9.0 + phases[0])
        shade = 1.0 + 0.5 * spec.light * np.sin(2 * np.pi * t / 13.0) * gradient
        out = frame.astype(np.float32) * gain * shade
        if spec.noise > 0:
            out += rng.normal(0.0, spec.noise, out.shape).astype(np.float32)
        yield np.clip(out, 0, 255).astype(np.uint8)


def write_clip(spec: ClipSpec, folder: str | Path) -> Path:
    """Encode the clip as ``folder/<name>.mp4`` (H.264 at ``spec.crf``)."""
    path = Path(folder) / f"{spec.name}.mp4"
    return write_video(path, render_clip(spec), spec.fps, crf=spec.crf)


@dataclass
class ClipSet:
    specs: list[ClipSpec] = field(default_factory=list)

    def ground_truth(self) -> dict[str, list[Event]]:
        return {s.name: list(s.events) for s in self.specs}


def _spaced_events(rng: np.random.Generator, frames: int, fps: float, kinds: Sequence[str],
                   keep_out: tuple[int, int] | None) -> tuple[Event, ...]:
    """Events of the given kinds (micro|macro) at random non-overlapping places, 2.5 s apart at least."""
    events: list[Event] = []
    cursor = int(1.5 * fps)
    for kind in kinds:
        length = int(rng.integers(4, 13)) if kind == "micro" else int(rng.integers(20, 121))
        start = cursor + int(rng.integers(0, int(1.0 * fps)))
        if keep_out is not None and start + length >= keep_out[0] and start <= keep_out[1]:
            start = keep_out[1] + int(1.0 * fps)
        if start + length >= frames - int(1.0 * fps):
            break
        label = str(rng.choice(list(EXPRESSIONS)))
        peak = float(rng.uniform(0.07, 0.11) if kind == "micro" else rng.uniform(0.09, 0.15))
        if label in ("Anger", "Surprise"):
            peak *= 0.6  # brows travel less than mouth corners
        events.append(Event(label, start, start + length - 1, round(peak, 4)))
        cursor = start + length + int(2.5 * fps)
    return tuple(events)


def evaluation_set(count: int = 60, seconds: float = 12.0, fps: float = 30.0, seed: int = 10) -> ClipSet:
    """``count`` clip specs: each has a 3 s still stretch (head motion only) and two to three events; one clip
    in six is still throughout. People, motion, light and compression vary with the seed."""
    rng = np.random.default_rng(seed)
    people = list(PEOPLE)
    specs = []
    frames = round(seconds * fps)
    for number in range(count):
        person = people[number % len(people)]
        all_still = number % 6 == 5
        still_start = int(rng.integers(int(1.0 * fps), frames - int(4.0 * fps)))
        still = (0, frames - 1) if all_still else (still_start, still_start + int(3.0 * fps) - 1)
        kinds = [] if all_still else list(rng.choice(["micro", "macro"], size=3, p=[0.55, 0.45]))
        events = _spaced_events(rng, frames, fps, kinds, None if all_still else still)
        specs.append(ClipSpec(
            name=f"spot{number:03d}", person=person, seconds=seconds, fps=fps, events=events, still=(still,),
            motion_px=float(rng.uniform(4, 14)), motion_deg=float(rng.uniform(0.5, 3.0)),
            light=float(rng.uniform(0.05, 0.18)), noise=float(rng.uniform(1.0, 3.0)),
            crf=int(rng.integers(23, 31)), seed=number,
        ))
    return ClipSet(specs)
