"""Fixtures of the hostile-media tests: the fuzzer's real seed files, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.fuzz.seeds import FORMATS, make_seed


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    return {kind: make_seed(kind, folder) for kind in FORMATS}
