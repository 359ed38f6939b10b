"""The registry of identity embedders: ``dlib-resnet`` (default, weights shipped in a package) and ``arcface-onnx``
(weights from a local folder)."""

from __future__ import annotations

from tools.faces.dlib_models import RESNET_FILE, SHAPE_5_FILE, dlib_model_ready, dlib_models_dir
from tools.faces.protocols import Embedder
from tools.registry import Registry, new_registry
from tools.settings import get_settings

EMBEDDERS: Registry[Embedder] = new_registry("embedder")


def _build_dlib_resnet() -> Embedder:
    from tools.faces.dlib_resnet.embedder import DlibResnetEmbedder

    return DlibResnetEmbedder()


def _build_arcface() -> Embedder:
    from tools.faces.arcface_onnx import ArcFaceOnnxEmbedder

    return ArcFaceOnnxEmbedder()


def _dlib_weights() -> str:
    folder = dlib_models_dir()
    return str(folder / RESNET_FILE) if folder else "face-recognition-models not installed"


def _arcface_weights() -> str:
    from tools.faces.arcface_onnx import arcface_weights_description

    return arcface_weights_description()


def _arcface_ready() -> bool:
    from tools.faces.arcface_onnx import arcface_ready

    return arcface_ready()


EMBEDDERS.register(
    "dlib-resnet",
    _build_dlib_resnet,
    description="dlib's face-recognition ResNet (128-d, LFW 99.38%) ported to PyTorch; dlib's 5-point alignment",
    weights=_dlib_weights,
    ready=lambda: dlib_model_ready(RESNET_FILE) and dlib_model_ready(SHAPE_5_FILE),
    default=True,
)
EMBEDDERS.register(
    "arcface-onnx",
    _build_arcface,
    description="insightface-style ArcFace ONNX model (512-d) in onnxruntime; 5-landmark 112x112 alignment",
    weights=_arcface_weights,
    ready=_arcface_ready,
)


def _build_insightface_pack() -> Embedder:
    from tools.faces.insightface_pack import InsightfacePackEmbedder

    return InsightfacePackEmbedder()


def _insightface_pack_weights() -> str:
    from tools.faces.insightface_pack import pack_weights_description

    return pack_weights_description()


def _insightface_pack_ready() -> bool:
    from tools.faces.insightface_pack import pack_ready

    return pack_ready()


EMBEDDERS.register(
    "insightface-pack",
    _build_insightface_pack,
    description="ArcFace of a local insightface model pack (MIEN_INSIGHTFACE_PACK) through insightface's "
    "FaceAnalysis; norm_crop on 5 points",
    weights=_insightface_pack_weights,
    ready=_insightface_pack_ready,
)


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder ``name`` (default ``Settings.embedder``), built once per process."""
    return EMBEDDERS.build(name or get_settings().embedder)
