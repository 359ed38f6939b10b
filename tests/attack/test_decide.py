"""How the liveness cues combine into a verdict, one rule per test, on cues built by hand."""

from __future__ import annotations

import pytest

from tools.attack.liveness import CONFIDENT_ATTACK, NO_LIFE, decide
from tools.attack.types import ATTACK_TYPES, AttackScore, MotionCues, PulseEstimate
from tools.settings import get_settings


def score(p: float, kind: str = "print") -> AttackScore:
    return AttackScore(p, {name: 0.7 if name == kind else 0.1 for name in ATTACK_TYPES}, threshold=0.5)


PULSE = PulseEstimate(72.0, 4.0, True, 10.0, 15.0, -3.0)
NO_PULSE = PulseEstimate(None, -6.0, False, 10.0, 15.0, -3.0)
STILL = MotionCues(blinks=0, eye_aspect_ratio_range=0.01, nonrigid_motion=0.006, frames=150)
BLINKING = MotionCues(blinks=2, eye_aspect_ratio_range=0.2, nonrigid_motion=0.006, frames=150)


def verdict(*args: object, face_px: float = 40.0, grey: bool = False) -> tuple[str, str]:
    result = decide(1, *args, face_px, grey, get_settings())  # type: ignore[arg-type]
    return result.verdict, " | ".join(result.reasons)


def test_a_pulse_or_a_blink_means_live_when_the_model_agrees() -> None:
    assert verdict(score(0.2), PULSE, STILL)[0] == "live"
    assert verdict(score(0.2), NO_PULSE, BLINKING)[0] == "live"


def test_no_sign_of_life_over_a_long_clip_is_an_attack() -> None:
    kind, why = verdict(score(0.2), NO_PULSE, STILL)
    assert kind == "attack" and "no sign of life" in why and "rigidly" in why
    assert decide(1, score(0.2), NO_PULSE, STILL, 40.0, False, get_settings()).attack_kind == NO_LIFE


def test_signs_of_life_outweigh_the_model_unless_it_is_confident() -> None:
    kind, why = verdict(score(0.6), PULSE, STILL)
    assert kind == "live" and "outweighed by the measured signs of life" in why
    kind, why = verdict(score(CONFIDENT_ATTACK, "digital"), PULSE, STILL)
    assert kind == "attack" and "most like digital" in why
    assert decide(1, score(0.95, "digital"), PULSE, STILL, 40.0, False, get_settings()).attack_kind == "digital"


def test_an_image_gets_the_models_verdict_as_weak_evidence() -> None:
    assert verdict(score(0.95, "replay"), None, None) == (
        "attack",
        "attack model (trained on synthesized attacks, an estimate): P(attack) 0.95 vs threshold 0.50 -> attack, "
        "most like replay | single image or short clip: only the attack model's estimate, weak evidence",
    )
    kind, why = verdict(score(0.7), None, None)
    assert kind == "undetermined" and "leans to attack" in why
    kind, why = verdict(score(0.3), None, None)
    assert kind == "live" and "weak evidence" in why


@pytest.mark.parametrize("face_px", [5.0, 17.9])
def test_a_tiny_face_is_undetermined_whatever_the_cues(face_px: float) -> None:
    kind, why = verdict(score(0.99), PULSE, BLINKING, face_px=face_px)
    assert kind == "undetermined" and why.startswith("face too small to judge")


def test_grayscale_is_said() -> None:
    assert "grayscale input" in verdict(score(0.2), None, None, grey=True)[1]
