"""``python -m servers.local``: the embedded server as its own process (``LocalServer`` starts it this way).

People use ``mien serve llm``; this entry point adds what a parent process needs: serving on an inherited,
already-bound socket (``--fd``) and exiting when the parent dies (``--parent-pid``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from servers.local.app import chat_policy, create_app, serve
from servers.local.serving import ServiceLimits
from tools.errors import MienError


def _exit_with_parent(parent_pid: int) -> None:
    """Send ourselves SIGTERM (a clean uvicorn shutdown) once the parent is gone and we were re-parented."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fd", type=int, default=None, help="serve on this inherited, bound socket")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    parser.add_argument("--model", type=Path, default=None, help="model folder or .gguf (default: packaged SmolLM2)")
    parser.add_argument("--served-name", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-queue", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--cache-dir", type=Path, default=None, help="dequantized GGUF copies (default: MIEN_HOME)")
    parser.add_argument("--runtime", choices=["auto", "llama.cpp", "transformers"], default="auto")
    parser.add_argument("--context", type=int, default=4096, help="llama.cpp context window in tokens")
    parser.add_argument(
        "--guard", action="store_true", help="API keys (MIEN_SERVER_AUTH), body and concurrency limits from settings"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = ServiceLimits(
        threads=args.threads,
        max_queue=args.max_queue,
        default_max_tokens=args.max_new_tokens,
        runtime=args.runtime,
        context_tokens=args.context,
    )
    try:
        policy = chat_policy() if args.guard else None
        app = create_app(
            args.model, served_name=args.served_name, limits=limits, cache_root=args.cache_dir, policy=policy
        )
    except MienError as error:
        print(f"mien: error: {error}", file=sys.stderr)
        return error.exit_code
    if args.parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    sock = socket.socket(fileno=args.fd) if args.fd is not None else None
    serve(app, host=args.host, port=args.port, sock=sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
