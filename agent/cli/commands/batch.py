"""``mien batch DIR_OR_LIST --out RESULTS``: Mien's perception tools over many files on Ray, resumable.

Exit codes: 0 every file analysed cleanly; 14 the run finished but some files have error or partial rows (they
are in RESULTS, with the reason); 130 interrupted (what finished is kept: run the same command again to resume);
2 bad arguments, 12 Ray unreachable, 13 another run holds RESULTS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from agent.cli.output import console, emit_json, err_console
from tools.batch.types import DEFAULT_TOOLS, BatchReport, FileResult

EXIT_SOME_FAILED = 14
EXIT_INTERRUPTED = 130


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[FileResult, int, int], None] | None]:
    """A bar on a terminal; one line per file on a non-terminal stderr (logs); nothing for --json."""
    if not enabled:
        yield None
        return
    if not err_console.is_terminal:

        def line(result: FileResult, done: int, total: int) -> None:
            why = f" ({result.error})" if result.error else ""
            err_console.print(f"[{done}/{total}] {result.status} {result.path} {result.seconds:.1f} s{why}",
                              markup=False, highlight=False, soft_wrap=True)

        yield line
        return
    columns = (TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("batch", total=None, failed=0)
        failed = 0

        def update(result: FileResult, done: int, total: int) -> None:
            nonlocal failed
            failed += result.status != "ok"
            bar.update(task, completed=done, total=total, failed=failed)

        yield update


def batch(
    sources: list[Path] = typer.Argument(..., help="Folders of media files and/or .txt lists of paths."),
    out: Path = typer.Option(..., "--out", help="Results folder (part files; reused to resume)."),
    ray_address: str | None = typer.Option(
        None, "--ray", help="Ray cluster address (e.g. 10.0.0.5:6379 or auto); default: a local Ray in-process. "
        "A cluster with token auth needs RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN or ~/.ray/auth_token).",
    ),
    tools_text: str = typer.Option(
        ",".join(DEFAULT_TOOLS), "--tools", help="Comma list of: faces,identities,emotions,transcripts,spotting,"
        "liveness."
    ),
    fmt: str = typer.Option("parquet", "--format", help="parquet | jsonl."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Files analysed at once (default: all CPUs)."),
    gallery: Path | None = typer.Option(None, "--gallery", help="Gallery for identities (default: MIEN_HOME's)."),
    fps: float | None = typer.Option(None, "--fps", help="Frames per second sampled from videos."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Analyse files whose stored row is an error."),
    flush_every: int = typer.Option(8, "--flush-every", min=1, help="Results per part file written."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's report as JSON."),
) -> None:
    """Analyse many files with Ray Data, one task per file; files already in RESULTS are not redone."""
    from tools.batch.runner import parse_tools, run_batch
    from tools.batch.store import ResultFormat
    from tools.errors import ConfigError
    from tools.settings import get_settings

    tools = parse_tools(tools_text)
    if fmt not in ("parquet", "jsonl"):
        raise ConfigError(f"--format {fmt!r}: use parquet or jsonl")
    result_format: ResultFormat = "parquet" if fmt == "parquet" else "jsonl"
    gallery_path = gallery or (get_settings().resolved_gallery_path if "identities" in tools else None)
    with _progress(not as_json) as progress:
        report = run_batch(
            sources, out, tools, result_format, workers=workers, ray_address=ray_address, gallery=gallery_path,
            fps=fps, retry_errors=retry_errors, flush_every=flush_every, on_result=progress,
        )
    if as_json:
        emit_json(report.model_dump())
    else:
        _print(report)
    if report.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if report.errors or report.partial:
        raise typer.Exit(EXIT_SOME_FAILED)


def _print(report: BatchReport) -> None:
    if report.analysed == 0 and not report.interrupted:
        console.print(f"{report.files} files, all already in {report.out}: nothing to do", highlight=False)
        return
    where = report.ray_address or "local Ray"
    console.print(
        f"{report.files} files: {report.already_done} already in {report.out}, {report.analysed} analysed now on "
        f"{where} with {report.workers} workers in {report.seconds:.1f} s: {report.ok} ok, {report.partial} partial, "
        f"{report.errors} errors; {report.parts_written} part file(s) written ({report.format})",
        highlight=False,
    )
    if report.interrupted:
        console.print("interrupted: finished files are kept; run the same command again to resume", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
