"""A repository folder as job runs use it (layout: domain.restore_point): its chunk store, the
restore point records of each job's folder, and a backup published into it. Records are written
whole under their final name (a hidden part file first), after the archive they name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from envclone.archive.copy import CopyStats, copy_archive
from envclone.blobs import BlobStore
from envclone.blobs.local import LocalBlobStore
from envclone.domain.restore_point import POINT_SUFFIX, RestorePoint


class Repository:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._blobs: LocalBlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """The repository's chunk store (created on first use)."""
        if self._blobs is None:
            self._blobs = LocalBlobStore(self.folder)
        return self._blobs

    def points(self, job_folder: str) -> list[RestorePoint]:
        """The restore points of one job's folder, oldest first; a record that does not parse is
        not a restore point (a user's file, or one from a later format) and is left alone."""
        found: list[RestorePoint] = []
        folder = self.folder / job_folder
        if not folder.is_dir():
            return found
        for path in folder.glob(f"*{POINT_SUFFIX}"):
            try:
                found.append(RestorePoint.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError):
                continue
        return sorted(found, key=lambda p: (p.created, p.archive_id))

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

    def write_point(self, job_folder: str, point: RestorePoint) -> Path:
        folder = self.folder / job_folder
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / point.file_name
        part = folder / f".{point.file_name}.part"
        try:
            with part.open("wb") as out:
                out.write(point.model_dump_json(indent=1).encode())
                out.flush()
                os.fsync(out.fileno())
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return target
