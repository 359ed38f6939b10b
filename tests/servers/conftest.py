"""The vLLM CPU test (marker ``vllm_cpu``) needs its own 3.4 GB venv and minutes to start: it runs only when asked
for by marker (``pytest -m vllm_cpu ...``), never in the default run."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "vllm_cpu" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("vllm_cpu") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
