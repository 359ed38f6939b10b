"""The RESULTS folder without Ray: typed rows round-trip, parts are atomic, formats and runs do not mix."""

from __future__ import annotations

import pytest

from tools.batch import BatchBusyError, FileResult, ResultStore, collect_inputs, latest_results, parse_tools
from tools.batch.types import EmotionsSummary, EmotionTrackSummary, FacesSummary, ToolProblem, TrackSpanSummary
from tools.errors import ConfigError


def _result(path: str, status: str = "ok", finished_at: float = 1.0) -> FileResult:
    return FileResult(
        path=path, key=f"k-{path}", tools=("faces", "emotions"), status=status, finished_at=finished_at,  # type: ignore[arg-type]
        kind="video", duration_s=2.0, worker="host:1",
        faces=FacesSummary(people=1, frames_analysed=10, detections=9, embedder="dlib-resnet",
                           tracks=[TrackSpanSummary(track_id=1, start_s=0.0, end_s=1.8, frames=9)]),
        emotions=EmotionsSummary(model="fer", au_source="mesh", tracks=[
            EmotionTrackSummary(track_id=1, top_label="Happiness", top_probability=0.9, frames=9),
            EmotionTrackSummary(track_id=2, top_label="Sadness", top_probability=0.95, frames=3)]),
        problems=[ToolProblem(tool="transcripts", kind="skipped", error_type="NotApplicable", message="no audio")],
    )


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_rows_round_trip_through_parts(tmp_path, fmt) -> None:
    out = tmp_path / "r"
    with ResultStore(out, fmt) as store:
        assert store.append([]) is None
        part = store.append([_result("a.mp4"), _result("b.mp4", "error")])
        assert part is not None and part.name.startswith("part-00000-") and part.suffix == f".{fmt}"
        store.append([_result("c.mp4")])
        assert store.parts_written == 2
    back = ResultStore(out, fmt).results()
    assert back == [_result("a.mp4"), _result("b.mp4", "error"), _result("c.mp4")]
    row = back[0].to_row()
    assert (row["people"], row["emotion"], row["status"]) == (1, "Sadness", "ok")  # the most confident track


def test_stale_temporary_part_is_removed_and_ignored(tmp_path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / ".tmp-part-00000-dead.parquet").write_bytes(b"half a file")
    with ResultStore(out) as store:
        assert store.results() == []
    assert not list(out.glob(".tmp-*"))


def test_formats_and_concurrent_runs_do_not_mix(tmp_path) -> None:
    out = tmp_path / "r"
    with ResultStore(out, "jsonl") as store:
        store.append([_result("a.mp4")])
        with pytest.raises(BatchBusyError, match="another `mien batch` run"), ResultStore(out, "jsonl"):
            pass
    with pytest.raises(ConfigError, match="--format jsonl"):
        ResultStore(out, "parquet")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="must be a folder"):
        ResultStore(tmp_path / "file")


def test_latest_result_supersedes_an_error_row(tmp_path) -> None:
    out = tmp_path / "r"
    with ResultStore(out) as store:
        store.append([_result("a.mp4", "error", finished_at=1.0)])
        store.append([_result("a.mp4", "ok", finished_at=2.0)])
    assert [r.status for r in latest_results(out)] == ["ok"]


def test_parse_tools_and_inputs(tmp_path) -> None:
    assert parse_tools("faces, emotions,faces") == ("faces", "emotions")
    with pytest.raises(ConfigError, match=r"unknown tool.*poses.*choose from faces"):
        parse_tools("faces,poses")
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/a.mp4", "d/sub/b.PNG", "d/notes.md", "d/.hidden.mp4"):
        (tmp_path / name).write_bytes(b"x")
    listing = tmp_path / "l.txt"
    listing.write_text("# list\nd/a.mp4\n\nmissing.wav\n")
    found = collect_inputs([tmp_path / "d", listing])
    assert found == [(tmp_path / "d/a.mp4").resolve(), (tmp_path / "d/sub/b.PNG").resolve(),
                     (tmp_path / "missing.wav").resolve()]
    with pytest.raises(ConfigError, match="no such file"):
        collect_inputs([tmp_path / "nope"])
