"""Opening images, videos and audio: probing, streaming frames at a rate, 16 kHz mono audio, writing clips."""

from tools.media.audio import SPEECH_SAMPLE_RATE, load_audio
from tools.media.image import load_image, save_image
from tools.media.probe import probe_media
from tools.media.types import Frame, MediaInfo, MediaKind
from tools.media.video import iter_frames
from tools.media.writer import write_video

__all__ = [
    "SPEECH_SAMPLE_RATE",
    "Frame",
    "MediaInfo",
    "MediaKind",
    "iter_frames",
    "load_audio",
    "load_image",
    "probe_media",
    "save_image",
    "write_video",
]
