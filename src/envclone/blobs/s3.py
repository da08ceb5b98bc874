"""A BlobStore on any S3-compatible object store (AWS S3, MinIO, Ceph, Garage...), through boto3.
Keys live below the URL's prefix; nothing here knows what the bytes mean, and no credential ever
reaches a log line, an error message or a repr.

Why boto3 rather than obstore (docs/object-store.md, measured by bench/bench_object_store.py
against moto on loopback): obstore spends less client CPU (about two thirds of boto3's per MB
moved, a twentieth per key listed), but a backup waits on chunking and on the server, not on that;
boto3 gives what this module relies on: the reference client S3-compatible servers test against,
its bounded retry modes, multipart and managed copy maintained upstream, and typed stubs. The
client is private to this module, so changing it later touches nothing else.

- ``put`` is one PutObject: S3 publishes an object whole or not at all.
- A writer does not know its key until ``commit`` (content-addressed blobs are named by their
  hash), and S3 has no rename. So a small blob (under one part) is buffered and sent as one
  PutObject at commit; a larger one streams in parts of ``part_size`` to a multipart upload under
  ``~uploads/<random>`` (a name no blob key can take, never listed), completed at commit and
  copied server-side to its key (atomic too), then removed. Memory holds at most one part.
- ``sync`` does nothing: S3 acknowledges a PUT only once the object is durably stored.
- Retries with exponential backoff and jitter, on throttling (503 SlowDown) and transient errors,
  are botocore's (standard or adaptive mode, a bounded number of attempts); a read cut in the
  middle resumes where it stopped, from the same object version (If-Match on its ETag).
- ``mtime`` (gc's age) is Last-Modified. There is no ``path``: nothing is a local file.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import boto3
import botocore.loaders
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    IncompleteReadError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from envclone.blobs._keys import check_key
from envclone.blobs._redact import redact_logs
from envclone.blobs.s3_location import S3Credentials, S3Location
from envclone.errors import EnvcloneError, NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, GetObjectOutputTypeDef

log = logging.getLogger("envclone.blobs")
T = TypeVar("T")

MiB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's floor for every part but the last
# Staged uploads larger than this are copied to their key with parallel UploadPartCopy requests;
# smaller ones with one CopyObject (S3 copies up to 5 GiB in one request).
DEFAULT_COPY_THRESHOLD = 1024 * MiB
_UPLOADS = "~uploads/"  # "~" is outside the key alphabet: no blob key can start so
_MISSING = {"404", "NoSuchKey", "NotFound"}
_READ_RESUMES = 5  # a read cut this many times in a row fails
# HeadBucket answers without a body, so by status alone.
_BUCKET_REFUSALS = {
    "404": "does not exist",
    "NoSuchBucket": "does not exist",
    "403": "refuses these credentials (access denied; check the access key and the bucket policy)",
    "400": "is refused (a wrong region?)",
    "301": "is in another region (set ?region=)",
}
_RetryMode = Literal["standard", "adaptive"]  # s3_location allows only these
_Addressing = Literal["path", "virtual", "auto"]


@functools.cache
def _loader() -> botocore.loaders.Loader:
    """One loader of botocore's service models for every store: loading S3's model costs a tenth
    of a second per new session otherwise, and it never changes while the process runs."""
    return botocore.loaders.create_loader()


class ObjectStoreError(EnvcloneError, code="object_store_error", status=503, exit_code=1):
    """The object store refused or failed a request."""


class S3BlobStore:
    def __init__(
        self,
        location: S3Location,
        *,
        credentials: S3Credentials | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        copy_threshold: int = DEFAULT_COPY_THRESHOLD,
    ) -> None:
        """Credentials given here win; otherwise boto3's usual chain applies (AWS_ACCESS_KEY_ID and
        AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the URL's profile in ~/.aws/credentials and
        ~/.aws/config, then a container or instance role). None are kept on this object."""
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum part)")
        self.location = location
        self.bucket, self.prefix = location.bucket, location.prefix
        self.part_size = part_size
        self._copy_config = TransferConfig(
            multipart_threshold=copy_threshold, multipart_chunksize=max(part_size, 64 * MiB)
        )
        try:
            core = botocore.session.Session()
            core.register_component("data_loader", _loader())
            session = boto3.session.Session(
                aws_access_key_id=credentials.access_key_id if credentials else None,
                aws_secret_access_key=credentials.secret_access_key if credentials else None,
                profile_name=location.profile,
                botocore_session=core,
            )
            found = session.get_credentials()
        except BotoCoreError as exc:  # e.g. ProfileNotFound; its message names the profile only
            raise ObjectStoreError(f"object store {location.url}: {exc}") from None
        if found is None:
            raise ObjectStoreError(
                f"object store {location.url}: no credentials found; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or a profile (AWS_PROFILE or ?profile=NAME in the URL)"
            )
        style = location.addressing_style or ("path" if location.endpoint else "auto")
        config = Config(
            region_name=location.region,
            retries={"mode": cast(_RetryMode, location.retry_mode), "total_max_attempts": location.max_attempts},
            s3={"addressing_style": cast(_Addressing, style)},
            # Archive writers put chunks from a thread pool: one connection per thread.
            max_pool_connections=32,
            connect_timeout=10,
            read_timeout=60,
        )
        self._client: S3Client = session.client("s3", endpoint_url=location.endpoint, config=config)
        frozen = found.get_frozen_credentials()
        redact_logs([frozen.access_key, frozen.secret_key, frozen.token])
        self._check_bucket()

    def _check_bucket(self) -> None:
        """One request at open, so that a wrong bucket, endpoint or key stops the server at start
        with a reason instead of failing its first backup."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            reason = _BUCKET_REFUSALS.get(code, f"is refused: {code}")
            raise ObjectStoreError(f"{self._where}: the bucket {reason} (HTTP {status})") from None
        except BotoCoreError as exc:
            raise ObjectStoreError(f"{self._where}: the object store cannot be reached: {type(exc).__name__}") from None

    @property
    def _where(self) -> str:
        return f"object store {self.location.url}"

    def __repr__(self) -> str:
        where = f", endpoint={self.location.endpoint}" if self.location.endpoint else ""
        return f"S3BlobStore({self.location.url}{where})"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _call(self, what: str, key: str, call: Callable[..., T], **kwargs: Any) -> T:
        """One S3 request (retried inside botocore); a missing object becomes NotFound and any other
        failure an ObjectStoreError naming the S3 error code, never a credential."""
        try:
            return call(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _MISSING:
                raise NotFound(f"blob {key} not found") from None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            raise ObjectStoreError(f"{self._where}: {what} {key} failed: {code} (HTTP {status})") from None
        except NoCredentialsError:
            raise ObjectStoreError(f"{self._where}: no credentials found") from None
        except BotoCoreError as exc:  # connection refused, timeouts after the last retry
            raise ObjectStoreError(f"{self._where}: {what} {key} failed: {type(exc).__name__}") from None

    def writer(self) -> _S3Writer:
        return _S3Writer(self)

    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        self._call("put", key, self._client.put_object, Key=self._key(key), Body=data)

    def sync(self) -> None:
        """Nothing to do: every acknowledged PUT is already durable."""

    def read(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        # The GET is sent now, so a missing blob raises here rather than at the first piece.
        response = self._call("read", key, self._client.get_object, Key=self._key(key))
        return self._pieces(key, response, chunk_size)

    def _pieces(self, key: str, response: GetObjectOutputTypeDef, chunk_size: int) -> Iterator[bytes]:
        body, offset, resumes = response["Body"], 0, 0
        try:
            while True:
                try:
                    piece = body.read(chunk_size)
                except (ResponseStreamingError, ReadTimeoutError, IncompleteReadError) as exc:
                    body.close()
                    resumes += 1
                    if resumes > _READ_RESUMES:
                        raise ObjectStoreError(
                            f"{self._where}: read {key} cut {resumes} times: {type(exc).__name__}"
                        ) from None
                    log.warning("reading blob %s was cut at byte %d; resuming", key, offset)
                    response = self._call(
                        "read",
                        key,
                        self._client.get_object,
                        Key=self._key(key),
                        Range=f"bytes={offset}-",
                        IfMatch=response["ETag"],
                    )
                    body = response["Body"]
                    continue
                if not piece:
                    return
                offset += len(piece)
                resumes = 0
                yield piece
        finally:
            body.close()

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """One ranged GET (a chunk out of a pack file); a read cut short is asked again whole."""
        if length <= 0:
            self.size(key)  # NotFound for a missing key, as the contract wants
            return b""
        for attempt in range(_READ_RESUMES + 1):
            try:
                response = self._call(
                    "read",
                    key,
                    self._client.get_object,
                    Key=self._key(key),
                    Range=f"bytes={offset}-{offset + length - 1}",
                )
            except ObjectStoreError as exc:
                if "InvalidRange" in str(exc):  # from at or past the blob's end: nothing there
                    return b""
                raise
            try:
                return bytes(response["Body"].read())
            except (ResponseStreamingError, ReadTimeoutError, IncompleteReadError) as exc:
                if attempt == _READ_RESUMES:
                    raise ObjectStoreError(f"{self._where}: read {key} cut: {type(exc).__name__}") from None
                log.warning("reading part of blob %s was cut; asking again", key)
            finally:
                response["Body"].close()
        raise AssertionError("unreachable")

    def get(self, key: str) -> bytes:
        response = self._call("get", key, self._client.get_object, Key=self._key(key))
        return b"".join(self._pieces(key, response, 4 * MiB))

    def exists(self, key: str) -> bool:
        try:
            self._call("exists", key, self._client.head_object, Key=self._key(key))
        except NotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return self._call("size", key, self._client.head_object, Key=self._key(key))["ContentLength"]

    def mtime(self, key: str) -> float:
        """When the blob was last written, from Last-Modified. That header counts whole seconds, so
        the end of its second is answered: an age is never overstated and gc never deletes early."""
        head = self._call("mtime", key, self._client.head_object, Key=self._key(key))
        return head["LastModified"].timestamp() + 1.0

    def delete(self, key: str) -> None:
        # S3 answers 204 for a missing key too: deleting one is not an error, as the contract says.
        self._call("delete", key, self._client.delete_object, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix, PaginationConfig={"PageSize": 1000}
        )
        skip = len(self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][skip:]
                    if not key.startswith(_UPLOADS):
                        yield key
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(f"{self._where}: listing {prefix!r} failed: {_code(exc)}") from None

    # What the writer needs, kept here so the client stays private to the store.
    def _start_upload(self, staging: str) -> str:
        started = self._call("upload", staging, self._client.create_multipart_upload, Key=self.prefix + staging)
        return started["UploadId"]

    def _upload_part(self, staging: str, upload_id: str, number: int, data: bytes) -> str:
        return self._call(
            "upload",
            staging,
            self._client.upload_part,
            Key=self.prefix + staging,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )["ETag"]

    def _complete_upload(self, staging: str, upload_id: str, parts: Sequence[CompletedPartTypeDef]) -> None:
        self._call(
            "upload",
            staging,
            self._client.complete_multipart_upload,
            Key=self.prefix + staging,
            UploadId=upload_id,
            MultipartUpload={"Parts": list(parts)},
        )

    def _abort_upload(self, staging: str, upload_id: str) -> None:
        self._call("abort", staging, self._client.abort_multipart_upload, Key=self.prefix + staging, UploadId=upload_id)

    def _publish(self, staging: str, key: str) -> None:
        """Copy the completed staging object to ``key`` server-side: the moment the blob appears."""
        source = {"Bucket": self.bucket, "Key": self.prefix + staging}
        self._call("commit", key, self._client.copy, CopySource=source, Key=self._key(key), Config=self._copy_config)

    def _drop_staged(self, staging: str) -> None:
        """Remove a staging object; a failure only leaves it for the bucket's lifecycle rule (README),
        invisible to ``list``, so it is logged rather than raised."""
        try:
            self._call("clean up", staging, self._client.delete_object, Key=self.prefix + staging)
        except ObjectStoreError as exc:
            log.warning("could not remove the staged upload %s: %s", staging, exc)


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "?"))
    return type(exc).__name__


class _S3Writer:
    """Buffers up to one part; past that, streams parts to a staged multipart upload."""

    def __init__(self, store: S3BlobStore) -> None:
        self._store = store
        self._buffer = bytearray()
        self._staging = f"{_UPLOADS}{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._completed = False  # the staging object exists and must be removed on abort
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise ValueError("write after commit or abort")
        self._buffer += data
        size = self._store.part_size
        if len(self._buffer) < size:
            return
        whole = len(self._buffer) // size * size
        view = memoryview(self._buffer)
        try:
            for start in range(0, whole, size):
                self._send(bytes(view[start : start + size]))
        finally:
            view.release()
        del self._buffer[:whole]

    def _send(self, part: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._store._start_upload(self._staging)
        number = len(self._parts) + 1
        etag = self._store._upload_part(self._staging, self._upload_id, number, part)
        self._parts.append({"ETag": etag, "PartNumber": number})

    def commit(self, key: str) -> None:
        check_key(key)  # before anything is sent: a bad key touches nothing
        if self._done:
            raise ValueError("commit after commit or abort")
        if self._upload_id is None:
            self._store.put(key, bytes(self._buffer))
        else:
            if self._buffer:
                self._send(bytes(self._buffer))
            self._buffer = bytearray()
            self._store._complete_upload(self._staging, self._upload_id, self._parts)
            self._completed = True
            self._store._publish(self._staging, key)
            self._store._drop_staged(self._staging)
            self._completed = False
        self._buffer = bytearray()
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._completed:
            self._store._drop_staged(self._staging)
            return
        if self._upload_id is None:
            return
        try:
            self._store._abort_upload(self._staging, self._upload_id)
        except (ObjectStoreError, NotFound) as exc:
            # Abort runs in finally blocks: never hide the error that led here. What is left is
            # invisible to list and swept by the bucket's lifecycle rule (README).
            log.warning("could not abort the upload %s: %s", self._staging, exc)
