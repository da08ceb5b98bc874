"""Turning a writer (a function that writes to a binary file) into an iterator of blocks for a
streaming response: the writer runs in its own thread and feeds a bounded queue, so memory stays
flat however much it writes, and it is stopped when the reader goes away."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO, cast

BLOCK = 1024 * 1024
DEPTH = 8
STALL_SECONDS = 600.0  # a reader that takes nothing for this long is gone


class _Abandoned(Exception):
    pass


class _QueueFile:
    """The part of BinaryIO a writer uses: write and flush, batched into blocks."""

    def __init__(self, out: queue.Queue[bytes | BaseException | None], stop: threading.Event) -> None:
        self._out, self._stop = out, stop
        self._buffer = bytearray()

    def put(self, item: bytes | BaseException | None) -> None:
        deadline = time.monotonic() + STALL_SECONDS
        while not self._stop.is_set():
            try:
                self._out.put(item, timeout=0.5)
                return
            except queue.Full:
                if time.monotonic() > deadline:
                    break
        raise _Abandoned()

    def write(self, data: bytes) -> int:
        self._buffer.extend(data)
        if len(self._buffer) >= BLOCK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            block, self._buffer = bytes(self._buffer), bytearray()
            self.put(block)


def stream_writer(produce: Callable[[BinaryIO], object], *, name: str = "stream-writer") -> Iterator[bytes]:
    """Blocks of what ``produce`` writes, in order; an exception in ``produce`` is raised here."""
    out: queue.Queue[bytes | BaseException | None] = queue.Queue(DEPTH)
    stop = threading.Event()
    sink = _QueueFile(out, stop)

    def run() -> None:
        try:
            produce(cast(BinaryIO, sink))
            sink.flush()
            sink.put(None)
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the reader, which raises it
            with contextlib.suppress(_Abandoned):
                sink.put(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
