"""Media for evaluation cases, composed here from real photos, espeak-ng speech and mesh warps.

A ``MediaSpec`` names a file by path or by a generator below; generated files are written once into a cache folder
(``<MIEN_HOME>/eval-media`` by default) under the spec's key, so a suite run again, or resumed, reuses them.
What these can test and what not is said in ``evals.clips``: identity, tracking, counting, speech, spotting timing
and liveness cues, but not real expression dynamics.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from evals.inspect.spec import MediaSpec
from tools.errors import ConfigError, MediaError

Options = dict[str, str | float | int]
Generator = Callable[[Path, Options], Path]

DEFAULT_SPEECH = "Good morning everyone. The weather is lovely today and the garden is full of flowers."


def _astronaut(path: Path, options: Options) -> Path:
    from evals import samples
    from tools.media import save_image

    return save_image(path.with_suffix(".png"), samples.astronaut())


def _t1(path: Path, options: Options) -> Path:
    from evals import samples

    return samples.group_photo_path()


def _hanks(path: Path, options: Options) -> Path:
    from evals import samples

    return samples.tom_hanks_path()


def _speech_wav(path: Path, text: str) -> Path:
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True, capture_output=True)
    return wav


def _speech(path: Path, options: Options) -> Path:
    return _speech_wav(path, str(options.get("text", DEFAULT_SPEECH)))


def _pan(path: Path, options: Options) -> Path:
    from evals import clips
    from tools.media import load_audio

    audio = None
    if "text" in options:
        with tempfile.TemporaryDirectory() as folder:
            audio = load_audio(_speech_wav(Path(folder) / "speech", str(options["text"])))
    return clips.pan_zoom_clip(path.with_suffix(".mp4"), seconds=float(options.get("seconds", 4.0)), audio=audio)


def _crossing(path: Path, options: Options) -> Path:
    from evals import clips

    return clips.crossing_clip(path.with_suffix(".mp4"), seconds=float(options.get("seconds", 4.0)))


def _interview(path: Path, options: Options) -> Path:
    from evals.make_example import EXAMPLE_PATH, build

    return EXAMPLE_PATH if EXAMPLE_PATH.exists() else build(path.with_suffix(".mp4"))


def _replay(path: Path, options: Options) -> Path:
    """A still photo shown to the camera (no pulse, no blink): what a print or replay attack looks like."""
    from evals.liveness_clips import pulse_clip

    return pulse_clip(path.with_suffix(".mp4"), None, seconds=float(options.get("seconds", 6.0)))


def _live(path: Path, options: Options) -> Path:
    """The astronaut with a simulated pulse (skin tinted at 72 bpm) and head motion."""
    from evals.liveness_clips import pulse_clip

    return pulse_clip(path.with_suffix(".mp4"), 72.0, seconds=float(options.get("seconds", 6.0)))


def _spotting(path: Path, options: Options) -> Path:
    """The astronaut with one mesh-warped expression at known frames (``evals.spotting.clips``; ``label`` one of
    ``evals.spotting.warps.EXPRESSIONS``)."""
    from evals.spotting.clips import ClipSpec, Event, write_clip

    fps = float(options.get("fps", 30.0))
    onset, offset = int(options.get("onset", 45)), int(options.get("offset", 54))
    spec = ClipSpec(
        name=path.name,
        person="astronaut",
        seconds=float(options.get("seconds", 4.0)),
        fps=fps,
        events=(Event(str(options.get("label", "Happiness")), onset, offset, float(options.get("peak", 0.08))),),
    )
    return write_clip(spec, path.parent)


GENERATORS: dict[str, Generator] = {
    "astronaut": _astronaut,
    "t1": _t1,
    "hanks": _hanks,
    "speech": _speech,
    "pan": _pan,
    "crossing": _crossing,
    "interview": _interview,
    "replay": _replay,
    "live": _live,
    "spotting": _spotting,
}


def media_dir() -> Path:
    """Where generated media are cached: ``MIEN_EVAL_MEDIA`` or ``<MIEN_HOME>/eval-media``."""
    from tools.settings import get_settings

    folder = os.environ.get("MIEN_EVAL_MEDIA")
    return Path(folder) if folder else get_settings().home / "eval-media"


def resolve(spec: MediaSpec, folder: Path | None = None) -> Path:
    """The file ``spec`` names: the path checked, or the generated file (made on first use)."""
    if spec.path is not None:
        path = Path(spec.path).expanduser()
        if not path.is_file():
            raise MediaError(f"evaluation media {path} does not exist")
        return path
    assert spec.generator is not None
    make = GENERATORS.get(spec.generator)
    if make is None:
        raise ConfigError(f"unknown media generator {spec.generator!r}; choose one of {', '.join(GENERATORS)}")
    folder = folder or media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / re.sub(r"[^A-Za-z0-9_.=-]+", "_", spec.key())
    done = [p for p in folder.glob(stem.name + ".*") if not p.name.endswith(".part")]
    if done:
        return done[0]
    return make(stem, spec.options)
