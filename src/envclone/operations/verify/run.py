"""The verify operation: the archive reader's check (every chunk fetched and hashed), its result
stored on the archive's catalogue row, and a failure that names every damaged chunk."""

from __future__ import annotations

import datetime as dt

from envclone.archive import ArchiveError, ArchiveReader, load_manifest
from envclone.domain.operation import Operation
from envclone.domain.verify import STEP
from envclone.engine import Recorder
from envclone.errors import EnvcloneError
from envclone.operations.context import OperationContext
from envclone.store import archives


class ArchiveDamaged(EnvcloneError, code="archive_damaged", status=500):
    """The backup is damaged."""


def run_verify(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    name = str(op.params["backup_name"])
    with ctx.db.read() as conn:
        row = archives.get(conn, name)
    problems: list[dict[str, str | None]] = []
    with rec.step(STEP):
        try:
            manifest = load_manifest(ctx.blobs, row["manifest_id"])
        except ArchiveError as exc:
            problems.append({"chunk": None, "entry": None, "problem": exc.message})
        else:
            # Progress follows the distinct chunks checked (what is read), and a cancel is honoured
            # between chunks: a verification only reads, so stopping anywhere leaves nothing behind.
            total = sum(ref.size for ref in {r.id: r for _, e in manifest.entries() for r in e.chunks}.values())
            rec.plan(bytes_total=total)

            def checked(size: int) -> None:
                rec.advance(nbytes=size)
                rec.check_cancelled()

            with ArchiveReader(ctx.blobs, manifest) as reader:
                for problem in reader.check(on_chunk=checked):
                    problems.append({"chunk": problem.chunk_id, "entry": problem.entry, "problem": problem.message})
        result = {"ok": not problems, "damaged": problems}
        with ctx.db.begin() as conn:
            archives.mark_verified(conn, name, dt.datetime.now(dt.UTC).replace(tzinfo=None), result)
        rec.set_result(backupName=name, **result)
        if problems:
            listed = "; ".join(f"{p['entry'] or name}: {p['problem']}" for p in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ArchiveDamaged(f"backup {name} is damaged: {listed}{more}")
