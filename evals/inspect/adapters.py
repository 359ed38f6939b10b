"""Public benchmark layouts as suites, for users who hold the data (nothing is downloaded; see docs/evals.md).

* ``afew``: AFEW — ``<root>/[<split>/]<Emotion>/<clip>.avi|mp4``, the emotion folder names AFEW's 7 classes
  (Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise). One case per clip: its basic emotion.
* ``affwild2``: Aff-Wild2 EXPR — ``<root>/annotations/**/<video>.txt`` (first line the class names, then one class
  index per frame, -1 unannotated) and ``<root>/videos/<video>.mp4|avi``. The clip's label is the majority of its
  annotated frames (the agent answers per clip, not per frame).
* ``cexpr``: C-EXPR-DB — the same layout with the 7 compound classes in the header; compound labels.
* ``casme2``: CAS(ME)^2 — ``<root>/rawvideo/<subject>/<video>.avi|mp4`` and ``<root>/CASME2_code_final.csv`` (the
  code sheet saved as CSV, no header: subject, video file stem, onset, apex, offset, AUs, emotion, type), frames at
  30 fps. One case per video: the intervals to spot.
* ``deemo``: DEEMO-style — ``<root>/annotations.jsonl``, one object per clip: ``video`` (under ``<root>/videos``),
  ``question``, ``emotion``, ``reasoning`` (the reference explanation) and optional ``clues``. Scored on the label,
  the DEEMO prompt style and the EMER-style explanation scores.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from evals.inspect.spec import Case, Expect, IntervalExpect, MediaSpec, Suite, Turn
from tools.errors import ConfigError
from tools.expression.labels import BASIC_EMOTIONS, COMPOUND_EXPRESSIONS

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
AFEW_CLASSES = {"angry": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Happiness", "neutral": "Neutral",
                "sad": "Sadness", "surprise": "Surprise"}  # fmt: skip
CASME2_FPS = 30.0
EMOTION_QUESTION = "What emotion does the person in this clip show?"
COMPOUND_QUESTION = "Which compound expression does the person show?"
SPOT_QUESTION = "When do the micro- and macro-expressions happen?"


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{path} not found: the {what} layout needs it (see docs/evals.md)")
    return path


def _video(folder: Path, stem: str) -> Path | None:
    return next((folder / f"{stem}{s}" for s in VIDEO_SUFFIXES if (folder / f"{stem}{s}").is_file()), None)


def afew(root: Path) -> list[Case]:
    cases = []
    for clip in sorted(p for p in _need(root, "AFEW").rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES):
        label = AFEW_CLASSES.get(clip.parent.name.lower())
        if label is None:
            continue
        cases.append(_emotion_case(f"afew-{clip.parent.name}-{clip.stem}", clip, label, "basic", EMOTION_QUESTION))
    return cases


def _emotion_case(case_id: str, clip: Path, label: str, kind: str, question: str) -> Case:
    tools = ["read_emotions"]
    return Case(
        id=case_id,
        media=[MediaSpec(path=str(clip))],
        turns=[Turn(question=question, expect=Expect(tools=tools, label=label, label_kind=kind))],  # type: ignore[arg-type]
        tags=[kind],
    )


def majority_label(annotation: Path, classes: tuple[str, ...]) -> str | None:
    """The most frequent annotated class of an EXPR-format file (header line, then one index per frame)."""
    lines = annotation.read_text().splitlines()
    if not lines:
        raise ConfigError(f"{annotation} is empty")
    header = [name.strip() for name in lines[0].split(",")]
    counts: Counter[str] = Counter()
    for number, line in enumerate(lines[1:], start=2):
        try:
            index = int(line.strip())
        except ValueError as error:
            raise ConfigError(f"{annotation}:{number}: expected a class index, got {line!r}") from error
        if 0 <= index < len(header) and header[index] in classes:
            counts[header[index]] += 1
    return counts.most_common(1)[0][0] if counts else None


def _expr(root: Path, classes: tuple[str, ...], kind: str, name: str, question: str) -> list[Case]:
    cases = []
    videos = _need(root / "videos", name)
    for annotation in sorted(_need(root / "annotations", name).rglob("*.txt")):
        clip = _video(videos, annotation.stem)
        if clip is None:
            raise ConfigError(f"{annotation}: no video {annotation.stem} ({'/'.join(VIDEO_SUFFIXES)}) in {videos}")
        label = majority_label(annotation, classes)
        if label is not None:
            cases.append(_emotion_case(f"{name}-{annotation.stem}", clip, label, kind, question))
    return cases


def affwild2(root: Path) -> list[Case]:
    return _expr(root, BASIC_EMOTIONS, "basic", "affwild2", EMOTION_QUESTION)


def cexpr(root: Path) -> list[Case]:
    return _expr(root, tuple(COMPOUND_EXPRESSIONS), "compound", "cexpr", COMPOUND_QUESTION)


def casme2(root: Path) -> list[Case]:
    code = _need(root / "CASME2_code_final.csv", "CAS(ME)^2")
    by_video: dict[tuple[str, str], list[IntervalExpect]] = {}
    with code.open(newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 8 or not row[2].strip().isdigit():
                continue  # a header or note row
            subject, video, onset, offset = row[0].strip(), row[1].strip(), int(row[2]), int(row[4] or row[3])
            if offset == 0:
                offset = int(row[3])  # CAS(ME)^2 writes offset 0 when only the apex is known
            kind: Literal["micro", "macro"] = "micro" if "micro" in row[7].lower() else "macro"
            label = row[6].strip() or None
            by_video.setdefault((subject, video), []).append(
                IntervalExpect(onset_s=onset / CASME2_FPS, offset_s=offset / CASME2_FPS, label=label, kind=kind)
            )
    cases = []
    for (subject, video), expected in sorted(by_video.items()):
        folder = root / "rawvideo" / (subject if subject.startswith("s") else f"s{subject}")
        clip = _video(folder, video)
        if clip is None:
            raise ConfigError(f"{code}: no video {video} under {folder}")
        cases.append(
            Case(
                id=f"casme2-{subject}-{video}",
                media=[MediaSpec(path=str(clip))],
                turns=[Turn(question=SPOT_QUESTION, expect=Expect(tools=["spot_expressions"], intervals=expected))],
                tags=["spotting"],
            )
        )
    return cases


def deemo(root: Path) -> list[Case]:
    annotations = _need(root / "annotations.jsonl", "DEEMO")
    cases = []
    for number, line in enumerate(annotations.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            clip = _video(root / "videos", Path(item["video"]).stem) or root / "videos" / item["video"]
            emotion, reasoning = str(item["emotion"]), str(item["reasoning"])
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ConfigError(f"{annotations}:{number}: need video, question, emotion, reasoning ({error})") from error
        expect = Expect(label=emotion, label_kind="basic", style="deemo", rubric=reasoning,
                        clues=[str(c) for c in item.get("clues", [])])  # fmt: skip
        question = str(item.get("question") or "How does the person feel, and why?")
        turns = [Turn(question=question, expect=expect)]
        media = [MediaSpec(path=str(clip))]
        cases.append(Case(id=f"deemo-{Path(clip).stem}", media=media, turns=turns, tags=["deemo"]))
    return cases


ADAPTERS: dict[str, Callable[[Path], list[Case]]] = {
    "afew": afew, "affwild2": affwild2, "cexpr": cexpr, "casme2": casme2, "deemo": deemo,
}  # fmt: skip
NAMES = {"afew": "AFEW", "affwild2": "Aff-Wild2 EXPR", "cexpr": "C-EXPR-DB", "casme2": "CAS(ME)^2", "deemo": "DEEMO"}


def adapter_suite(kind: str, root: Path, limit: int | None = None) -> Suite:
    """The suite of a benchmark folder; ``ConfigError`` when the layout is not there or has no clip."""
    if kind not in ADAPTERS:
        raise ConfigError(f"unknown benchmark layout {kind!r}; choose one of {', '.join(ADAPTERS)}")
    cases = ADAPTERS[kind](root)
    if not cases:
        raise ConfigError(f"{root}: no labelled clip in the {NAMES[kind]} layout (see docs/evals.md)")
    return Suite(name=kind, description=f"{NAMES[kind]} from {root}", cases=cases[:limit] if limit else cases)
