"""The resident service as real processes: `mien service start|status|stop`, `mien ask` through it, single
instance, private socket, idle timeout, stale-socket cleanup, and the in-process fallback.

One service (the default embedded chat model) serves the module. A second, lighter one for the idle and crash
tests uses the first one's chat model server as its endpoint (a real llama.cpp/transformers server either way),
so it loads only the tools.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent.service.lifecycle import find_service, service_session
from agent.service.paths import service_paths
from evals import codec_clips, samples
from tools.errors import ConfigError
from tools.media import save_image
from tools.settings import Settings, get_settings

pytestmark = pytest.mark.slow


def _env(home: Path, service_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIEN_")}
    env.update(MIEN_HOME=str(home), MIEN_SERVICE_DIR=str(service_dir), MIEN_SERVICE="auto", **extra)
    return env


def _mien(env: dict[str, str], *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout.strip(), result.stderr[-2000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _settings(env: dict[str, str]) -> Settings:
    return Settings(home=Path(env["MIEN_HOME"]), service_dir=Path(env["MIEN_SERVICE_DIR"]))


def _service_log(env: dict[str, str]) -> str:
    return service_paths(_settings(env), create=False).log.read_text(errors="replace")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The module's service, started by two `mien service start` at once (it must start once)."""
    root = tmp_path_factory.mktemp("svc")
    env = _env(root / "home", root / "run")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _mien(env, "service", "start", "--json"), range(2)))
    env["_STARTS"] = json.dumps([_json(r) for r in results])
    try:
        yield env
    finally:
        _mien(env, "service", "stop", timeout=60)


@pytest.fixture()
def photo(tmp_path: Path) -> str:
    return str(save_image(tmp_path / "astronaut.png", samples.astronaut()))


def test_two_simultaneous_starts_make_one_private_service(served: dict[str, str]) -> None:
    starts = json.loads(served["_STARTS"])
    assert sorted(s["started"] for s in starts) == [False, True]
    assert starts[0]["pid"] == starts[1]["pid"] and _alive(starts[0]["pid"])
    assert {s["state"] for s in starts} == {"ready"}
    paths = service_paths(_settings(served), create=False)
    assert stat.S_IMODE(paths.folder.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(paths.socket.stat().st_mode) and stat.S_IMODE(paths.socket.stat().st_mode) == 0o600
    assert [w["error"] for w in starts[0]["warm"]] == [None, None, None]  # faces, expression, speech preloaded


def test_a_second_service_process_refuses_to_run(served: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "agent.service"], env=served, capture_output=True, timeout=120)
    assert result.returncode == 3, result.stderr[-1000:]
    assert b"already runs" in result.stderr
    assert _json(_mien(served, "service", "status", "--json"))["running"] is True


def test_ask_answers_through_the_service_and_a_follow_up_reuses_its_evidence(
    served: dict[str, str], photo: str
) -> None:
    runs_before = _service_log(served).count("run ask")
    first = _json(_mien(served, "ask", photo, "How does she feel?", "--json"))
    second = _json(_mien(served, "ask", photo, "Is she happy or sad?", "--json", "--thread", first["thread"]))
    assert first["label"] == second["label"] == "Happiness"
    assert [t["tool"] for t in first["tools"]] == ["read_emotions"] and first["tools"][0]["cached"] is False
    assert [t["cached"] for t in second["tools"]] == [True]
    # Both were answered by the service, each handed over whole (`mien ask` imports only the client).
    assert _service_log(served).count("run ask") == runs_before + 2


def test_an_error_in_the_service_comes_back_as_the_same_error(
    served: dict[str, str], photo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_env(served, monkeypatch)
    session = service_session(get_settings())
    assert session is not None
    with pytest.raises(ConfigError, match=r"^the question is empty$"):  # raised by the session, in the service
        session.ask("   ", [photo], "empty-question")
    assert "ask in thread empty-question " in _service_log(served)


def _use_env(served: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in served.items():
        if key.startswith("MIEN_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()


def test_a_client_with_other_settings_answers_in_process(
    served: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_env(served, monkeypatch)
    assert service_session(get_settings()) is not None
    monkeypatch.setenv("MIEN_DETECTION_THRESHOLD", "0.6")
    get_settings.cache_clear()
    assert service_session(get_settings()) is None  # it would answer with other thresholds
    monkeypatch.setenv("MIEN_SERVICE", "off")
    get_settings.cache_clear()
    assert service_session(get_settings()) is None


def test_without_a_service_use_mode_answers_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIEN_SERVICE", "use")
    monkeypatch.setenv("MIEN_SERVICE_DIR", str(tmp_path / "run"))
    get_settings.cache_clear()
    assert service_session(get_settings()) is None
    assert not service_paths(get_settings()).socket.exists()  # nothing was started


def test_the_service_stops_when_idle_and_a_killed_one_leaves_no_stale_socket(
    served: dict[str, str], tmp_path: Path
) -> None:
    chat_url = _json(_mien(served, "service", "status", "--json"))["chat_base_url"]
    light = _env(
        tmp_path / "home",
        tmp_path / "run",
        MIEN_LLM_BASE_URL=chat_url,
        MIEN_AGENT_TOOL_CALLING="router",
        MIEN_AGENT_VISION="off",
        MIEN_SERVICE_IDLE_TIMEOUT_S="4",
    )
    paths = service_paths(_settings(light), create=False)
    started = _json(_mien(light, "service", "start", "--json"))
    assert started["started"] is True and started["chat_base_url"] == chat_url
    deadline = time.monotonic() + 60
    while _alive(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(started["pid"]), "the service did not stop after its idle timeout"
    assert not paths.socket.exists()
    status = _mien(light, "service", "status", "--json")
    assert status.returncode == 1 and _json(status)["running"] is False

    light["MIEN_SERVICE_IDLE_TIMEOUT_S"] = "600"
    crashed = _json(_mien(light, "service", "start", "--json"))
    os.kill(crashed["pid"], signal.SIGKILL)
    while _alive(crashed["pid"]):
        time.sleep(0.1)
    assert paths.socket.exists()  # a killed service cannot clean up after itself
    assert find_service(_settings(light), paths) is None
    assert not paths.socket.exists()  # ...the next client does
    restarted = _json(_mien(light, "service", "start", "--json"))
    assert restarted["started"] is True and restarted["pid"] != crashed["pid"]
    stopped = _json(_mien(light, "service", "stop", "--json"))
    assert stopped == {"stopped": True, "pid": restarted["pid"]} and not _alive(restarted["pid"])


def test_perception_commands_run_in_the_warm_service_with_the_same_output(
    served: dict[str, str], tmp_path: Path
) -> None:
    save_image(tmp_path / "astronaut.png", samples.astronaut())

    def mien_in(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=400,
        )

    runs_before = _service_log(served).count("run faces")
    local_env = {**served, "MIEN_SERVICE": "off"}
    warm = mien_in(served, "faces", "astronaut.png", "--json", "--annotate", "served.png")  # relative paths
    local = mien_in(local_env, "faces", "astronaut.png", "--json", "--annotate", "local.png")
    assert warm.returncode == local.returncode == 0, warm.stderr[-2000:]
    assert _service_log(served).count("run faces") == runs_before + 1  # the service ran it, this process did not
    served_faces, local_faces = json.loads(warm.stdout), json.loads(local.stdout)
    assert [f["box"] for f in served_faces["faces"]] == [f["box"] for f in local_faces["faces"]]
    assert served_faces["people"] == local_faces["people"] == 1
    assert served_faces["frames_analysed"] == local_faces["frames_analysed"] == 1
    assert (tmp_path / "served.png").stat().st_size > 10_000  # written in the client's working directory

    table = mien_in(served, "faces", "astronaut.png")
    assert table.returncode == 0 and "1 people in astronaut.png" in table.stdout and table.stderr == ""

    missing_warm = mien_in(served, "faces", "missing.png")
    missing_local = mien_in(local_env, "faces", "missing.png")
    assert missing_warm.returncode == missing_local.returncode != 0
    assert missing_warm.stderr == missing_local.stderr and "missing.png" in missing_warm.stderr
    assert missing_warm.stdout == ""

    # A damaged file: the warning the command logs reaches the client's stderr, as it does in-process.
    codec_clips.cut(
        codec_clips.make_clip(tmp_path / "whole.webm", codec_clips.WEBM_VP9_OPUS), tmp_path / "cut.webm", 0.6
    )
    cut_warm = mien_in(served, "transcribe", "cut.webm", "--json")
    cut_local = mien_in(local_env, "transcribe", "cut.webm", "--json")
    assert cut_warm.returncode == cut_local.returncode == 0, cut_warm.stderr[-2000:]
    assert "cut.webm: audio: the readable part stops at" in cut_warm.stderr
    assert cut_warm.stderr == cut_local.stderr
    assert _service_log(served).count("run transcribe") == 1

    other = mien_in({**served, "MIEN_DETECTION_THRESHOLD": "0.6"}, "faces", "astronaut.png", "--json")
    assert other.returncode == 0 and _service_log(served).count("run faces") == runs_before + 3  # not this one
