"""``mien attack train|evaluate`` over the documented folder layout, and ``mien liveness --json``, end to end on a
small dataset synthesized from the ten colour photos (one sample per person and class: wiring, not accuracy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from tools.attack.dataset import write_synthetic_dataset
from tools.attack.training import load_checkpoint
from tools.media import save_image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("attack-data")
    write_synthetic_dataset(folder, seed=2, per_class={"train": 2, "val": 1, "test": 1}, lfw=False)
    return folder


def test_train_reports_the_full_model_the_ablation_and_leave_one_out(
    small_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights, report = tmp_path / "w.pt", tmp_path / "report.json"
    code = main(
        ["attack", "train", str(small_data), "--epochs", "1", "--out", str(weights), "--leave-out", "print",
         "--report", str(report), "--json"]
    )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(report.read_text())
    assert set(printed) >= {"full", "no_frequency", "leave_one_out", "counts", "subjects"}
    assert printed["subjects"] == {"train": 5, "val": 1, "test": 3}
    assert list(printed["leave_one_out"]) == ["print"]
    assert printed["leave_one_out"]["print"]["metrics"]["attack_counts"] == {"print": 3}
    metrics = printed["full"]["metrics"]
    assert set(metrics) >= {"acer", "apcer", "bpcer", "auc", "eer", "threshold", "apcer_by_type"}
    assert metrics["acer"] == pytest.approx((metrics["apcer"] + metrics["bpcer"]) / 2, abs=1e-3)
    assert load_checkpoint(weights).threshold == pytest.approx(metrics["threshold"], abs=1e-4)

    assert main(["attack", "evaluate", str(small_data), "--weights", str(weights), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)["evaluated"]["metrics"]
    assert evaluated == metrics  # same weights, same threshold (from val), same test set


def test_unknown_attack_types_and_bad_folders_are_named(small_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attack", "train", str(small_data), "--leave-out", "hologram"]) == 2
    assert "unknown attack types ['hologram']" in capsys.readouterr().err
    assert main(["attack", "evaluate", str(small_data / "nowhere")]) == 2
    assert "no test/ folder" in capsys.readouterr().err


def test_liveness_json_has_a_verdict_per_person(
    tmp_path: Path, group_photo, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    path = save_image(tmp_path / "group.png", group_photo)
    assert main(["liveness", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kind"] == "image" and len(payload["tracks"]) == 6
    for track in payload["tracks"]:
        assert track["verdict"] in ("live", "undetermined", "attack")
        assert track["model"]["threshold"] == pytest.approx(0.2114, abs=1e-4)  # the embedded weights' val threshold
        assert track["pulse"] is None  # an image has no pulse
