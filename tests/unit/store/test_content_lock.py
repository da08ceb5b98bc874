"""The content lock taken late (store.operations.take_lock), on both databases: taken once free and
again by its holder, refused while another holds it, released by the operation's end; an
exclusive operation recorded meanwhile is refused naming the holder; and a take that races an
exclusive operation's uncommitted record gives way instead of waiting for it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from envclone.domain.operation import OperationStatus, Step
from envclone.errors import Conflict
from envclone.services.context import ServiceContext
from envclone.store import operations as repo
from tests.builders import make_context
from tests.conftest import database_url


@pytest.fixture(params=["sqlite", "postgres"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> ServiceContext:
    return make_context(tmp_path / "env", database_url=database_url(request.param, tmp_path, request))


def record(ctx: ServiceContext, kind: str, *, exclusive: bool = False) -> str:
    with ctx.db.begin() as conn:
        return repo.create(conn, kind, {}, [Step("Running")], "admin", exclusive).id


def take(ctx: ServiceContext, op_id: str) -> str | None:
    with ctx.db.begin() as conn:
        return repo.take_lock(conn, op_id)


def test_taken_late_held_until_the_end_and_refused_to_others(ctx: ServiceContext) -> None:
    first, second = record(ctx, "importProject"), record(ctx, "importProject")
    assert take(ctx, first) is None and take(ctx, first) is None  # again by its holder: still its
    assert take(ctx, second) == f"the importProject operation {first}"
    with pytest.raises(Conflict) as caught:
        record(ctx, "restore", exclusive=True)
    assert first in caught.value.message
    with ctx.db.begin() as conn:
        repo.finish(conn, repo.load(conn, first), OperationStatus.SUCCEEDED, None, None)
        assert repo.lock_holder(conn) is None
    assert take(ctx, second) is None
    with ctx.db.read() as conn:
        assert repo.lock_holder(conn) == ("importProject", second)


def test_an_ended_operation_cannot_take_it(ctx: ServiceContext) -> None:
    op_id = record(ctx, "importProject")
    with ctx.db.begin() as conn:
        repo.finish(conn, repo.load(conn, op_id), OperationStatus.CANCELLED, "cancelled", None)
    with pytest.raises(Conflict):
        take(ctx, op_id)


def test_a_take_racing_an_uncommitted_exclusive_record_gives_way(ctx: ServiceContext) -> None:
    waiting = record(ctx, "importProject")
    with ctx.db.begin() as other:  # a restore being recorded, not yet committed
        repo.create(other, "restore", {}, [Step("Running")], "admin", True)
        try:
            with ctx.db.begin_nowait() as conn:
                holder = repo.take_lock(conn, waiting)
        except sa.exc.OperationalError:
            holder = "busy"  # SQLite's write lock, or PostgreSQL's wait on the unique index
        assert holder is not None
    with ctx.db.read() as conn:
        assert repo.lock_holder(conn) is not None and repo.lock_holder(conn) != ("importProject", waiting)
