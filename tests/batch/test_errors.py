"""Bad batch requests fail before any work, with one clear ``MienError`` each (no Ray cluster is started)."""

from __future__ import annotations

import socket

import pytest

from tools.batch import BatchError, run_batch
from tools.errors import ConfigError


def test_unreachable_cluster_and_bad_requests(tmp_path) -> None:
    media = tmp_path / "in"
    media.mkdir()
    (media / "notes.md").write_text("no media here")
    with pytest.raises(ConfigError, match="no media files"):
        run_batch([media], tmp_path / "out", ("faces",))
    (media / "a.mp4").write_bytes(b"x")
    with pytest.raises(ConfigError, match="identities needs a gallery"):
        run_batch([media], tmp_path / "out", ("identities",), gallery=tmp_path / "none.sqlite")
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BatchError, match=f"no Ray cluster at 127.0.0.1:{port}"):
        run_batch([media], tmp_path / "out", ("faces",), ray_address=f"127.0.0.1:{port}")
    assert not list((tmp_path / "out").glob("part-*"))
