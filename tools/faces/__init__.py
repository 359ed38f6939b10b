"""Faces: detection, landmarks (5/68/478), head pose, identity embeddings, and tracks across video frames.

One ``Face`` type, filled in by backends behind small protocols (``Detector``, ``Landmarker``, ``Embedder``)
chosen by name from registries.
"""

from tools.faces.detectors import DETECTORS, LANDMARKERS, get_detector, get_landmarker
from tools.faces.pipeline import FaceOptions, VideoFaces, analyze_file, analyze_image, analyze_video
from tools.faces.protocols import Detector, Embedder, Landmarker
from tools.faces.types import Box, Face, HeadPose, Track

__all__ = [
    "DETECTORS",
    "LANDMARKERS",
    "Box",
    "Detector",
    "Embedder",
    "Face",
    "FaceOptions",
    "HeadPose",
    "Landmarker",
    "Track",
    "VideoFaces",
    "analyze_file",
    "analyze_image",
    "analyze_video",
    "get_detector",
    "get_landmarker",
]
