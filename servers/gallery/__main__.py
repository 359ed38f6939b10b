"""``python -m servers.gallery --store PATH [--host H] [--port P]``: the gallery server as its own process.

People use ``mien serve gallery``; this entry point starts without loading the CLI's other commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from servers.gallery.app import create_app, serve
from servers.security import TlsFiles
from tools.errors import MienError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.gallery", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="SQLite file of the encrypted gallery")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", type=Path, default=None, help="PEM private key of --tls-cert")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(args.store)
        serve(app, host=args.host, port=args.port, tls=TlsFiles.from_options(args.tls_cert, args.tls_key))
    except MienError as error:
        print(f"mien: error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
