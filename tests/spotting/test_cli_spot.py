"""``mien spot``: the table and JSON of a real composed clip, the timeline plot, physiological signals, the
CAS(ME)-style train/evaluate folder, and bad input as one-line errors with their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from tests.spotting.conftest import EXPRESSION_CLIP
from tools.spotting.physio import Channel
from tools.spotting.physio.signals import write_edf


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_json_lists_both_intervals_with_times(expression_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["spot", str(expression_clip), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert (payload["micro"], payload["macro"]) == (1, 1)
    micro = payload["intervals"][0]
    assert micro["kind"] == "micro" and micro["label"] == "Happiness"
    assert 1.9 <= micro["onset_s"] <= micro["apex_s"] <= micro["offset_s"] <= 2.3


@pytest.mark.slow
def test_table_plot_and_signals(expression_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = np.arange(0, 8.0, 1 / 4.0)
    eda = Channel("EDA", "EDA", 4.0, 0.0, 2.0 + 0.4 * (t > 2.2))  # a skin-conductance rise after the smile
    signals = write_edf(tmp_path / "body.edf", [eda])
    plot = tmp_path / "timeline.png"
    code, out, _ = run(["spot", str(expression_clip), "--plot", str(plot), "--signals", str(signals), "--json"],
                       capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["plot"] == str(plot) and plot.stat().st_size > 10_000
    micro = payload["intervals"][0]
    assert micro["physiology"]["eda_rise"] == pytest.approx(0.4, abs=0.01)
    # EDA is the only cue: arousal (0.4 - 0.025) / (0.5 - 0.025) = 0.789; fused = face score x (1 + 0.5 (2a - 1))
    assert micro["arousal"] == pytest.approx(0.7895, abs=0.002)
    assert micro["fused_score"] == pytest.approx(micro["score"] * 1.2895, abs=0.01)
    code, out, _ = run(["spot", str(expression_clip), "--signals", str(signals)], capsys)
    assert code == 0 and "arousal" in out and "heuristic" in out and "0.79" in out
    code, out, _ = run(["spot", str(expression_clip)], capsys)
    assert code == 0 and "arousal" not in out
    assert "micro" in out and "Happiness" in out and "0:02.0" in out and "Sadness" in out


def test_signals_that_miss_the_video_are_a_one_line_error(
    expression_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = tmp_path / "late.csv"
    late.write_text("time_s,EDA\n" + "".join(f"{600 + i / 4},{2.0}\n" for i in range(40)))
    code, _, err = run(["spot", str(expression_clip), "--signals", str(late)], capsys)
    assert code == 3 and "do not overlap" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("fixture", "code", "message"),
    [("faceless_clip", 4, "no face found"), ("single_frame_clip", 3, "has 1 frame")],
)
def test_bad_videos_are_one_line_errors(
    fixture: str, code: int, message: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    got, _, err = run(["spot", str(request.getfixturevalue(fixture))], capsys)
    assert got == code and err.startswith("mien: error: ") and message in err and err.count("\n") == 1


def test_a_short_track_is_a_note_not_an_error(flash_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["spot", str(flash_clip)], capsys)
    assert code == 0 and "seen for 3 frames" in out


def test_train_needs_a_folder_with_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["spot", "train", str(tmp_path), "--out", str(tmp_path / "m.pt")], capsys)
    assert code == 2 and "no labels.csv" in err
    code, _, err = run(["spot", "evaluate"], capsys)
    assert code == 2 and "needs a data folder" in err


@pytest.mark.slow
def test_train_and_evaluate_on_a_casme_style_folder(
    expression_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "videos").mkdir(parents=True)
    (data / "videos" / "clip.mp4").write_bytes(expression_clip.read_bytes())
    rows = ["video,onset,offset,kind,label"] + [
        f"clip,{e.onset_frame},{e.offset_frame},{'micro' if e.frames <= 15 else 'macro'},{e.label}"
        for e in EXPRESSION_CLIP.events
    ]
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    code, out, _ = run(["spot", "evaluate", str(data), "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["method"] == "training-free spotter"
    assert report["overall"]["tp"] == 2 and report["overall"]["f1"] == 1.0 and report["overall"]["strs"] == 1.0
    model = tmp_path / "net.pt"
    code, out, _ = run(["spot", "train", str(data), "--out", str(model), "--epochs", "20", "--json"], capsys)
    assert code == 0 and model.is_file()
    trained = json.loads(out)
    assert trained["windows"] == 1 and trained["loss_last"] < trained["loss_first"]
    assert (data / "features" / "clip.npy").is_file()
    code, out, _ = run(["spot", "evaluate", str(data), "--model", str(model), "--json"], capsys)
    assert code == 0 and json.loads(out)["method"].startswith("SpottingNet")


@pytest.mark.slow
def test_signals_are_the_physiology_modality_of_compound_emotions(
    expression_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = np.arange(0, 8.0, 1 / 4.0)
    signals = write_edf(tmp_path / "body.edf", [Channel("EDA", "EDA", 4.0, 0.0, 2.0 + 0.4 * (t > 2.2))])
    code, out, _ = run(["emotions", str(expression_clip), "--compound", "--signals", str(signals), "--json"], capsys)
    assert code == 0
    (person,) = json.loads(out)["compound"]
    body = next(m for m in person["modalities"] if m["modality"] == "physiology")
    assert body["present"] and "arousal heuristic" in body["source"]
    code, _, err = run(["emotions", str(expression_clip), "--signals", str(signals)], capsys)
    assert code == 2 and "--compound" in err
