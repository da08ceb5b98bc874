"""Inbox and outbox files, streamed in and out without holding them in memory. Content is stored
once per BLAKE3 hash in the blob store (``files/<hash>``); the files table maps names to it."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from blake3 import blake3

from envclone.archive import ArchiveError, PackageCorrupt, verify_package
from envclone.blobs.checked import checked_read, primed
from envclone.blobs.store import BlobWriter, open_blob
from envclone.domain.clock import naive_utc, utcnow
from envclone.domain.files import FileArea
from envclone.domain.page import Page
from envclone.domain.principal import Permission, Principal
from envclone.errors import InvalidFileName, InvalidRequest
from envclone.services.context import ServiceContext
from envclone.store import files as stored_files

AREAS = tuple(area.value for area in FileArea)
# Colons are allowed: EPM names copied backups "2022-03-10T06:37:48_Artifact_Snapshot.zip".
_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f*?\"<>|]{1,255}$")


def check_area(area: str) -> str:
    if area not in AREAS:
        raise InvalidRequest(f"unknown file area {area!r}: use {', '.join(AREAS)}")
    return area


def check_name(name: str) -> str:
    """Flat names only: no separators, no traversal, no control characters. Used to look a name
    up; a new name must also pass check_new_name."""
    if not _NAME.match(name) or name.strip(". ") == "" or name.startswith(".") or ".." in name:
        raise InvalidFileName(f"file name {name!a} is not allowed")
    return name


def check_new_name(name: str) -> str:
    """A name a file may be created under: check_name, and nothing that misleads a reader or
    another system. Bidirectional and other invisible format characters (U+202E shows
    "exe.txt" for "txt.exe"), U+FFFD (what undecodable bytes in a URL become: the name the
    client meant is lost), leading or trailing spaces and a trailing dot (which Windows drops)."""
    check_name(name)
    problem = _new_name_problem(name)
    if problem:
        raise InvalidFileName(f"file name {name!a} is not allowed: {problem}")
    return name


def _new_name_problem(name: str) -> str | None:
    if "\ufffd" in name:
        return "it holds U+FFFD, a replacement for bytes that are not UTF-8; send the name UTF-8 encoded"
    for ch in name:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"it holds U+{ord(ch):04X}, an invisible, control or unassigned character"
    if name != name.strip():
        return "it starts or ends with a space"
    if name.endswith("."):
        return "it ends with a dot"
    return None


BLOB_PREFIX = "files/"


def blob_key(content_hash: str) -> str:
    return f"{BLOB_PREFIX}{content_hash}"


def list_files(ctx: ServiceContext, who: Principal, area: str, *, prefix: str | None, limit: int, offset: int) -> Page:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        return stored_files.rows.page(
            conn, {"area": check_area(area), "name__prefix": prefix}, limit=limit, offset=offset
        )


def describe(ctx: ServiceContext, who: Principal, area: str, name: str) -> dict[str, Any]:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        return stored_files.rows.get(conn, {"area": check_area(area), "name": check_name(name)})


def open_file(ctx: ServiceContext, who: Principal, area: str, name: str) -> tuple[dict[str, Any], Iterator[bytes]]:
    row = describe(ctx, who, area, name)
    # Checked as it streams: a damaged content fails the response instead of reaching the client.
    return row, primed(checked_read(ctx.blobs, blob_key(row["hash"]), row["hash"]))


class Upload:
    """An upload in progress: bytes are hashed and written as they arrive; nothing is visible
    until ``finish``, and ``abort`` leaves no trace."""

    def __init__(
        self,
        ctx: ServiceContext,
        area: str,
        name: str,
        modified: dt.datetime | None = None,
        *,
        package_verified: bool = False,
    ) -> None:
        self._ctx = ctx
        self.area, self.name = area, name
        self.modified = modified
        self._package_verified = package_verified  # the caller checked the package already
        self._hash = blake3(max_threads=1)
        self._writer: BlobWriter = ctx.blobs.writer()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._writer.write(data)
        self.size += len(data)

    def finish(self) -> dict[str, Any]:
        digest = self._hash.hexdigest()
        row = {
            "area": self.area,
            "name": self.name,
            "size": self.size,
            "hash": digest,
            "modified": self.modified or utcnow(),
        }
        with self._ctx.blob_refs:
            self._writer.commit(blob_key(digest))
            if self.area == FileArea.SNAPSHOTS and not self._package_verified:
                self._check_package(blob_key(digest))
            with self._ctx.db.begin() as conn:
                old = stored_files.rows.find(conn, row)
                if old is None:
                    stored_files.rows.insert(conn, row)
                else:
                    stored_files.rows.update(conn, row, {k: row[k] for k in ("size", "hash", "modified")})
                orphan = (
                    old is not None and old["hash"] != digest and not stored_files.hash_referenced(conn, old["hash"])
                )
            if orphan:
                assert old is not None
                self._ctx.blobs.delete(blob_key(old["hash"]))
        return row

    def _check_package(self, key: str) -> None:
        """The snapshots area holds only sound archive packages: one that is damaged (or not a
        package) is refused here, as the EPM upload refuses it, and its content is not kept."""
        try:
            with open_blob(self._ctx.blobs, key) as src:
                verify_package(src, self._ctx.blobs)
        except ArchiveError as exc:
            with self._ctx.db.read() as conn:
                kept = stored_files.hash_referenced(conn, key.removeprefix(BLOB_PREFIX))
            if not kept:
                self._ctx.blobs.delete(key)
            raise PackageCorrupt(
                f"{self.name} is not a valid snapshot package and was not stored: {exc.message}", details=exc.details
            ) from None

    def abort(self) -> None:
        self._writer.abort()


def start_upload(
    ctx: ServiceContext, who: Principal, area: str, name: str, *, modified: dt.datetime | None = None
) -> Upload:
    """``modified`` keeps a file's own modification time (migrations, seeding); default: now."""
    who.require(Permission.WRITE_CONTENT)
    try:
        modified = naive_utc(modified) if modified is not None else None
    except ValueError as exc:
        raise InvalidRequest(f"modified: {exc}") from None
    return Upload(ctx, check_area(area), check_new_name(name), modified)


def delete_file(ctx: ServiceContext, who: Principal, area: str, name: str) -> None:
    who.require(Permission.WRITE_CONTENT)
    key = {"area": check_area(area), "name": check_name(name)}
    with ctx.blob_refs:
        with ctx.db.begin() as conn:
            row = stored_files.rows.delete(conn, key)
            orphan = not stored_files.hash_referenced(conn, row["hash"])
        # Only once the row is gone for good: a rolled-back delete must keep its content.
        if orphan:
            ctx.blobs.delete(blob_key(row["hash"]))
