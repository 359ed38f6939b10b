"""The calibration of the geometric action units: reproducible from the shipped photos, and on faces held out
from it, values that use the range instead of piling up at the cap and that agree with an independent signal."""

from __future__ import annotations

import numpy as np
import pytest

from evals.au_faces import SOURCES, face_samples
from evals.bench.action_units import agreement, calibrated, cap_share, legacy_intensities
from tools.expression import au_calibration
from tools.expression.action_units import NEUTRAL_MEASURES, action_units_from_measures


def test_calibration_and_evaluation_photos_never_overlap() -> None:
    calibration = {(package, path) for _, package, path, split in SOURCES if split == "calibration"}
    evaluation = {(package, path) for _, package, path, split in SOURCES if split == "evaluation"}
    assert calibration and evaluation and not calibration & evaluation
    assert len(au_calibration.NEUTRAL_PEOPLE) >= 5
    assert all(person.split("#")[0] in {n for n, _, _, s in SOURCES if s == "calibration"}
               for person in au_calibration.NEUTRAL_PEOPLE)


def test_the_neutral_reference_reads_no_action() -> None:
    units = action_units_from_measures(NEUTRAL_MEASURES)
    assert units.active(0.01) == [] and units.reference == "population"


@pytest.mark.slow
def test_the_stored_calibration_is_what_the_script_computes() -> None:
    from evals.reference.au_calibration import calibrate

    result = calibrate()
    assert result["scales"] == au_calibration.AU_SCALES
    reference = result["reference"]
    assert isinstance(reference, dict)
    assert all(abs(reference[k] - v) < 1e-4 for k, v in au_calibration.NEUTRAL_REFERENCE.items())
    assert np.allclose(np.asarray(result["template"]), np.asarray(au_calibration.FRONTAL_TEMPLATE), atol=1e-5)


@pytest.fixture(scope="module")
def held_out() -> tuple[list, list, list]:
    samples = face_samples("evaluation")
    before = [dict(legacy_intensities(s)) for s in samples]
    after = [{u.au: u.intensity for u in calibrated(s)} for s in samples]
    return samples, before, after


@pytest.mark.slow
def test_held_out_values_rarely_sit_at_the_cap(held_out: tuple[list, list, list]) -> None:
    samples, before, after = held_out
    assert len(samples) >= 30
    share_before, _ = cap_share(before)
    share_after, nonzero_after = cap_share(after)
    assert share_before > 0.10  # the uncalibrated estimates piled up at 5.0 (measured: 11.5 %)
    assert share_after < 0.05 and share_after < share_before / 3  # measured: 2.4 %
    assert nonzero_after > 200  # not by reading zero everywhere
    assert cap_share(after, "AU25")[0] == 0.0 and cap_share(before, "AU25")[0] > 0.5  # lips part: 56 % -> 0 %


@pytest.mark.slow
def test_smiles_raise_the_cheeks_and_lip_corners_on_held_out_faces(held_out: tuple[list, list, list]) -> None:
    samples, _, after = held_out
    au6, au12 = agreement(samples, after, "AU6"), agreement(samples, after, "AU12")
    assert au6["expected"] >= 15 and au12["expected"] >= 15  # confident Happiness faces
    assert au6["hit"] >= 0.7 and au12["hit"] >= 0.8  # measured: 0.79 and 0.85
    assert agreement(samples, after, "AU15")["false_on"] <= 0.1  # no "lip corner depressor" on smiles (0.00)
