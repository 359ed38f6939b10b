"""Tool-call precision and recall: did the agent run the tools a question needs, and only those.

Per turn, over distinct tool names: precision = needed tools called / tools called, recall = needed tools called /
tools needed. No call and nothing needed is perfect; calls when nothing was needed have precision 0.
"""

from __future__ import annotations

from collections.abc import Iterable


def tool_precision_recall(called: Iterable[str], needed: Iterable[str]) -> tuple[float, float]:
    """(precision, recall) of one turn's tool calls."""
    calls, wanted = set(called), set(needed)
    hits = len(calls & wanted)
    precision = hits / len(calls) if calls else (1.0 if not wanted else 0.0)
    recall = hits / len(wanted) if wanted else 1.0
    return precision, recall
