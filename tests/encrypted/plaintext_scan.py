"""Looking for plaintext vectors in bytes: files, process memory, dumps of Python objects.

Each vector is looked for as consecutive float32 components (8-byte windows: two components, at any byte
offset in files, 4-byte aligned in memory), as float64 components, and as float64 copies of its float32
components (what a JSON list of the float32 values would parse into). A vector counts as found when at least
``MIN_COMPONENTS`` of its components are seen: a leaked vector brings all of its components, whereas a single
8-byte match can be chance (a float64 in memory that happens to equal one of ~12,000 float32 values: a
float32-valued double in [-1, 1] has a ~1e-4 chance of that, and a process holds many such doubles).
"""

from __future__ import annotations

import gc
import re
import types
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

MIN_COMPONENTS = 3
_SCREEN_MASK = (1 << 24) - 1


class PlaintextScanner:
    """Finds any of ``vectors`` (each (dim,), float) in raw bytes."""

    def __init__(self, vectors: Iterable[np.ndarray]) -> None:
        keys, owners = [], []
        for number, vector in enumerate(vectors):
            as32 = np.asarray(vector, dtype="<f4").reshape(-1)
            words = as32.view("<u4").astype(np.uint64)
            for found in (
                words[:-1] | (words[1:] << np.uint64(32)),  # float32 pairs: components i and i + 1
                np.asarray(vector, dtype="<f8").reshape(-1).view("<u8"),
                as32.astype("<f8").view("<u8"),
            ):
                keys.append(found)
                owners.append(np.stack([np.full(found.size, number), np.arange(found.size)], axis=1))
        all_keys = np.concatenate(keys)
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._owners = np.concatenate(owners)[order]  # (vector number, component index) of each key
        # A bitmap of the keys' low 24 bits screens out almost every window before the exact lookup.
        self._screen = np.zeros(_SCREEN_MASK + 1, dtype=bool)
        self._screen[self._keys & np.uint64(_SCREEN_MASK)] = True
        self.bytes_scanned = 0
        self.stray_matches = 0  # single 8-byte matches below MIN_COMPONENTS (chance), for information
        self.found: list[str] = []

    def count(self, data: bytes, every_offset: bool = True) -> int:
        """How many vectors have at least ``MIN_COMPONENTS`` components in ``data``."""
        self.bytes_scanned += len(data)
        components: dict[int, set[int]] = defaultdict(set)
        for offset in range(8) if every_offset else (0, 4):
            usable = (len(data) - offset) // 8 * 8
            if usable <= 0:
                continue
            words = np.frombuffer(data, dtype="<u8", count=usable // 8, offset=offset)
            candidates = words[self._screen[words & np.uint64(_SCREEN_MASK)]]
            if not candidates.size:
                continue
            lo = np.searchsorted(self._keys, candidates, side="left")
            hi = np.searchsorted(self._keys, candidates, side="right")
            for start, stop in zip(lo[hi > lo].tolist(), hi[hi > lo].tolist(), strict=True):
                for vector, component in self._owners[start:stop].tolist():
                    components[vector].add(component)
        found = {vector: seen for vector, seen in components.items() if len(seen) >= MIN_COMPONENTS}
        self.stray_matches += sum(len(seen) for vector, seen in components.items() if vector not in found)
        self.found += [f"vector {v}: components {sorted(seen)[:10]}" for v, seen in found.items()]
        return len(found)


def process_memory(pid: int, chunk: int = 64 * 1024 * 1024) -> Iterator[bytes]:
    """Every writable mapping of process ``pid`` (heap, stacks, anonymous and data pages: where received or
    computed data lives; code and read-only library pages are skipped), in chunks. Needs permission to read
    ``/proc/pid/mem``."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            match = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not match or not match.group(3).startswith("rw") or "[vvar" in line or "[vsyscall" in line:
                continue
            start, end = int(match.group(1), 16), int(match.group(2), 16)
            for position in range(start, end, chunk):
                try:
                    mem.seek(position)
                    yield mem.read(min(chunk, end - position))
                except OSError:
                    break


# Code and interpreter machinery, not the state of the object: the walk does not follow them.
_NOT_STATE = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
)


def object_dump(root: Any, dump_ciphertext: Any, limit: int = 200_000) -> bytes:
    """Every byte string reachable from ``root``: bytes, str, numpy buffers, ciphertexts (via
    ``dump_ciphertext``), pickles of picklable leaves. A stand-in for dumping the server's objects."""
    import pickle

    seen: set[int] = set()
    stack = [root]
    out: list[bytes] = []
    while stack and len(seen) < limit:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _NOT_STATE):
            continue
        seen.add(id(item))
        if isinstance(item, bytes | bytearray | memoryview):
            out.append(bytes(item))
        elif isinstance(item, str):
            out.append(item.encode("utf-8", "replace"))
        elif isinstance(item, np.ndarray):
            out.append(item.tobytes())
        elif type(item).__name__ == "Ciphertext":
            out.append(dump_ciphertext(item))
        elif isinstance(item, int | float | complex | bool) or item is None:
            out.append(pickle.dumps(item))
        else:
            stack.extend(gc.get_referents(item))
            if hasattr(item, "__dict__"):
                stack.append(vars(item))
    return b"".join(out)
