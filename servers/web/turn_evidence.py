"""What the page shows of a turn beyond the answer: its annotated key frames and the facts its prose cites.

The agent sends key frames only to a vision model and numbers its facts (F1, F2, ...) only inside the prompt, so a
text-only model's answer reads "[F3]" with nothing to look at. This rebuilds both from the turn's state the way
the answer node built them (the findings narrowed to the person asked about, facial facts left out when the
question said "without faces"), so the numbers and pictures match what the model was given.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from agent.answer import Answer
from agent.facts import findings_facts
from agent.focus import narrow_to_focus
from agent.reasoning import draw_key_frames
from agent.router import Focus
from agent.session import AgentSession
from servers.web.protocol import CitedFact
from tools.errors import MienError
from tools.langchain_tools.types import Finding

log = logging.getLogger(__name__)
FACT_ID = re.compile(r"\bF(\d+)\b")


@dataclass(frozen=True)
class TurnEvidence:
    frames: list[str]  # paths of the annotated key frames
    facts: list[CitedFact]  # the facts the explanation cites, in the order of their numbers


def turn_evidence(
    session: AgentSession, thread_id: str, answer: Answer, frames_dir: Path, key_frames: int
) -> TurnEvidence:
    values = session.graph.get_state({"configurable": {"thread_id": thread_id}}).values
    evidence = values.get("evidence", {})
    keys = values.get("turn_evidence") or values.get("answered_evidence", [])
    focus = Focus(**values.get("focus", {}))
    findings = narrow_to_focus([Finding.from_dict(evidence[key]) for key in keys if key in evidence], focus)
    with_faces = values.get("style") != "deemo"
    cited_ids = {f"F{number}" for number in FACT_ID.findall(answer.explanation)}
    facts = [CitedFact(id=f.id, text=f.text) for f in findings_facts(findings, with_faces=with_faces)
             if f.id in cited_ids]
    frames = [frame for citation in answer.evidence for frame in citation.frames]
    if not frames and with_faces:
        try:
            hidden = values.get("privacy") == "deidentified"  # as the agent draws them in that mode
            drawn = draw_key_frames(findings, focus, key_frames, frames_dir, deidentify=hidden)
        except MienError as error:  # e.g. a frame that no longer decodes: the answer stands without pictures
            log.warning("key frames unavailable: %s", error)
            drawn = {}
        frames = [path for paths in drawn.values() for path in paths]
    return TurnEvidence(frames, facts)
