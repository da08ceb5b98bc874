"""A TCP proxy on loopback that drops the link: it forwards faithfully until a given number of
request bytes has gone through, then cuts the connection in the middle of what it carries (that
request's body, or the next answer), and refuses every later connection, as a network that went
away would, until it is healed. Real sockets both ways."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

UP, DOWN = "up", "down"  # client to server (requests), server to client (answers)


class DroppingProxy:
    def __init__(self, upstream_port: int, *, direction: str, after_bytes: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.direction, self.after_bytes = direction, after_bytes
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._counted = 0
        self.dropped = threading.Event()  # the link went down (and stays down until healed)
        self._open: set[socket.socket] = set()
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def heal(self) -> None:
        """The network is back: forward everything from now on."""
        with self._lock:
            self.after_bytes = -1
            self.dropped.clear()

    def close(self) -> None:
        self._stopping = True
        self._listener.close()
        self._cut_all()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open |= {client, server}
            if self.dropped.is_set():  # the link is down: nothing gets through
                self._cut(client, server)
                continue
            threading.Thread(target=self._pump, args=(client, server, UP), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, DOWN), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        try:
            while data := src.recv(65536):
                if self.dropped.is_set():
                    break  # nothing crosses a dropped link, whenever this connection was made
                if self._cut_here(direction, len(data)):
                    dst.sendall(data[: len(data) // 2])  # half of what was on its way, then nothing
                    self.dropped.set()
                    self._cut_all()
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._cut(src, dst)

    def _cut_here(self, direction: str, n: int) -> bool:
        """Whether ``n`` bytes going ``direction`` are where the link drops: request bytes count
        towards the limit; past it, the cut falls in these bytes if they go the chosen way."""
        with self._lock:
            if self.after_bytes < 0:
                return False
            if direction == UP:
                self._counted += n
            return direction == self.direction and self._counted > self.after_bytes

    def _cut(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open -= set(sockets)
        for sock in sockets:
            _reset(sock)

    def _cut_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
        self._cut(*sockets)


def _reset(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a dropped link looks to both ends. Shut down first:
    a close alone neither wakes the other pump blocked reading it nor tells the peer anything."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    _close(sock)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.close()


@contextmanager
def dropping_proxy(upstream_port: int, *, direction: str, after_bytes: int) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(upstream_port, direction=direction, after_bytes=after_bytes)
    try:
        yield proxy
    finally:
        proxy.close()
