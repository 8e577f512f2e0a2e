"""The floor the HTTP benchmark measures Tessera against: the smallest useful Starlette app,
served by uvicorn with exactly the options ``tessera serve`` uses (uvloop, httptools, one
worker, no access log, no server/date headers).

Run: ``python tests/benchmarks/hello_app.py --port 8001``.
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", hello), Route("/health", health)])


def main() -> None:
    """Serve ``app`` on ``--host``/``--port`` until SIGTERM."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    # Keep in step with tessera.cli.serve so the two servers differ only in the application.
    uvicorn.run(app, host=args.host, port=args.port, workers=1, loop="uvloop", http="httptools",
                access_log=False, log_config=None, server_header=False, date_header=False)


if __name__ == "__main__":
    main()
