"""The verifyStore operation: the live store checked as a backup is, every file content and
settings image (content-addressed blobs) read and hashed against its key. It changes nothing: a
damaged content is repaired by a restore (which rewrites what does not match) or by uploading the
file again. Its result names each damaged or missing content and the files that use it."""

from __future__ import annotations

from envclone.blobs.checked import content_matches
from envclone.content.export import blob_hashes
from envclone.domain.components import Component
from envclone.domain.operation import Operation
from envclone.domain.verify import STORE_STEP
from envclone.engine import Recorder
from envclone.errors import EnvcloneError
from envclone.operations.context import OperationContext
from envclone.store import files as stored_files


class StoreDamaged(EnvcloneError, code="store_damaged", status=500, exit_code=6):
    """Stored file contents are damaged or missing."""


def run_verify_store(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    with rec.step(STORE_STEP):
        with ctx.db.read() as conn:
            contents = dict(blob_hashes(conn, Component.FILES)) | dict(blob_hashes(conn, Component.SETTINGS))
        rec.plan(bytes_total=sum(contents.values()))
        found: list[tuple[str, str]] = []  # (hash, missing | damaged)
        for content_hash, size in sorted(contents.items()):
            key = f"files/{content_hash}"
            if not ctx.blobs.exists(key):
                found.append((content_hash, "missing"))
            elif not content_matches(ctx.blobs, key, content_hash):
                found.append((content_hash, "damaged"))
            rec.advance(nbytes=size)
            rec.check_cancelled()
        with ctx.db.read() as conn:
            problems = [
                {"hash": h, "problem": problem, "files": stored_files.names_for_hash(conn, h)} for h, problem in found
            ]
        rec.set_result(ok=not problems, checked=len(contents), damaged=problems)
        if problems:
            listed = "; ".join(f"{', '.join(p['files']) or p['hash']}: {p['problem']}" for p in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise StoreDamaged(f"{len(problems)} stored content(s) damaged or missing: {listed}{more}")
