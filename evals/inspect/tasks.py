"""inspect Tasks: one per built-in suite and one per public-benchmark layout; ``inspect eval`` runs them as is.

    inspect eval evals/inspect/tasks.py@smoke --model none -T model_url=http://127.0.0.1:8000/v1
    inspect eval evals/inspect/tasks.py@afew --model none -T root=/data/AFEW -T limit=50

(``mien eval`` wraps this.) Task arguments: ``model_url`` (the endpoint under test; none: the embedded server),
``privacy``, ``without_tools`` (comma-separated tool names to remove: an ablation), ``judge_url`` (an EMER judge).
"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample

from evals.inspect.solver import SessionFactory, mien_agent
from evals.inspect.spec import Suite
from evals.inspect.suites import SUITES
from evals.scorers import scorers_for


def split_tools(without_tools: str | None) -> list[str]:
    return [name.strip() for name in (without_tools or "").split(",") if name.strip()]


def suite_task(
    suite: Suite,
    model_url: str | None = None,
    privacy: str | None = None,
    without_tools: str | None = None,
    judge_url: str | None = None,
    session_factory: SessionFactory | None = None,
) -> Task:
    """The inspect Task of ``suite``: each case a sample (the case in its metadata), Mien's agent as the solver,
    the scorers its expectations call for."""
    samples = [
        Sample(
            id=case.id,
            input=case.turns[0].question,
            target=case.turns[-1].expect.label or "",
            metadata={"case": case.model_dump(mode="json"), "tags": case.tags},
        )
        for case in suite.cases
    ]
    removed = split_tools(without_tools)
    return Task(
        dataset=MemoryDataset(samples, name=suite.name),
        solver=mien_agent(model_url, privacy, removed, session_factory),
        scorer=scorers_for(suite.cases, judge_url),
        metadata={"suite": suite.name, "description": suite.description, "without_tools": removed},
        name=suite.name,
    )


def _builtin(name: str, model_url: str | None, privacy: str | None, without_tools: str, judge_url: str | None) -> Task:
    return suite_task(SUITES[name], model_url, privacy, without_tools, judge_url)


@task
def smoke(
    model_url: str | None = None, privacy: str | None = None, without_tools: str = "", judge_url: str | None = None
) -> Task:
    """Two questions about the astronaut photo (faces, mood): the quick check."""
    return _builtin("smoke", model_url, privacy, without_tools, judge_url)


@task
def perception(
    model_url: str | None = None, privacy: str | None = None, without_tools: str = "", judge_url: str | None = None
) -> Task:
    """Faces, identities, speech, body language, spotting, liveness."""
    return _builtin("perception", model_url, privacy, without_tools, judge_url)


@task
def affect(
    model_url: str | None = None, privacy: str | None = None, without_tools: str = "", judge_url: str | None = None
) -> Task:
    """Emotions and their reasons: SoVTP, DEEMO, a follow-up turn, EMER-style rubric scores."""
    return _builtin("affect", model_url, privacy, without_tools, judge_url)


@task
def privacy(
    model_url: str | None = None, privacy: str | None = None, without_tools: str = "", judge_url: str | None = None
) -> Task:
    """De-identification, cloaking, the deidentified privacy mode."""
    return _builtin("privacy", model_url, privacy, without_tools, judge_url)


@task
def benchmark(
    layout: str,
    root: str,
    limit: int | None = None,
    model_url: str | None = None,
    privacy: str | None = None,
    without_tools: str = "",
    judge_url: str | None = None,
) -> Task:
    """A public benchmark folder (``layout``: afew, affwild2, cexpr, casme2, deemo; see ``evals.inspect.adapters``)."""
    from pathlib import Path

    from evals.inspect.adapters import adapter_suite

    return suite_task(adapter_suite(layout, Path(root), limit), model_url, privacy, without_tools, judge_url)


REGISTERED = {"smoke": smoke, "perception": perception, "affect": affect, "privacy": privacy}
