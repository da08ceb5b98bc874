from __future__ import annotations

import datetime as dt

import pytest

from envclone.domain.archives import ArchiveKind, age_text, archive_name


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-3, "0 s"), (0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h 0 min"),
     (3 * 3600 + 5 * 60 + 7, "3 h 5 min"), (86400, "1 d 0 h"), (2 * 86400 + 4 * 3600 + 59, "2 d 4 h")],
)  # fmt: skip
def test_age_text(seconds: int, text: str) -> None:
    assert age_text(seconds) == text


def test_archive_name() -> None:
    when = dt.datetime(2026, 4, 10, 4, 3, 26)
    assert archive_name(ArchiveKind.ARTIFACT_SNAPSHOT, when) == "2026-04-10T04:03:26/Artifact_Snapshot.zip"
    assert archive_name("environment_backup", when) == "2026-04-10T04:03:26/Environment_Backup"
