"""A rich progress bar for long media work, fed by (done, total) seconds callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from agent.cli.output import err_console


@contextmanager
def media_progress(description: str, enabled: bool = True) -> Iterator[Callable[[float, float], None] | None]:
    """Yield a callback that advances a bar on stderr (None when disabled, e.g. for ``--json``, or not a terminal)."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:.1f} s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(description, total=1.0)

        def update(done_s: float, total_s: float) -> None:
            progress.update(task, completed=done_s, total=max(total_s, done_s, 1e-6))

        yield update
