"""A request whose body stops short: the head (declaring a large Content-Length) and the first bytes,
then the answer is read without sending the rest, which no HTTP client library does. An answer
that arrives proves the server decided before reading the body; one that needed the rest never
comes, and the socket's timeout fails the test."""

from __future__ import annotations

import socket

import httpx

from tests.conftest import LiveServer

ANSWER_SECONDS = 10.0


def partial_request(
    server: LiveServer, method: str, path: str, headers: dict[str, str], declared: int, start: bytes
) -> httpx.Response:
    """Send ``method path`` with ``headers``, ``Content-Length: declared`` and ``start`` of the
    body, then read the whole answer."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {declared}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    url = server.url + path
    with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + start)
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            assert piece, f"the server closed {url} without an answer"
            received += piece
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer = dict(line.split(": ", 1) for line in header_lines)
        length = int(answer.get("content-length", "0"))
        while len(rest) < length:
            piece = sock.recv(65536)
            assert piece, f"the server closed {url} mid-answer"
            rest += piece
    return httpx.Response(
        int(status_line.split()[1]), headers=answer, content=rest[:length], request=httpx.Request(method, url)
    )
