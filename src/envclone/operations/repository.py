"""A backup repository as job runs use it (layout: domain.restore_point): its chunk store, the
restore point records of each job's folder, a backup published into it and a backup's package
file. Two media, one layout: a local folder (``FolderRepository``) or an S3 bucket below a prefix
(``BucketRepository``, through blobs.s3 like envclone's own object store). Records and files are
published whole under their final name, after the archive they name; nothing half-written is
ever visible under it."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from envclone.archive.copy import CopyStats, copy_archive
from envclone.blobs import BlobStore
from envclone.blobs.local import LocalBlobStore
from envclone.domain.restore_point import POINT_SUFFIX, RestorePoint
from envclone.errors import NotFound

_KEY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")


class PackageFile(Protocol):
    """A package file being written into a job's folder: invisible until ``commit``, which gives
    it its name (the one asked for, else ``<stem>_<n>``) and returns it; ``abort`` leaves nothing."""

    def write(self, data: bytes) -> int: ...

    def flush(self) -> None: ...

    def commit(self) -> str: ...

    def abort(self) -> None: ...


class Repository(ABC):
    where: str  # for messages: a folder's name or a bucket URL, never a key

    @property
    @abstractmethod
    def blobs(self) -> BlobStore:
        """The repository's chunk store."""

    @abstractmethod
    def points(self, job_folder: str) -> list[RestorePoint]:
        """The restore points of one job's folder, oldest first; a record that does not parse is
        not a restore point (a user's file, or one from a later format) and is left alone."""

    @abstractmethod
    def write_point(self, job_folder: str, point: RestorePoint) -> None: ...

    @abstractmethod
    def package_file(self, job_folder: str, name: str, tag: str) -> PackageFile:
        """``tag`` (the run's id) names the hidden part a local file is written under."""

    def has_point(self, job_folder: str, point: RestorePoint) -> bool:
        return any(p.archive_id == point.archive_id for p in self.points(job_folder))

    def publish(
        self,
        source: BlobStore,
        job_folder: str,
        point: RestorePoint,
        on_done: Callable[[int], None] = lambda n: None,
        check: Callable[[], None] = lambda: None,
    ) -> CopyStats:
        """Copy the point's archive in from ``source`` (the chunks this repository lacks), then
        record the point in ``job_folder``."""
        stats = copy_archive(source, self.blobs, point.archive_id, on_done, check)
        self.write_point(job_folder, point)
        return stats


def _parsed(data: bytes) -> RestorePoint | None:
    try:
        return RestorePoint.model_validate_json(data)
    except ValidationError:
        return None


def _sorted(points: list[RestorePoint | None]) -> list[RestorePoint]:
    return sorted((p for p in points if p is not None), key=lambda p: (p.created, p.archive_id))


def _numbered(name: str, n: int) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}_{n}.{ext}"


# -- a local folder ---------------------------------------------------------------------------------
class FolderRepository(Repository):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where = folder.name
        self._blobs: LocalBlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """The repository's chunk store (created on first use)."""
        if self._blobs is None:
            self._blobs = LocalBlobStore(self.folder)
        return self._blobs

    def points(self, job_folder: str) -> list[RestorePoint]:
        folder = self.folder / job_folder
        if not folder.is_dir():
            return []
        found: list[RestorePoint | None] = []
        for path in folder.glob(f"*{POINT_SUFFIX}"):
            try:
                found.append(_parsed(path.read_bytes()))
            except OSError:
                continue
        return _sorted(found)

    def write_point(self, job_folder: str, point: RestorePoint) -> None:
        folder = self.folder / job_folder
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{point.file_name}.part"
        try:
            with part.open("wb") as out:
                out.write(point.model_dump_json(indent=1).encode())
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, folder / point.file_name)
        finally:
            part.unlink(missing_ok=True)

    def package_file(self, job_folder: str, name: str, tag: str) -> PackageFile:
        # Runs hold the environment one at a time, so a hidden part file already there is what an
        # interrupted run left: removed.
        folder = self.folder / job_folder
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".*.part"):
            stale.unlink(missing_ok=True)
        return _FolderFile(folder, name, folder / f".{tag}.part")


class _FolderFile:
    def __init__(self, folder: Path, name: str, part: Path) -> None:
        self._folder, self._name, self._part = folder, name, part
        self._out = part.open("wb")

    def write(self, data: bytes) -> int:
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()

    def commit(self) -> str:
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        target, n = self._folder / self._name, 1
        while target.exists():
            target, n = self._folder / _numbered(self._name, n), n + 1
        os.replace(self._part, target)
        return target.name

    def abort(self) -> None:
        self._out.close()
        self._part.unlink(missing_ok=True)


# -- an S3 bucket -----------------------------------------------------------------------------------
def job_key(job_folder: str) -> str:
    """A job's folder name as one key segment. Blob keys allow ``A-Za-z0-9._-`` only, and job
    folders are often named "Tier 1": every other character (and ``_``, the escape) becomes
    ``_`` and two hex digits per UTF-8 byte, so distinct names stay distinct keys."""
    return "".join(c if c in _KEY_SAFE else "".join(f"_{b:02x}" for b in c.encode()) for c in job_folder)


class BucketRepository(Repository):
    """Everything below the store's prefix: ``chunks/``, ``manifests/`` (the chunk store, as in a
    folder) and one prefix per job's folder (``job_key``) with its records and package files."""

    def __init__(self, store: BlobStore, where: str) -> None:
        self._store = store
        self.where = where

    @property
    def blobs(self) -> BlobStore:
        return self._store

    def points(self, job_folder: str) -> list[RestorePoint]:
        prefix = f"{job_key(job_folder)}/"
        found: list[RestorePoint | None] = []
        for key in self._store.list(prefix):
            if key.endswith(POINT_SUFFIX) and "/" not in key[len(prefix) :]:
                try:
                    found.append(_parsed(self._store.get(key)))
                except NotFound:  # removed while listing
                    continue
        return _sorted(found)

    def write_point(self, job_folder: str, point: RestorePoint) -> None:
        # One PUT: S3 shows an object whole or not at all.
        self._store.put(f"{job_key(job_folder)}/{point.file_name}", point.model_dump_json(indent=1).encode())

    def package_file(self, job_folder: str, name: str, tag: str) -> PackageFile:
        return _BucketFile(self._store, job_key(job_folder), name)


class _BucketFile:
    """Streams through the store's writer (multipart past one part), published at commit."""

    def __init__(self, store: BlobStore, prefix: str, name: str) -> None:
        self._store, self._prefix, self._name = store, prefix, name
        self._writer = store.writer()

    def write(self, data: bytes) -> int:
        self._writer.write(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing: the writer sends whole parts as they fill."""

    def commit(self) -> str:
        name, n = self._name, 1
        while self._store.exists(f"{self._prefix}/{name}"):
            name, n = _numbered(self._name, n), n + 1
        self._writer.commit(f"{self._prefix}/{name}")
        return name

    def abort(self) -> None:
        self._writer.abort()
