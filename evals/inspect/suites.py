"""The built-in suites: every landed tool, the SoVTP / DEEMO / plain prompt styles, and the privacy mode, on media
composed from real photos and espeak-ng speech (``evals.inspect.media``), small enough for the embedded model.

Expected values are what is known about the media independently of the tools: the astronaut photo has one
smiling face, t1.jpg six people, the interview clip two people and known espeak-ng words, the spotting clip one
mesh-warped expression at frames 45-54 of 30 fps (1.50-1.80 s), the replay clip a still photo (no pulse, no blink),
the live clip a simulated 72 bpm pulse. ``personalize`` needs a local Stable Diffusion model (``MIEN_SD_MODEL``);
without one the tool says so, which the case accepts (it checks the agent chose the tool). ``smoke`` is the
2-sample suite the test suite runs.
"""

from __future__ import annotations

from typing import Any

from evals.inspect.spec import Case, Expect, IntervalExpect, MediaSpec, NumberExpect, Suite, Turn

ASTRONAUT = MediaSpec(generator="astronaut")
T1 = MediaSpec(generator="t1")
INTERVIEW = MediaSpec(generator="interview")
SPEECH_TEXT = "Good morning everyone. The weather is lovely today and the garden is full of flowers."


def _case(case_id: str, media: MediaSpec, question: str, tags: list[str], **expect: Any) -> Case:
    return Case(id=case_id, media=[media], turns=[Turn(question=question, expect=Expect(**expect))], tags=tags)


SMOKE = Suite(
    name="smoke",
    description="Two questions about the astronaut photo: a face count (plain) and her mood (SoVTP).",
    cases=[
        _case("astronaut-count", ASTRONAUT, "How many faces are in this photo?", ["faces", "plain"],
              tools=["find_faces"], label="1 person", label_kind="count", style="plain",
              numbers=[NumberExpect(tool="find_faces", key="count", value=1)]),
        _case("astronaut-mood", ASTRONAUT, "What is the mood of the astronaut?", ["emotions", "sovtp"],
              tools=["read_emotions"], not_tools=["cloak_faces"], label="happiness", label_kind="basic",
              style="sovtp"),
    ],
)  # fmt: skip

PERCEPTION = Suite(
    name="perception",
    description="Faces, identities, speech, body language, spotting, liveness, pose augmentation and personalized "
    "portraits on composed media.",
    cases=[
        _case("t1-count", T1, "How many people are in t1.jpg?", ["faces", "plain"],
              tools=["find_faces"], label="6 people", label_kind="count",
              numbers=[NumberExpect(tool="find_faces", key="count", value=6)]),
        Case(id="pan-identify", media=[MediaSpec(generator="pan")], tags=["recognition"],
             enroll={"Eileen Collins": [ASTRONAUT]},
             turns=[Turn(question="Who is this?",
                         expect=Expect(tools=["identify_people"], identities=["Eileen Collins"],
                                       phrases=["Eileen Collins"]))]),
        _case("speech-transcript", MediaSpec(generator="speech", options={"text": SPEECH_TEXT}),
              "What does the speaker say?", ["speech"], tools=["transcribe_speech"],
              not_tools=["find_faces"], phrases=["garden"]),
        _case("interview-body", INTERVIEW, "What does their body language show?", ["body"],
              tools=["read_body_language"]),
        _case("spotting-smile", MediaSpec(generator="spotting"), "When do the micro-expressions happen?",
              ["spotting"], tools=["spot_expressions"],
              intervals=[IntervalExpect(onset_s=1.5, offset_s=1.8, label="happiness")]),
        _case("replay-attack", MediaSpec(generator="replay"), "Is this a real person or a spoof?", ["attack"],
              tools=["detect_attacks"], label="attack", label_kind="liveness"),
        _case("live-person", MediaSpec(generator="live"), "Is this a real person or a spoof?", ["attack"],
              tools=["detect_attacks"], label="live", label_kind="liveness"),
        _case("astronaut-turned", ASTRONAUT, "What would this face look like turned 30 degrees?", ["augment"],
              tools=["augment_pose"], not_tools=["personalize"]),
        _case("astronaut-portrait", ASTRONAUT, "Generate a picture of this person in the snow.", ["personalize"],
              tools=["personalize"], not_tools=["cloak_faces"]),
    ],
)  # fmt: skip

AFFECT = Suite(
    name="affect",
    description="Emotions and their reasons: SoVTP on faces, DEEMO without faces, a follow-up turn, EMER rubric.",
    cases=[
        Case(id="interview-left", media=[INTERVIEW], tags=["emotions", "sovtp", "multi-turn"],
             turns=[
                 Turn(question="How does the woman on the left feel, and why?",
                      expect=Expect(tools=["read_emotions"], label="happiness", label_kind="basic", style="sovtp",
                                    rubric="She looks happy: she smiles, and she says it is wonderful to be back "
                                           "and that she felt calm and happy.",
                                    clues=["she smiles", "she says it is wonderful to be back on Earth",
                                           "she says she felt calm and happy"])),
                 Turn(question="And what does she say?",
                      expect=Expect(tools=["transcribe_speech"], phrases=["earth"])),
             ]),
        _case("interview-no-faces", INTERVIEW, "Explain the emotion without looking at faces.", ["deemo"],
              tools=["transcribe_speech"], style="deemo",
              rubric="The speaker sounds happy and calm: she says it is wonderful to be back on Earth.",
              clues=["she says it is wonderful to be back on Earth", "she says she felt calm and happy"]),
        _case("hanks-mood", MediaSpec(generator="hanks"), "How does this man feel?", ["emotions", "sovtp"],
              tools=["read_emotions"], style="sovtp"),
    ],
)  # fmt: skip

PRIVACY = Suite(
    name="privacy",
    description="De-identification, cloaking, and the deidentified privacy mode (no names to the model).",
    cases=[
        _case("astronaut-deidentify", ASTRONAUT, "Hide the faces in this photo.", ["deidentify"],
              tools=["deidentify_media"]),
        _case("astronaut-cloak", ASTRONAUT, "Protect this photo from face recognition.", ["cloak"],
              tools=["cloak_faces"]),
        Case(id="deidentified-who", media=[ASTRONAUT], privacy="deidentified", tags=["recognition", "privacy"],
             enroll={"Eileen Collins": [ASTRONAUT]},
             turns=[Turn(question="Who is this?",
                         expect=Expect(tools=["identify_people"], identities=["Eileen Collins"]))]),
    ],
)  # fmt: skip

SUITES: dict[str, Suite] = {suite.name: suite for suite in (SMOKE, PERCEPTION, AFFECT, PRIVACY)}
BUILT_IN = ("perception", "affect", "privacy")  # `mien eval all`; smoke is their quick subset
