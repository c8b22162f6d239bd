"""A local HTTP server for network tests: 127.0.0.1 (or ::1), port 0, routed by Host header and path.

Tests point host names at it with a StaticResolver (the real client, guard and transport still run).
Every request is logged as (host, path, headers) so that tests can check what was and was not fetched.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]
Route = Callable[[str, str, dict[str, str]], Reply]


@dataclass
class LocalWeb:
    port: int
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def url(self, host: str, path: str = "/") -> str:
        """The URL of ``path`` on this server under ``host`` (an IPv6 literal goes in brackets)."""
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{path}"

    def paths(self, host: str) -> list[str]:
        return [p for h, p, _ in self.log if h == host]


@contextmanager
def serve(route: Route, tls: ssl.SSLContext | None = None, bind: str = "127.0.0.1") -> Iterator[LocalWeb]:
    """Serve ``route`` on ``bind`` (``"::1"`` for the IPv6 loopback), port 0, in a thread."""
    lock = threading.Lock()
    web = LocalWeb(0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            host = host_of(self.headers.get("Host") or "")
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                web.log.append((host, self.path, headers))
            try:
                status, out_headers, body = route(host, self.path, headers)
            except Exception as exc:  # a bug in a test route shows as a 500, not a hung client
                status, out_headers, body = 500, {}, repr(exc).encode()
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # the client may stop reading (a size limit, a time-out): that is what the test wants
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET

    server = Server((bind, 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    web.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield web
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def host_of(header: str) -> str:
    """The host of a Host header, without the port; an IPv6 literal keeps its brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


def html(body: str, head: str = "") -> Reply:
    page = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


def redirect(location: str, status: int = 302) -> Reply:
    return status, {"Location": location}, b""


def not_found() -> Reply:
    return 404, {"Content-Type": "text/plain"}, b"not found"
