"""Face detection with mediapipe's bundled BlazeFace models (short- and full-range tflite, in the wheel).

BlazeFace short-range sees faces that fill a good part of its 128x128 input; in a group photo each face is
small, so the frame is also cut into overlapping tiles (about 2/3 of the short side each) and every detection is
merged with NMS. Tiny crops (a 25x25 LFW thumbnail) are upscaled and padded first. Measured on insightface's
t1.jpg: whole-image short-range finds 0 of 6 faces, full-range 3 of 6, short-range on tiles all 6.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from tools.faces.mediapipe_quiet import solutions
from tools.faces.nms import suppress
from tools.faces.types import Box, Face

SMALL_IMAGE_SIDE_PX = 160
TILE_FRACTION = 0.68
TILE_OVERLAP = 0.4


class MediapipeDetector:
    """The default detector. Thread-safe: mediapipe graphs are not, so calls are serialised."""

    name = "mediapipe"

    def __init__(self, min_score: float = 0.5, tiles: bool = True) -> None:
        mp = solutions()
        self.min_score = min_score
        self.tiles = tiles
        self._short = mp.face_detection.FaceDetection(model_selection=0, min_detection_confidence=min_score)
        self._full = mp.face_detection.FaceDetection(model_selection=1, min_detection_confidence=min_score)
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3), boxes in its pixels, sorted left to right."""
        return self.detect_near(image_rgb, [], tiles=self.tiles)

    def detect_near(self, image_rgb: np.ndarray, regions: list[Box], tiles: bool) -> list[Face]:
        """Whole-image passes, plus square crops around ``regions`` (e.g. where tracked faces are expected),
        plus the tiles when ``tiles`` is set. Videos use tiles on some frames only and regions on the others:
        a face already tracked is found again in its region, and a new small face is found at the next tiled frame.
        """
        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        with self._lock:
            if max(height, width) < SMALL_IMAGE_SIDE_PX:
                faces = self._detect_small(image)
            else:
                faces = self._run(self._short, image, 0, 0) + self._run(self._full, image, 0, 0)
                squares = _tiles(width, height) if tiles else []
                squares += [_square_around(box, width, height) for box in regions]
                for x0, y0, side in squares:
                    crop = np.ascontiguousarray(image[y0 : y0 + side, x0 : x0 + side])
                    faces += self._run(self._short, crop, x0, y0)
        merged = suppress([f for f in faces if f.score >= self.min_score])
        clipped = [_with_box(f, f.box.clipped(width, height)) for f in merged]
        return sorted((f for f in clipped if f.box.area > 0), key=lambda f: f.box.x0)

    def _detect_small(self, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        scale = 128.0 / max(height, width)
        big = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC)
        pad = 32
        canvas = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        faces = self._run(self._short, canvas, 0, 0)
        out = []
        for face in faces:
            b = face.box
            box = Box((b.x0 - pad) / scale, (b.y0 - pad) / scale, (b.x1 - pad) / scale, (b.y1 - pad) / scale)
            out.append(_with_box(face, box))
        return out

    @staticmethod
    def _run(graph: object, image: np.ndarray, offset_x: int, offset_y: int) -> list[Face]:
        height, width = image.shape[:2]
        result = graph.process(image)  # type: ignore[attr-defined]
        faces = []
        for detection in result.detections or []:
            rel = detection.location_data.relative_bounding_box
            x0 = offset_x + rel.xmin * width
            y0 = offset_y + rel.ymin * height
            box = Box(x0, y0, x0 + rel.width * width, y0 + rel.height * height)
            faces.append(Face(box=box, score=float(detection.score[0]), detector="mediapipe"))
        return faces


def _tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """Square tiles (x0, y0, side) covering the image with overlap; none when the image is near-square-small."""
    side = int(min(width, height) * TILE_FRACTION)
    if side < 128:
        return []
    step = max(1, int(side * (1.0 - TILE_OVERLAP)))
    xs = _starts(width, side, step)
    ys = _starts(height, side, step)
    return [(x, y, side) for y in ys for x in xs]


def _square_around(box: Box, width: int, height: int) -> tuple[int, int, int]:
    """A square crop (x0, y0, side) about 2.5x the box, inside the image, where short-range BlazeFace sees it well."""
    side = int(min(max(box.width, box.height) * 2.5, width, height))
    side = max(side, min(128, width, height))
    cx, cy = box.center
    x0 = int(min(max(cx - side / 2, 0), width - side))
    y0 = int(min(max(cy - side / 2, 0), height - side))
    return x0, y0, side


def _starts(length: int, side: int, step: int) -> list[int]:
    starts = list(range(0, max(length - side, 0) + 1, step))
    if starts[-1] + side < length:
        starts.append(length - side)
    return starts


def _with_box(face: Face, box: Box) -> Face:
    return Face(box=box, score=face.score, detector=face.detector)
