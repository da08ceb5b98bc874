"""An HTTP proxy on loopback in front of the test S3 server that misbehaves on request, as a busy
object store does: it answers 503 SlowDown to the next N requests, drops the next N connections
without an answer, or cuts the next GET's body after some bytes. Everything else passes through
unchanged (the Host header too, so signatures still match)."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>proxy</RequestId></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._slow_downs = 0
        self._drops = 0
        self._cut_after: int | None = None
        self.refused = 0  # requests answered 503 SlowDown
        self.dropped = 0  # connections closed without an answer
        self.cut = 0  # GET bodies cut short
        self.requests: list[str] = []  # "METHOD path" of every request that reached the proxy
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def slow_down(self, count: int) -> None:
        with self._lock:
            self._slow_downs = count

    def drop(self, count: int) -> None:
        with self._lock:
            self._drops = count

    def cut_next_get(self, after_bytes: int) -> None:
        with self._lock:
            self._cut_after = after_bytes

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _dropping(self) -> bool:
        with self._lock:
            if not self._drops:
                return False
            self._drops -= 1
            self.dropped += 1
            return True

    def _fault(self, method: str) -> tuple[bool, int | None]:
        with self._lock:
            if self._slow_downs:
                self._slow_downs -= 1
                self.refused += 1
                return True, None
            if method == "GET" and self._cut_after is not None:
                cut, self._cut_after = self._cut_after, None
                self.cut += 1
                return False, cut
            return False, None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test reads proxy.requests instead

            def _forward(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                assert "chunked" not in self.headers.get("Transfer-Encoding", ""), "not handled here"
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                if proxy._dropping():
                    self.close_connection = True  # the request read, no answer: a reset mid-request
                    return
                refuse, cut = proxy._fault(self.command)
                if refuse:
                    payload = b"" if self.command == "HEAD" else _SLOW_DOWN
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(_SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        # A HEAD's Content-Length is the object's size: pass it on as it is.
                        lower = name.lower()
                        if lower not in _HOP_BY_HOP and (self.command == "HEAD" or lower != "content-length"):
                            self.send_header(name, value)
                    if self.command != "HEAD":
                        self.send_header("Content-Length", str(len(data)))
                    if cut is not None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data if cut is None else data[:cut])
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815 (http.server's names)

        return Handler
