"""The harness end to end on inspect-ai: the smoke suite through Mien's real agent (router, tools, evidence cache,
reasoning prompts) over a stand-in chat model, then the same suite with ``find_faces`` removed, compared with
``mien eval diff`` from the real inspect logs. The chat model is the only stand-in (``fixed_chat``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from agent.cli.app import main
from evals.inspect.run import RunOptions, run_suites
from tests.evals.fixed_chat import echo_sessions
from tools.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Log paths of the smoke suite with every tool ("full") and without find_faces ("broken")."""
    root = tmp_path_factory.mktemp("eval-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIEN_HOME", str(root / "home"))
        patch.setenv("MIEN_TORCH_THREADS", "1")
        get_settings.cache_clear()
        full = run_suites(["smoke"], RunOptions(log_dir=root / "full"), echo_sessions())
        broken = run_suites(["smoke"], RunOptions(log_dir=root / "broken"), echo_sessions(without=["find_faces"]))
        get_settings.cache_clear()
    yield {"full": str(full[0].location), "broken": str(broken[0].location), "root": str(root)}


def test_smoke_suite_scores_the_real_agent(runs: dict[str, str]) -> None:
    log = read_eval_log(runs["full"])
    assert log.status == "success"
    metrics = {s.name: {k: m.value for k, m in s.metrics.items()} for s in log.results.scores}  # type: ignore[union-attr]
    # The photo has one face and the astronaut smiles: the tools' evidence gives both, the router picks the tools.
    assert metrics["answer_label"]["mean"] == 1.0
    assert metrics["numbers"]["mean"] == 1.0
    assert metrics["emotion_label"]["mean"] == 1.0
    assert metrics["tool_recall"]["mean"] == 1.0 and metrics["tool_forbidden_free"]["mean"] == 1.0
    assert metrics["prompt_style"]["mean"] == 1.0
    assert metrics["grounding"]["mean"] == 1.0  # the stand-in restates the evidence line, which is grounded
    samples = {str(s.id): s for s in log.samples or []}
    turns = samples["astronaut-count"].store["mien_turns"]
    assert turns[0]["answer"]["label"] == "1 person"
    assert [f["tool"] for f in turns[0]["findings"]] == ["find_faces"]
    assert turns[0]["style"] == "plain"


def test_diff_shows_the_removed_tool_regression(runs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    page = Path(runs["root"]) / "diff.html"
    assert main(["eval", "diff", runs["full"], runs["broken"], "--json", "--html", str(page)]) == 0
    result = json.loads(capsys.readouterr().out)
    regressed = {(r["where"], r["metric"]): (r["a"], r["b"]) for r in result["regressions"]}
    # Without find_faces the count question loses its tool, its count and its label; the mood question is intact.
    assert regressed[("smoke/astronaut-count", "tool_calls.tool_recall")] == (1.0, 0.0)
    assert regressed[("smoke/astronaut-count", "numbers")] == (1.0, 0.0)
    assert regressed[("smoke/astronaut-count", "answer_label")] == (1.0, 0.0)
    assert regressed[("smoke/astronaut-count", "prompt_style")] == (1.0, 0.0)  # the emotion tool brings SoVTP
    assert not [key for key in regressed if key[0] == "smoke/astronaut-mood"]
    metrics = {r["where"]: (r["a"], r["b"]) for r in result["metrics"]}
    assert metrics["smoke:answer_label/mean"] == (1.0, 0.0)
    assert metrics["smoke:emotion_label/mean"] == (1.0, 1.0)
    text = page.read_text()
    assert "smoke/astronaut-count" in text and "data:image/png;base64," in text and "<script" not in text
    assert 'title="read_emotions at 0.00 s"' in text  # B's evidence frame, boxes and labels drawn, inlined
    assert main(["eval", "diff", runs["full"], runs["broken"], "--fail-on-regression"]) == 12


def test_report_reads_a_run_folder(runs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = os.path.dirname(runs["full"])
    assert main(["eval", "report", folder, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["smoke:numbers/mean"] == 1.0
    assert report["items"]["smoke/astronaut-mood"]["tools"] == [["read_emotions"]]
