"""The public-benchmark adapters on tiny folders in each layout, written here around one real composed clip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from inspect_ai._util.registry import registry_info

from evals.inspect.adapters import adapter_suite, majority_label
from evals.inspect.tasks import suite_task
from tools.errors import ConfigError


@pytest.fixture()
def clip(pan_clip: Path) -> Path:
    return pan_clip


def _copy(clip: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(clip, target))


def test_afew_layout(clip: Path, tmp_path: Path) -> None:
    _copy(clip, tmp_path / "Train" / "Happy" / "000001.mp4")
    _copy(clip, tmp_path / "Val" / "Sad" / "000002.avi")
    _copy(clip, tmp_path / "Val" / "NotAnEmotion" / "x.mp4")  # ignored
    suite = adapter_suite("afew", tmp_path)
    labels = {case.id: case.turns[0].expect.label for case in suite.cases}
    assert labels == {"afew-Happy-000001": "Happiness", "afew-Sad-000002": "Sadness"}
    assert all(case.turns[0].expect.label_kind == "basic" for case in suite.cases)


def test_affwild2_and_cexpr_layouts(clip: Path, tmp_path: Path) -> None:
    wild = tmp_path / "wild"
    _copy(clip, wild / "videos" / "12-24-1920x1080.mp4")
    notes = wild / "annotations" / "EXPR_Classification_Challenge" / "Train_Set" / "12-24-1920x1080.txt"
    notes.parent.mkdir(parents=True)
    header = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
    notes.write_text("\n".join([header, "-1", "4", "4", "0", "7", "7", "7"]) + "\n")  # Other is not a class
    assert majority_label(notes, ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")) == (
        "Happiness"
    )
    suite = adapter_suite("affwild2", wild)
    assert [(c.id, c.turns[0].expect.label) for c in suite.cases] == [("affwild2-12-24-1920x1080", "Happiness")]

    compound = tmp_path / "cexpr"
    _copy(clip, compound / "videos" / "c001.mp4")
    (compound / "annotations").mkdir(parents=True)
    names = "Fearfully Surprised,Happily Surprised,Sadly Surprised,Disgustedly Surprised,Angrily Surprised,"
    names += "Sadly Fearful,Sadly Angry,Other"
    (compound / "annotations" / "c001.txt").write_text("\n".join([names, "1", "1", "6"]))
    case = adapter_suite("cexpr", compound).cases[0]
    assert (case.turns[0].expect.label, case.turns[0].expect.label_kind) == ("Happily Surprised", "compound")
    task = suite_task(adapter_suite("cexpr", compound))  # an inspect Task with the compound scorer
    assert len(task.dataset) == 1
    assert "compound_label" in [registry_info(scorer).name for scorer in task.scorer or []]


def test_casme2_layout(clip: Path, tmp_path: Path) -> None:
    _copy(clip, tmp_path / "rawvideo" / "s15" / "15_0101disgustingteeth.mp4")
    rows = [
        "15,15_0101disgustingteeth,61,72,82,AU4,disgust,macro-expression,,",
        "15,15_0101disgustingteeth,130,135,0,AU1,surprise,micro-expression,,",  # offset 0: the apex is used
    ]
    (tmp_path / "CASME2_code_final.csv").write_text("\n".join(rows) + "\n")
    case = adapter_suite("casme2", tmp_path).cases[0]
    spans = [(i.onset_s, i.offset_s, i.kind, i.label) for i in case.turns[0].expect.intervals or []]
    assert spans == [(61 / 30, 82 / 30, "macro", "disgust"), (130 / 30, 135 / 30, "micro", "surprise")]
    assert case.turns[0].expect.tools == ["spot_expressions"]


def test_deemo_layout(clip: Path, tmp_path: Path) -> None:
    _copy(clip, tmp_path / "videos" / "d1.mp4")
    item = {"video": "d1.mp4", "question": "Why is she happy?", "emotion": "happy",
            "reasoning": "She smiles and says she is glad.", "clues": ["she smiles"]}  # fmt: skip
    (tmp_path / "annotations.jsonl").write_text(json.dumps(item) + "\n\n")
    turn = adapter_suite("deemo", tmp_path).cases[0].turns[0]
    assert turn.question == "Why is she happy?"
    assert (turn.expect.style, turn.expect.rubric, turn.expect.clues) == ("deemo", item["reasoning"], ["she smiles"])


def test_bad_layouts_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AFEW"):
        adapter_suite("afew", tmp_path / "missing")
    with pytest.raises(ConfigError, match="no labelled clip"):
        adapter_suite("afew", tmp_path)
    (tmp_path / "annotations.jsonl").write_text('{"video": "a.mp4"}\n')
    with pytest.raises(ConfigError, match=r"annotations\.jsonl:1"):
        adapter_suite("deemo", tmp_path)
    with pytest.raises(ConfigError, match="unknown benchmark layout"):
        adapter_suite("nope", tmp_path)
