"""Speech as a tool: what was said, when, and how (pitch, loudness, rate) in an audio or video file."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import package_version
from tools.langchain_tools.types import Finding
from tools.settings import Settings
from tools.speech import Transcript, transcribe

LABEL_CHARS = 200  # the label quotes the start of the transcript; the facts carry every segment


def speech_versions(settings: Settings) -> dict[str, str]:
    return {
        "transcriber": settings.transcriber,
        "vad": settings.speech_vad,
        "beam_size": str(settings.speech_beam_size),
        "faster_whisper": package_version("faster-whisper"),
    }


def transcript_facts(transcript: Transcript) -> dict[str, Any]:
    """Segments with times and prosody, compact (no per-word entries)."""
    segments: list[dict[str, Any]] = []
    for segment in transcript.segments:
        item: dict[str, Any] = {
            "from_s": round(segment.start_s, 2),
            "to_s": round(segment.end_s, 2),
            "text": segment.text,
        }
        if segment.prosody is not None:
            prosody = segment.prosody.to_dict()
            item["prosody"] = {k: v for k, v in prosody.items() if k in ("pitch_mean_hz", "energy_db", "words_per_s")}
        segments.append(item)
    facts: dict[str, Any] = {"text": transcript.text, "language": transcript.language, "segments": segments}
    if transcript.note:
        facts["note"] = transcript.note
    return facts


def transcribe_speech(media: str) -> Finding:
    """The transcript of ``media``'s audio with segment times and prosody."""
    transcript = transcribe(media)
    text = transcript.text
    if text:
        label = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
        summary = f'{len(transcript.segments)} speech segment(s) in {transcript.duration_s:.1f} s: "{label}"'
    else:
        label = None
        summary = transcript.note or "no speech recognised"
    return Finding("transcribe_speech", media, label, summary, transcript_facts(transcript))


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="transcribe_speech",
        description="Transcribe the speech in an audio or video file: what is said, when, and how it is spoken "
        "(pitch, loudness, speaking rate).",
        run=transcribe_speech,
        args_schema=MediaArgs,
        versions=speech_versions(settings),
        examples=[
            "What does she say?",
            "What is being said in this clip?",
            "Give me the transcript.",
            "What are they talking about?",
            "Transcribe the audio.",
            "What words are spoken?",
            "How does his voice sound?",
            "What is the dialogue?",
        ],
        kinds=("audio",),
    )
