"""Benchmark: dlib's face descriptor, dlib-bin (baseline) against the PyTorch port, on 8 real faces.

Faces: the six people of insightface's t1.jpg, Tom Hanks, scikit-image's astronaut (dlib HOG boxes, dlib's
5-point chips). Rows: the network alone on aligned chips at batch 1 and batch 8 (dlib-bin's chip and chip-list
overloads of ``compute_face_descriptor`` against one torch forward pass), and image + box to descriptor (shape
predictor, chip, network) per face and for the six faces of t1.jpg in one call. Both run on one thread
(torch.set_num_threads(1); dlib-bin's CPU build is single-threaded here), alternating, median of ``--repeats``.

``--calibrate`` instead measures the cosine equivalent of dlib's Euclidean 0.6 (``DLIB_MATCH_THRESHOLD``).

    python -m evals.bench.embeddings [--repeats 5] [--calibrate]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from evals.bench import run_bench


@dataclass
class Sample:
    """One real photo with its faces as dlib rectangles and as pipeline ``Face`` objects."""

    name: str
    image: np.ndarray
    rects: list[Any]
    faces: list[Any]


def hog_samples(min_faces: dict[str, int] | None = None) -> list[Sample]:
    import dlib

    from evals.samples import astronaut, group_photo_path, tom_hanks_path
    from tools.faces.types import Box, Face
    from tools.media import load_image

    want = min_faces or {"t1": 6, "tom_hanks": 1, "astronaut": 1}
    images = {
        "t1": load_image(group_photo_path()),
        "tom_hanks": load_image(tom_hanks_path()),
        "astronaut": astronaut(),
    }
    detector = dlib.get_frontal_face_detector()
    samples = []
    for name, image in images.items():
        image = np.ascontiguousarray(image)
        rects: list[Any] = []
        for upsample in range(3):
            found, scores, _ = detector.run(image, upsample, 0.0)
            if len(found) >= want[name]:
                rects = [r for _, r in sorted(zip(scores, found, strict=True), key=lambda sr: -sr[0])[: want[name]]]
                break
        faces = [Face(Box(r.left(), r.top(), r.right() + 1.0, r.bottom() + 1.0), 1.0) for r in rects]
        samples.append(Sample(name, image, rects, faces))
    return samples


@dataclass
class Timing:
    """Median milliseconds per run: wall clock, and this process's CPU time (steadier on a shared machine)."""

    wall_ms: float
    cpu_ms: float

    def per(self, count: int) -> Timing:
        return Timing(self.wall_ms / count, self.cpu_ms / count)


def median_ms(run: Callable[[], object], repeats: int) -> Timing:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - wall) * 1000.0)
        cpus.append((time.process_time() - cpu) * 1000.0)
    return Timing(statistics.median(walls), statistics.median(cpus))


def benchmark(repeats: int) -> None:
    import dlib
    import torch

    torch.set_num_threads(1)
    from tools.faces.dlib_models import RESNET_FILE, SHAPE_5_FILE, dlib_model_path
    from tools.faces.dlib_resnet import DlibResnetEmbedder

    samples = hog_samples()
    embedder = DlibResnetEmbedder()
    model = dlib.face_recognition_model_v1(str(dlib_model_path(RESNET_FILE)))
    predictor = dlib.shape_predictor(str(dlib_model_path(SHAPE_5_FILE)))
    chips = np.concatenate([embedder.chips(s.image, s.faces) for s in samples])
    chip_list = [np.ascontiguousarray(c) for c in chips]
    n = len(chips)

    ours = embedder.descriptors_from_chips(chips)
    reference = np.array([np.asarray(model.compute_face_descriptor(c)) for c in chip_list])
    max_diff = float(np.abs(ours - reference).max())
    embedder.descriptors_from_chips(chips)  # warm-up

    rows: list[tuple[str, Timing, Timing]] = []
    dlib_b1 = median_ms(lambda: [model.compute_face_descriptor(c) for c in chip_list], repeats).per(n)
    torch_b1 = median_ms(lambda: [embedder.descriptors_from_chips(c[None]) for c in chips], repeats).per(n)
    rows.append(("network on chips, batch 1", dlib_b1, torch_b1))
    dlib_b8 = median_ms(lambda: model.compute_face_descriptor(chip_list), repeats).per(n)
    torch_b8 = median_ms(lambda: embedder.descriptors_from_chips(chips), repeats).per(n)
    rows.append((f"network on chips, batch {n}", dlib_b8, torch_b8))

    def dlib_per_face() -> None:
        for s in samples:
            for rect in s.rects:
                model.compute_face_descriptor(s.image, predictor(s.image, rect))

    def torch_per_face() -> None:
        for s in samples:
            for face in s.faces:
                embedder.embed(s.image, [face])

    rows.append(
        (
            "image+box -> descriptor, 1 face",
            median_ms(dlib_per_face, repeats).per(n),
            median_ms(torch_per_face, repeats).per(n),
        )
    )
    group = samples[0]
    shapes = dlib.full_object_detections()

    def dlib_group() -> None:
        shapes.clear()
        for rect in group.rects:
            shapes.append(predictor(group.image, rect))
        model.compute_face_descriptor(group.image, shapes)

    count = len(group.faces)
    rows.append(
        (
            f"image+boxes -> descriptors, t1.jpg ({count} faces)",
            median_ms(dlib_group, repeats).per(count),
            median_ms(lambda: embedder.embed(group.image, group.faces), repeats).per(count),
        )
    )

    astronaut = samples[-1]
    geometries = embedder.chip_geometries(astronaut.image, astronaut.faces)

    def forward_backward() -> None:
        image = torch.from_numpy(astronaut.image).permute(2, 0, 1).float().requires_grad_(True)
        embedder.differentiable_descriptors(image, geometries).norm().backward()

    grad = median_ms(forward_backward, repeats)

    print(f"dlib face descriptor on {n} real faces, 1 thread, median of {repeats}; max |torch - dlib| = {max_diff:.2e}")
    print("ms per face: wall clock / process CPU time; speedup = dlib-bin / torch")
    print(f"{'case':<46} {'dlib-bin wall/cpu':>18} {'torch wall/cpu':>15} {'speedup wall/cpu':>17}")
    for label, dlib_t, torch_t in rows:
        print(
            f"{label:<46} {dlib_t.wall_ms:>8.1f} /{dlib_t.cpu_ms:>7.1f}  "
            f"{torch_t.wall_ms:>6.1f} /{torch_t.cpu_ms:>6.1f}  "
            f"{dlib_t.wall_ms / torch_t.wall_ms:>7.2f}x /{dlib_t.cpu_ms / torch_t.cpu_ms:>6.2f}x"
        )
    label = "torch chip warp + net, forward+backward"
    print(f"{label:<46} {'-':>18}  {grad.wall_ms:>6.1f} /{grad.cpu_ms:>6.1f}")


def _variants(image: np.ndarray) -> Iterator[np.ndarray]:
    """The photo, its mirror, 0.6x/0.8x/1.5x rescales, +-10 degree rotations, 0.7x brightness, JPEG quality 30."""
    import cv2

    height, width = image.shape[:2]
    yield image
    yield np.ascontiguousarray(image[:, ::-1])
    for scale in (0.6, 0.8, 1.5):
        size = (int(width * scale), int(height * scale))
        yield cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    for angle in (-10, 10):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        yield cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    yield np.clip(image.astype(np.float32) * 0.7, 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
    yield np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])


def calibrate() -> None:
    """Raw descriptors of real faces: their norms, and which cosine threshold agrees best with Euclidean < 0.6."""
    import cv2
    import dlib
    import torch

    torch.set_num_threads(1)
    from evals.samples import lfw_subset
    from tools.faces.dlib_resnet import DLIB_MATCH_THRESHOLD, DlibResnetEmbedder
    from tools.faces.types import Box, Face

    embedder = DlibResnetEmbedder()
    detector = dlib.get_frontal_face_detector()
    labelled: list[tuple[str, np.ndarray]] = []
    samples = hog_samples()
    for i, vector in enumerate(embedder.raw_descriptors(samples[0].image, samples[0].faces)):
        labelled.append((f"t1-{i}", vector))
    for sample in samples[1:]:
        for variant in _variants(sample.image):
            rects = detector(np.ascontiguousarray(variant), 1)
            if len(rects) == 1:
                r = rects[0]
                face = Face(Box(r.left(), r.top(), r.right() + 1.0, r.bottom() + 1.0), 1.0)
                labelled.append((sample.name, embedder.raw_descriptors(variant, [face])[0]))
    crops, is_face = lfw_subset()
    for i, crop in enumerate(crops[is_face]):
        grey = cv2.resize((crop * 255).astype(np.uint8), (150, 150), interpolation=cv2.INTER_CUBIC)
        rgb = np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
        labelled.append((f"lfw-{i}", embedder.raw_descriptors(rgb, [Face(Box(0, 0, 150, 150), 1.0)])[0]))

    norms = np.array([np.linalg.norm(v) for _, v in labelled])
    euclid, cos, same = [], [], []
    for (name_a, a), (name_b, b) in itertools.combinations(labelled, 2):
        euclid.append(float(np.linalg.norm(a - b)))
        cos.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
        same.append(name_a == name_b)
    e, c, s = np.array(euclid), np.array(cos), np.array(same)
    counts = {name: sum(1 for n, _ in labelled if n == name) for name in ("tom_hanks", "astronaut")}
    print(f"{len(labelled)} raw descriptors (versions found: {counts}), {len(e)} pairs, {int(s.sum())} same-person")
    print(f"norm: mean {norms.mean():.3f} std {norms.std():.3f} min {norms.min():.3f} max {norms.max():.3f}")
    print(f"equal-norm equivalent of Euclidean 0.6: cos = 1 - 0.18 / r^2 = {1 - 0.18 / norms.mean() ** 2:.4f}")
    print(f"same-person pairs: max Euclidean {e[s].max():.3f}, min cosine {c[s].min():.4f}")
    print(f"{'cosine threshold':>17} {'agrees with Euclidean < 0.6':>28}")
    for threshold in (0.895, 0.900, 0.903, 0.905, 0.907, 0.910, 0.915):
        agree = float(((e < 0.6) == (c >= threshold)).mean())
        marker = "  <- DLIB_MATCH_THRESHOLD" if abs(threshold - DLIB_MATCH_THRESHOLD) < 1e-9 else ""
        print(f"{threshold:>17.3f} {agree:>27.1%}{marker}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calibrate", action="store_true", help="Measure the cosine match threshold instead.")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    else:
        benchmark(args.repeats)


if __name__ == "__main__":
    run_bench(main)
