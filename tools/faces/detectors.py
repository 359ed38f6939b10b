"""Registries of face detectors and landmarkers, with where their weights come from."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from tools.faces.dlib_models import SHAPE_68_FILE, dlib_model_ready, dlib_models_dir
from tools.faces.protocols import Detector, Landmarker
from tools.registry import Registry, new_registry
from tools.settings import get_settings

DETECTORS: Registry[Detector] = new_registry("detector")
LANDMARKERS: Registry[Landmarker] = new_registry("landmarker")


def _mediapipe_modules() -> Path | None:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "modules"


def _mediapipe_file(relative: str) -> str:
    folder = _mediapipe_modules()
    return str(folder / relative) if folder else "mediapipe not installed"


def _mediapipe_ready(relative: str) -> bool:
    folder = _mediapipe_modules()
    return folder is not None and (folder / relative).is_file()


def _build_mediapipe_detector() -> Detector:
    from tools.faces.detect_mediapipe import MediapipeDetector

    return MediapipeDetector(min_score=get_settings().detection_threshold)


def _build_dlib_detector() -> Detector:
    from tools.faces.detect_dlib import DlibHogDetector

    return DlibHogDetector()


def _build_mesh() -> Landmarker:
    from tools.faces.mesh_mediapipe import MediapipeMesh

    return MediapipeMesh()


def _build_dlib68() -> Landmarker:
    from tools.faces.landmarks_dlib import DlibLandmarks68

    return DlibLandmarks68()


_SHORT = "face_detection/face_detection_short_range.tflite"
_FULL = "face_detection/face_detection_full_range_sparse.tflite"
_MESH = "face_landmark/face_landmark_with_attention.tflite"

DETECTORS.register(
    "mediapipe",
    _build_mediapipe_detector,
    description="BlazeFace short+full range with tiling (mediapipe 0.10.21 bundled tflite)",
    weights=lambda: _mediapipe_file(_SHORT),
    ready=lambda: _mediapipe_ready(_SHORT) and _mediapipe_ready(_FULL),
    default=True,
)
DETECTORS.register(
    "dlib-hog",
    _build_dlib_detector,
    description="dlib HOG + linear SVM frontal detector (weights compiled into dlib)",
    weights=lambda: "built into dlib-bin",
    ready=lambda: importlib.util.find_spec("dlib") is not None,
)


def _build_ensemble() -> Detector:
    from tools.faces.ensemble_config import build_ensemble

    return build_ensemble(get_settings().ensemble_detectors)


def _member_builder(name: str) -> Callable[[], Detector]:
    def build() -> Detector:
        from tools.faces.ensemble_config import build_member

        return build_member(name)

    return build


def _mtcnn_weights() -> str:
    from tools.faces.detect_mtcnn import mtcnn_weights_dir

    folder = mtcnn_weights_dir()
    return str(folder) if folder else "facenet-pytorch not installed (pip install --no-deps facenet-pytorch==2.6.0)"


DETECTORS.register(
    "ensemble",
    _build_ensemble,
    description="box voting over MIEN_ENSEMBLE_DETECTORS (default BlazeFace tiled + reflect-padded + MTCNN)",
    weights=lambda: "its members' weights",
    ready=lambda: _mediapipe_ready(_SHORT) and importlib.util.find_spec("facenet_pytorch") is not None,
)
DETECTORS.register(
    "mediapipe-padded",
    _member_builder("mediapipe-padded"),
    description="BlazeFace on a reflect-padded frame, for faces cut by the image edge",
    weights=lambda: _mediapipe_file(_SHORT),
    ready=lambda: _mediapipe_ready(_SHORT) and _mediapipe_ready(_FULL),
)
DETECTORS.register(
    "mtcnn",
    _member_builder("mtcnn"),
    description="MTCNN P/R/O-Net cascade with five landmarks (facenet-pytorch 2.6.0 wheel weights)",
    weights=_mtcnn_weights,
    ready=lambda: importlib.util.find_spec("facenet_pytorch") is not None,
)
DETECTORS.register(
    "dlib-mmod",
    _member_builder("dlib-mmod"),
    description="dlib MMOD CNN face detector (face-recognition-models); slow on CPU",
    weights=lambda: str((dlib_models_dir() or Path("?")) / "mmod_human_face_detector.dat"),
    ready=lambda: dlib_model_ready("mmod_human_face_detector.dat"),
)
DETECTORS.register(
    "opencv-haar",
    _member_builder("opencv-haar"),
    description="OpenCV Haar cascades, frontal + profile both ways (opencv-python cv2.data)",
    weights=lambda: "opencv-python cv2.data.haarcascades",
    ready=lambda: importlib.util.find_spec("cv2") is not None,
)


def _build_insightface_pack_detector() -> Detector:
    from tools.faces.insightface_pack import InsightfacePackDetector

    return InsightfacePackDetector()


def _insightface_pack_weights() -> str:
    from tools.faces.insightface_pack import pack_weights_description

    return pack_weights_description()


def _insightface_pack_ready() -> bool:
    from tools.faces.insightface_pack import pack_ready

    return pack_ready()


DETECTORS.register(
    "insightface-pack",
    _build_insightface_pack_detector,
    description="SCRFD of a local insightface model pack (MIEN_INSIGHTFACE_PACK) through insightface's FaceAnalysis",
    weights=_insightface_pack_weights,
    ready=_insightface_pack_ready,
)
LANDMARKERS.register(
    "mediapipe-mesh",
    _build_mesh,
    description="478-point face mesh with iris (mediapipe bundled tflite)",
    weights=lambda: _mediapipe_file(_MESH),
    ready=lambda: _mediapipe_ready(_MESH),
    default=True,
)
LANDMARKERS.register(
    "dlib-68",
    _build_dlib68,
    description="68-point iBUG shape predictor (face-recognition-models)",
    weights=lambda: str((dlib_models_dir() or Path("?")) / SHAPE_68_FILE),
    ready=lambda: dlib_model_ready(SHAPE_68_FILE),
)


def get_detector(name: str | None = None) -> Detector:
    """The detector ``name`` (default: ``Settings.detector``), built once per process."""
    return DETECTORS.build(name or get_settings().detector)


def get_landmarker(name: str) -> Landmarker:
    """The landmarker ``name`` (``mediapipe-mesh`` or ``dlib-68``), built once per process."""
    return LANDMARKERS.build(name)
