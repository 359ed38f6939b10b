"""Benchmark: 20 questions answered by the old and the new embedded default, scored against the evidence.

The questions are about the shipped example clip (``examples/interview.mp4``: two real people from package photos,
espeak-ng speech), the shipped photos (the astronaut, insightface's t1.jpg with six people, Tom_Hanks_54745.png)
and espeak-ng speech alone. The tools run once per file beforehand (the evidence cache is shared), so what is
timed is the answer: routing, cached evidence, the model and, for grounded answers, the check. Per model:

* grounding rate: sentences of the explanation the checker (``agent.grounding``) finds supported by the findings;
  also over the model's own words only (a grounded answer's summary; all of a free answer);
* label agreement: the model's label (grounded answers) or its prose (free answers) states the tools' label;
* time to the first token of prose and to the full answer, warm (server up, evidence cached);
* for grounded answers, how often the model's checked answer, a retry or the evidence template gave the prose.

Planning is measured on the same questions: the semantic router's tools against the model's native tool calls
(one request offering every tool; calls written as bare JSON are read too), each against the expected tools.

The machine this ran on was shared by other work: latencies are pessimistic; the ratios between models, measured
in the same run, are the comparable numbers.

    python -m evals.bench.agent_answers [--models qwen2.5-coder-0.5b smollm2-135m qwen2.5-coder-1.5b]
        [--plan-models qwen2.5-coder-0.5b] [--limit 20] [--json out.json]   (or --report out.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.bench import run_bench

OLD_DEFAULT = "smollm2-135m"
SPEECH = "Good morning everyone. The weather is lovely today and the garden is full of flowers."


@dataclass(frozen=True)
class Question:
    media: str  # key into the media table
    text: str
    tools: tuple[str, ...]  # what a good plan calls


QUESTIONS: tuple[Question, ...] = (
    Question("astronaut", "What is the mood of the astronaut?", ("read_emotions",)),
    Question("astronaut", "How does she feel, and why?", ("read_emotions",)),
    Question("astronaut", "Who is this?", ("identify_people",)),
    Question("astronaut", "How many faces are in this photo?", ("find_faces",)),
    Question("astronaut", "Is she smiling?", ("read_emotions",)),
    Question("t1", "How many people are in t1.jpg?", ("find_faces",)),
    Question("t1", "How does everyone feel?", ("read_emotions",)),
    Question("t1", "Which way is person 2 looking?", ("find_faces",)),
    Question("t1", "How does the person on the left feel?", ("read_emotions",)),
    Question("t1", "Is anyone in this photo sad?", ("read_emotions",)),
    Question("hanks", "How does this man feel?", ("read_emotions",)),
    Question("hanks", "Who is this?", ("identify_people",)),
    Question("interview", "How do the people in this clip feel?", ("read_emotions",)),
    Question("interview", "How does the woman on the left feel, and why?", ("read_emotions",)),
    Question("interview", "What is said in this clip?", ("transcribe_speech",)),
    Question("interview", "How many people are in the clip?", ("find_faces",)),
    Question("interview", "How does person 2 feel at 0:05?", ("read_emotions",)),
    Question("interview", "Explain the emotion without looking at faces.", ("transcribe_speech", "find_faces")),
    Question("speech", "What does the speaker say?", ("transcribe_speech",)),
    Question("speech", "How does the speaker sound?", ("transcribe_speech",)),
)


@dataclass
class Scored:
    """One answer and its scores."""

    question: str
    media: str
    label: str | None
    explanation: str
    statements: int
    supported: int
    model_statements: int
    model_supported: int
    label_agrees: bool
    first_token_s: float | None
    total_s: float
    method: str | None
    problems: list[str] = field(default_factory=list)


def make_media(folder: Path) -> dict[str, str]:
    """The files the questions are about (real photos, the shipped clip, espeak-ng speech)."""
    from evals import samples
    from evals.make_example import EXAMPLE_PATH
    from tools.media import save_image

    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True)
    return {
        "astronaut": str(save_image(folder / "astronaut.png", samples.astronaut())),
        "t1": str(samples.group_photo_path()),
        "hanks": str(samples.tom_hanks_path()),
        "interview": str(EXAMPLE_PATH),
        "speech": str(wav),
    }


def _env(model: str, home: Path) -> None:
    os.environ.update(MIEN_HOME=str(home), MIEN_LLM_EMBEDDED=model, MIEN_AGENT_TOOL_CALLING="router")
    os.environ.update(MIEN_AGENT_VISION="off", MIEN_TORCH_THREADS="1")
    os.environ["MIEN_LLM_RUNTIME"] = "transformers" if model == "smollm2-135m" else "auto"
    os.environ.setdefault("MIEN_LLM_STARTUP_TIMEOUT_S", "1200")  # SmolLM2's first dequantization on a busy CPU
    os.environ.setdefault("MIEN_AGENT_REQUEST_TIMEOUT_S", "900")  # a first prompt with every tool, on a busy CPU
    os.environ.pop("MIEN_LLM_BASE_URL", None)
    from tools.settings import get_settings

    get_settings.cache_clear()


def precompute_evidence(media: dict[str, str], home: Path, questions: list[Question]) -> None:
    """Run every question's tools once (routing as the agent does) against an endpoint that is not there: the
    answers fail fast, the evidence lands in the shared cache."""
    from agent.model import ChatEndpoint
    from agent.session import AgentSession, open_threads
    from tools.settings import get_settings

    _env("smollm2-135m", home)
    settings = get_settings()
    dead = ChatEndpoint("http://127.0.0.1:9/v1", "none", "none", False, False, embedded=False)
    with open_threads(settings) as saver:
        session = AgentSession.for_endpoint(dead, settings, saver)
        for index, question in enumerate(questions):
            session.ask(question.text, [media[question.media]], f"evidence-{index}")


def score(question: Question, answer: Any, first: float | None, total: float, grounded: bool) -> Scored:
    from agent.grounding import Evidence, check_text, labels_agree

    evidence = Evidence.of(answer_findings(answer), question.text)
    statements = check_text(answer.explanation, evidence)
    # A grounded answer's own words are the sentences that cite no fact (the cited facts are quoted verbatim).
    own_statements = [s for s in statements if "[F" not in s.text] if grounded else statements
    if grounded and answer.method == "template":
        own_statements = []
    said = (answer.model_label or "") if grounded else answer.explanation
    return Scored(
        question=question.text,
        media=question.media,
        label=answer.label,
        explanation=answer.explanation,
        statements=len(statements),
        supported=sum(s.supported for s in statements),
        model_statements=len(own_statements),
        model_supported=sum(s.supported for s in own_statements),
        label_agrees=labels_agree(answer.label, said),
        first_token_s=first,
        total_s=total,
        method=answer.method,
        problems=[p for s in statements for p in s.problems] or list(answer.problems),
    )


def answer_findings(answer: Any) -> list[Any]:
    """The full findings an answer rests on, read back from the evidence cache by its tool runs."""
    from agent.evidence import EvidenceCache
    from tools.langchain_tools.types import Finding
    from tools.settings import get_settings

    cache = EvidenceCache(get_settings().home / "evidence")
    found = []
    for run in answer.tools:
        record = cache.get(run["evidence_key"]) if run.get("evidence_key") else None
        if record is not None:
            found.append(Finding.from_dict(record.artifact))
    return found


def answer_all(
    model: str,
    media: dict[str, str],
    home: Path,
    questions: list[Question],
    results: list[Scored] | None = None,
    on_answer: Callable[[], None] = lambda: None,
) -> list[Scored]:
    """Every question on ``model`` (served by the embedded server), each in a new thread, timed; ``on_answer`` is
    called after each (the caller saves partial results)."""
    from agent.model import ChatEndpoint
    from agent.session import AgentSession, open_threads
    from servers.local.process import LocalServer
    from tools.settings import get_settings

    _env(model, home)
    settings = get_settings()
    results = [] if results is None else results
    with LocalServer(settings=settings) as server, open_threads(settings) as saver:
        endpoint = ChatEndpoint(server.base_url, server.model_name, "none", False, False, embedded=True)
        session = AgentSession.for_endpoint(endpoint, settings, saver)
        grounded = endpoint.structured_answers(settings)
        session.ask("How many people are in this photo?", [media["t1"]], f"warm-{model}")  # load, fill the cache
        for index, question in enumerate(questions):
            first: list[float] = []
            started = time.perf_counter()
            answer = session.ask(
                question.text,
                [media[question.media]],
                f"{model}-{index}",
                on_token=lambda _, seen=first: seen.append(time.perf_counter()) if not seen else None,  # type: ignore[misc]
            )
            total = time.perf_counter() - started
            scored = score(question, answer, first[0] - started if first else None, total, grounded)
            results.append(scored)
            on_answer()
            print(f"[{model}] {question.text} ({total:.1f} s): {answer.explanation[:300]}", flush=True)
    return results


def planning(model: str, media: dict[str, str], home: Path, questions: list[Question]) -> dict[str, Any]:
    """Router against native tool calls on the same questions: how often each picks exactly the expected tools."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from agent.graph import SYSTEM_TOOLS, media_kinds
    from agent.model import ChatEndpoint
    from agent.router import SemanticRouter
    from servers.local.process import LocalServer
    from tools.langchain_tools import build_tools
    from tools.settings import get_settings
    from tools.text_embedding import get_text_embedder

    _env(model, home)
    settings = get_settings()
    tools = build_tools(settings)
    router = SemanticRouter(tools, get_text_embedder().encode, settings.router_min_score, settings.router_margin)
    rows: list[dict[str, Any]] = []
    with LocalServer(settings=settings) as server:
        endpoint = ChatEndpoint(server.base_url, server.model_name, "none", True, False, embedded=True)
        chat = endpoint.chat_model(settings).bind_tools(tools)
        for question in questions:
            path = media[question.media]
            routed = {call["name"] for call in router.plan(question.text, [path], media_kinds([path])).tool_calls}
            started = time.perf_counter()
            system = SystemMessage(SYSTEM_TOOLS.format(media=path))
            reply = chat.invoke([system, HumanMessage(question.text)])
            called = {call["name"] for call in getattr(reply, "tool_calls", [])}
            rows.append(
                {
                    "question": question.text,
                    "expected": sorted(question.tools),
                    "router": sorted(routed),
                    "native": sorted(called),
                    "native_s": round(time.perf_counter() - started, 2),
                }
            )
            print(f"[plan {model}] {question.text}: router {sorted(routed)} native {sorted(called)}", flush=True)
    exact = {kind: sum(set(r[kind]) == set(r["expected"]) for r in rows) for kind in ("router", "native")}
    hit = {kind: sum(r["expected"][0] in r[kind] for r in rows) for kind in ("router", "native")}
    return {"model": model, "rows": rows, "exact": exact, "primary_hit": hit, "questions": len(rows)}


def summary(model: str, results: list[Scored]) -> dict[str, Any]:
    firsts = [r.first_token_s for r in results if r.first_token_s is not None]
    return {
        "model": model,
        "grounding_rate": sum(r.supported for r in results) / max(1, sum(r.statements for r in results)),
        "model_words_grounding_rate": sum(r.model_supported for r in results)
        / max(1, sum(r.model_statements for r in results)),
        "answers_fully_grounded": sum(r.supported == r.statements for r in results),
        "label_agreement": sum(r.label_agrees for r in results) / len(results),
        "first_token_s_median": statistics.median(firsts) if firsts else None,
        "total_s_median": statistics.median(r.total_s for r in results),
        "methods": {m: sum(r.method == m for r in results) for m in {r.method for r in results}},
        "answers": len(results),
    }


def report(table: list[dict[str, Any]], plans: list[dict[str, Any]], count: int) -> None:
    """The comparison table (ratios against the old default, SmolLM2, else the last model) and planning counts."""
    base = next((row for row in table if row["model"] == OLD_DEFAULT), table[-1])
    print(f"\n{count} questions; ratios against {base['model']} (measured in the same run)")
    header = f"{'model':<22}{'grounded':>9}{'own words':>10}{'label':>7}{'first s':>9}{'full s':>8}{'full/base':>10}"
    print(header)
    for row in table:
        first = row["first_token_s_median"]
        print(
            f"{row['model']:<22}{row['grounding_rate']:>9.2f}{row['model_words_grounding_rate']:>10.2f}"
            f"{row['label_agreement']:>7.2f}{(first or float('nan')):>9.1f}{row['total_s_median']:>8.1f}"
            f"{row['total_s_median'] / base['total_s_median']:>10.2f}  methods {row['methods']}"
        )
    report_plans(plans)


def report_plans(plans: list[dict[str, Any]]) -> None:
    for plan in plans:
        print(
            f"planning on {plan['model']}: exact tools router {plan['exact']['router']}/{plan['questions']}, "
            f"native {plan['exact']['native']}/{plan['questions']}; expected tool called: router "
            f"{plan['primary_hit']['router']}, native {plan['primary_hit']['native']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["qwen2.5-coder-0.5b", "smollm2-135m"])
    parser.add_argument("--plan-models", nargs="*", default=["qwen2.5-coder-0.5b"])
    parser.add_argument("--limit", type=int, default=len(QUESTIONS))
    parser.add_argument("--json", type=Path, default=None, help="write every answer and score here (after each model)")
    parser.add_argument("--report", type=Path, default=None, help="print the tables of an earlier --json and exit")
    parser.add_argument("--work", type=Path, default=None, help="keep media and evidence here (reused by a rerun)")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())
        if saved["summary"]:
            report(saved["summary"], saved["planning"], saved["summary"][0]["answers"])
        else:
            report_plans(saved["planning"])
        return
    import torch

    torch.set_num_threads(1)
    questions = list(QUESTIONS[: args.limit])
    answers: dict[str, list[Scored]] = {}
    plans: list[dict[str, Any]] = []

    def save() -> None:
        if args.json:
            payload = {
                "summary": [summary(model, results) for model, results in answers.items()],
                "planning": plans,
                "answers": {model: [asdict(r) for r in results] for model, results in answers.items()},
            }
            args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False))

    with tempfile.TemporaryDirectory() as folder:
        root = args.work or Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        media = make_media(root)
        home = root / "home"
        started = time.perf_counter()
        if args.models:  # planning alone needs no evidence
            precompute_evidence(media, home, questions)
            print(f"evidence for {len(questions)} questions: {time.perf_counter() - started:.0f} s", flush=True)
        for model in args.models:
            answers[model] = []
            answer_all(model, media, home, questions, answers[model], save)
            report([summary(m, r) for m, r in answers.items()], plans, len(questions))
        for model in args.plan_models:
            plans.append(planning(model, media, home, questions))
            save()
    if answers:
        report([summary(model, results) for model, results in answers.items()], plans, len(questions))
    else:
        report_plans(plans)


if __name__ == "__main__":
    run_bench(main)
