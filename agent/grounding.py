"""Checking prose against the evidence: every number, AU, time, person number, name, emotion and quote.

A statement (one sentence) is supported when each checkable thing in it is found in the tools' findings (or in
the question, whose numbers are the user's): numbers within rounding, AU codes among those measured, times near
one the tools report, person numbers among the people seen, capitalised names in the evidence text, emotion words
among the emotions measured or the words spoken, quotes in the transcript. Emotions are also checked for whom
they are said of: an emotion said of "person 2" must be one measured on person 2 (the nearest person named before
it in the sentence), and one said of "everyone" / "all" / "both" must be every labelled person's. Words the checker
cannot verify (a plain "she smiles") pass: this finds invented measurements and attributions, not every error. It is
used twice: to accept, retry or replace the model's structured answer (``agent.explain``), and to score
answers in ``evals/bench/agent.py`` (the grounding rate).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tools.langchain_tools.types import Finding

# Emotion words and the class each names (the seven basic classes of the expression model, plus contempt).
EMOTION_WORDS: dict[str, str] = {
    "happy": "happiness", "happiness": "happiness", "happily": "happiness", "joy": "happiness", "joyful": "happiness",
    "cheerful": "happiness", "glad": "happiness", "smiling": "happiness", "happier": "happiness",
    "happiest": "happiness",
    "sad": "sadness", "sadness": "sadness", "unhappy": "sadness", "upset": "sadness", "sorrow": "sadness",
    "sadder": "sadness", "saddest": "sadness",
    "angry": "anger", "anger": "anger", "furious": "anger", "annoyed": "anger", "angrier": "anger",
    "afraid": "fear", "fear": "fear", "scared": "fear", "fearful": "fear", "anxious": "fear", "frightened": "fear",
    "surprise": "surprise", "surprised": "surprise", "astonished": "surprise", "shocked": "surprise",
    "disgust": "disgust", "disgusted": "disgust",
    "neutral": "neutral", "calm": "neutral",
    "contempt": "contempt",
}  # fmt: skip
_NEGATION = {
    "not", "no", "never", "nor", "neither", "without", "isn't", "doesn't", "don't", "aren't", "nothing", "nobody",
    "none",
}  # fmt: skip
_EVERYONE = {"everyone", "everybody", "all", "both", "each"}
# Fields of a person's findings about other people, not them ("others_in_same_frames": "#2 Neutral 0.81; ...").
_ABOUT_OTHERS = {"others_in_same_frames"}

_AU = re.compile(r"\bAU\s?(\d{1,2})\b", re.IGNORECASE)
_PERSON = re.compile(r"(?:\bperson|\bpeople|\btrack|#)\s*(\d+)", re.IGNORECASE)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2}(?:\.\d+)?)\b")
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(%?)")
_QUOTE = re.compile(r"[\"“]([^\"”]{3,})[\"”]")
_NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“#(])")
_WORD = re.compile(r"[a-z']+")
_WORD_SPAN = re.compile(r"[A-Za-z']+")


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


@dataclass
class Evidence:
    """What the findings contain, in the forms the checker compares against."""

    numbers: list[float] = field(default_factory=list)
    action_units: set[int] = field(default_factory=set)
    times: list[float] = field(default_factory=list)
    people: set[int] = field(default_factory=set)
    emotions: set[str] = field(default_factory=set)
    person_emotions: dict[int, set[str]] = field(default_factory=dict)  # emotion classes measured on each person
    text: str = ""  # all evidence text, normalised (names, spoken words)
    spoken: str = ""  # transcript text, normalised

    @classmethod
    def of(cls, findings: list[Finding], question: str = "") -> Evidence:
        evidence = cls()
        pieces: list[str] = []
        spoken: list[str] = []
        for finding in findings:
            raw = " ".join([finding.summary, finding.label or "", json.dumps(finding.facts, ensure_ascii=False)])
            pieces.append(raw)
            evidence.numbers += [float(n) for n, _ in _NUMBER.findall(raw)]
            evidence.action_units |= {int(code) for code in _AU.findall(raw)}
            for person in finding.facts.get("people", []):
                if isinstance(person, dict) and isinstance(person.get("person"), int):
                    evidence.people.add(int(person["person"]))
                    if person.get("label"):
                        evidence.emotions |= {
                            EMOTION_WORDS.get(w, w) for w in _WORD.findall(str(person["label"]).lower())
                        }
                    own = _emotions_of(person)
                    if own:
                        evidence.person_emotions.setdefault(int(person["person"]), set()).update(own)
            if finding.label:
                evidence.emotions |= {
                    EMOTION_WORDS[w] for w in _WORD.findall(finding.label.lower()) if w in EMOTION_WORDS
                }
            for segment in finding.facts.get("segments", []):
                if isinstance(segment, dict):
                    evidence.times += [float(segment.get("from_s", 0.0)), float(segment.get("to_s", 0.0))]
                    spoken.append(str(segment.get("text", "")))
            for interval in finding.facts.get("intervals", []):  # spotting names its people per interval
                if isinstance(interval, dict) and isinstance(interval.get("person"), int):
                    evidence.people.add(int(interval["person"]))
            for key in ("on_screen_s", "times_s"):
                for person in finding.facts.get("people", []):
                    if isinstance(person, dict) and isinstance(person.get(key), list):
                        evidence.times += [float(t) for t in person[key] if isinstance(t, int | float)]
            evidence.times += [mark.time_s for mark in finding.marks]
        evidence.numbers += [float(n) for n, _ in _NUMBER.findall(question)]
        evidence.times += [int(m) * 60 + float(s) for m, s in _CLOCK.findall(question)]
        evidence.times += [float(s) for s in _SECONDS.findall(question)]
        evidence.people |= {int(n) for n in _PERSON.findall(question)}
        evidence.text = _normal(" ".join([*pieces, question]))
        evidence.spoken = _normal(" ".join(spoken))
        evidence.emotions |= {EMOTION_WORDS[w] for w in _WORD.findall(evidence.spoken) if w in EMOTION_WORDS}
        return evidence

    def has_number(self, value: float, percent: bool = False) -> bool:
        candidates = [value, value / 100.0] if percent else [value]
        return any(abs(c - known) <= 0.051 + 0.01 * abs(known) for c in candidates for known in self.numbers)

    def has_time(self, seconds: float) -> bool:
        return any(abs(seconds - known) <= 0.6 for known in self.times) or self.has_number(seconds)


@dataclass(frozen=True)
class Statement:
    """One sentence and what in it the evidence does not hold (empty: supported)."""

    text: str
    problems: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return not self.problems


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text.strip()) if part.strip()]


def problems_in(sentence: str, evidence: Evidence) -> list[str]:
    """What in ``sentence`` the evidence does not support, each named (e.g. "AU4 was not measured")."""
    problems: list[str] = []
    covered: list[tuple[int, int]] = []

    def claim(match: re.Match[str]) -> None:
        covered.append(match.span())

    for match in _AU.finditer(sentence):
        claim(match)
        if int(match.group(1)) not in evidence.action_units:
            problems.append(f"AU{match.group(1)} was not measured")
    for match in _PERSON.finditer(sentence):
        claim(match)
        if int(match.group(1)) not in evidence.people:
            problems.append(f"there is no person {match.group(1)} in the evidence")
    for match in _CLOCK.finditer(sentence):
        claim(match)
        seconds = int(match.group(1)) * 60 + float(match.group(2))
        if not evidence.has_time(seconds):
            problems.append(f"no finding is at {match.group(0)}")
    for match in _SECONDS.finditer(sentence):
        claim(match)
        if not evidence.has_time(float(match.group(1))):
            problems.append(f"no finding is at {match.group(0)}")
    quoted_spans: list[tuple[int, int]] = []
    for match in _QUOTE.finditer(sentence):
        quoted_spans.append(match.span())
        quoted = _normal(match.group(1))
        if quoted and quoted not in evidence.spoken and quoted not in evidence.text:
            problems.append(f'"{match.group(1)}" was not said')
    for match in _NUMBER.finditer(sentence):
        start = match.start()
        if any(a <= start < b for a, b in covered + quoted_spans):
            continue
        if not evidence.has_number(float(match.group(1)), percent=bool(match.group(2))):
            problems.append(f"the number {match.group(0)} is not in the evidence")
    for match in _NAME.finditer(sentence):
        if _normal(match.group(1)) not in evidence.text:
            problems.append(f"the name {match.group(1)!r} is not in the evidence")
    words = _WORD.findall(sentence.lower())
    for index, word in enumerate(words):
        emotion = EMOTION_WORDS.get(word)
        if emotion is None or emotion in evidence.emotions:
            continue
        if _NEGATION & set(words[max(0, index - 4) : index]):
            continue
        problems.append(f"{word!r} ({emotion}) was not measured")
    problems += _misattributed(sentence, evidence)
    return list(dict.fromkeys(problems))


def _emotions_of(person: dict[str, object]) -> set[str]:
    """The emotion classes a person's own findings name (label, timeline, ...; not what is said of others)."""
    text = " ".join(str(value) for key, value in person.items() if key not in _ABOUT_OTHERS and key != "person")
    return {EMOTION_WORDS[w] for w in _WORD.findall(text.lower()) if w in EMOTION_WORDS}


def _misattributed(sentence: str, evidence: Evidence) -> list[str]:
    """Emotions said of someone they were not measured on: "person 2 is happy" when person 2 read Neutral, or
    "everyone is happy" when some read Neutral. Only people with measured emotions are judged."""
    if not evidence.person_emotions:
        return []
    mentions = [(match.start(), int(match.group(1))) for match in _PERSON.finditer(sentence)]
    words = [(match.start(), match.group(0).lower()) for match in _WORD_SPAN.finditer(sentence)]
    plain = [word for _, word in words]
    problems: list[str] = []
    for index, (start, word) in enumerate(words):
        emotion = EMOTION_WORDS.get(word)
        if emotion is None or _NEGATION & set(plain[max(0, index - 4) : index]):
            continue
        before = [person for at, person in mentions if at < start]
        if before or len({person for _, person in mentions}) == 1:
            person = before[-1] if before else mentions[0][1]
            measured = evidence.person_emotions.get(person)
            if measured is not None and emotion not in measured:
                shown = ", ".join(sorted(measured))
                problems.append(f"{word!r} ({emotion}) was not measured on person {person} ({shown})")
        elif not mentions and _EVERYONE & set(plain) and len(evidence.person_emotions) > 1:
            others = sorted(p for p, measured in evidence.person_emotions.items() if emotion not in measured)
            if others:
                listed = ", ".join(str(p) for p in others)
                problems.append(f"{word!r} ({emotion}) was not measured on everyone (not on person {listed})")
    return problems


def check_text(text: str, evidence: Evidence) -> list[Statement]:
    """Each sentence of ``text`` with its problems."""
    return [Statement(sentence, tuple(problems_in(sentence, evidence))) for sentence in sentences(text)]


def grounding_rate(statements: list[Statement]) -> float:
    """Supported statements over all statements (1.0 for no statement: nothing was claimed)."""
    return sum(s.supported for s in statements) / len(statements) if statements else 1.0


def label_key(label: str | None) -> str:
    """A label in comparable form: an emotion's class, a count's number, else the normalised words."""
    if not label:
        return ""
    words = _WORD.findall(label.lower())
    emotions = [EMOTION_WORDS[w] for w in words if w in EMOTION_WORDS]
    if emotions:
        return emotions[0]
    count = re.search(r"\d+", label)
    if count and any(word in ("people", "person", "persons", "faces", "face") for word in words):
        return count.group(0)
    return " ".join(words)


def labels_agree(tool_label: str | None, text: str) -> bool:
    """Whether ``text`` (a model's label or its prose) states the tools' label: the same emotion class (and no
    other one first), the same count, or the same name or words."""
    key = label_key(tool_label)
    if not key:
        return True
    lowered = text.lower()
    if key in set(EMOTION_WORDS.values()):
        named = [EMOTION_WORDS[w] for w in _WORD.findall(lowered) if w in EMOTION_WORDS]
        return bool(named) and named[0] == key
    if key.isdigit():
        return bool(re.search(rf"(?<!\d){key}(?!\d)", lowered)) or _NUMBER_WORDS.get(int(key), "\0") in lowered
    said = _normal(text)
    content = [word for word in key.split() if len(word) > 3]
    if len(content) > 6:  # a transcript: most of its words must be there
        return sum(word in said.split() for word in content) >= 0.5 * len(content)
    return key in said


_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
