"""Scorers of the evidence itself: grounding of the prose, latency, spotting intervals, liveness verdicts, cloaking."""

from __future__ import annotations

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState

from agent.grounding import Evidence, check_text, grounding_rate
from evals.metrics.classification import emotion_class
from evals.metrics.decisions import cloaking_success
from evals.scorers.common import answer_of, findings_of, sample_turns
from evals.scorers.common import mean as average
from evals.scorers.metrics import acer, apcer, bpcer, p50, p90, p95, spotting_f1, strs

TICKS_PER_S = 100  # spotting intervals in seconds are compared on 10 ms ticks


@scorer(metrics=[mean()])
def grounding() -> Scorer:
    """Share of the explanation's sentences whose every number, AU, time, person number, name and emotion is in the
    findings the answer rested on (``agent.grounding``); turns without an explanation are not scored."""

    async def score(state: TaskState, target: Target) -> Score | None:
        rates, problems = [], []
        for turn, record in sample_turns(state):
            answer = answer_of(record)
            if not turn.expect.grounded or not answer.explanation.strip():
                continue
            statements = check_text(answer.explanation, Evidence.of(findings_of(record), turn.question))
            rates.append(grounding_rate(statements))
            problems += [p for s in statements for p in s.problems]
        if not rates:
            return None
        return Score(value=average(rates), explanation="; ".join(problems) or "every claim is in the evidence")

    return score


@scorer(metrics=[mean(), p50(), p90(), p95()])
def latency() -> Scorer:
    """Seconds per turn (mean), and percentiles over every turn of the run."""

    async def score(state: TaskState, target: Target) -> Score | None:
        seconds = [record.seconds for _, record in sample_turns(state)]
        if not seconds:
            return None
        return Score(value=average(seconds), metadata={"seconds": seconds})

    return score


def _ticks(onset_s: float, offset_s: float) -> tuple[int, int]:
    return round(onset_s * TICKS_PER_S), max(round(onset_s * TICKS_PER_S), round(offset_s * TICKS_PER_S))


@scorer(metrics=[mean(), spotting_f1(), strs()])
def intervals() -> Scorer:
    """Spotted intervals against the truth (MEGC: IoU >= 0.5); per sample the F1, pooled F1 and STRS over samples."""

    async def score(state: TaskState, target: Target) -> Score | None:
        from evals.metrics.spotting import LabelledInterval, score_spotting

        truth: list[list[object]] = []
        predicted: list[list[object]] = []
        expected = False
        for turn, record in sample_turns(state):
            if turn.expect.intervals is None:
                continue
            expected = True
            for want in turn.expect.intervals:
                truth.append([*_ticks(want.onset_s, want.offset_s), emotion_class(want.label), want.kind])
            for finding in findings_of(record, "spot_expressions"):
                for item in finding.facts.get("intervals", []):
                    label = emotion_class(str(item.get("label")))
                    predicted.append([*_ticks(item["onset_s"], item["offset_s"]), label, item.get("kind")])
        if not expected:
            return None
        result = score_spotting(
            {"v": [LabelledInterval(*p) for p in predicted]},  # type: ignore[arg-type]
            {"v": [LabelledInterval(*t) for t in truth]},  # type: ignore[arg-type]
        )
        return Score(
            value=result.f1,
            explanation=f"tp {result.tp}, fp {result.fp}, fn {result.fn}",
            metadata={"truth": truth, "predicted": predicted},
        )

    return score


@scorer(metrics=[mean(), apcer(), bpcer(), acer()])
def liveness() -> Scorer:
    """The liveness verdict against the truth ("live" or an attack kind); APCER/BPCER/ACER pooled over samples."""

    async def score(state: TaskState, target: Target) -> Score | None:
        pairs: list[list[str | None]] = []
        for turn, record in sample_turns(state):
            if turn.expect.label_kind != "liveness" or turn.expect.label is None:
                continue
            verdicts = [str(f.facts.get("verdict")) for f in findings_of(record, "detect_attacks")]
            verdict = verdicts[0] if verdicts and verdicts[0] in ("live", "attack") else None
            pairs.append([turn.expect.label, verdict])
        if not pairs:
            return None
        right = [float((t == "live") == (p == "live") and p is not None) for t, p in pairs]
        return Score(value=average(right), answer=str(pairs[0][1]), metadata={"pairs": pairs})

    return score


@scorer(metrics=[mean()])
def cloaking() -> Scorer:
    """Cloaking success: share of cloaked faces the surrogate recognizer no longer matches to their original."""

    async def score(state: TaskState, target: Target) -> Score | None:
        protected: list[bool] = []
        asked = False
        for turn, record in sample_turns(state):
            if "cloak_faces" not in turn.expect.tools:
                continue
            asked = True
            for finding in findings_of(record, "cloak_faces"):
                protected += [not bool(face.get("matches_original")) for face in finding.facts.get("faces", [])]
        if not asked:
            return None
        return Score(value=cloaking_success(protected), explanation=f"{sum(protected)}/{len(protected)} protected")

    return score
