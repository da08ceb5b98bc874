"""Chunked uploads assembled across requests in a staging directory under the data directory:
each chunk is received into a temporary file first and only then appended, so a refused chunk
leaves the upload as it was; nothing of it is visible as a file until it is published."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envclone.errors import InvalidRequest, PayloadTooLarge

MAX_CHUNK = 50 * 1024 * 1024
STALE_SECONDS = 24 * 3600
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class ChunkSpec:
    is_first: bool
    is_last: bool
    chunk_size: int | None = None
    file_size: int | None = None


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class Staging:
    """One user's upload of one name: ``<key>.part`` (bytes so far) and ``<key>.json`` (state)."""

    def __init__(self, root: Path, login: str, name: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.name = root, name
        self.key = hashlib.sha256(f"{login}\0{name}".encode()).hexdigest()[:40]
        self.part, self.meta = root / f"{self.key}.part", root / f"{self.key}.json"
        self.lock = _lock(self.key)

    def state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self.meta.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return state if self.part.is_file() and state.get("received") == self.part.stat().st_size else None

    def write_state(self, state: dict[str, Any]) -> None:
        temporary = self.meta.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.meta)

    def discard(self) -> None:
        self.meta.unlink(missing_ok=True)
        self.part.unlink(missing_ok=True)

    def prune_stale(self) -> None:
        cutoff = time.time() - STALE_SECONDS
        for path in self.root.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue


class ChunkReceiver:
    """One chunk arriving: written to a temporary file, refused past ``MAX_CHUNK`` bytes."""

    def __init__(self, staging: Staging, spec: ChunkSpec) -> None:
        if spec.chunk_size is not None and spec.chunk_size > MAX_CHUNK:
            raise PayloadTooLarge(f"a chunk may not be larger than {MAX_CHUNK} bytes (50 MiB)")
        self.staging, self.spec = staging, spec
        fd, path = tempfile.mkstemp(dir=staging.root, prefix=f"{staging.key}.", suffix=".chunk")
        self._path = Path(path)
        self._file = os.fdopen(fd, "wb")
        self.received = 0

    def write(self, data: bytes) -> None:
        self.received += len(data)
        if self.received > MAX_CHUNK:
            raise PayloadTooLarge(f"a chunk may not be larger than {MAX_CHUNK} bytes (50 MiB)")
        self._file.write(data)

    def append(self) -> int:
        """Under the staging lock: check the chunk against the upload so far, then add it.
        Returns the upload's size with this chunk."""
        spec, staging = self.spec, self.staging
        self._file.close()
        if spec.chunk_size is not None and spec.chunk_size != self.received:
            raise InvalidRequest(f"chunkSize is {spec.chunk_size} but the chunk holds {self.received} bytes")
        fresh = {"received": 0, "file_size": spec.file_size}
        state: dict[str, Any] | None = fresh if spec.is_first else staging.state()
        if state is None:
            raise InvalidRequest(f"no upload of {staging.name} is in progress: the first chunk must have isFirst=true")
        file_size: int | None = spec.file_size if spec.file_size is not None else state.get("file_size")
        total = int(state["received"]) + self.received
        if file_size is not None and (total > file_size or (spec.is_last and total != file_size)):
            raise InvalidRequest(f"fileSize is {file_size} but {total} bytes have been sent")
        if spec.is_first:
            staging.discard()
            os.replace(self._path, staging.part)
        else:
            with self._path.open("rb") as src, staging.part.open("ab") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        staging.write_state({**state, "received": total, "file_size": file_size})
        return total

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._path.unlink(missing_ok=True)
