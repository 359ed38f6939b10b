"""Cloak the faces of a photo so face recognition no longer matches them to the person (or matches them to someone
else), keeping the photo looking the same: the plain Python API behind ``mien cloak`` and the ``cloak_faces`` tool."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tools.cloak.masks import union_mask
from tools.cloak.pixel import PixelAttack, PixelOutcome, distances, reupload, run_pixel_attack
from tools.cloak.quality import image_quality, mesh_shift_px
from tools.cloak.surrogate import Surrogate, build_surrogates
from tools.cloak.types import MIN_FACE_PX, CloakedFace, CloakOptions, CloakResult
from tools.errors import ConfigError, NoFaceError
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.types import Box, Face
from tools.media import load_image
from tools.settings import get_settings

if TYPE_CHECKING:
    from tools.cloak.diffaim import DiffaimSettings

Progress = Callable[[int, int], None]
_GEOMETRY = FaceOptions(mesh=True, pose=False, embeddings=False)
CROP_FACTOR = 2.6


def default_surrogates() -> list[Surrogate]:
    """dlib's ResNet always; the configured ArcFace model too when ``MIEN_ARCFACE_PATH`` names one."""
    names = ["dlib-resnet"]
    if get_settings().arcface_path:
        names.append("arcface-onnx")
    return build_surrogates(names, get_settings().arcface_path)


def choose_faces(faces: Sequence[Face], options: CloakOptions) -> tuple[list[Face], list[str]]:
    """The faces to cloak (``options.face`` picks one, 1-based left to right) and why others were left alone."""
    if not faces:
        raise NoFaceError("no face found in the image, so there is nothing to cloak")
    if options.face is not None:
        if not 1 <= options.face <= len(faces):
            raise ConfigError(f"--face {options.face} does not exist: the image has {len(faces)} face(s)")
        faces = [faces[options.face - 1]]
    chosen, skipped = [], []
    for face in faces:
        width = min(face.box.width, face.box.height)
        if width < MIN_FACE_PX and not options.allow_small_faces:
            skipped.append(
                f"face {face.track_id} is {width:.0f} px wide, under {MIN_FACE_PX} px: too small to cloak reliably "
                "(recognizers need more, and any resize erases a cloak this small); pass allow_small_faces to try"
            )
            continue
        chosen.append(face)
    if not chosen:
        raise NoFaceError("; ".join(skipped))
    return chosen, skipped


def _target_embeddings(path: str, surrogates: Sequence[Surrogate]) -> list[torch.Tensor]:
    image = load_image(path)
    faces = analyze_image(image, _GEOMETRY)
    if not faces:
        raise NoFaceError(f"{path}: the target photo has no face to impersonate")
    largest = [max(faces, key=lambda f: f.box.width * f.box.height)]
    tensor = _to_tensor(image)
    with torch.no_grad():
        return [s.embed(tensor, s.prepare(image, largest)) for s in surrogates]


def _to_tensor(image_rgb: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(image_rgb, dtype=torch.float32).permute(2, 0, 1).contiguous()


def is_grayscale(image_rgb: np.ndarray) -> bool:
    """All three channels equal: a grey photo, whose cloak must stay grey."""
    return bool((image_rgb[..., 0] == image_rgb[..., 1]).all() and (image_rgb[..., 1] == image_rgb[..., 2]).all())


def cloak_image(
    image_rgb: np.ndarray,
    options: CloakOptions | None = None,
    surrogates: Sequence[Surrogate] | None = None,
    faces: Sequence[Face] | None = None,
    progress: Progress | None = None,
    diffaim: DiffaimSettings | None = None,
    sd_pipeline: Any = None,
) -> tuple[np.ndarray, CloakResult]:
    """The cloaked RGB uint8 image (H, W, 3) and what was measured. ``faces`` may be given (known boxes with mesh),
    otherwise they are detected. ``diffaim`` and ``sd_pipeline`` (already loaded, on any device) tune the diffaim
    method."""
    options = options or CloakOptions()
    started = time.perf_counter()
    torch.manual_seed(options.seed)
    found = list(faces) if faces is not None else analyze_image(image_rgb, _GEOMETRY)
    chosen, skipped = choose_faces(found, options)
    surrogates = list(surrogates) if surrogates is not None else default_surrogates()
    targets = _target_embeddings(options.target, surrogates) if options.target else None
    if targets is not None:
        targets = [t.expand(len(chosen), -1) for t in targets]
    whole = _attack(image_rgb, chosen, surrogates, targets, options)
    if options.method == "diffaim":
        from tools.cloak.diffaim import run_diffaim

        outcome = run_diffaim(whole, chosen, options, progress, diffaim, sd_pipeline)
    else:
        outcome = _cloak_each_face(image_rgb, chosen, surrogates, targets, options, progress)
    cloaked = outcome.image.permute(1, 2, 0).numpy().astype(np.uint8)
    before_target = distances(whole, whole.original)[1] if targets is not None else []
    after_source, after_target = distances(whole, outcome.image)
    degraded_source, _ = distances(whole, reupload(outcome.image))
    shifts = mesh_shift_px(chosen, analyze_image(cloaked, _GEOMETRY))
    records = []
    for index, face in enumerate(chosen):
        record = CloakedFace(number=face.track_id or index + 1, box=face.box, steps_run=outcome.steps_run)
        for k, surrogate in enumerate(surrogates):
            record.thresholds[surrogate.name] = surrogate.threshold
            record.source_distance[surrogate.name] = round(float(after_source[k][index]), 4)
            record.source_distance_degraded[surrogate.name] = round(float(degraded_source[k][index]), 4)
            if targets is not None:
                record.target_distance[surrogate.name] = round(float(after_target[k][index]), 4)
                record.target_distance_before[surrogate.name] = round(float(before_target[k][index]), 4)
        record.linf = float(np.abs(cloaked.astype(np.int16) - image_rgb.astype(np.int16)).max())
        record.mesh_shift_px = shifts[index]
        records.append(record)
    ssim, psnr = image_quality(image_rgb, cloaked)
    result = CloakResult(
        faces=records,
        method=options.method,
        goal=options.goal,
        strength=options.strength,
        surrogates=[s.name for s in surrogates],
        ssim=round(ssim, 4),
        psnr_db=round(psnr, 2),
        seconds=round(time.perf_counter() - started, 2),
        skipped=skipped,
    )
    return cloaked, result


def _attack(
    image_rgb: np.ndarray,
    faces: Sequence[Face],
    surrogates: Sequence[Surrogate],
    targets: Sequence[torch.Tensor] | None,
    options: CloakOptions,
) -> PixelAttack:
    """The cloaking problem for ``faces`` of ``image_rgb``: alignments fixed on the original, original embeddings."""
    original = _to_tensor(image_rgb)
    height, width = image_rgb.shape[:2]
    prepared = [s.prepare(image_rgb, faces) for s in surrogates]
    with torch.no_grad():
        sources = [s.embed(original, p) for s, p in zip(surrogates, prepared, strict=True)]
    return PixelAttack(
        original=original,
        mask=torch.as_tensor(union_mask(faces, height, width))[None],
        surrogates=surrogates,
        prepared=prepared,
        sources=sources,
        targets=targets,
        goal=options.goal,
        gray=is_grayscale(image_rgb),
    )


def face_crop_box(face: Face, width: int, height: int) -> tuple[int, int, int, int]:
    """The square (x0, y0, x1, y1) around ``face`` that holds its recognizer chips (dlib's chip spans about twice the
    face box, plus the border of its image pyramid), clipped to the image."""
    side = CROP_FACTOR * max(face.box.width, face.box.height)
    cx, cy = face.box.center
    return (
        max(0, int(cx - side / 2)),
        max(0, int(cy - side / 2)),
        min(width, int(np.ceil(cx + side / 2))),
        min(height, int(np.ceil(cy + side / 2))),
    )


def shifted(face: Face, dx: float, dy: float) -> Face:
    """A copy of ``face`` with its box and landmarks moved by (dx, dy) pixels (into a crop's coordinates)."""
    moved = copy.copy(face)
    moved.box = Box(face.box.x0 + dx, face.box.y0 + dy, face.box.x1 + dx, face.box.y1 + dy)
    offset = np.array([dx, dy])
    if face.mesh is not None:
        mesh = np.array(face.mesh, dtype=np.float64, copy=True)
        mesh[:, :2] += offset
        moved.mesh = mesh
    for name in ("landmarks5", "landmarks68"):
        points = getattr(face, name)
        if points is not None:
            setattr(moved, name, np.asarray(points, dtype=np.float64) + offset)
    return moved


def _cloak_each_face(
    image_rgb: np.ndarray,
    faces: Sequence[Face],
    surrogates: Sequence[Surrogate],
    targets: Sequence[torch.Tensor] | None,
    options: CloakOptions,
    progress: Progress | None,
) -> PixelOutcome:
    """The pixel cloak face by face, each on a crop around the face: the cost then follows the faces' size, not the
    photo's (a 1280x886 group photo of six faces costs six small problems, not six faces on the whole image)."""
    cloaked = image_rgb.copy()
    height, width = image_rgb.shape[:2]
    steps_run = 0
    for index, face in enumerate(faces):
        x0, y0, x1, y1 = face_crop_box(face, width, height)
        crop = np.ascontiguousarray(cloaked[y0:y1, x0:x1])
        own_target = [t[index : index + 1] for t in targets] if targets is not None else None

        def report(done: int, total: int, before: int = index) -> None:
            if progress is not None:
                progress(before * total + done, len(faces) * total)

        local = _attack(crop, [shifted(face, -x0, -y0)], surrogates, own_target, options)
        outcome = run_pixel_attack(local, options.preset, options.seed + index, options.steps, report)
        cloaked[y0:y1, x0:x1] = outcome.image.permute(1, 2, 0).numpy().astype(np.uint8)
        steps_run = max(steps_run, outcome.steps_run)
    return PixelOutcome(_to_tensor(cloaked), steps_run)


def cloak_file(
    source: str | Path, destination: str | Path, options: CloakOptions | None = None, progress: Progress | None = None
) -> CloakResult:
    """Cloak an image file into ``destination`` (written atomically; JPEG at quality 95 so the cloak survives)."""
    from tools.cloak.quality import save_cloaked

    image = load_image(source)
    cloaked, result = cloak_image(image, options, progress=progress)
    result.output = str(save_cloaked(destination, cloaked, grayscale=is_grayscale(image)))
    return result
