"""``mien emotions PATH [--json] [--plot OUT.png]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from agent.cli.app import main
from evals import samples


def test_json_output_for_the_astronaut(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "astronaut.png"
    Image.fromarray(samples.astronaut()).save(path)
    assert main(["emotions", str(path), "--json", "--plot", str(tmp_path / "plot.png")]) == 0
    payload = json.loads(capsys.readouterr().out)
    (track,) = payload["tracks"]
    assert track["top_label"] == "Happiness"
    units = track["estimates"][0]["action_units"]
    assert units["kind"] == "geometric-estimate" and {u["au"] for u in units["units"]} >= {"AU12", "AU45"}
    assert Path(payload["plot"]).is_file()


def test_table_output_for_the_group_photo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emotions", str(samples.group_photo_path())]) == 0
    out = capsys.readouterr().out
    assert "6 people" in out and "Happiness" in out and "Neutral" in out


def test_no_face_and_missing_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skimage import data

    path = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(path)
    assert main(["emotions", str(path)]) == 4
    assert "no face found" in capsys.readouterr().err
    assert main(["emotions", str(tmp_path / "missing.mp4")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("mien: error:") and err.count("\n") == 1
