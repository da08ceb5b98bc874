"""envclone's records -> Strategy's shapes: the server's version in Strategy's dotted form, projects
and the session's user. Strategy names users by a 32-hex id; envclone's have logins, so the id is
derived from the login (stable, and the same on every environment)."""

from __future__ import annotations

import hashlib
from typing import Any

from envclone import __version__
from envclone.api.strategy import schemas

# 11.5.1200 is the first version with cross-environment project duplication; clients (mstrio-py
# among them) enable it by comparing this value.
LIBRARY_VERSION = "11.5.1200.0000"


def user_id(login: str) -> str:
    return hashlib.sha256(f"user\0{login}".encode()).hexdigest()[:32].upper()


def _initials(name: str) -> str:
    return "".join(part[0] for part in name.split()[:2]).upper() or name[:1].upper()


def status() -> schemas.Status:
    return schemas.Status(iServerVersion=LIBRARY_VERSION, web_version=LIBRARY_VERSION, envclone_version=__version__)


def project(row: dict[str, Any]) -> schemas.Project:
    owner = str(row.get("owner") or "")
    return schemas.Project(
        id=row["id"],
        name=row["name"],
        description=row.get("description") or "",
        owner=schemas.Owner(id=user_id(owner) if owner else "", name=owner),
    )


def project_object(row: dict[str, Any]) -> schemas.ProjectObject:
    shown = project(row)
    return schemas.ProjectObject(id=shown.id, name=shown.name, description=shown.description, owner=shown.owner)


def session(profile: dict[str, str], timeout: int) -> schemas.SessionInfo:
    full = profile["display_name"] or profile["login"]
    return schemas.SessionInfo(
        id=user_id(profile["login"]),
        username=profile["login"],
        full_name=full,
        initials=_initials(full),
        timeout=timeout,
    )


def user(profile: dict[str, str]) -> schemas.UserInfo:
    full = profile["display_name"] or profile["login"]
    return schemas.UserInfo(
        id=user_id(profile["login"]),
        name=full,
        username=profile["login"],
        full_name=full,
        initials=_initials(full),
        default_email_address=profile["email"],
    )
