"""``mien eval``: run evaluation suites on inspect-ai, and report or compare runs from their logs.

    mien eval SUITE... [--model URL] [--privacy MODE] [--limit N] [--log-dir DIR] [--without-tools a,b]
    mien eval --resume LOG                  finish an interrupted run (inspect's eval_retry)
    mien eval report RUN [--html PAGE]      one run's scores per metric and item
    mien eval diff RUN_A RUN_B [--html PAGE] [--fail-on-regression]
    mien eval list                          the suites and benchmark layouts

RUN is an inspect log or a folder of them. ``inspect view start --log-dir DIR`` opens inspect's log viewer on the
same logs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.cli.commands.ask import checked_privacy
from agent.cli.output import console, emit_json, err_console
from tools.errors import ConfigError, MienError

EXIT_REGRESSION = 12  # not an error of the input: the runs compared differ (3-10 are the MienError codes)


class EvalRegression(MienError):
    """``mien eval diff --fail-on-regression`` found item scores that got worse."""

    exit_code = EXIT_REGRESSION


def eval_command(
    targets: list[str] = typer.Argument(
        None, help="Suites to run (smoke, perception, affect, privacy, all, afew:FOLDER, ...), or report RUN, "
        "or diff RUN_A RUN_B, or list."
    ),
    model: str | None = typer.Option(None, "--model", help="OpenAI-compatible endpoint under test."),
    privacy: str | None = typer.Option(None, "--privacy", help="local | deidentified, for every case."),
    limit: int | None = typer.Option(None, "--limit", help="At most N samples per suite."),
    log_dir: Path = typer.Option(Path("out/evals"), "--log-dir", help="Where inspect writes the logs."),
    without_tools: str | None = typer.Option(None, "--without-tools", help="Remove these tools (comma-separated)."),
    judge: str | None = typer.Option(None, "--judge", help="OpenAI-compatible endpoint of an EMER judge."),
    max_samples: int = typer.Option(1, "--max-samples", help="Samples in flight at once (inspect)."),
    retry_on_error: int | None = typer.Option(None, "--retry-on-error", help="Retry a failed sample N times."),
    epochs: int | None = typer.Option(None, "--epochs", help="Run each sample N times (inspect epochs)."),
    resume: str | None = typer.Option(None, "--resume", help="Finish the interrupted run of this log."),
    sample_id: list[str] = typer.Option(None, "--sample-id", help="Only this sample (repeatable)."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Score the other samples when one fails (default: "
                                    "stop the suite; --resume then reruns only what did not finish)."),
    html_path: Path | None = typer.Option(None, "--html", help="report/diff: also write a self-contained page."),
    fail_on_regression: bool = typer.Option(False, "--fail-on-regression", help=f"diff: exit {EXIT_REGRESSION} "
                                            "when an item score got worse."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Evaluate Mien's agent with inspect-ai suites, or report and compare runs."""
    targets = list(targets or [])
    if resume is None and not targets:
        raise ConfigError("name one or more suites, or report RUN, diff RUN_A RUN_B, list (see mien eval --help)")
    if targets and targets[0] == "list":
        _list(as_json)
    elif targets and targets[0] == "report":
        _report(targets[1:], html_path, as_json)
    elif targets and targets[0] == "diff":
        _diff(targets[1:], html_path, as_json, fail_on_regression)
    else:
        from evals.inspect.run import RunOptions, run_suites
        from evals.inspect.run import resume as resume_run

        if resume is not None:
            logs = resume_run(resume, log_dir)
        else:
            options = RunOptions(
                model_url=model,
                privacy=checked_privacy(privacy),
                limit=limit,
                log_dir=log_dir,
                without_tools=without_tools,
                judge_url=judge,
                max_samples=max_samples,
                retry_on_error=retry_on_error,
                epochs=epochs,
                sample_ids=tuple(sample_id or ()),
                keep_going=keep_going,
            )
            logs = run_suites(targets, options)
        from evals.inspect.report import load_run

        for log in logs:
            report = load_run(log.location)
            _print_metrics(report.metrics, as_json, {"log": log.location, "status": log.status})
        if not as_json:
            err_console.print(f"[dim]logs in {log_dir}; view them with: inspect view start --log-dir {log_dir}[/]")


def _list(as_json: bool) -> None:
    from evals.inspect.adapters import NAMES
    from evals.inspect.suites import SUITES

    rows = {name: suite.description for name, suite in SUITES.items()}
    rows |= {f"{kind}:FOLDER": f"{title} layout (docs/evals.md)" for kind, title in NAMES.items()}
    if as_json:
        emit_json(rows)
        return
    table = Table("suite", "what it covers")
    for name, text in rows.items():
        table.add_row(name, text)
    console.print(table)


def _print_metrics(metrics: dict[str, float], as_json: bool, header: dict[str, str]) -> None:
    if as_json:
        emit_json({**header, "metrics": metrics})
        return
    table = Table("suite:scorer/metric", "value", title=f"{header.get('log', '')} ({header.get('status', '')})")
    for key, value in sorted(metrics.items()):
        table.add_row(key, f"{value:.3f}")
    console.print(table)


def _report(args: list[str], html_path: Path | None, as_json: bool) -> None:
    from evals.inspect.html import report_html, write_html
    from evals.inspect.report import load_run

    if len(args) != 1:
        raise ConfigError("usage: mien eval report RUN")
    report = load_run(args[0])
    if html_path is not None:
        write_html(html_path, report_html(report))
    if as_json:
        items = {k: {"scores": v.scores, "tools": v.tools, "error": v.error} for k, v in report.items.items()}
        emit_json({"run": report.name, "logs": report.logs, "metrics": report.metrics, "items": items})
        return
    _print_metrics(report.metrics, False, {"log": report.name, "status": "report"})
    table = Table("item", "scores", "tools")
    for key, item in report.items.items():
        scores = ", ".join(f"{k} {v:.2f}" for k, v in sorted(item.scores.items()) if not k.startswith("latency"))
        table.add_row(key, scores, "; ".join(", ".join(t) for t in item.tools))
    console.print(table)
    if html_path is not None:
        err_console.print(f"[dim]wrote {html_path}[/]")


def _diff(args: list[str], html_path: Path | None, as_json: bool, fail: bool) -> None:
    from evals.inspect.html import diff_html, write_html
    from evals.inspect.report import diff_runs, load_run

    if len(args) != 2:
        raise ConfigError("usage: mien eval diff RUN_A RUN_B")
    diff = diff_runs(load_run(args[0]), load_run(args[1]))
    if html_path is not None:
        write_html(html_path, diff_html(diff))

    def rows(changes: list) -> list[dict[str, object]]:  # type: ignore[type-arg]
        return [{"where": c.where, "metric": c.metric, "a": c.before, "b": c.after, "delta": c.delta} for c in changes]

    if as_json:
        emit_json(
            {
                "a": args[0],
                "b": args[1],
                "regressions": rows(diff.regressions),
                "improvements": rows(diff.improvements),
                "metrics": rows(diff.metrics),
            }
        )
    else:
        for title, changes, style in (("regressed", diff.regressions, "red"), ("improved", diff.improvements, "green")):
            table = Table("item", "metric", "A", "B", title=f"{len(changes)} item scores {title}", style=style)
            for c in changes:
                table.add_row(c.where, c.metric, _num(c.before), _num(c.after))
            console.print(table)
        table = Table("suite:scorer/metric", "A", "B", "B - A", title="run metrics")
        for c in diff.metrics:
            mark = {True: "[green]", False: "[red]", None: ""}[c.better]
            table.add_row(c.where, _num(c.before), _num(c.after), f"{mark}{_num(c.delta)}")
        console.print(table)
        if html_path is not None:
            err_console.print(f"[dim]wrote {html_path}[/]")
    if fail and diff.regressions:
        raise EvalRegression(f"{len(diff.regressions)} item score(s) regressed from {args[0]} to {args[1]}")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
