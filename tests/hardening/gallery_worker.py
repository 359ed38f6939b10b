"""A client process of the concurrency and crash tests: ``python -m tests.hardening.gallery_worker MODE ...``.

``enroll URL KEY CRYPTO_DIR WORKER COUNT ACKS``: enroll COUNT one-template people ``w<WORKER>-<i>`` (vector from a
seeded generator, so the test can rebuild it); after the server acknowledges each, append the name to ACKS and
fsync, so the file lists exactly what the client was told is stored, even if the server is killed next.
``identify URL KEY CRYPTO_DIR WORKER COUNT OUT``: COUNT identifications of known people (names from the first
worker's acks), one line per result in OUT. Stops at the first error, writing it as the last line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

EMBEDDER = "dlib-resnet"


def template(worker: int, index: int) -> np.ndarray:
    vector = np.random.default_rng([worker, index]).normal(size=128)
    return vector / np.linalg.norm(vector)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def main(argv: list[str]) -> int:
    from tools.encrypted import EncryptedGallery, RemoteGalleryService, default_search_options, load_keys
    from tools.encrypted.names import NameBook
    from tools.errors import MienError

    mode, url, key, crypto, worker, count, out = argv
    service = RemoteGalleryService(url, timeout_s=60, api_key=key)
    gallery = EncryptedGallery(load_keys(Path(crypto)), service, NameBook(Path(crypto)), default_search_options())
    out_path = Path(out)
    try:
        for index in range(int(count)):
            if mode == "enroll":
                gallery.enroll(f"w{worker}-{index}", template(int(worker), index)[None, :], EMBEDDER)
                _append(out_path, f"w{worker}-{index}")
            else:
                target = index % 20
                found = gallery.identify(template(0, target), EMBEDDER, 0.9)
                _append(out_path, f"w0-{target} {found.name} {found.score:.4f}")
    except MienError as error:
        _append(out_path, f"error {type(error).__name__}: {error}")
    _append(out_path, f"busy-retries {service.busy_retries}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
