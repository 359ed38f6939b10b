"""Presentation and digital attacks synthesized from real face crops, with the settings drawn from ranges.

Each attack is a physical or digital process, simulated on a 4x upsampled copy of the aligned crop and then
"recaptured" by the same camera stage the live sample goes through (resample to the crop size, sensor noise,
JPEG), so the camera itself is not a cue:

* print: CMY halftone dot screens at per-ink angles, ink gamut compression towards paper white, paper texture,
  defocus blur, a perspective tilt of the sheet;
* replay: the image shown on an RGB-stripe subpixel grid at a pitch and angle, sampled by the camera without a
  prefilter (moire), display gamma and blue tint, glare, a bezel edge;
* mask: a printed paper cut-out of another person's face with eye holes, worn over the live face (shadowed rim);
* digital: the inner face of another real person swapped in (colour transfer, feathered blend), generated at a
  low resolution and upsampled, then JPEG recompressed.

``TRAIN_SETTINGS`` and ``HELDOUT_SETTINGS`` use disjoint attack parameter ranges (coarser/finer halftone, other screen
pitches and angles, other blur, blend and JPEG settings), so a test on held-out settings is not a test on
what training saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tools.attack.crops import ALIGNED_SIZE_PX, template

Range = tuple[float, float]
UPSAMPLE = 4


@dataclass(frozen=True)
class SynthesisSettings:
    """Parameter ranges (uniform) of every attack and of the shared camera stage."""

    halftone_cell_px: Range  # dot-screen period on the 4x canvas
    ink_gamut: Range  # 1 = full contrast, lower = washed-out ink
    paper_texture: Range  # std of multiplicative paper grain
    print_blur_px: Range  # defocus sigma on the 4x canvas
    tilt: Range  # perspective corner jitter, fraction of the side
    screen_pitch_px: Range  # screen pixel period on the 4x canvas
    screen_angle_deg: Range
    gamma: Range
    glare: Range  # peak glare added, fraction of white
    swap_lowres_px: Range  # side at which the swapped face is "generated"
    swap_feather_px: Range
    swap_jpeg_quality: Range
    mask_shadow: Range
    camera_noise: Range  # sensor noise std in grey levels
    camera_jpeg_quality: Range


TRAIN_SETTINGS = SynthesisSettings(
    halftone_cell_px=(5.0, 7.0),
    ink_gamut=(0.75, 0.9),
    paper_texture=(0.02, 0.05),
    print_blur_px=(0.8, 1.6),
    tilt=(0.0, 0.06),
    screen_pitch_px=(3.2, 4.2),
    screen_angle_deg=(-6.0, 6.0),
    gamma=(1.15, 1.4),
    glare=(0.0, 0.25),
    swap_lowres_px=(40.0, 64.0),
    swap_feather_px=(3.0, 6.0),
    swap_jpeg_quality=(60.0, 85.0),
    mask_shadow=(0.2, 0.45),
    camera_noise=(1.0, 3.0),
    camera_jpeg_quality=(85.0, 95.0),
)

HELDOUT_SETTINGS = SynthesisSettings(
    halftone_cell_px=(8.0, 10.0),
    ink_gamut=(0.6, 0.72),
    paper_texture=(0.06, 0.08),
    print_blur_px=(1.8, 2.4),
    tilt=(0.07, 0.1),
    screen_pitch_px=(4.6, 5.6),
    screen_angle_deg=(8.0, 14.0),
    gamma=(0.75, 0.9),
    glare=(0.3, 0.4),
    swap_lowres_px=(28.0, 36.0),
    swap_feather_px=(7.0, 10.0),
    swap_jpeg_quality=(40.0, 55.0),
    mask_shadow=(0.5, 0.65),
    # The camera is the same one for live and attack samples in every split: holding it out would shift the live
    # class too, and measure a camera change rather than unseen attack settings.
    camera_noise=TRAIN_SETTINGS.camera_noise,
    camera_jpeg_quality=TRAIN_SETTINGS.camera_jpeg_quality,
)


@lru_cache(maxsize=4)
def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    """(yy, xx) float32 pixel coordinates of a square canvas, shared by every sample of that size."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    yy.setflags(write=False)
    xx.setflags(write=False)
    return yy, xx


def _draw(rng: np.random.Generator, interval: Range) -> float:
    return float(rng.uniform(interval[0], interval[1]))


def _f(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def _u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _big(crop: np.ndarray) -> np.ndarray:
    side = crop.shape[0] * UPSAMPLE
    return cv2.resize(_f(crop), (side, side), interpolation=cv2.INTER_CUBIC)


def _jpeg(image_u8: np.ndarray, quality: float) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image_u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        return image_u8
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])


def camera(
    canvas: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings, prefilter: bool = True
) -> np.ndarray:
    """The recapture every sample goes through: resample to the crop size, sensor noise, JPEG; RGB uint8 out.

    Every class goes through the same stage, so none of it is a cue. (A variant that also dropped noise and JPEG at
    random and shrank faces was tried to make clean photos look less unusual; it lowered test AUC from 0.97 to 0.90
    and still scored clean real photos as attacks, so it is not used.)"""
    side = ALIGNED_SIZE_PX
    if canvas.shape[0] != side:
        interpolation = cv2.INTER_AREA if prefilter else cv2.INTER_LINEAR
        canvas = cv2.resize(canvas, (side, side), interpolation=interpolation)
    noisy = canvas * 255.0 + rng.normal(0.0, _draw(rng, settings.camera_noise), canvas.shape)
    return _jpeg(np.clip(noisy + 0.5, 0, 255).astype(np.uint8), _draw(rng, settings.camera_jpeg_quality))


def live(crop: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings) -> np.ndarray:
    """The bona fide sample: the real photo through the camera stage only."""
    return camera(_f(crop), rng, settings)


def _halftone(canvas: np.ndarray, cell: float, rng: np.random.Generator) -> np.ndarray:
    """CMY dot screens: each ink's coverage becomes dots of a rotated square lattice, the classic print pattern."""
    yy, xx = _grid(canvas.shape[0])
    ink = 1.0 - canvas  # C, M, Y coverage
    out = np.empty_like(canvas)
    base = float(rng.uniform(0, 90))
    for channel, angle in enumerate((15.0, 75.0, 0.0)):
        theta = np.float32(np.deg2rad(base + angle))
        u = (xx * np.cos(theta) + yy * np.sin(theta)) * (2 * np.pi / cell)
        v = (-xx * np.sin(theta) + yy * np.cos(theta)) * (2 * np.pi / cell)
        screen = 0.5 + 0.25 * (np.cos(u) + np.cos(v))  # in [0, 1]
        out[..., channel] = (ink[..., channel] > screen).astype(np.float32)
    return 1.0 - out


def _perspective(canvas: np.ndarray, tilt: float, rng: np.random.Generator) -> np.ndarray:
    side = canvas.shape[0]
    corners = np.array([[0, 0], [side, 0], [side, side], [0, side]], dtype=np.float32)
    moved = corners + rng.uniform(-tilt, tilt, corners.shape).astype(np.float32) * side
    matrix = cv2.getPerspectiveTransform(corners, moved)
    return cv2.warpPerspective(canvas, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _printed(crop: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings) -> np.ndarray:
    """The crop as a sheet of paper looks: halftone, gamut, grain, on the 4x canvas."""
    canvas = _big(crop)
    gamut = _draw(rng, settings.ink_gamut)
    paper = np.array([0.97, 0.96, 0.92], np.float32) * rng.uniform(0.9, 1.0)
    canvas = 0.5 + (canvas - 0.5) * gamut
    grey = canvas.mean(axis=2, keepdims=True)
    canvas = grey + (canvas - grey) * gamut  # less saturated
    canvas = _halftone(np.clip(canvas, 0, 1), _draw(rng, settings.halftone_cell_px), rng) * paper
    side = canvas.shape[0]
    grain = rng.normal(0, 1, (side // 8, side // 8)).astype(np.float32)
    fine = rng.standard_normal((side, side), dtype=np.float32)
    grain = cv2.resize(grain, (side, side), interpolation=cv2.INTER_CUBIC) + 0.5 * fine
    canvas = canvas * (1.0 + _draw(rng, settings.paper_texture) * grain.astype(np.float32)[..., None])
    return np.asarray(np.clip(canvas, 0, 1), dtype=np.float32)


def print_attack(crop: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings) -> np.ndarray:
    """A printed photo of the face held to the camera."""
    canvas = _printed(crop, rng, settings)
    sigma = _draw(rng, settings.print_blur_px)
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    canvas = _perspective(canvas, _draw(rng, settings.tilt), rng)
    return camera(canvas, rng, settings)


def replay_attack(crop: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings) -> np.ndarray:
    """The face shown on a screen and filmed: subpixel grid, moire, gamma, glare, sometimes a bezel."""
    side = crop.shape[0] * UPSAMPLE
    pitch = _draw(rng, settings.screen_pitch_px)
    theta = np.float32(np.deg2rad(_draw(rng, settings.screen_angle_deg)))
    yy, xx = _grid(side)
    u = (xx * np.cos(theta) + yy * np.sin(theta)) / pitch  # screen pixel coordinates
    v = (-xx * np.sin(theta) + yy * np.cos(theta)) / pitch
    # The image as the screen shows it: each screen pixel holds one colour (nearest sample of the crop).
    src_x = np.clip(
        (np.floor(u) + 0.5) * pitch * np.cos(theta) - (np.floor(v) + 0.5) * pitch * np.sin(theta), 0, side - 1
    )
    src_y = np.clip(
        (np.floor(u) + 0.5) * pitch * np.sin(theta) + (np.floor(v) + 0.5) * pitch * np.cos(theta), 0, side - 1
    )
    shown = cv2.remap(_big(crop), src_x, src_y, cv2.INTER_NEAREST)
    gamma = _draw(rng, settings.gamma)
    shown = np.power(np.clip(shown, 0, 1), gamma) * np.array([0.95, 0.98, 1.05], np.float32)
    # RGB stripes: each screen pixel is three vertical subpixels with a dark gap between rows.
    phase = u - np.floor(u)
    stripes = np.stack([(phase < 1 / 3), (phase >= 1 / 3) & (phase < 2 / 3), (phase >= 2 / 3)], axis=2)
    row_gap = ((v - np.floor(v)) < 0.85).astype(np.float32)[..., None]
    lit = shown * stripes.astype(np.float32) * row_gap * 3.0 * 0.9
    glare_peak = _draw(rng, settings.glare)
    cx, cy = rng.uniform(0.2, 0.8, 2) * side
    radius = rng.uniform(0.15, 0.35) * side
    glare = glare_peak * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
    lit = lit + glare[..., None]
    if rng.random() < 0.4:  # a bezel edge inside the crop
        width = int(rng.uniform(0.04, 0.12) * side)
        edge = int(rng.integers(4))
        dark = np.float32(rng.uniform(0.02, 0.1))
        if edge == 0:
            lit[:width] = dark
        elif edge == 1:
            lit[-width:] = dark
        elif edge == 2:
            lit[:, :width] = dark
        else:
            lit[:, -width:] = dark
    # The camera lens blurs the grid a little; what is left aliases against the sensor grid (moire).
    lit = cv2.GaussianBlur(np.clip(lit, 0, 1), (0, 0), 0.4 * pitch)
    return camera(lit, rng, settings, prefilter=False)


def _face_ellipse(side: int, scale: float = 1.0) -> np.ndarray:
    """A filled ellipse (float mask) over the inner face of an aligned crop: eyes, nose, mouth."""
    points = template(side)
    centre = points.mean(axis=0)
    eye_dist = float(np.linalg.norm(points[1] - points[0]))
    mask = np.zeros((side, side), np.float32)
    axes = (int(eye_dist * 0.95 * scale), int(eye_dist * 1.25 * scale))
    cv2.ellipse(mask, (int(centre[0]), int(centre[1] - 0.1 * eye_dist)), axes, 0, 0, 360, 1.0, -1)
    return mask


def _colour_transfer(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Match the source's per-channel mean and std (Lab) to the target's inside ``mask`` (Reinhard transfer)."""
    src = cv2.cvtColor(source, cv2.COLOR_RGB2LAB)
    tgt = cv2.cvtColor(target, cv2.COLOR_RGB2LAB)
    inside = mask > 0.5
    out = src.copy()
    for c in range(3):
        s, t = src[..., c][inside], tgt[..., c][inside]
        out[..., c] = (src[..., c] - s.mean()) / (s.std() + 1e-6) * t.std() + t.mean()
    return np.asarray(cv2.cvtColor(out, cv2.COLOR_LAB2RGB), dtype=np.float32)


def digital_attack(
    crop: np.ndarray, donor: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings
) -> np.ndarray:
    """``donor``'s inner face swapped onto ``crop``: colour transfer, low-res generation, feathered blend, JPEG."""
    side = crop.shape[0]
    target, source = _f(crop), _f(donor)
    mask = _face_ellipse(side, rng.uniform(0.9, 1.05))
    source = _colour_transfer(source, target, mask)
    low = int(_draw(rng, settings.swap_lowres_px))
    source = cv2.resize(
        cv2.resize(source, (low, low), interpolation=cv2.INTER_AREA), (side, side), interpolation=cv2.INTER_LINEAR
    )
    feather = _draw(rng, settings.swap_feather_px)
    alpha = cv2.GaussianBlur(mask, (0, 0), feather)[..., None]
    swapped = _u8(source * alpha + target * (1 - alpha))
    swapped = _jpeg(swapped, _draw(rng, settings.swap_jpeg_quality))  # the fake is saved before it is shared
    return camera(_f(swapped), rng, settings)


def mask_attack(
    crop: np.ndarray, donor: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings
) -> np.ndarray:
    """A paper mask: ``donor``'s printed face, cut out along the face outline with eye holes, worn over ``crop``."""
    side = crop.shape[0] * UPSAMPLE
    wearer = _big(crop)
    printed = _printed(donor, rng, settings)
    outline = cv2.resize(
        _face_ellipse(crop.shape[0], rng.uniform(1.05, 1.2)), (side, side), interpolation=cv2.INTER_NEAREST
    )
    holes = np.zeros((side, side), np.float32)
    points = template(side)
    eye_dist = float(np.linalg.norm(points[1] - points[0]))
    for eye in points[:2]:
        cv2.ellipse(holes, (int(eye[0]), int(eye[1])), (int(0.2 * eye_dist), int(0.1 * eye_dist)), 0, 0, 360, 1.0, -1)
    paper = outline * (1 - holes)
    rim = cv2.GaussianBlur(outline, (0, 0), 0.04 * side) * (1 - outline)  # the mask's shadow on the face around it
    shaded = wearer * (1 - _draw(rng, settings.mask_shadow) * rim[..., None])
    light = 1.0 - 0.15 * np.linspace(0, 1, side, dtype=np.float32)[None, :, None] * rng.choice([-1.0, 1.0])
    worn = shaded * (1 - paper[..., None]) + printed * light * paper[..., None]
    worn = cv2.GaussianBlur(worn, (0, 0), _draw(rng, settings.print_blur_px) * 0.6)
    return camera(np.clip(worn, 0, 1), rng, settings)


def synthesize(
    kind: str, crop: np.ndarray, donor: np.ndarray, rng: np.random.Generator, settings: SynthesisSettings
) -> np.ndarray:
    """One sample of ``kind`` (live | print | replay | mask | digital) as an RGB uint8 (128, 128, 3) crop."""
    if kind == "live":
        return live(crop, rng, settings)
    if kind == "print":
        return print_attack(crop, rng, settings)
    if kind == "replay":
        return replay_attack(crop, rng, settings)
    if kind == "mask":
        return mask_attack(crop, donor, rng, settings)
    if kind == "digital":
        return digital_attack(crop, donor, rng, settings)
    raise ValueError(f"unknown attack kind {kind!r}")
