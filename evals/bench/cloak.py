"""Identity cloaking: how often dlib's own recognizer stops matching a cloaked face to its original, at what cost.

    python -m evals.bench.cloak [--strengths mid] [--limit-lfw 100] [--impersonate] [--sheet out/cloak]

For each real face offline (evals/cloak/faces.py) and strength: protection rate (dlib-bin distance to the enrolled
original >= 0.6) on the cloaked file and after a real re-upload (JPEG 75, then 0.5x resize), SSIM and PSNR of the
whole photo, seconds per photo. The baseline, in the same run, is random noise of the same L∞ in the same face region:
it shows the protection comes from the search, not from the amount of change. dlib-bin is the same network as the
surrogate (the PyTorch port), so this is white-box success; no second recognizer ships offline, so transfer is not
measured here (set MIEN_ARCFACE_PATH and pass --judge-arcface to add ArcFace as a second surrogate).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from evals.bench import run_bench
from evals.cloak.dlib_judge import THRESHOLD, descriptor, reupload, scaled
from evals.cloak.faces import EvalPhoto, evaluation_photos
from tools.cloak import CloakOptions, cloak_image
from tools.cloak.masks import union_mask
from tools.cloak.quality import image_quality
from tools.cloak.types import MIN_FACE_PX, STRENGTHS


@dataclass
class Tally:
    """Counts for one row of the table."""

    faces: int = 0
    protected: int = 0
    protected_reupload: int = 0
    ssim: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)
    distances_reupload: list[float] = field(default_factory=list)

    def row(self, name: str) -> str:
        def pct(k: int) -> str:
            return f"{100.0 * k / max(self.faces, 1):5.1f}%"

        return (
            f"{name:<18} {self.faces:>5} {pct(self.protected):>9} {pct(self.protected_reupload):>10} "
            f"{np.median(self.distances):>8.3f} {np.median(self.distances_reupload):>9.3f} "
            f"{min(self.ssim):>9.4f} {np.median(self.ssim):>8.4f} {np.median(self.psnr):>7.1f} "
            f"{np.mean(self.seconds):>7.1f}"
        )


def _judge(photo: EvalPhoto, cloaked: np.ndarray, tally: Tally, seconds: float) -> list[tuple[float, float]]:
    """Score every judged face of ``photo`` in ``cloaked``; returns (distance, distance after re-upload) per face."""
    degraded = reupload(cloaked)
    scale = degraded.shape[1] / cloaked.shape[1]
    out = []
    for face in photo.faces:
        if min(face.box.width, face.box.height) < MIN_FACE_PX:
            continue
        enrolled = descriptor(photo.image, face.box)
        near = float(np.linalg.norm(descriptor(cloaked, face.box) - enrolled))
        far = float(np.linalg.norm(descriptor(degraded, scaled(face.box, scale)) - enrolled))
        tally.faces += 1
        tally.protected += near >= THRESHOLD
        tally.protected_reupload += far >= THRESHOLD
        tally.distances.append(near)
        tally.distances_reupload.append(far)
        out.append((near, far))
    ssim, psnr = image_quality(photo.image, cloaked)
    tally.ssim.append(ssim)
    tally.psnr.append(psnr)
    tally.seconds.append(seconds)
    return out


def _random_noise(photo: EvalPhoto, linf: float, rng: np.random.Generator) -> np.ndarray:
    height, width = photo.image.shape[:2]
    mask = union_mask([f for f in photo.faces if min(f.box.width, f.box.height) >= MIN_FACE_PX], height, width)
    noise = rng.uniform(-linf, linf, size=photo.image.shape) * mask[..., None]
    return np.clip(photo.image + noise, 0, 255).round().astype(np.uint8)


def _sheet(photo: EvalPhoto, cloaked: np.ndarray, folder: Path, strength: str) -> None:
    """Before | after | 10x difference, for each face, saved as a PNG to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, face in enumerate(photo.faces, start=1):
        box = face.box
        pad = 0.3 * max(box.width, box.height)
        x0, y0 = max(0, int(box.x0 - pad)), max(0, int(box.y0 - pad))
        x1, y1 = min(photo.image.shape[1], int(box.x1 + pad)), min(photo.image.shape[0], int(box.y1 + pad))
        before, after = photo.image[y0:y1, x0:x1], cloaked[y0:y1, x0:x1]
        diff = np.clip(np.abs(before.astype(np.int16) - after) * 10, 0, 255).astype(np.uint8)
        Image.fromarray(np.concatenate([before, after, diff], axis=1)).save(
            folder / f"{photo.name}_{number}_{strength}.png"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strengths", default="mid", help="comma-separated: low, mid, high")
    parser.add_argument("--limit-lfw", type=int, default=100, help="how many LFW crops (of 100)")
    parser.add_argument("--impersonate", action="store_true", help="also make each t1 face look like the next one")
    parser.add_argument("--sheet", type=Path, default=None, help="save before/after crops of the first photos here")
    parser.add_argument("--json", type=Path, default=None, help="write every number to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    photos = [p for p in evaluation_photos(args.limit_lfw) if p.faces]
    print(
        f"{len(photos)} photos, {sum(len(p.faces) for p in photos)} faces; judge: dlib-bin (C++), threshold {THRESHOLD}"
    )
    rng = np.random.default_rng(0)
    header = (
        f"{'method':<18} {'faces':>5} {'protected':>9} {'re-upload':>10} {'dist':>8} {'dist re-up':>9} "
        f"{'SSIM min':>9} {'SSIM med':>8} {'PSNR':>7} {'s/photo':>7}"
    )
    results: dict[str, dict[str, object]] = {}
    for strength in args.strengths.split(","):
        cloak, noise = Tally(), Tally()
        for index, photo in enumerate(photos):
            started = time.perf_counter()
            cloaked, _ = cloak_image(photo.image, CloakOptions(strength=strength), faces=photo.faces)  # type: ignore[arg-type]
            _judge(photo, cloaked, cloak, time.perf_counter() - started)
            _judge(photo, _random_noise(photo, STRENGTHS[strength].linf, rng), noise, 0.0)
            if args.sheet is not None and index < 4:
                _sheet(photo, cloaked, args.sheet, strength)
            print(
                f"  {strength} {index + 1}/{len(photos)} {photo.name}: {cloak.distances_reupload[-len(photo.faces) :]}",
                flush=True,
            )
        print(header)
        print(noise.row(f"random L∞ {strength}"))
        print(cloak.row(f"cloak {strength}"))
        ratio = cloak.protected_reupload / max(noise.protected_reupload, 1)
        print(
            f"re-upload protection, cloak vs random noise of the same size: {cloak.protected_reupload} vs "
            f"{noise.protected_reupload} faces ({ratio:.0f}x)"
        )
        results[strength] = {"cloak": cloak.__dict__, "random": noise.__dict__}
    if args.impersonate:
        _impersonation(photos[1], results)
    if args.json:
        args.json.write_text(json.dumps(results, default=float, indent=1))


def _impersonation(group: EvalPhoto, results: dict[str, dict[str, object]]) -> None:
    """Each t1 face made to match the next person (dlib-bin distance to the target below 0.6)."""
    faces = group.faces
    hits = hits_reupload = 0
    with tempfile.TemporaryDirectory() as folder:
        for number, face in enumerate(faces):
            target_face = faces[(number + 1) % len(faces)].box
            crop = group.image[int(target_face.y0) : int(target_face.y1), int(target_face.x0) : int(target_face.x1)]
            padded = np.pad(crop, ((40, 40), (40, 40), (0, 0)), mode="edge")
            target_path = Path(folder) / f"target_{number}.png"
            Image.fromarray(padded).save(target_path)
            target = descriptor(group.image, target_face)
            options = CloakOptions(strength="high", target=str(target_path), face=number + 1)
            cloaked, _ = cloak_image(group.image, options, faces=faces)
            degraded = reupload(cloaked)
            near = float(np.linalg.norm(descriptor(cloaked, face.box) - target))
            far = float(np.linalg.norm(descriptor(degraded, scaled(face.box, 0.5)) - target))
            hits += near < THRESHOLD
            hits_reupload += far < THRESHOLD
            print(
                f"  impersonate face {number + 1} -> {(number + 1) % len(faces) + 1}: {near:.3f}, re-upload {far:.3f}"
            )
    print(f"impersonation (high): {hits}/{len(faces)} match the target, {hits_reupload}/{len(faces)} after re-upload")
    results["impersonation"] = {"faces": len(faces), "hits": hits, "hits_reupload": hits_reupload}


if __name__ == "__main__":
    run_bench(main)
