"""Resuming an interrupted run with inspect's eval_retry: a DEEMO-layout folder whose second clip is missing stops
the run there; once the clip is in place, ``mien eval --resume LOG`` asks only that sample, not the finished one.

The endpoint is the OpenAI-format recording server of the agent tests (it counts the answers it gives)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from agent.cli.app import main
from evals.inspect.run import RunOptions, run_suites
from tests.agent.openai_stub import RecordingServer, StubReply

pytestmark = pytest.mark.slow


def test_resume_reruns_only_the_unfinished_sample(
    pan_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIEN_AGENT_TOOL_CALLING", "router")
    monkeypatch.setenv("MIEN_AGENT_VISION", "off")
    monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "off")
    root = tmp_path / "deemo"
    (root / "videos").mkdir(parents=True)
    shutil.copy(pan_clip, root / "videos" / "d1.mp4")
    items = [{"video": f"d{i}.mp4", "question": "How does she feel?", "emotion": "happy",
              "reasoning": "She smiles."} for i in (1, 2)]  # fmt: skip
    (root / "annotations.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    with RecordingServer(default=StubReply("She looks happy.")) as server:
        first = run_suites([f"deemo:{root}"], RunOptions(model_url=server.base_url, log_dir=tmp_path / "logs"))[0]
        assert first.status == "error"  # d2.mp4 is missing: the run stops there
        answered = len(server.requests)
        assert answered >= 1  # d1 was answered
        shutil.copy(pan_clip, root / "videos" / "d2.mp4")
        assert main(["eval", "--resume", str(first.location), "--log-dir", str(tmp_path / "logs"), "--json"]) == 0
        assert len(server.requests) == answered + 1  # only d2 was asked again
    resumed = json.loads(capsys.readouterr().out)  # one suite, one JSON document
    log = read_eval_log(resumed["log"])
    assert log.status == "success"
    assert sorted(str(s.id) for s in log.samples or []) == ["deemo-d1", "deemo-d2"]
