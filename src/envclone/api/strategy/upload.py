"""Reading a restoration request, multipart ``file`` (the package) + ``metadata`` (a JSON string):
the package is spooled to a temporary file as it arrives (in memory only up to 1 MiB) and refused
once the body passes the size limit, so a package is never held in memory whole. Parsing only; what
a package holds is checked by the service."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import BinaryIO

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from envclone.api.body import validate
from envclone.domain.duplication import RestorationRequest
from envclone.errors import InvalidRequest, MalformedJson, PayloadTooLarge

METADATA_LIMIT = 1024 * 1024

# What OpenAPI shows for the multipart body.
FORM_SCHEMA = {
    "type": "object",
    "required": ["file", "metadata"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "a .projdup package"},
        "metadata": {"type": "string", "description": "a JSON string: target and settings.import"},
    },
}


def is_multipart(request: Request) -> bool:
    """Multipart by its media type, or by a boundary under another one: the document's curl sample
    sets ``Content-Type: application/json`` with ``--form``, and curl then sends that type with the
    form's boundary appended."""
    value = request.headers.get("content-type", "").lower()
    return value.split(";")[0].strip().startswith("multipart/") or "boundary=" in value


@dataclass
class PackageUpload:
    form: FormData
    package: UploadFile
    metadata: RestorationRequest

    @property
    def file(self) -> BinaryIO:
        return self.package.file

    async def close(self) -> None:
        await self.form.close()


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"the package is larger than {limit} bytes (setting max_package_bytes)")
        yield chunk


async def read_upload(request: Request, limit: int) -> PackageUpload:
    if not is_multipart(request):
        raise InvalidRequest("send multipart/form-data with a 'file' part (the package) and a 'metadata' part")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the package is larger than {limit} bytes (setting max_package_bytes)")
    parser = MultiPartParser(
        request.headers, _limited(request, limit), max_files=1, max_fields=1, max_part_size=METADATA_LIMIT
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(f"the multipart body is not valid: {exc.message}") from None
    try:
        return PackageUpload(form, _package(form), _metadata(form))
    except BaseException:
        await form.close()
        raise


def _package(form: FormData) -> UploadFile:
    package = form.get("file")
    if not isinstance(package, UploadFile):
        raise InvalidRequest("file: a file part holding the package is required")
    return package


def _metadata(form: FormData) -> RestorationRequest:
    raw = form.get("metadata")
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidRequest("metadata: a part holding the restoration's JSON is required")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"metadata is not valid JSON: {exc}") from None
    return validate(RestorationRequest, data)
