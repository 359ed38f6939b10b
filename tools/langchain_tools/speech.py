"""Speech as a tool: what was said, when, and how (pitch, loudness, rate) in an audio or video file."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import analysed_faces, face_versions, key_face, package_version, position_word
from tools.langchain_tools.types import Finding
from tools.media import probe_media
from tools.settings import Settings
from tools.speech import Transcript, transcribe
from tools.speech.speaker import attribute_speakers

LABEL_CHARS = 200  # the label quotes the start of the transcript; the facts carry every segment


def speech_versions(settings: Settings) -> dict[str, str]:
    return {
        "transcriber": settings.transcriber,
        "vad": settings.speech_vad,
        "beam_size": str(settings.speech_beam_size),
        "faster_whisper": package_version("faster-whisper"),
        "speaker": "mouth-motion-1",
        **{f"faces_{key}": value for key, value in face_versions(settings).items()},
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


def speaker_facts(media: str, transcript: Transcript, facts: dict[str, Any]) -> None:
    """In a video, who said each segment (mouth motion against voice activity), added to ``facts`` in place:
    each segment gets a ``person`` (a track number or "unknown") and ``people`` lists what each person said."""
    video = analysed_faces(media)
    if video.media.kind != "video" or not video.tracks or not transcript.segments:
        return
    attribution = attribute_speakers(video.tracks, transcript)
    for item, turn in zip(facts["segments"], attribution.turns, strict=True):
        item["person"] = turn.person if turn.person is not None else "unknown"
    seconds = attribution.speech_seconds()
    people = []
    for track in video.tracks:
        said = [turn.text for turn in attribution.turns if turn.person == track.track_id]
        people.append(
            {
                "person": track.track_id,
                "position": position_word(key_face(track), video.media.width),
                "speech_s": round(seconds.get(track.track_id, 0.0), 2),
                "said": " ".join(said) if said else "(nothing)",
            }
        )
    facts["people"] = people
    facts["speaker_method"] = attribution.method
    if None in seconds:
        facts["unknown_speaker_s"] = round(seconds[None], 2)


def transcribe_speech(media: str) -> Finding:
    """The transcript of ``media``'s audio with segment times and prosody (and, in a video, the speakers)."""
    transcript = transcribe(media)
    text = transcript.text
    if text:
        label = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
        summary = f'{len(transcript.segments)} speech segment(s) in {transcript.duration_s:.1f} s: "{label}"'
    else:
        label = None
        summary = transcript.note or "no speech recognised"
    facts = transcript_facts(transcript)
    if probe_media(media).kind == "video":
        speaker_facts(media, transcript, facts)
    return Finding("transcribe_speech", media, label, summary, facts)


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="transcribe_speech",
        description="Transcribe the speech in an audio or video file: what is said, when, and how it is spoken "
        "(pitch, loudness, speaking rate), and in a video who says it.",
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
            "Who is speaking?",
        ],
        kinds=("audio",),
    )
