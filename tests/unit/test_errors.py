"""Error classes declare code, status and exit code in their class line; what a subclass leaves
out it inherits, and the docstring is the default message."""

from __future__ import annotations

import pytest

from envclone.archive.errors import ArchiveError, ChunkMissing, ManifestCorrupt
from envclone.errors import EnvcloneError, InvalidCredentials, InvalidRequest, MalformedJson, NotFound


@pytest.mark.parametrize(
    ("cls", "code", "status", "exit_code"),
    [
        (EnvcloneError, "internal_error", 500, 1),
        (InvalidRequest, "invalid_request", 422, 2),
        (MalformedJson, "malformed_json", 400, 2),  # exit code inherited from InvalidRequest
        (InvalidCredentials, "invalid_credentials", 401, 3),
        (NotFound, "not_found", 404, 4),
        (ArchiveError, "archive_invalid", 500, 6),
        (ManifestCorrupt, "manifest_corrupt", 500, 6),
    ],
)
def test_declared_and_inherited_attributes(cls: type[EnvcloneError], code: str, status: int, exit_code: int) -> None:
    assert (cls.code, cls.status, cls.exit_code) == (code, status, exit_code)


def test_a_subclass_does_not_change_its_parent() -> None:
    class Teapot(NotFound, code="teapot", status=418):
        """I am a teapot."""

    assert (Teapot.code, Teapot.status, Teapot.exit_code) == ("teapot", 418, 4)
    assert (NotFound.code, NotFound.status) == ("not_found", 404)
    assert Teapot().message == "I am a teapot."
    assert Teapot("short and stout").message == "short and stout"


def test_chunk_errors_name_the_chunk_and_entry() -> None:
    exc = ChunkMissing("ab" * 32, "users/all.jsonl")
    assert exc.code == "chunk_missing" and exc.status == 500
    assert exc.message == f"A chunk of the archive is missing from the store: chunk {'ab' * 32} (entry users/all.jsonl)"
