"""Speech: transcripts with word timestamps and voice activity (Whisper backends), and prosody per segment."""

from tools.speech.backends import TRANSCRIBERS
from tools.speech.protocols import Recognition, Transcriber
from tools.speech.transcribe import transcribe
from tools.speech.types import Prosody, Segment, SpeechRegion, Transcript, Word
from tools.speech.wer import word_error_rate

__all__ = [
    "TRANSCRIBERS",
    "Prosody",
    "Recognition",
    "Segment",
    "SpeechRegion",
    "Transcriber",
    "Transcript",
    "Word",
    "transcribe",
    "word_error_rate",
]
