"""Keeps object store credentials out of logs. botocore at DEBUG (``envclone serve --log-level
debug``) logs each request's headers, whose Authorization header names the access key id and a
signature; this filter rewrites such records before any handler sees them. Changes no behaviour."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# What a signed request carries in the clear: the key id in "Credential=", the signature, a
# session token (header or presigned query forms).
_SIGNED = re.compile(
    r"(?P<name>Credential=|Signature=|X-Amz-Credential=|X-Amz-Signature=|X-Amz-Security-Token=|"
    r"x-amz-security-token['\"]?\s*:\s*b?['\"])[^,&'\"\s]*",
    re.IGNORECASE,
)
# The libraries an S3 request passes through; each logs under loggers named below these.
_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3")
_MIN_SECRET = 8  # shorter values would blank ordinary words; real keys are 16+ characters


class RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()

    def add(self, secrets: Iterable[str | None]) -> None:
        # A new set swapped in whole: threads logging meanwhile go on reading the old one.
        self._secrets = self._secrets | {s for s in secrets if s and len(s) >= _MIN_SECRET}

    def redact(self, text: str) -> str:
        text = _SIGNED.sub(lambda m: m.group("name") + "[redacted]", text)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def redact_logs(secrets: Iterable[str | None]) -> None:
    """Filter every logger of the S3 client libraries that exists now (call it after the client is
    made: its modules are imported by then) and redact ``secrets`` wherever they appear. A filter
    on a logger sees only that logger's own records, hence one per logger rather than per tree."""
    _FILTER.add(secrets)
    names = [name for name in logging.Logger.manager.loggerDict if name.split(".")[0] in _LIBRARIES]
    for name in [*_LIBRARIES, *names]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
