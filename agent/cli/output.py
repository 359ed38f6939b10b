"""Shared CLI output helpers: JSON for scripts, rich for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(stderr=False)
err_console = Console(stderr=True)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (one document, UTF-8, no ANSI codes)."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
