"""Running suites: ``inspect_ai.eval`` on the suites' tasks (parallelism, retries, logs, seeds all inspect's), and
``inspect_ai.eval_retry`` to resume an interrupted run from its log (finished samples are not asked again).

Suite names: the built-in ones (``evals.inspect.suites``), ``all`` (every built-in suite but smoke), or a public
benchmark layout with its folder, ``afew:/data/AFEW`` (``evals.inspect.adapters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspect_ai import Task, eval_retry
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog

from evals.inspect.solver import SessionFactory, close_sessions
from evals.inspect.suites import BUILT_IN, SUITES
from evals.inspect.tasks import suite_task
from tools.errors import ConfigError

INSPECT_MODEL = "none"  # inspect's sentinel: the solver calls Mien's agent, never inspect's model


@dataclass(frozen=True)
class RunOptions:
    """What ``mien eval`` passes on. ``max_samples`` 1 by default: a local model answers one question at a time."""

    model_url: str | None = None
    privacy: str | None = None
    limit: int | None = None
    log_dir: Path = Path("out/evals")
    without_tools: str | None = None
    judge_url: str | None = None
    max_samples: int = 1
    retry_on_error: int | None = None
    epochs: int | None = None
    sample_ids: tuple[str, ...] = ()
    keep_going: bool = False  # False: inspect's default, a failed sample stops the task (then --resume finishes it)


def suite_tasks(names: list[str], options: RunOptions, session_factory: SessionFactory | None = None) -> list[Task]:
    """The tasks of ``names``; an unknown name is a ``ConfigError`` that lists the known ones."""
    from evals.inspect.adapters import ADAPTERS, adapter_suite
    from evals.inspect.tasks import REGISTERED, benchmark

    tasks = []
    args = (options.model_url, options.privacy, options.without_tools or "", options.judge_url)
    for name in names:
        expanded = list(BUILT_IN) if name == "all" else [name]
        for item in expanded:
            kind, _, root = item.partition(":")
            if kind in ADAPTERS and root:
                if session_factory is None:  # registered tasks: inspect can re-create them to resume a run
                    tasks.append(benchmark(kind, root, options.limit, *args))
                    continue
                suite = adapter_suite(kind, Path(root), options.limit)
            elif item in SUITES:
                if session_factory is None and item in REGISTERED:
                    tasks.append(REGISTERED[item](*args))
                    continue
                suite = SUITES[item]
            else:
                known = ", ".join([*SUITES, "all", *(f"{a}:FOLDER" for a in ADAPTERS)])
                raise ConfigError(f"unknown suite {item!r}; choose from {known}")
            tasks.append(suite_task(suite, *args, session_factory=session_factory))
    return tasks


def run_suites(
    names: list[str], options: RunOptions, session_factory: SessionFactory | None = None, display: str = "none"
) -> list[EvalLog]:
    """Evaluate the suites; one inspect log per suite under ``options.log_dir``."""
    tasks = suite_tasks(names, options, session_factory)
    try:
        return inspect_eval(
            tasks,
            model=INSPECT_MODEL,
            log_dir=str(options.log_dir),
            limit=options.limit,
            max_samples=options.max_samples,
            retry_on_error=options.retry_on_error,
            epochs=options.epochs,
            sample_id=list(options.sample_ids) or None,
            display=display,  # type: ignore[arg-type]
            fail_on_error=False if options.keep_going else None,
        )
    finally:
        close_sessions()


def resume(log: str, log_dir: Path, display: str = "none") -> list[EvalLog]:
    """Finish an interrupted run from its log: inspect reruns only the samples that did not complete."""
    try:
        return eval_retry(log, log_dir=str(log_dir), display=display)  # type: ignore[arg-type]
    finally:
        close_sessions()
