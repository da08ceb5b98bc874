"""boto3 (through envclone's S3BlobStore, the code the blob store runs) against obstore, on the same
S3 API server: moto in server mode on loopback, started here in a process of its own. Puts and gets
of 4 MB and 32 MB objects, and a listing of 10,000 keys. For each: the wall time (moto, a Python
server on the same two cores, weighs on it) and this process's CPU time (the client's own cost,
obstore's Rust threads included), the median of --repeat rounds. docs/object-store.md reads it.

Usage: .venv/bin/python bench/bench_object_store.py [--repeat 3] [--keys 10000] [--json FILE]
"""

from __future__ import annotations

# ruff: noqa: S603  (a benchmark: starts moto in a process of its own)
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import obstore
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from obstore.store import S3Store

from envclone.blobs.s3 import S3BlobStore
from envclone.blobs.s3_location import S3Credentials, S3Location

KEY_ID, SECRET, REGION, BUCKET = "AKIABENCHKEY00000000", "bench-secret-key-0000000000000000000000", "us-east-1", "bench"
MB = 1_000_000


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            return process, endpoint
        except (EndpointConnectionError, ConnectionClosedError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("moto did not start") from None
            time.sleep(0.1)


def measure(repeat: int, work: Callable[[], object]) -> dict[str, float]:
    """Median wall and CPU seconds of ``work`` over ``repeat`` rounds."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def clients(endpoint: str, prefix: str) -> tuple[S3BlobStore, S3Store]:
    location = S3Location(bucket=BUCKET, prefix=prefix, endpoint=endpoint, region=REGION)
    blob_store = S3BlobStore(location, credentials=S3Credentials(KEY_ID, SECRET))
    rust = S3Store(BUCKET, prefix=prefix.rstrip("/"), endpoint=endpoint, region=REGION, access_key_id=KEY_ID,
                   secret_access_key=SECRET, virtual_hosted_style_request=False,
                   client_options={"allow_http": True})  # fmt: skip
    return blob_store, rust


def objects(endpoint: str, repeat: int, size: int, count: int) -> list[dict[str, Any]]:
    data = os.urandom(size)
    boto, rust = clients(endpoint, f"objects-{uuid.uuid4().hex[:8]}/")
    keys = [f"o/{size}-{i}" for i in range(count)]
    rows = []
    for name, put, get in (
        ("boto3", lambda k: boto.put(k, data), lambda k: boto.get(k)),
        ("obstore", lambda k: obstore.put(rust, k, data, use_multipart=False), lambda k: obstore.get(rust, k).bytes()),
        ("obstore multipart", lambda k: obstore.put(rust, k, data), None),
    ):
        rows.append({"client": name, "op": f"put {size // MB} MB", "n": count,
                     **measure(repeat, lambda put=put: [put(k) for k in keys])})  # fmt: skip
        if get is not None:
            for k in keys:  # each client reads what it wrote: equal bytes, equal sizes
                assert len(bytes(get(k))) == size
            rows.append({"client": name, "op": f"get {size // MB} MB", "n": count,
                         **measure(repeat, lambda get=get: [get(k) for k in keys])})  # fmt: skip
    return rows


def listing(endpoint: str, repeat: int, keys: int) -> list[dict[str, Any]]:
    prefix = f"list-{uuid.uuid4().hex[:8]}/"
    boto, rust = clients(endpoint, prefix)
    with ThreadPoolExecutor(8) as pool:  # filled once, not measured
        list(pool.map(lambda i: boto.put(f"k/{i:06d}", b"x"), range(keys)))

    def boto_list() -> None:
        assert sum(1 for _ in boto.list("k/")) == keys

    def rust_list() -> None:
        assert sum(len(batch) for batch in obstore.list(rust, "k/", chunk_size=1000)) == keys

    return [
        {"client": "boto3", "op": f"list {keys} keys", "n": 1, **measure(repeat, boto_list)},
        {"client": "obstore", "op": f"list {keys} keys", "n": 1, **measure(repeat, rust_list)},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    process, endpoint = start_moto()
    try:
        rows = [*objects(endpoint, args.repeat, 4 * MB, 8), *objects(endpoint, args.repeat, 32 * MB, 3),
                *listing(endpoint, args.repeat, args.keys)]  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"{'operation':<16} {'client':<18} {'wall ms/op':>11} {'client CPU ms/op':>17} {'MB/s (wall)':>12}")
    for row in rows:
        per = 1000 / row["n"]
        size = int(row["op"].split()[1]) * MB if row["op"].startswith(("put", "get")) else 0
        rate = f"{size * row['n'] / row['wall_s'] / MB:12.1f}" if size else f"{'':>12}"
        print(f"{row['op']:<16} {row['client']:<18} {row['wall_s'] * per:11.1f} {row['cpu_s'] * per:17.1f} {rate}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
