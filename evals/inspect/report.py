"""Reports of evaluation runs read from inspect's logs: one run's scores per metric and per item, and the diff of
two runs (what improved, what regressed, per item and per metric).

A RUN is an inspect log file (``.eval`` or ``.json``) or a folder of them (``mien eval`` writes one per suite;
the newest log of each suite is taken). Metric keys read ``scorer/metric`` at the run level and ``scorer`` or
``scorer.key`` per item. Lower is better for latency and the attack error rates; higher for everything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, read_eval_log

from evals.inspect.solver import turn_records
from tools.errors import ConfigError

LOWER_IS_BETTER = ("latency", "apcer", "bpcer", "acer")
TOLERANCE = 1e-9


def lower_is_better(key: str) -> bool:
    return any(word in key for word in LOWER_IS_BETTER)


@dataclass
class ItemResult:
    """One sample of one suite: its scores, what the agent answered, which tools ran, the frames it used."""

    suite: str
    item: str
    scores: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # the scorers' explanations
    answers: list[str] = field(default_factory=list)
    tools: list[list[str]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    marked: list[dict[str, Any]] = field(default_factory=list)  # findings with face marks, for evidence frames
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.item}"


@dataclass
class RunReport:
    """Every suite of one run: run-level metrics (``suite:scorer/metric``) and the items."""

    name: str
    logs: list[str]
    metrics: dict[str, float]
    items: dict[str, ItemResult]
    settings: dict[str, Any]


def _logs_of(run: str | Path) -> list[Path]:
    path = Path(run)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{path} is neither an inspect log nor a folder of them")
    found = sorted([*path.glob("*.eval"), *path.glob("*.json")], key=lambda p: p.stat().st_mtime)
    if not found:
        raise ConfigError(f"{path} holds no inspect log (.eval/.json)")
    newest: dict[str, Path] = {}
    for log in found:  # the newest log of each suite
        newest[read_eval_log(str(log), header_only=True).eval.task] = log
    return list(newest.values())


def _flatten(name: str, value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        return {f"{name}.{k}": float(v) for k, v in value.items() if isinstance(v, int | float)}
    if isinstance(value, bool | int | float):
        return {name: float(value)}
    return {}


def _item(suite: str, sample: Any) -> ItemResult:
    result = ItemResult(suite=suite, item=str(sample.id))
    for name, score in (sample.scores or {}).items():
        result.scores.update(_flatten(name, score.value))
        if score.explanation:
            result.notes[name] = str(score.explanation)
    for record in turn_records(sample):
        answer = record.answer
        result.answers.append(f"Q: {record.question}\nA: label {answer.get('label')!r}. {answer.get('explanation')}")
        result.tools.append([str(run.get("tool")) for run in answer.get("tools", []) if isinstance(run, dict)])
        for citation in answer.get("evidence", []) if isinstance(answer.get("evidence"), list) else []:
            result.frames += [str(f) for f in citation.get("frames", [])]
        result.marked += [f for f in record.findings if f.get("marks")]
    if sample.error is not None:
        result.error = str(sample.error.message)
    return result


def load_run(run: str | Path) -> RunReport:
    """The report of a run (a log, or a folder of logs)."""
    metrics: dict[str, float] = {}
    items: dict[str, ItemResult] = {}
    settings: dict[str, Any] = {}
    logs = _logs_of(run)
    for path in logs:
        log: EvalLog = read_eval_log(str(path))
        suite = log.eval.task
        settings[suite] = {"task_args": log.eval.task_args, **(log.eval.metadata or {}), "status": log.status}
        for score in log.results.scores if log.results else []:
            for metric_name, metric in score.metrics.items():
                if not math.isnan(float(metric.value)):  # NaN: no sample was scored by it
                    metrics[f"{suite}:{score.name}/{metric_name}"] = float(metric.value)
        for sample in log.samples or []:
            item = _item(suite, sample)
            items[item.key] = item
    return RunReport(str(run), [str(p) for p in logs], metrics, items, settings)


@dataclass(frozen=True)
class Change:
    """One number that differs between two runs; ``better`` says in which direction."""

    where: str  # "suite:scorer/metric" for run metrics, "suite/item" for items
    metric: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def better(self) -> bool | None:
        if self.delta is None or abs(self.delta) <= TOLERANCE:
            return None
        return (self.delta < 0) if lower_is_better(self.metric) else (self.delta > 0)


@dataclass
class RunDiff:
    before: RunReport
    after: RunReport
    metrics: list[Change]
    items: list[Change]

    @property
    def regressions(self) -> list[Change]:
        """Item scores that got worse (latency, which differs on every run, is not counted)."""
        return [c for c in self.items if c.better is False and not _timing(c.metric)]

    @property
    def improvements(self) -> list[Change]:
        return [c for c in self.items if c.better is True and not _timing(c.metric)]

    @property
    def metric_regressions(self) -> list[Change]:
        return [c for c in self.metrics if c.better is False and not _timing(c.metric)]


def _timing(metric: str) -> bool:
    return metric.startswith("latency")


def diff_runs(before: RunReport, after: RunReport) -> RunDiff:
    """Every run metric of either run, and every item score that changed, appeared or vanished.

    Latency differs on every run; it is listed among the metrics but never counted as a regression of an item.
    """
    metrics = [
        Change(key, key.split(":", 1)[-1], before.metrics.get(key), after.metrics.get(key))
        for key in sorted(set(before.metrics) | set(after.metrics))
    ]
    items: list[Change] = []
    for key in sorted(set(before.items) | set(after.items)):
        a, b = before.items.get(key), after.items.get(key)
        names = sorted(set(a.scores if a else {}) | set(b.scores if b else {}))
        for name in names:
            x = a.scores.get(name) if a else None
            y = b.scores.get(name) if b else None
            if x is None or y is None or abs(x - y) > TOLERANCE:
                items.append(Change(key, name, x, y))
    return RunDiff(before, after, metrics, items)
