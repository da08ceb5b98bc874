"""A real S3 API server for the tests (moto in server mode on a loopback port), reached over real
HTTP by the same client code that talks to AWS or MinIO. One per test process, started on first
use and ended with the process: the contract suites' factories are plain functions of a folder, so
they cannot ask for a fixture; ``tests/unit/blobs/conftest.py`` offers it as ``s3_server``."""

from __future__ import annotations

import atexit
import functools
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from envclone.blobs.s3 import DEFAULT_COPY_THRESHOLD, MIN_PART_SIZE, S3BlobStore
from envclone.blobs.s3_location import S3Credentials, S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# What the tests sign with. Distinctive, so a test can search logs and messages for them.
ACCESS_KEY_ID = "AKIATESTKEYID7Q2ZX9W"
SECRET_ACCESS_KEY = "tEsT/sEcReT+kEy/nEvEr-lOgGeD-0123456789"
REGION = "us-east-1"
BUCKET = "envclone-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def client(self) -> S3Client:
        """A plain boto3 client, for a test to look at the bucket behind the store's back."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def store(
        self,
        prefix: str | None = None,
        *,
        endpoint: str | None = None,
        bucket: str | None = None,
        max_attempts: int = 4,
        copy_threshold: int = DEFAULT_COPY_THRESHOLD,
    ) -> S3BlobStore:
        """A store below a fresh prefix (so each is empty), with the smallest part S3 allows so that
        multipart uploads need only a few MiB."""
        location = S3Location(
            bucket=bucket or self.bucket,
            prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex}/",
            endpoint=endpoint or self.endpoint,
            region=REGION,
            max_attempts=max_attempts,
        )
        return S3BlobStore(
            location,
            credentials=S3Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
            part_size=MIN_PART_SIZE,
            copy_threshold=copy_threshold,
        )


@functools.cache
def shared_s3_server() -> S3Server:
    """moto in a process of its own: in this one it would share the GIL with the client threads it
    answers, and the contract suite's concurrency tests would take several times as long."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(_stop, process)
    s3 = S3Server(endpoint=f"http://127.0.0.1:{port}", bucket=BUCKET)
    deadline = time.monotonic() + 30
    while True:
        try:
            s3.create_bucket(BUCKET)
            return s3
        except (EndpointConnectionError, ConnectionClosedError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the S3 test server did not start on port {port}") from None
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
