"""The one sequence that applies an archive to this environment, whoever asks (a restore, a
clone's target; next a project import or a job run): leave what already has the archive's digest,
put blobs, replace the rest in one transaction checked against the expected digests, then drop the
blobs nothing refers to. Any failure leaves the environment as it was. It knows no request shape:
callers pass the archive, the components, the kept settings and the digests, and add their own
steps through a hook; ``content.apply`` holds the building blocks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from envclone.archive import ArchiveReader, Manifest, load_manifest
from envclone.content import apply
from envclone.content.bundle import is_bundle
from envclone.content.export import BLOB_PREFIX
from envclone.content.replace import drop_unreferenced_blobs
from envclone.domain.apply import CLEANUP, COMPARE, RECHECK, REPLACE, STAGE, VERIFY
from envclone.domain.components import Component
from envclone.engine import Cancelled, Recorder, faults
from envclone.errors import Conflict
from envclone.operations.context import OperationContext


@dataclass(frozen=True)
class ArchiveApply:
    manifest_id: str
    components: Sequence[Component]  # chosen; replaced in this order unless a hook orders them
    digests: Mapping[str, str]  # expected after the apply, per component value
    step: str  # the step the whole sequence reports as
    changed_meanwhile: str  # the conflict's message if unchanged content changes before the commit
    keep_settings: frozenset[str] = frozenset()  # settings keys that keep this environment's values
    # Check stored file contents against their hashes and rewrite damaged ones (a restore repairs
    # the store; a clone of an unchanged source does not pay for reading every file again).
    repair_blobs: bool = False


class Applying:
    """The open transaction, as a hook sees it: what is being replaced, and the replacing."""

    def __init__(
        self,
        conn: sa.Connection,
        reader: ArchiveReader,
        changing: list[Component],
        keep: frozenset[str],
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.conn, self.changing = conn, changing
        self._reader, self._keep, self._on_bytes = reader, keep, on_bytes
        # What the operation reports if this transaction commits: recorded with the commit, so
        # that an operation stopped right after it still reports it once recovered.
        self.result: dict[str, object] = {}

    @property
    def reader(self) -> ArchiveReader:
        """The archive being applied, for a hook that writes its own rows (a project import)."""
        return self._reader

    def advance(self, nbytes: int) -> None:
        """Report archive bytes a hook read (the replace phase's progress)."""
        if self._on_bytes is not None:
            self._on_bytes(nbytes)

    def replace(self, component: Component) -> None:
        """Replace one chosen component; nothing for one that is already equal or not chosen."""
        if component in self.changing:
            keep = self._keep if component is Component.SETTINGS else frozenset()
            apply.replace(self.conn, self._reader, component, keep_settings=keep, on_bytes=self._on_bytes)

    def replace_all(self) -> None:
        for component in self.changing:
            self.replace(component)


Hook = Callable[[Applying], None]


def apply_archive(
    ctx: OperationContext, rec: Recorder, request: ArchiveApply, in_transaction: Hook = Applying.replace_all
) -> Manifest:
    """Apply ``request``; ``in_transaction`` replaces the changing components (all of them, by
    default) and may report steps or read the content before and after, inside the transaction.
    Progress goes through the phases of domain.apply, each measured by what it works through."""
    manifest = load_manifest(ctx.blobs, request.manifest_id)
    chosen = list(request.components)
    sizes = {c: _bytes(manifest, [c], blobs=True) + _bytes(manifest, [c], blobs=False) for c in chosen}
    try:
        with rec.step(request.step):
            # Comparing and verifying take the longer the more a component holds: measured by its size.
            rec.phase(COMPARE)
            rec.plan(bytes_total=sum(sizes.values()))
            same: set[Component] = set()
            with ctx.db.read() as conn:
                # What already has the archive's digest (and all its file contents) is neither read
                # from the archive nor rewritten: a clone of an unchanged source, a restore of what is there.
                for component in chosen:
                    same |= apply.already_equal(
                        conn, ctx.blobs, request.digests, [component], check_content=request.repair_blobs
                    )
                    rec.advance(nbytes=sizes[component])
            changing = [c for c in chosen if c not in same]
            rec.check_cancelled()
            with ArchiveReader(ctx.blobs, manifest) as reader:
                rec.phase(STAGE)
                rec.plan(bytes_total=_bytes(manifest, changing, blobs=True))
                advance = _advancing_unless_cancelled(rec)
                apply.put_blobs(ctx.blobs, reader, changing, advance, repair=request.repair_blobs)
                # The point of no return is where the one transaction begins, not where it commits:
                # on SQLite it holds the write lock, so no cancel could be recorded during it, and a
                # cancel means the same on every database. Until here a cancel stops the apply with
                # nothing replaced; from here it is refused, and the transaction commits whole or
                # rolls back.
                rec.pass_point_of_no_return()
                faults.point(faults.BEFORE_TRANSACTION, rec.op.kind)
                with ctx.db.begin() as conn:
                    rec.phase(RECHECK)  # before the hook: nothing is replaced if content changed meanwhile
                    rec.plan(bytes_total=sum(sizes[c] for c in same))
                    for component in same:
                        if not apply.already_equal(
                            conn, ctx.blobs, request.digests, [component], check_content=request.repair_blobs
                        ):
                            raise Conflict(request.changed_meanwhile)
                        rec.advance(nbytes=sizes[component])
                    rec.phase(REPLACE)
                    rec.plan(bytes_total=_bytes(manifest, changing, blobs=False))
                    tx = Applying(conn, reader, changing, request.keep_settings, _advancing(rec))
                    in_transaction(tx)
                    # The unchanged ones were re-checked above in this transaction; settings
                    # deliberately differ from the archive when keys were kept.
                    kept = request.keep_settings
                    checked = [c for c in changing if not (c is Component.SETTINGS and kept)]
                    rec.phase(VERIFY)
                    rec.plan(bytes_total=sum(sizes[c] for c in checked))
                    for component in checked:
                        apply.check_digests(conn, request.digests, [component])
                        rec.advance(nbytes=sizes[component])
                    rec.mark_committed(conn, tx.result)  # the final status commits with the content
                    faults.point(faults.BEFORE_COMMIT, rec.op.kind)
                faults.point(faults.AFTER_COMMIT, rec.op.kind)
            rec.phase(CLEANUP)
            with ctx.blob_refs, ctx.db.read() as conn:
                drop_unreferenced_blobs(conn, ctx.blobs)
    except Cancelled:
        with ctx.blob_refs, ctx.db.read() as conn:
            drop_unreferenced_blobs(conn, ctx.blobs)  # the file contents the cancelled apply had put
        raise
    return manifest


def _advancing(rec: Recorder) -> Callable[[int], None]:
    return lambda n: rec.advance(nbytes=n)


def _advancing_unless_cancelled(rec: Recorder) -> Callable[[int], None]:
    def advance(nbytes: int) -> None:
        rec.advance(nbytes=nbytes)
        rec.check_cancelled()

    return advance


def _bytes(manifest: Manifest, components: Sequence[Component], *, blobs: bool) -> int:
    """The logical bytes of the components' file contents (``blobs``) or of their records."""
    values = {c.value for c in components}
    return sum(
        e.size
        for c, e in manifest.entries()
        if c in values and (e.name.startswith(BLOB_PREFIX) or is_bundle(e.name)) == blobs
    )
