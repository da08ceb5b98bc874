"""What of an operation a reader who may not run migrations sees: parameters that name another
environment or a person (a clone's target URL and user, a duplication's sides, who started it)
are for administrators; everyone else gets them hidden, in the parameters and in any message that
repeats them. Secrets never reach an operation's parameters at all (engine)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal

HIDDEN = "(hidden)"
# Parameter names whose values name a peer or a principal. Matched anywhere in the name, so that
# a new operation kind's "target_url" or "owner_login" is hidden without being listed here.
_NAMING = re.compile(r"url|uri|host|user|login|owner|creator|principal|recipient|email|target|source|peer", re.I)
_NAMES_A_FILE = frozenset({"target_name", "targetName"})  # restoreBackup's copy: a file name, not a peer


def for_reader(who: Principal, op: Operation) -> Operation:
    """``op`` as ``who`` may see it: unchanged for those who may run migrations."""
    if who.can(Permission.MIGRATE):
        return op
    hidden: set[str] = set()
    params = _redact(op.params, hidden)
    values = sorted((v for v in hidden if len(v) >= 3), key=len, reverse=True)  # longest first

    def scrub(text: str | None) -> str | None:
        for value in values:
            text = text.replace(value, HIDDEN) if text else text
        return text

    return dataclasses.replace(
        op,
        params=params,
        steps=[dataclasses.replace(step, details=scrub(step.details)) for step in op.steps],
        error_message=scrub(op.error_message),
        created_by=HIDDEN,
        secrets={},  # a reader's copy needs none
    )


def _redact(value: Any, hidden: set[str], naming: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, hidden, naming or _names_someone(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, hidden, naming) for v in value]
    if naming and value is not None and not isinstance(value, bool):
        hidden.add(str(value))
        return HIDDEN
    return value


def _names_someone(key: str) -> bool:
    return key not in _NAMES_A_FILE and bool(_NAMING.search(key))
