"""The ``arcface-onnx`` embedder: an insightface-style ArcFace recognition model in ONNX, run by onnxruntime.

The model comes from a local file (no package ships ArcFace weights): ``Settings.arcface_path`` (a ``.onnx`` file
or a folder holding one), else ``<Settings.model_dir>/arcface``. Such models (insightface's ``w600k_r50.onnx``,
``glintr100.onnx``...) take RGB faces aligned by a similarity transform of 5 landmarks onto the standard 112x112
ArcFace template, as float (N, 3, 112, 112) scaled (x - 127.5) / 127.5, and return (N, 512) features.
Older MXNet conversions carry that scaling inside the graph (a Sub and a Mul among their first nodes); those get
raw 0-255 pixels, as insightface does.

``match_threshold`` defaults to 0.32 cosine similarity: deepface's verification threshold for ArcFace is a cosine
*distance* of 0.68 (``deepface/config/threshold.py`` in serengil/deepface), i.e. similarity 1 - 0.68 = 0.32. It is
a setting (``MIEN_ARCFACE_MATCH_THRESHOLD``) since the right value depends on the checkpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import ConfigError, MienError, ModelUnavailableError, NoFaceError
from tools.faces.types import Face
from tools.onnx_session import cpu_session
from tools.settings import Settings, get_settings

ARCFACE_SIZE_PX = 112
# The 5-point template of insightface's ArcFace training crops (112x112): the eye on the image's left, the other
# eye, nose tip, mouth corner on the image's left, the other one; the order of ``Face.landmarks5``.
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
ARCFACE_MATCH_THRESHOLD = 0.32
# File names insightface gives its recognition models, to pick one out of a model-pack folder.
_RECOGNITION_HINTS = ("w600k", "glint", "arcface", "ms1m", "webface", "r100", "r50", "r34", "r18", "mbf")


def resolve_arcface_path(settings: Settings | None = None) -> Path | None:
    """The configured ArcFace location (file or folder), or None when neither setting names one."""
    settings = settings or get_settings()
    if settings.arcface_path is not None:
        return Path(settings.arcface_path).expanduser()
    if settings.model_dir is not None:
        return Path(settings.model_dir).expanduser() / "arcface"
    return None


def find_arcface_model(location: Path | None) -> Path:
    """The ``.onnx`` file at ``location`` (a file, or a folder with one recognition model in it)."""
    if location is None:
        raise ModelUnavailableError(
            "no ArcFace model configured: set MIEN_ARCFACE_PATH to an ArcFace .onnx file (e.g. insightface's "
            "w600k_r50.onnx) or put one in <MIEN_MODEL_DIR>/arcface"
        )
    if location.is_file():
        return location
    if not location.is_dir():
        raise ModelUnavailableError(f"ArcFace model not found at {location}; set MIEN_ARCFACE_PATH to a .onnx file")
    models = sorted(location.glob("*.onnx"))
    if len(models) > 1:
        hinted = [m for m in models if any(h in m.name.lower() for h in _RECOGNITION_HINTS)]
        models = hinted if hinted else models
    if not models:
        raise ModelUnavailableError(f"no .onnx file in {location}; put an ArcFace recognition model there")
    if len(models) > 1:
        names = ", ".join(m.name for m in models)
        raise ConfigError(f"several ONNX models in {location} ({names}); set MIEN_ARCFACE_PATH to the ArcFace one")
    return models[0]


def arcface_ready() -> bool:
    try:
        find_arcface_model(resolve_arcface_path())
    except MienError:
        return False
    return True


def arcface_weights_description() -> str:
    location = resolve_arcface_path()
    return str(location) if location is not None else "unset (MIEN_ARCFACE_PATH or <MIEN_MODEL_DIR>/arcface)"


def normalisation_in_graph(model_path: Path) -> bool:
    """Whether the graph scales its input itself (a Sub and a Mul among its first 8 nodes, as MXNet exports do)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    ops = {node.op_type for node in graph.node[:8]}
    return "Sub" in ops and "Mul" in ops


def arcface_landmarks(face: Face) -> np.ndarray | None:
    """The 5 alignment points (5, 2) of ``face``: ``landmarks5``, else derived from ``landmarks68`` (eye centres,
    nose tip 30, mouth corners 48/54), else None."""
    if face.landmarks5 is not None:
        return np.asarray(face.landmarks5, dtype=np.float64).reshape(-1, 2)[:5]
    if face.landmarks68 is not None:
        points = np.asarray(face.landmarks68, dtype=np.float64).reshape(68, 2)
        return np.stack(
            [points[36:42].mean(axis=0), points[42:48].mean(axis=0), points[30], points[48], points[54]]
        )
    return None


def arcface_alignment(points5: np.ndarray, size_px: int = ARCFACE_SIZE_PX) -> np.ndarray:
    """The (2, 3) similarity taking image pixels to crop pixels that best puts ``points5`` (5, 2) on the template."""
    from skimage.transform import SimilarityTransform

    points = np.asarray(points5, dtype=np.float64)
    if points.shape != (5, 2) or not np.isfinite(points).all():
        raise NoFaceError(f"expected 5 finite face landmarks (5, 2), got shape {points.shape}")
    template = ARCFACE_TEMPLATE_112 * (size_px / ARCFACE_SIZE_PX)
    transform = SimilarityTransform.from_estimate(points, template)
    if not transform:
        raise NoFaceError("face landmarks are degenerate (all at one point); cannot align the face")
    return np.asarray(transform.params[:2], dtype=np.float64)


def align_arcface(image_rgb: np.ndarray, points5: np.ndarray, size_px: int = ARCFACE_SIZE_PX) -> np.ndarray:
    """The (size, size, 3) uint8 crop of an RGB uint8 image (H, W, 3) aligned on the ArcFace template (bilinear,
    black outside the image)."""
    import cv2

    matrix = arcface_alignment(points5, size_px)
    return cv2.warpAffine(image_rgb, matrix, (size_px, size_px), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def _check_box(face: Face, width: int, height: int) -> None:
    box = face.box
    if not np.isfinite([box.x0, box.y0, box.x1, box.y1]).all() or box.width < 1.0 or box.height < 1.0:
        raise NoFaceError(f"face box {box.to_list()} is empty or not finite")
    if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= width or box.y0 >= height:
        raise NoFaceError(f"face box {box.to_list()} lies outside the {width}x{height} image")


class ArcFaceOnnxEmbedder:
    """ArcFace in onnxruntime; ``embed`` aligns each face on its 5 landmarks and runs all faces in one batch
    (one face per run when the model's batch size is fixed at 1)."""

    name = "arcface-onnx"

    def __init__(self, model_path: str | Path | None = None, match_threshold: float | None = None) -> None:
        settings = get_settings()
        self.model_path = find_arcface_model(Path(model_path) if model_path else resolve_arcface_path(settings))
        self._session = cpu_session(self.model_path, "ArcFace ONNX model")
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or len(outputs) < 1 or len(outputs[0].shape) != 2:
            raise ModelUnavailableError(
                f"{self.model_path} is not an ArcFace recognition model: expected one (N, 3, H, W) input and an "
                f"(N, D) output, got inputs {[i.shape for i in inputs]} and outputs {[o.shape for o in outputs]}"
            )
        self._input_name = inputs[0].name
        batch, channels, rows, cols = inputs[0].shape
        if isinstance(channels, int) and channels != 3:
            raise ModelUnavailableError(f"{self.model_path} takes {channels} channels; ArcFace takes 3 (RGB)")
        self.size_px = rows if isinstance(rows, int) and rows > 0 else ARCFACE_SIZE_PX
        if isinstance(cols, int) and cols > 0 and cols != self.size_px:
            raise ModelUnavailableError(f"{self.model_path} takes {rows}x{cols} inputs; ArcFace crops are square")
        self._fixed_batch_one = batch == 1
        if normalisation_in_graph(self.model_path):
            self._mean, self._std = 0.0, 1.0
        else:
            self._mean, self._std = 127.5, 127.5
        out_dim = outputs[0].shape[1]
        if isinstance(out_dim, int) and out_dim > 0:
            self.dim = out_dim
        else:
            blank = np.zeros((1, 3, self.size_px, self.size_px), dtype=np.float32)
            self.dim = int(self._session.run(None, {self._input_name: blank})[0].shape[1])
        self.match_threshold = (
            float(match_threshold) if match_threshold is not None else float(settings.arcface_match_threshold)
        )
        self._landmarks68: Any = None
        self._lock = threading.Lock()

    def _fallback_landmarks(self, image_rgb: np.ndarray, face: Face) -> np.ndarray:
        """Points from dlib's 68-point predictor on the face box, for faces that come without landmarks."""
        import dlib

        from tools.faces.dlib_models import SHAPE_68_FILE, dlib_model_path
        from tools.faces.dlib_resnet.chip import box_to_dlib_rect

        with self._lock:
            if self._landmarks68 is None:
                self._landmarks68 = dlib.shape_predictor(str(dlib_model_path(SHAPE_68_FILE)))
            rect = box_to_dlib_rect(face.box, image_rgb.shape[1], image_rgb.shape[0])
            shape = self._landmarks68(image_rgb, rect)
        with_68 = Face(box=face.box, score=face.score)
        with_68.landmarks68 = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        points = arcface_landmarks(with_68)
        assert points is not None
        return points

    def aligned_faces(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(n, size, size, 3) uint8 RGB crops aligned to the ArcFace template."""
        image = np.asarray(image_rgb)
        if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
            raise MienError(f"expected an RGB uint8 image (H, W, 3), got shape {image.shape} dtype {image.dtype}")
        image = np.ascontiguousarray(image[..., :3])
        height, width = image.shape[:2]
        crops = []
        for face in faces:
            _check_box(face, width, height)
            points = arcface_landmarks(face)
            if points is None:
                points = self._fallback_landmarks(image, face)
            crops.append(align_arcface(image, points, self.size_px))
        if not crops:
            return np.zeros((0, self.size_px, self.size_px, 3), dtype=np.uint8)
        return np.stack(crops)

    def features_from_aligned(self, crops_rgb: np.ndarray) -> np.ndarray:
        """Raw model outputs (n, dim) float32 of aligned uint8 crops (n, size, size, 3)."""
        crops = np.asarray(crops_rgb)
        if len(crops) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        blob = (crops.astype(np.float32).transpose(0, 3, 1, 2) - self._mean) / self._std
        if self._fixed_batch_one:
            rows = [self._session.run(None, {self._input_name: blob[i : i + 1]})[0] for i in range(len(blob))]
            return np.concatenate(rows).astype(np.float32)
        return np.asarray(self._session.run(None, {self._input_name: blob})[0], dtype=np.float32)

    def embed(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """L2-normalised embeddings (n, dim) float32 of ``faces`` in an RGB uint8 image (H, W, 3)."""
        features = self.features_from_aligned(self.aligned_faces(image_rgb, faces))
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return (features / np.maximum(norms, 1e-12)).astype(np.float32)
