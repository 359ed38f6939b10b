"""``mien augment pose`` and the ``augment_pose`` tool: the files they write, and clear refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from evals.samples import group_photo_path, tom_hanks_path
from tests.media import badfiles
from tools.augment import turn_face
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.media import load_image, save_image


@pytest.fixture(scope="module")
def astronaut_file(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    return save_image(tmp_path_factory.mktemp("augment") / "astronaut.png", astronaut)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_json_lists_one_png_per_angle(astronaut_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [
            "augment",
            "pose",
            str(astronaut_file),
            "--yaw",
            "30,-15",
            "--pitch",
            "0,10",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["face"] == 1 and report["faces_in_image"] == 1 and abs(report["source_pose"]["yaw_deg"]) < 5
    angles = [(t["yaw_deg"], t["pitch_deg"]) for t in report["turned"]]
    assert angles == [(30.0, 0.0), (30.0, 10.0), (-15.0, 0.0), (-15.0, 10.0)]
    for item in report["turned"]:
        image = load_image(item["output"])
        assert image.shape == (512, 512, 3)
        assert Path(item["output"]).name.startswith("astronaut_face1_yaw")
    assert "not a measured view" in report["method"]
    assert report["warnings"] == []


def test_no_face_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skimage import data

    coffee = save_image(tmp_path / "coffee.png", np.asarray(data.coffee()))  # a real photo of a cup
    code, _, err = run(["augment", "pose", str(coffee), "--out", str(tmp_path / "out")], capsys)
    assert code == 4 and "no face found" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_several_faces_need_face_n(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = str(group_photo_path())
    code, _, err = run(["augment", "pose", photo, "--out", str(tmp_path)], capsys)
    assert code == 2 and "6 faces" in err and "--face N (1..6" in err
    code, _, err = run(["augment", "pose", photo, "--face", "7", "--out", str(tmp_path)], capsys)
    assert code == 2 and "--face 7 does not exist" in err and "6 face(s)" in err
    code, out, err = run(
        ["augment", "pose", photo, "--face", "3", "--yaw", "15", "--out", str(tmp_path), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["face"] == 3 and len(list(tmp_path.glob("t1_face3_yaw+15_pitch+0.png"))) == 1


@pytest.mark.slow
def test_a_profile_is_refused(tom_hanks: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile made from a real photo: Tom Hanks (already 19 degrees turned) turned 45 more reads 59 degrees."""
    faces = analyze_image(tom_hanks, FaceOptions(mesh=True, pose=False, embeddings=False))
    assert faces[0].mesh is not None
    profile = save_image(tmp_path / "profile.png", turn_face(tom_hanks, faces[0].mesh, 45.0).image)
    code, _, err = run(["augment", "pose", str(profile), "--out", str(tmp_path / "out")], capsys)
    assert code == 4 and "a profile" in err and "cannot be textured" in err and "Traceback" not in err
    # The real photo itself is accepted, but not a turn that would carry it past a profile (19 + 75 > 90).
    code, _, err = run(["augment", "pose", str(tom_hanks_path()), "--yaw", "75", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "past a profile" in err and "+94" in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--yaw", "80"], 2, "yaw 80 is outside -75..75"),
        (["--yaw", "ten"], 2, "--yaw takes degrees"),
        (["--pitch", "50"], 2, "pitch 50 is outside -40..40"),
    ],
)
def test_bad_angles_are_refused_before_any_work(
    args: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = save_image(tmp_path / "grey.png", np.full((64, 64, 3), 128, dtype=np.uint8))
    got, _, err = run(["augment", "pose", str(image), *args, "--out", str(tmp_path / "out")], capsys)
    assert got == code and message in err, err


def test_an_unreadable_image_is_a_media_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = badfiles.text_as_jpg(tmp_path / "words.jpg")
    code, _, err = run(["augment", "pose", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 3 and "not a readable image" in err


@pytest.mark.slow
def test_the_agent_tool_labels_renders_as_augmentations(astronaut_file: Path, tmp_path: Path) -> None:
    from tools.langchain_tools import CAPABILITIES, build_tools

    assert "augment_pose" in CAPABILITIES
    (tool,) = build_tools(names=("augment_pose",))
    content, artifact = tool.func(media=str(astronaut_file), yaws=[45.0], output_dir=str(tmp_path))  # type: ignore[attr-defined]
    assert json.loads(content)["evidence"] == "rendering (augmentation), not an observation"
    assert artifact["facts"]["turned"][0]["yaw_deg"] == 45.0
    assert artifact["files"] == [str(tmp_path / "astronaut_face1_yaw+45_pitch+0.png")]
    assert Path(artifact["files"][0]).is_file()
    assert "not a photograph" in artifact["summary"]


@pytest.mark.slow
def test_in_an_agent_run_the_tool_writes_only_into_its_output_folder(astronaut_file: Path, tmp_path: Path) -> None:
    from tools.access import AccessPolicy, policy_scope
    from tools.errors import AccessDeniedError
    from tools.langchain_tools import build_tools
    from tools.settings import get_settings

    settings = get_settings()
    (tool,) = build_tools(names=("augment_pose",))
    with policy_scope(AccessPolicy.for_media([astronaut_file], settings)):
        _, artifact = tool.func(media=str(astronaut_file), yaws=[15.0])  # type: ignore[attr-defined]
        with pytest.raises(AccessDeniedError):
            tool.func(media=str(astronaut_file), yaws=[15.0], output_dir=str(tmp_path / "elsewhere"))  # type: ignore[attr-defined]
    written = Path(artifact["files"][0])
    assert written.parent == settings.home / "augmented" / "astronaut" and written.is_file()
    assert not (tmp_path / "elsewhere").exists()
