"""Run the DiffAIM cloak on CUDA and time it (for a GPU machine; nothing is downloaded).

    python -m evals.cloak.gpu_diffaim [--model SD_DIR] [--steps 20]

Without ``--model`` it builds the tiny random pipeline of the tests (machinery and timing only, the image is not
natural). Prints seconds per reverse step and the dlib-bin distance of the astronaut's cloaked face to the original.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check is for a GPU machine")
    from evals.cloak.dlib_judge import descriptor
    from evals.samples import astronaut
    from tools.cloak.api import cloak_image
    from tools.cloak.diffaim import DiffaimSettings, load_pipeline
    from tools.cloak.types import CloakOptions
    from tools.faces.pipeline import FaceOptions, analyze_image

    folder = args.model
    if folder is None:
        from tests.cloak.tiny_sd import build_tiny_sd

        folder = build_tiny_sd(Path(tempfile.mkdtemp()))
    pipe = load_pipeline(folder, "cuda")
    image = astronaut()
    faces = analyze_image(image, FaceOptions(mesh=True, pose=False, embeddings=False))
    settings = DiffaimSettings(steps=args.steps, crop_px=512 if args.model else 64)
    started = time.perf_counter()
    options = CloakOptions(method="diffaim", sd_model=str(folder))
    cloaked, result = cloak_image(image, options, faces=faces, diffaim=settings, sd_pipeline=pipe)
    seconds = time.perf_counter() - started
    distance = float(np.linalg.norm(descriptor(cloaked, faces[0].box) - descriptor(image, faces[0].box)))
    print(f"device {torch.cuda.get_device_name()}: {seconds:.1f} s, {seconds / args.steps:.2f} s per step")
    print(f"dlib-bin distance to the original {distance:.3f} (same person below 0.6); SSIM {result.ssim:.4f}")


if __name__ == "__main__":
    main()
