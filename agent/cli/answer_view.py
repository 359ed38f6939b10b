"""How ``mien ask`` and ``mien chat`` show a turn: tools as they run (stderr), the answer's tokens as they stream
(stdout), then the label and the cited evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from agent.answer import Answer


class TurnView:
    """Callbacks for ``AgentSession.ask`` that print to ``out`` (answer) and ``err`` (tool progress)."""

    def __init__(self, out: Console, err: Console) -> None:
        self.out = out
        self.err = err
        self.streamed = False

    def on_tool(self, event: dict[str, Any]) -> None:
        if event.get("event") != "tool_done":
            return
        media = Path(str(event.get("args", {}).get("media", ""))).name
        if event.get("error"):
            self.err.print(f"[red]✗ {escape(str(event['tool']))}[/] {escape(media)}: {escape(str(event['error']))}")
        elif event.get("cached"):
            self.err.print(f"[dim]✓ {escape(str(event['tool']))} {escape(media)} (cached evidence)[/]")
        else:
            self.err.print(f"[green]✓ {escape(str(event['tool']))}[/] {escape(media)} ({event['seconds']:.1f} s)")

    def on_token(self, text: str) -> None:
        # Raw writes: tokens must appear as they come, without rich's line handling.
        sys.stdout.write(text)
        sys.stdout.flush()
        self.streamed = True

    def finish(self, answer: Answer) -> None:
        """After the stream: the label, then one line per piece of evidence with its AUs and frames."""
        if self.streamed:
            sys.stdout.write("\n")
        self.streamed = False
        self.out.print(f"[bold]Label:[/] {escape(answer.label or '(no tool gave a label)')}")
        for citation in answer.evidence:
            line = f"  • [cyan]{escape(citation.tool)}[/] {escape(citation.summary)}"
            if citation.action_units:
                line += f"\n    AUs: {escape(', '.join(citation.action_units[:6]))}"
            for path in [*citation.frames, *citation.files]:
                line += f"\n    file: {escape(path)}"
            self.out.print(line, soft_wrap=True)
        if answer.error:
            self.err.print(f"[yellow]no explanation:[/] {escape(answer.error)}")
