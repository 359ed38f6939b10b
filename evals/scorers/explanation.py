"""Explanation scorer in the manner of EMER: label overlap, clue overlap, and a judge-free embedding similarity.

Without a judge: the packaged MiniLM (``tools.text_embedding``) gives ``emer_similarity`` (cosine of the
explanation and the reference) and ``emer_clue_coverage`` (reference clues with a close sentence);
``emer_label_f1`` is the overlap of the emotion classes named. With a judge (``emer_judge``: an OpenAI-compatible
endpoint ``judge_url``), the judge reads the versioned prompt ``prompts/emer_judge_v1.md`` at temperature 0 on the
pinned ``judge_model`` and lists the matched clues and the labels; ``emer_judge_clue_recall`` and
``emer_judge_label_f1`` come from its answer. The judge's name, prompt version and raw reply are kept in the score's
metadata, so a judged number always says who judged it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState

from agent.grounding import sentences
from evals.metrics.emer import clue_coverage, clue_recall, emotion_set, label_overlap
from evals.scorers.common import answer_of, sample_turns
from evals.scorers.common import mean as average

JUDGE_PROMPT = Path(__file__).parent / "prompts" / "emer_judge_v1.md"
JUDGE_PROMPT_VERSION = "emer-judge-v1"
JUDGE_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"  # the embedded model; pass another pinned name with judge_model


def judge_prompt(clues: list[str], labels: set[str], explanation: str) -> str:
    listed = "\n".join(f"{i}. {clue}" for i, clue in enumerate(clues)) or "(none)"
    return JUDGE_PROMPT.read_text().format(
        clues=listed, labels=", ".join(sorted(labels)) or "(none)", explanation=explanation
    )


def parse_judge(reply: str) -> tuple[list[int], set[str]]:
    """The judge's matched clue indices and labels; a reply without a JSON object matches nothing."""
    found = re.search(r"\{.*\}", reply, re.DOTALL)
    try:
        data = json.loads(found.group(0)) if found else {}
    except json.JSONDecodeError:
        data = {}
    matched = [int(i) for i in data.get("matched_clues", []) if isinstance(i, int | float | str) and str(i).isdigit()]
    labels = emotion_set(" ".join(str(label) for label in data.get("labels", [])))
    return matched, labels


def ask_judge(prompt: str, judge_url: str, judge_model: str) -> str:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    from agent.model import normalized_base_url

    chat = ChatOpenAI(
        base_url=normalized_base_url(judge_url),
        api_key=SecretStr("none"),
        model=judge_model,
        temperature=0.0,
        max_completion_tokens=200,
        max_retries=0,
    )
    return str(chat.invoke(prompt).content)


@scorer(metrics={"emer_similarity": [mean()], "emer_clue_coverage": [mean()], "emer_label_f1": [mean()]})
def explanation() -> Scorer:
    """Judge-free: MiniLM similarity to the turn's ``rubric``, clue coverage, emotion-label overlap; unscored
    without a rubric."""

    async def score(state: TaskState, target: Target) -> Score | None:
        from tools.text_embedding import get_text_embedder

        embed = get_text_embedder().encode
        rows: list[dict[str, float]] = []
        for turn, record in sample_turns(state):
            rubric = turn.expect.rubric
            if rubric is None:
                continue
            text = answer_of(record).explanation.strip()
            clues = turn.expect.clues
            rows.append(
                {
                    "emer_similarity": float(embed([text])[0] @ embed([rubric])[0]) if text else 0.0,
                    "emer_clue_coverage": clue_coverage(embed(clues), embed(sentences(text))) if clues else 1.0,
                    "emer_label_f1": label_overlap(emotion_set(text), emotion_set(rubric)).f1,
                }
            )
        if not rows:
            return None
        return Score(value={key: average([row[key] for row in rows]) for key in rows[0]})

    return score


@scorer(metrics={"emer_judge_clue_recall": [mean()], "emer_judge_label_f1": [mean()]})
def emer_judge(judge_url: str, judge_model: str = JUDGE_MODEL) -> Scorer:
    """EMER clue overlap and label overlap from an LLM judge at ``judge_url`` (temperature 0, pinned model,
    versioned prompt); the judge, prompt version and raw replies are kept in the score's metadata."""

    async def score(state: TaskState, target: Target) -> Score | None:
        import anyio

        rows: list[dict[str, float]] = []
        judged: list[dict[str, Any]] = []
        for turn, record in sample_turns(state):
            if turn.expect.rubric is None:
                continue
            text = answer_of(record).explanation.strip()
            reference = emotion_set(turn.expect.rubric)
            prompt = judge_prompt(turn.expect.clues, reference, text)
            reply = await anyio.to_thread.run_sync(ask_judge, prompt, judge_url, judge_model)
            matched, labels = parse_judge(reply)
            rows.append(
                {
                    "emer_judge_clue_recall": clue_recall(matched, len(turn.expect.clues)),
                    "emer_judge_label_f1": label_overlap(labels, reference).f1,
                }
            )
            judged.append({"judge": judge_model, "prompt": JUDGE_PROMPT_VERSION, "reply": reply})
        if not rows:
            return None
        value = {key: average([row[key] for row in rows]) for key in rows[0]}
        return Score(value=value, metadata={"judged": judged})

    return score
