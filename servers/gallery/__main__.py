"""``python -m servers.gallery --store PATH [--host H] [--port P]``: the gallery server as its own process.

People use ``mien serve gallery``; this entry point starts without loading the CLI's other commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from servers.gallery.app import create_app, serve
from tools.errors import MienError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.gallery", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="SQLite file of the encrypted gallery")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(args.store)
    except MienError as error:
        print(f"mien: error: {error}", file=sys.stderr)
        return error.exit_code
    serve(app, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
