"""The fuzz driver, run short and deterministic: mutants of the six real seed formats, read in a limited child
process, give only Mien's own errors; and a hypothesis property over in-process reads of mutated images and WAVs.

The long run (thousands of inputs) is ``python -m evals.fuzz.run``; its numbers are in the closing note.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.fuzz.mutate import mutate
from evals.fuzz.run import FINE, run_fuzz
from evals.fuzz.seeds import FORMATS
from tools.errors import MienError
from tools.media import load_audio, load_image


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_short_fixed_seed_fuzz_run_finds_only_mien_errors(tmp_path: Path) -> None:
    report = run_fuzz(tmp_path / "fuzz", per_format=8, seed=16, timeout_s=60.0)
    assert report.inputs == 8 * len(FORMATS)
    assert report.problems == 0, report.findings
    assert set(report.outcomes) <= set(FINE)
    # The mutants exercise both sides: some are refused with a MienError, some read (whole or around damage).
    assert report.outcomes["mien"] > 0 and report.outcomes["ok"] + report.outcomes["ok-damaged"] > 0
    saved = json.loads((tmp_path / "fuzz" / "report.json").read_text())
    assert saved["inputs"] == report.inputs and saved["problems"] == 0
    assert not list((tmp_path / "fuzz" / "mutants").iterdir())  # fine mutants are not kept


def test_mutation_is_reproducible_and_always_changes_the_file(seeds: dict[str, Path]) -> None:
    data = seeds["png"].read_bytes()
    assert mutate(data, random.Random(7)) == mutate(data, random.Random(7))
    assert all(mutate(data, random.Random(seed))[0] != data for seed in range(50))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["png", "jpg", "wav"]), seed=st.integers(0, 2**32 - 1))
def test_mutated_images_and_wavs_read_or_raise_a_mien_error(seeds: dict[str, Path], kind: str, seed: int) -> None:
    import tempfile

    data, _how = mutate(seeds[kind].read_bytes(), random.Random(seed))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"mutant.{kind}"
        path.write_bytes(data)
        try:
            result = load_audio(path) if kind == "wav" else load_image(path)
        except MienError as error:
            assert str(path) in str(error)  # the message names the file
        else:
            assert result.size > 0 or kind == "wav"
