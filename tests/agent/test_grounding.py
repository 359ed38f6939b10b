"""The evidence checker, the facts the model is given, and the grounded explanation's accept / retry / template path.

The findings are the real ones the tools gave for the astronaut photo and t1.jpg (values copied from a run), so
the checker is tested against evidence of the real shape; the chat model is scripted (``ScriptedChatModel``): what
is under test is what the agent does with each kind of reply, not the model.
"""

from __future__ import annotations

import json

import pytest

from agent.explain import GROUNDED_VERSION, answer_schema, explain, parse_structured, render, template
from agent.facts import findings_facts
from agent.grounding import Evidence, check_text, grounding_rate, labels_agree
from tests.agent.scripted import ScriptedChatModel
from tools.langchain_tools.types import Finding

ASTRONAUT = Finding(
    "read_emotions",
    "/tmp/astronaut.png",
    "Happiness",
    "1 person: Happiness",
    {
        "model": "fer-mini-xception",
        "action_unit_source": "mesh-geometry",
        "people": [
            {
                "person": 1,
                "position": "center",
                "label": "Happiness",
                "probability": 0.93,
                "action_units": ["AU12 lip corner puller 4.1", "AU25 lips part 2.4", "AU6 cheek raiser 1.1"],
            }
        ],
    },
)
SPEECH = Finding(
    "transcribe_speech",
    "/tmp/interview.mp4",
    "Hello. It is wonderful to be back on Earth.",
    '1 speech segment(s) in 3.1 s: "Hello. It is wonderful to be back on Earth."',
    {
        "segments": [
            {
                "from_s": 0.0,
                "to_s": 3.1,
                "text": "Hello. It is wonderful to be back on Earth.",
                "prosody": {"pitch_mean_hz": 104.7, "energy_db": -19.9, "words_per_s": 2.79},
                "person": "unknown",
            }
        ]
    },
)


def _evidence(question: str = "How does she feel?") -> Evidence:
    return Evidence.of([ASTRONAUT, SPEECH], question)


@pytest.mark.parametrize(
    "sentence",
    [
        "Person 1 looks happy: the lip corner puller AU12 is at 4.1.",
        "Her happiness probability is 93%.",
        'She says "wonderful to be back on Earth".',
        "Person 1 is not sad.",
        "The speech runs from 0:00 to 3.1 s.",
    ],
)
def test_supported_statements_pass(sentence: str) -> None:
    [statement] = check_text(sentence, _evidence())
    assert statement.supported, statement.problems


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("AU4 brow lowerer shows she is tense.", "AU4 was not measured"),
        ("Person 3 looks away.", "there is no person 3"),
        ("The happiness score is above the threshold of 0.85.", "the number 0.85"),
        ("Others look sad or upset.", "'sad' (sadness) was not measured"),
        ('She says "I am happy".', '"I am happy" was not said'),
        ("This is Eileen Collins.", "the name 'Eileen Collins'"),
        ("She smiles at 0:42.", "no finding is at 0:42"),
    ],
)
def test_invented_claims_are_named(sentence: str, problem: str) -> None:
    [statement] = check_text(sentence, _evidence())
    assert not statement.supported
    assert any(problem in found for found in statement.problems), statement.problems


GROUP = Finding(
    "read_emotions",
    "/tmp/t1.jpg",
    "#1 Neutral; #2 Neutral; #3 Happiness",
    "3 people with different emotions: #1 Neutral; #2 Neutral; #3 Happiness",
    {
        "people": [
            {"person": 1, "label": "Neutral", "probability": 0.85, "others_in_same_frames": "#2 Neutral; #3 Happiness"},
            {"person": 2, "label": "Neutral", "probability": 0.81, "others_in_same_frames": "#1 Neutral; #3 Happiness"},
            {"person": 3, "label": "Happiness", "probability": 0.96, "others_in_same_frames": "#1 Neutral; #2 Neutral"},
        ]
    },
)


@pytest.mark.parametrize(
    "sentence",
    [
        "Person 3 looks happy.",
        "Person 2 is not happy.",
        "Person 1 looks neutral and person 3 is smiling.",
        "Read_emotions on t1.jpg: #1 Neutral; #2 Neutral; #3 Happiness.",  # a rendered fact, verbatim
        "Nobody here looks sad.",
    ],
)
def test_emotions_said_of_the_right_person_pass(sentence: str) -> None:
    [statement] = check_text(sentence, Evidence.of([GROUP]))
    assert statement.supported, statement.problems


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        (
            "Person 2 is described as having a happy expression.",
            "'happy' (happiness) was not measured on person 2 (neutral)",
        ),
        (
            "Person 1 looks neutral and person 2 is smiling.",
            "'smiling' (happiness) was not measured on person 2 (neutral)",
        ),
        ("Everyone feels happy.", "'happy' (happiness) was not measured on everyone (not on person 1, 2)"),
        ("Person 1 is happier than person 2.", "'happier' (happiness) was not measured on person 1 (neutral)"),
        ("Both look neutral in all frames.", "'neutral' (neutral) was not measured on everyone (not on person 3)"),
    ],
)
def test_an_emotion_said_of_someone_it_was_not_measured_on_is_named(sentence: str, problem: str) -> None:
    [statement] = check_text(sentence, Evidence.of([GROUP]))
    assert problem in statement.problems, statement.problems


def test_the_grounding_rate_counts_sentences() -> None:
    statements = check_text("Person 1 looks happy. AU4 is high. She says hello.", _evidence())
    assert [s.supported for s in statements] == [True, False, True]
    assert grounding_rate(statements) == pytest.approx(2 / 3)


def test_labels_agree_by_emotion_count_and_words() -> None:
    assert labels_agree("Happiness", "She is happy.")
    assert not labels_agree("Happiness", "She looks sad, maybe happy.")  # the first emotion named decides
    assert labels_agree("6 people", "six people are in the photo")
    assert labels_agree("6 people", "6")
    assert not labels_agree("6 people", "5 people")
    assert labels_agree("Eileen Collins", "This is Eileen Collins.")
    assert not labels_agree("unknown", "This is Eileen Collins.")


def test_facts_say_what_each_measurement_is() -> None:
    facts = findings_facts([ASTRONAUT, SPEECH])
    texts = [fact.text for fact in facts]
    assert [fact.id for fact in facts] == [f"F{i}" for i in range(1, len(facts) + 1)]
    assert "person 1 (center): Happiness 0.93 (expression classifier probability)" in texts
    assert "person 1 (center): AU12 lip corner puller 4.1 (mesh-geometry estimate)" in texts
    speech = next(text for text in texts if text.startswith("speech"))
    assert "speaker not identified" in speech  # "unknown" is no attribution
    voice = next(text for text in texts if text.startswith("voice cue"))
    assert "prosody heuristic" in voice and "pitch_mean_hz 104.7" in voice
    without_faces = findings_facts([ASTRONAUT, SPEECH], with_faces=False)
    assert all(fact.tool != "read_emotions" for fact in without_faces)


def test_new_per_person_fields_become_facts() -> None:
    """A field another tool adds (here a body cue list and a reliability flag) flows into the facts."""
    person = {"person": 1, "position": "left", "body_cues": ["arms crossed"], "au_reliability": "low (profile)"}
    finding = Finding("read_body_language", "/tmp/x.mp4", None, "1 person", {"people": [person]})
    texts = [fact.text for fact in findings_facts([finding])]
    assert "person 1 (left): arms crossed (body cue (pose-landmark heuristic))" in texts
    assert "person 1 (left): au reliability low (profile)" in texts


def test_the_schema_restricts_cited_ids_to_the_facts() -> None:
    facts = findings_facts([ASTRONAUT])
    schema = answer_schema(facts)
    assert schema["properties"]["evidence"]["items"]["enum"] == [fact.id for fact in facts]
    parsed = parse_structured('```json\n{"label": "Happiness", "evidence": ["F2", "F99"], "summary": "x"}\n```', facts)
    assert parsed is not None and parsed.evidence == ["F2"]  # the unknown id is dropped


def test_rendered_prose_quotes_cited_facts_verbatim_by_person() -> None:
    facts = findings_facts([ASTRONAUT])
    parsed = parse_structured('{"label": "Happiness", "evidence": ["F2", "F3"], "summary": "She looks happy"}', facts)
    assert parsed is not None
    text = render(parsed, facts)
    assert text == (
        "She looks happy. Person 1 (center): Happiness 0.93 (expression classifier probability) [F2]; "
        "AU12 lip corner puller 4.1 (mesh-geometry estimate) [F3]."
    )
    assert grounding_rate(check_text(text, _evidence())) == 1.0


def test_fact_lines_copied_into_the_summary_are_not_shown_twice() -> None:
    facts = findings_facts([ASTRONAUT])
    copied = "She feels happy. Person 1 (center): Happiness 0.93 (expression classifier probability) [F2]."
    parsed = parse_structured(json.dumps({"label": "Happiness", "evidence": ["F2"], "summary": copied}), facts)
    assert parsed is not None
    assert render(parsed, facts) == (
        "She feels happy. Person 1 (center): Happiness 0.93 (expression classifier probability) [F2]."
    )


def _reply(label: str, evidence: list[str], summary: str) -> str:
    return json.dumps({"label": label, "evidence": evidence, "summary": summary})


def test_a_grounded_reply_is_used_and_asked_for_under_the_schema() -> None:
    facts = findings_facts([ASTRONAUT])
    chat = ScriptedChatModel(script=[_reply("Happiness", ["F2"], "Person 1 looks happy.")])
    result = explain(chat, "How does she feel?", facts, _evidence(), "Happiness")
    assert result.method == "model" and result.model_label == "Happiness" and result.problems == []
    assert result.text.startswith("Person 1 looks happy. Person 1 (center): Happiness 0.93")
    assert len(chat.received) == 1
    assert "F2: person 1 (center): Happiness 0.93" in str(chat.received[0][-1].content)
    assert GROUNDED_VERSION == "grounded-v1"


def test_an_invented_number_is_retried_with_the_problem_named() -> None:
    facts = findings_facts([ASTRONAUT])
    chat = ScriptedChatModel(
        script=[
            _reply("Happiness", ["F2"], "She is happy, above the 0.85 threshold."),
            _reply("Happiness", ["F2", "F3"], "She looks happy."),
        ]
    )
    result = explain(chat, "How does she feel?", facts, _evidence(), "Happiness")
    assert result.method == "model-retry"
    retry_note = str(chat.received[1][-1].content)
    assert "the number 0.85 is not in the evidence" in retry_note


def test_a_wrong_label_twice_falls_back_to_the_evidence_template() -> None:
    facts = findings_facts([ASTRONAUT])
    chat = ScriptedChatModel(script=[_reply("Sadness", ["F2"], "She is sad."), "not json at all"])
    result = explain(chat, "How does she feel?", facts, _evidence(), "Happiness")
    assert result.method == "template"
    assert result.text.startswith("The tools' answer is Happiness. Person 1 (center): Happiness 0.93")
    assert "the reply was not the JSON answer asked for" in result.problems
    assert grounding_rate(check_text(result.text, _evidence())) == 1.0


def test_the_template_puts_the_person_asked_about_first() -> None:
    facts = findings_facts([GROUP])
    text = template("#1 Neutral; #2 Neutral; #3 Happiness", facts, "How does person 3 feel?")
    after_label = text.split(". ", 1)[1]
    assert after_label.startswith("Person 3: Happiness 0.96 (expression classifier probability) [F")


def test_key_frames_go_with_the_question_to_a_vision_endpoint() -> None:
    facts = findings_facts([ASTRONAUT])
    frame = {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}}
    chat = ScriptedChatModel(script=[_reply("Happiness", ["F2"], "Person 1 looks happy.")])
    result = explain(chat, "How does she feel?", facts, _evidence(), "Happiness", images=[frame])
    assert result.method == "model"
    content = chat.received[0][-1].content
    assert isinstance(content, list) and content[1] == frame
    assert "F2: person 1 (center): Happiness 0.93" in content[0]["text"] and "key frames" in content[0]["text"]
    text_only = ScriptedChatModel(script=[_reply("Happiness", ["F2"], "Person 1 looks happy.")])
    explain(text_only, "How does she feel?", facts, _evidence(), "Happiness")
    assert isinstance(text_only.received[0][-1].content, str)
