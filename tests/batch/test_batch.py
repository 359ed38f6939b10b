"""``mien batch`` on a real Ray cluster that this module starts (``ray start --head``), over composed clips.

What is checked: each row says what ``tools.faces`` says about the same file; an interrupted run resumed does not
redo finished files (each file has exactly one row, and the rows written before the interruption are unchanged:
same finish time, same worker); a broken file and a missing file give error rows, not a crashed run; the CLI on
a local in-process Ray keeps Ray's log lines out of the terminal and exits 14 when files failed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals import clips
from evals.samples import astronaut
from tools.batch import FileResult, read_results, run_batch
from tools.faces.pipeline import analyze_file
from tools.media import save_image

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A 2-CPU Ray head node in its own temp dir (short: Ray's socket paths must fit 107 bytes), stopped after."""
    temp_dir = tempfile.mkdtemp(prefix="mienray", dir="/tmp")
    port = _free_port()
    ray_bin = Path(sys.executable).with_name("ray")
    command = [str(ray_bin)] if ray_bin.exists() else [sys.executable, "-m", "ray.scripts.scripts"]
    # A loopback test cluster without token auth (Ray's default once ~/.ray/auth_token exists); the driver in this
    # process must say the same, or it sends no token and the cluster refuses it (or the reverse).
    saved_mode = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [*command, "start", "--head", "--block", "--num-cpus=2", f"--port={port}", f"--temp-dir={temp_dir}",
         "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the GCS port accepts connections once the head is up
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert head.poll() is None, "ray start --head exited"
            time.sleep(0.5)
    try:
        yield address
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # --block: ray start stops its own processes on SIGTERM
        try:
            head.wait(5)
        except subprocess.TimeoutExpired:  # slow under load: its whole process group (GCS, raylet, workers) goes
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)
        if saved_mode is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved_mode


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short composed clips (one person; two crossing), the astronaut photo, and a file that is not a video."""
    folder = tmp_path_factory.mktemp("batch-media")
    clips.pan_zoom_clip(folder / "pan.mp4", seconds=1.5)
    clips.crossing_clip(folder / "crossing.mp4", seconds=1.5)
    save_image(folder / "astronaut.png", astronaut())
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    return folder


def test_cluster_run_interrupted_then_resumed(ray_cluster: str, media: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    seen: list[FileResult] = []

    def stop_after_two(result: FileResult, done: int, total: int) -> None:
        seen.append(result)
        assert total == 4
        if done == 2:
            raise KeyboardInterrupt  # what Ctrl-C in the driver does, after two files are stored

    first = run_batch([media], out, ("faces",), ray_address=ray_cluster, workers=2, flush_every=1,
                      on_result=stop_after_two)
    assert first.interrupted and first.analysed == 2 and first.already_done == 0
    before = {r.key: r for r in read_results(out)}
    assert len(before) == 2 and {r.key for r in seen} == set(before)

    second = run_batch([media], out, ("faces",), ray_address=ray_cluster, workers=2, flush_every=2)
    assert not second.interrupted
    assert (second.files, second.already_done, second.analysed) == (4, 2, 2)
    results = read_results(out)
    assert Counter(r.key for r in results) == Counter({r.key: 1 for r in results})  # nothing was done twice
    assert len(results) == 4
    for key, old in before.items():  # the finished rows were not rewritten
        assert next(r for r in results if r.key == key) == old

    by_name = {Path(r.path).name: r for r in results}
    broken = by_name["broken.mp4"]
    assert broken.status == "error" and broken.faces is None
    assert "corrupt" in (broken.error or "") and "MediaError" in (broken.error or "")
    for name in ("pan.mp4", "crossing.mp4", "astronaut.png"):
        row = by_name[name]
        assert row.status == "ok" and row.faces is not None, row.error
        direct = analyze_file(media / name)  # the single-file API in this process, independent of Ray
        assert row.faces.people == len(direct.tracks), name
        assert row.faces.frames_analysed == direct.frames_analysed
        assert [t.frames for t in row.faces.tracks] == [len(t.faces) for t in direct.tracks]
    assert by_name["crossing.mp4"].faces.people >= 2  # type: ignore[union-attr]  # two people (a crossing may split a track)
    assert by_name["astronaut.png"].kind == "image" and by_name["astronaut.png"].faces.people == 1  # type: ignore[union-attr]

    third = run_batch([media], out, ("faces",), ray_address=ray_cluster)
    assert (third.already_done, third.analysed, third.parts_written) == (4, 0, 0)


def test_cli_local_ray_quiet_with_error_row(media: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    listing = tmp_path / "files.txt"
    listing.write_text(f"# two files, one missing\n{media / 'astronaut.png'}\nnot-there.mp4\n")
    out = tmp_path / "results"
    code = main(["batch", str(listing), "--out", str(out), "--tools", "faces,liveness,spotting", "--format", "jsonl",
                 "--workers", "1", "--json"])
    captured = capfd.readouterr()
    assert code == 14, captured.err  # the run finished, and one file failed
    report = json.loads(captured.out)
    assert (report["files"], report["analysed"], report["ok"], report["errors"]) == (2, 2, 1, 1)
    assert report["ray_address"] is None and report["workers"] == 1
    assert "INFO" not in captured.err and "ray" not in captured.err.lower(), captured.err
    lines = [json.loads(line) for part in sorted(out.glob("part-*.jsonl")) for line in part.read_text().splitlines()]
    assert len(lines) == 2 and isinstance(lines[0]["problems"], list)  # nested columns are objects in JSONL
    rows = {Path(r.path).name: r for r in read_results(out)}
    photo, missing = rows["astronaut.png"], rows["not-there.mp4"]
    assert missing.status == "error" and "not-there.mp4" in (missing.error or "")
    assert photo.status == "ok" and photo.faces is not None and photo.faces.people == 1
    assert photo.liveness is not None and len(photo.liveness.tracks) == 1
    assert [(p.tool, p.kind) for p in photo.problems] == [("spotting", "skipped")]  # a photo has no expressions
    assert not list(out.glob(".tmp-part-*"))
