"""budgetqa serve [--host 127.0.0.1] [--port 7860] [--store DIR] — the web app.

Binds 127.0.0.1 unless told otherwise; never creates a share link; Gradio analytics off; basic auth when
BUDGETQA_AUTH_USER and BUDGETQA_AUTH_PASSWORD are set. An empty or missing store is fine: documents can
be uploaded in the 文档 tab."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "the web app: chat with citations, documents, data, checks, evals"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("serve", help=HELP, description=HELP + ". Listens on 127.0.0.1:7860 unless told otherwise.")
    add_serve_options(p)
    return p


def add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="address to bind (default: BUDGETQA_HOST or 127.0.0.1; "
                                                "0.0.0.0 exposes the app to the network)")
    p.add_argument("--port", type=int, default=None, help="port (default: BUDGETQA_PORT or 7860)")
    p.add_argument("--store", type=Path, default=None, metavar="DIR",
                   help="store directory (default: BUDGETQA_HOME or ./.budgetqa)")


def serve(store: Path | None, host: str | None, port: int | None) -> int:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from extractor.errors import ConfigError
    from extractor.settings import get_settings
    from rag.store import resolve_store_dir
    from ui.app import build_app, launch, launch_options

    settings = get_settings()
    root = resolve_store_dir(store, settings)
    opts = launch_options(settings, host, port)  # validates auth before the slow build
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a port number", hint="use 1-65535")
    app = build_app(root, settings)
    where = f"http://{opts['server_name']}:{opts['server_port']}"
    print(f"budgetqa: serving {where} (store: {root}; Ctrl-C to stop)", file=sys.stderr)
    if opts["server_name"] not in ("127.0.0.1", "localhost", "::1"):
        print("budgetqa: warning: the app is reachable from the network"
              + ("" if "auth" in opts else " and has no login (set BUDGETQA_AUTH_USER/BUDGETQA_AUTH_PASSWORD)"),
              file=sys.stderr)
    try:
        launch(app, settings, host, port, block=True, quiet=True)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}",
                          hint="choose another --port, or stop what is using it") from None
    return 0


def run(args: argparse.Namespace) -> int:
    return serve(args.store, args.host, args.port)
