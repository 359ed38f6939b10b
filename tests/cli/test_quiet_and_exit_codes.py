"""Real ``mien`` processes: stderr carries our words only (no C++ log lines), and the exit code says what failed.

Each test starts ``python -m agent.cli`` as a user's shell would and reads its file descriptor 2 whole. The native
log lines are recognised here by plain substrings seen in real runs, independent of the filter's own pattern; a
control run without the filter shows they are really printed, so the quiet runs could fail. The chat model is a
scripted OpenAI-format server (``tests.agent.openai_stub``): these tests are about the process, not the prose.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.cli import main
from agent.failures import failed_tools, tool_failure_message
from agent.state import ToolRun
from evals import codec_clips as codecs
from evals import samples
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.media import iter_frames, load_audio
from tools.settings import get_settings

REPO = Path(__file__).parents[2]
# Substrings of the lines MediaPipe, TFLite and absl print from C++ (copied from real runs of `mien faces`).
NATIVE_MARKERS = (
    "Created TensorFlow Lite XNNPACK delegate",
    "absl::InitializeLog()",
    "inference_feedback_manager.cc",
    "landmark_projection_calculator.cc",
    "W0000 00:00:",
    "I0000 00:00:",
)
# 2 s clips (process start-up, not decoding, is what these runs cost); packets damaged at 1.2 and 1.28 s.
DAMAGED_AVI = dataclasses.replace(codecs.AVI_MPEG4_AC3, seconds=2.0, corrupt=(("video", 12), ("audio", 40)))
MUTE_AVI = dataclasses.replace(codecs.AVI_MPEG4_AC3, seconds=2.0, corrupt=tuple(("audio", i) for i in range(200)))


def mien_env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MIEN_HOME": str(home), "MIEN_SERVICE": "off", "OMP_NUM_THREADS": "1", **extra}
    env.pop("MIEN_NATIVE_LOGS", None)
    return env


def run_mien(args: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=mien_env(home, **extra),
        timeout=600,
        check=False,
    )


def native_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(marker in line for marker in NATIVE_MARKERS)]


def stub_env(server: RecordingServer) -> dict[str, str]:
    """A remote endpoint that only writes prose: tools chosen by the router, no images sent."""
    return {"MIEN_LLM_BASE_URL": server.base_url, "MIEN_AGENT_TOOL_CALLING": "router", "MIEN_AGENT_VISION": "off"}


@pytest.fixture(scope="module")
def damaged_avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return codecs.make_clip(tmp_path_factory.mktemp("damaged") / "damaged.avi", DAMAGED_AVI)


FACE_MESH_PROGRAM = textwrap.dedent(
    """
    import os, sys
    from evals.samples import astronaut
    from tools.faces.mediapipe_quiet import solutions
    from tools.native_stderr import NativeStderrFilter

    def work(mode):
        with solutions().face_mesh.FaceMesh(static_image_mode=True) as mesh:
            found = mesh.process(astronaut()).multi_face_landmarks
        print(f"our own warning ({mode}): kept", file=sys.stderr)
        os.write(2, f"a native line that is no log line ({mode})\\n".encode())
        print(mode, "faces", len(found or []))

    work("plain")
    print("--- filter on ---", file=sys.stderr, flush=True)
    with NativeStderrFilter():
        work("filtered")
    """
)


@pytest.mark.slow
def test_the_filter_drops_native_log_lines_and_nothing_else(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FACE_MESH_PROGRAM],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=mien_env(tmp_path),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain", "faces", "1", "filtered", "faces", "1"]
    plain, filtered = done.stderr.split("--- filter on ---\n")
    assert native_lines(plain), plain  # the control: without the filter MediaPipe really prints them
    assert "our own warning (plain): kept" in plain and "a native line that is no log line (plain)" in plain
    assert native_lines(filtered) == []  # a second graph prints them again; the filter drops them
    assert sorted(filtered.splitlines()) == [
        "a native line that is no log line (filtered)",
        "our own warning (filtered): kept",
    ]


@pytest.mark.slow
def test_mien_faces_on_a_damaged_avi_is_quiet_and_warns(damaged_avi: Path, tmp_path: Path) -> None:
    done = run_mien(["faces", str(damaged_avi)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 people in" in done.stdout and "damaged.avi" in done.stdout
    assert native_lines(done.stderr) == []
    (line,) = done.stderr.splitlines()  # one warning line, ours
    assert line.startswith("WARNING tools.media.damage: damaged.avi: video: ") and line.endswith("used the rest")


@pytest.mark.slow
def test_mien_deidentify_uses_the_damaged_avi_quietly(damaged_avi: Path, tmp_path: Path) -> None:
    target = tmp_path / "anon.mp4"
    done = run_mien(["deidentify", str(damaged_avi), str(target)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert native_lines(done.stderr) == []
    warned = [line for line in done.stderr.splitlines() if line.startswith("WARNING tools.media.damage: damaged.avi")]
    assert warned and {line.split(": ")[2] for line in warned} == {"audio", "video"}
    assert all(line in warned for line in done.stderr.splitlines())
    assert len(list(iter_frames(target))) >= 18  # the frames around the damaged one (of 20) are all there
    assert load_audio(target).size == pytest.approx(32_000, abs=1600)  # the voice track too (anonymized)


@pytest.mark.slow
def test_mien_ask_transcribes_the_damaged_avi_quietly(damaged_avi: Path, tmp_path: Path) -> None:
    with RecordingServer(default=StubReply("The person introduces themselves.")) as server:
        done = run_mien(["ask", str(damaged_avi), "What does the person say?"], tmp_path, **stub_env(server))
    assert done.returncode == 0, done.stderr
    assert "my name is" in done.stdout and "from the readable part of a damaged file" in done.stdout
    assert native_lines(done.stderr) == []
    assert any(
        line.startswith("WARNING tools.media.damage: damaged.avi: audio: skipped") for line in done.stderr.splitlines()
    )
    assert "✓ transcribe_speech" in done.stderr
    assert any("damaged.avi: audio: skipped" in text for text in server.texts())  # the model was told too


@pytest.mark.slow
def test_ask_exits_9_naming_the_tool_that_failed(tmp_path: Path) -> None:
    mute = codecs.make_clip(tmp_path / "mute.avi", MUTE_AVI)  # every audio packet damaged: nothing to transcribe
    with RecordingServer(default=StubReply("I could not hear anything.")) as server:
        done = run_mien(["ask", str(mute), "What does the person say?"], tmp_path, **stub_env(server))
    assert done.returncode == 9, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mien: error: a tool the answer needed failed")
    assert "transcribe_speech on mute.avi" in last and "no audio packet could be decoded" in last
    assert "chat model" not in done.stderr and native_lines(done.stderr) == []


@pytest.mark.slow
def test_a_bug_in_the_agent_is_an_internal_error_with_its_traceback_under_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import agent.privacy

    def broken(self: object, messages: object) -> object:
        raise RuntimeError("boom: a bug in the prompt code")

    monkeypatch.setattr(agent.privacy.PrivacyGuard, "messages", broken)
    with RecordingServer(default=StubReply("Six people.")) as server:
        for key, value in stub_env(server).items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        code = main(["--debug", "ask", str(samples.group_photo_path()), "How many people are in this photo?"])
        asked_model = len(server.requests)
    err = capsys.readouterr().err
    assert code == 70
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert err.strip().splitlines()[-1] == (
        "mien: internal error (a bug in Mien): RuntimeError: boom: a bug in the prompt code"
    )
    assert "the chat model at" not in err and asked_model == 0  # never blamed on the model, never sent to it


@pytest.mark.slow
def test_without_debug_a_bug_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import agent.privacy

    def broken(self: object, messages: object) -> object:
        raise KeyError("focus")

    monkeypatch.setattr(agent.privacy.PrivacyGuard, "messages", broken)
    with RecordingServer() as server:
        for key, value in stub_env(server).items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        code = main(["ask", str(samples.group_photo_path()), "How many people are in this photo?"])
    err = capsys.readouterr().err
    assert code == 70
    last = err.strip().splitlines()[-1]
    assert last == "mien: internal error (a bug in Mien): KeyError: 'focus' (rerun with --debug for the traceback)"
    assert "Traceback" not in err and "chat model" not in err


@pytest.mark.slow
def test_a_model_that_fails_is_still_the_models_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with RecordingServer(default=StubReply(status=500)) as server:
        for key, value in stub_env(server).items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        code = main(["ask", str(samples.group_photo_path()), "How many people are in this photo?"])
    out, err = capsys.readouterr()
    assert code == 8
    assert "Label: 6 people" in out  # the tools' evidence still stands
    assert err.strip().splitlines()[-1].startswith(f"mien: error: the chat model at {server.base_url}")


def run(tool: str, media: str, error: str | None) -> ToolRun:
    return ToolRun(tool=tool, args={"media": media}, cached=False, seconds=0.1, error=error, evidence_key=None)


def test_a_failure_made_good_by_a_retry_is_not_counted() -> None:
    runs = [
        run("find_faces", "a.mp4", "find_faces failed: bad arguments"),
        run("find_faces", "a.mp4", None),
        run("transcribe_speech", "a.mp4", "transcribe_speech failed: no audio packet could be decoded"),
        run("read_emotions", "b.mp4", "read_emotions failed: x"),
        run("read_emotions", "a.mp4", None),
    ]
    failed = failed_tools(runs)
    assert [(r["tool"], r["args"]["media"]) for r in failed] == [
        ("transcribe_speech", "a.mp4"),
        ("read_emotions", "b.mp4"),
    ]
    assert tool_failure_message(failed[:1]) == (
        "a tool the answer needed failed, so the answer lacks its evidence: "
        "transcribe_speech on a.mp4: no audio packet could be decoded"
    )
