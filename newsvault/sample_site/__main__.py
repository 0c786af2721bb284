"""``python -m newsvault.sample_site [--port 8741] [--edition 1]``: serve the demo site."""

from __future__ import annotations

import argparse
import contextlib
import sys

from newsvault.config import ConfigError, load_settings
from newsvault.sample_site.content import EDITIONS
from newsvault.sample_site.server import PortInUseError, SampleSiteServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newsvault.sample_site", description="Serve the bundled demo news site."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=None, help="default: NEWSVAULT_SAMPLE_SITE_PORT or 8741"
    )
    parser.add_argument("--edition", type=int, choices=EDITIONS, default=1)
    args = parser.parse_args(argv)
    try:
        port = args.port if args.port is not None else load_settings().sample_site_port
        server = SampleSiteServer(args.host, port, edition=args.edition)
    except (ConfigError, PortInUseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"The Levant Ledger (edition {args.edition}) at {server.url}/  (Ctrl-C stops)", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
