"""The ``insightface-pack`` detector and embedder: an insightface model pack (buffalo_l, buffalo_s, antelopev2, ...)
run through insightface's own ``FaceAnalysis``, behind Mien's ``Detector`` and ``Embedder`` protocols.

Why: SCRFD detection + ArcFace recognition is the field's production default, and people who hold such a pack
should get exactly insightface's decoding (anchor grid, letterbox scale, NMS) and alignment (``norm_crop``), not a
re-implementation. No package ships the packs' weights, so the pack is a local folder (``MIEN_INSIGHTFACE_PACK``);
nothing is ever downloaded: ``FaceAnalysis`` is only built on a folder that exists (given a name that is not a
folder it would fetch one), and only the ``detection`` and ``recognition`` tasks are loaded.

insightface finds the models by their shapes (``model_zoo.ModelRouter``): an ONNX graph with 5 or more outputs is a
SCRFD/RetinaFace detector, a square >= 112 input is ArcFace. insightface works on BGR images; Mien's are RGB, so
each call swaps the channels. The pack's ``kps`` order (image-left eye, other eye, nose, image-left mouth corner,
other one) is ``Face.landmarks5``'s order.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import MienError, ModelUnavailableError, NoFaceError
from tools.faces.arcface_onnx import arcface_landmarks
from tools.faces.types import Box, Face
from tools.settings import get_settings

_PACKS: dict[tuple[Path, float], Any] = {}
_PACKS_LOCK = threading.Lock()


def resolve_pack_path(path: str | Path | None = None) -> Path | None:
    """The pack folder: ``path`` when given, else ``Settings.insightface_pack`` (None when neither is set)."""
    if path is not None:
        return Path(path).expanduser()
    configured = get_settings().insightface_pack
    return Path(configured).expanduser() if configured is not None else None


def _checked_pack_dir(path: str | Path | None) -> Path:
    folder = resolve_pack_path(path)
    if folder is None:
        raise ModelUnavailableError(
            "no insightface model pack configured: set MIEN_INSIGHTFACE_PACK to a pack folder (e.g. "
            "~/.insightface/models/buffalo_l) holding a SCRFD detection and an ArcFace recognition .onnx"
        )
    if not folder.is_dir():
        raise ModelUnavailableError(f"insightface model pack folder {folder} does not exist (MIEN_INSIGHTFACE_PACK)")
    if not any(folder.glob("*.onnx")):
        raise ModelUnavailableError(f"no .onnx model in the insightface pack folder {folder}")
    return folder.resolve()


def pack_ready() -> bool:
    """Whether the configured pack folder exists and holds ONNX models (without loading them)."""
    try:
        _checked_pack_dir(None)
    except MienError:
        return False
    return True


def pack_weights_description() -> str:
    folder = resolve_pack_path()
    return str(folder) if folder is not None else "unset (MIEN_INSIGHTFACE_PACK)"


def _session_options() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = get_settings().torch_threads
    options.log_severity_level = 3
    return options


def load_pack(path: str | Path | None = None, det_thresh: float | None = None) -> Any:
    """insightface's ``FaceAnalysis`` on the pack folder, CPU only, prepared; built once per folder and threshold.

    Raises ``ModelUnavailableError`` for a missing folder, one without a detection model, or a file that
    onnxruntime cannot read.
    """
    folder = _checked_pack_dir(path)
    threshold = float(get_settings().detection_threshold if det_thresh is None else det_thresh)
    key = (folder, threshold)
    with _PACKS_LOCK:
        if key in _PACKS:
            return _PACKS[key]
        from insightface.app import FaceAnalysis

        names = ", ".join(sorted(p.name for p in folder.glob("*.onnx")))
        try:
            analysis = FaceAnalysis(
                name=str(folder),
                allowed_modules=["detection", "recognition"],
                providers=["CPUExecutionProvider"],
                sess_options=_session_options(),
            )
        except (AssertionError, KeyError) as error:  # FaceAnalysis asserts a detection model (KeyError under -O)
            raise ModelUnavailableError(
                f"no face detection model in the insightface pack {folder} (found {names}); a SCRFD/RetinaFace "
                "ONNX graph has 5 or more outputs"
            ) from error
        except Exception as error:  # onnxruntime and onnx raise their own untyped errors for unreadable graphs
            raise ModelUnavailableError(
                f"insightface cannot load the model pack {folder} ({names}): {error}"
            ) from error
        analysis.prepare(ctx_id=-1, det_thresh=threshold)
        _PACKS[key] = analysis
        return analysis


def _bgr(image_rgb: np.ndarray) -> np.ndarray:
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise MienError(f"expected an RGB uint8 image (H, W, 3), got shape {image.shape} dtype {image.dtype}")
    return np.ascontiguousarray(image[..., 2::-1])


class InsightfacePackDetector:
    """The pack's SCRFD through insightface's ``detect`` (its multi-scale letterbox, anchor decoding and NMS)."""

    name = "insightface-pack"

    def __init__(self, pack_path: str | Path | None = None, min_score: float | None = None) -> None:
        self._analysis = load_pack(pack_path, min_score)
        self.pack_path = Path(self._analysis.model_dir)
        self.model_file = Path(self._analysis.det_model.model_file)
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces with box, score and ``landmarks5`` (when the model has keypoints), best score first."""
        image = _bgr(image_rgb)
        height, width = image.shape[:2]
        with self._lock:  # insightface's anchor cache is a plain dict
            boxes, points = self._analysis.det_model.detect(image, max_num=0)
        faces = []
        for i in range(boxes.shape[0]):
            x0, y0, x1, y1, score = (float(v) for v in boxes[i, :5])
            box = Box(x0, y0, x1, y1).clipped(width, height)
            if box.width < 1.0 or box.height < 1.0:
                continue
            face = Face(box=box, score=score, detector=self.name)
            if points is not None:
                face.landmarks5 = np.asarray(points[i], dtype=np.float64).reshape(5, 2)
            faces.append(face)
        return sorted(faces, key=lambda f: -f.score)


class InsightfacePackEmbedder:
    """The pack's ArcFace through insightface's ``ArcFaceONNX.get`` (``norm_crop`` on 5 points, its scaling).

    Faces without ``landmarks5`` use points derived from ``landmarks68``, else the pack's own detector run on the
    face's surroundings (the highest-scoring detection there).
    """

    name = "insightface-pack"

    def __init__(self, pack_path: str | Path | None = None, match_threshold: float | None = None) -> None:
        self._analysis = load_pack(pack_path)
        model = self._analysis.models.get("recognition")
        if model is None:
            raise ModelUnavailableError(
                f"no face recognition model in the insightface pack {self._analysis.model_dir}: an ArcFace ONNX "
                "graph takes a square (N, 3, 112, 112) or larger input and has one output"
            )
        self._model = model
        self.pack_path = Path(self._analysis.model_dir)
        self.model_file = Path(model.model_file)
        out_dim = model.output_shape[-1] if len(model.output_shape) == 2 else None
        if isinstance(out_dim, int) and out_dim > 0:
            self.dim = out_dim
        else:
            size = int(model.input_size[0])
            self.dim = int(model.get_feat(np.zeros((size, size, 3), dtype=np.uint8)).shape[-1])
        self.match_threshold = (
            float(match_threshold) if match_threshold is not None else float(get_settings().arcface_match_threshold)
        )
        self._lock = threading.Lock()

    def _points(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        points = arcface_landmarks(face)
        if points is not None:
            return points
        height, width = image_bgr.shape[:2]
        region = face.box.expanded(2.0).clipped(width, height)
        x0, y0, x1, y1 = int(region.x0), int(region.y0), int(np.ceil(region.x1)), int(np.ceil(region.y1))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise NoFaceError(f"face box {face.box.to_list()} is empty or outside the {width}x{height} image")
        crop = np.ascontiguousarray(image_bgr[y0:y1, x0:x1])
        boxes, kps = self._analysis.det_model.detect(crop, max_num=0)
        if kps is None or boxes.shape[0] == 0:
            raise NoFaceError(
                f"no landmarks for the face at {face.box.to_list()}: the pack's detector finds no face there"
            )
        best = int(np.argmax(boxes[:, 4]))
        return np.asarray(kps[best], dtype=np.float64).reshape(5, 2) + np.array([x0, y0], dtype=np.float64)

    def embed(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """L2-normalised embeddings (n, dim) float32 of ``faces`` in an RGB uint8 image (H, W, 3)."""
        from insightface.app.common import Face as InsightfaceFace

        image = _bgr(image_rgb)
        rows = []
        with self._lock:
            for face in faces:
                points = self._points(image, face)
                if points.shape != (5, 2) or not np.isfinite(points).all():
                    raise NoFaceError(f"expected 5 finite face landmarks (5, 2), got shape {points.shape}")
                box = face.box
                target = InsightfaceFace(
                    bbox=np.array([box.x0, box.y0, box.x1, box.y1], dtype=np.float32),
                    kps=points.astype(np.float32),
                    det_score=float(face.score),
                )
                with warnings.catch_warnings():  # insightface's norm_crop calls a deprecated skimage API
                    warnings.simplefilter("ignore", FutureWarning)
                    rows.append(np.asarray(self._model.get(image, target), dtype=np.float32).ravel())
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        features = np.stack(rows)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return (features / np.maximum(norms, 1e-12)).astype(np.float32)
