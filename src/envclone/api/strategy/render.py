"""envclone's records -> Strategy's shapes: the server's version in Strategy's dotted form, projects,
the session's user, project duplications and the Storage Service. Strategy names users by a 32-hex
id; envclone's have logins, so the id is derived from the login (stable, and the same on every
environment). Values (status, progress) are the domain's; only their spelling is decided here."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from envclone import __version__
from envclone.api.strategy import schemas
from envclone.domain.duplication import DuplicationRecord, login_id

# 11.5.1200 is the first version with cross-environment project duplication; clients (mstrio-py
# among them) enable it by comparing this value.
LIBRARY_VERSION = "11.5.1200.0000"


def user_id(login: str) -> str:
    return login_id(login)  # one rule for every user id the dialect shows


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


_HEX32 = re.compile(r"^[0-9A-F]{32}$")


def strategy_time(moment: dt.datetime) -> str:
    """Strategy's timestamps: milliseconds and a numeric UTC offset, ``2025-05-20T02:30:24.632+0000``."""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def _creator(raw: dict[str, Any]) -> schemas.Named:
    """A creator in Strategy's form: a 32-hex id (derived from the login when the record has none)."""
    name = str(raw.get("name") or "")
    given = str(raw.get("id") or "")
    return schemas.Named(id=given if _HEX32.match(given) else user_id(given or name), name=name)


def _side(raw: dict[str, Any], creator: dict[str, Any]) -> schemas.DuplicationSide:
    env, project = raw.get("environment") or {}, raw.get("project") or {}
    return schemas.DuplicationSide(
        environment=schemas.Named(id=str(env.get("id") or ""), name=str(env.get("name") or "")),
        project=schemas.DuplicationProject(id=project.get("id"), name=project.get("name")),
        creator=_creator(raw.get("creator") or creator),
    )


def duplication(record: DuplicationRecord, *, upper: bool) -> schemas.Duplication:
    """One side's record; ``upper``: the status in upper case (mstrio-py's spelling)."""
    status = record.status.value
    return schemas.Duplication(
        id=record.id,
        source=_side(record.source, record.creator),
        target=_side(record.target, record.creator),
        created_date=strategy_time(record.created),
        last_updated_date=strategy_time(record.updated),
        status=status.upper() if upper else status,
        progress=record.progress,
        message=record.message,
        settings=record.settings,
    )


def duplication_list(records: list[DuplicationRecord], total: int, *, upper: bool) -> schemas.DuplicationList:
    shown = [duplication(r, upper=upper) for r in records]
    return schemas.DuplicationList(project_duplications=shown, duplications=shown, total=total)


def storage(config: dict[str, Any]) -> schemas.StorageConfig:
    """The Storage Service as the services describe it; whatever else they hold (secrets) stays out."""
    return schemas.StorageConfig(
        shared_file_store=schemas.SharedFileStore(
            type=str(config.get("type") or "unset"),
            alias=config.get("alias"),
            location=config.get("location"),
            s3_region=config.get("s3Region"),
            configured=bool(config.get("configured")),
        )
    )
