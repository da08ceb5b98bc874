"""A project of N metadata objects (default 100,000, in the vendor's shapes: folders, schema and
public objects with definitions, ACLs and translations) duplicated across environments: two envclone
servers on loopback sharing a Storage Service folder, driven through the Strategy dialect as a
script would (POST on the source, PUT on the target, poll both). Then 1 % of the objects change on
the source and the project is duplicated again. Reports each run's time, the bytes it added to the
storage folder (what moved through the Storage Service) and each server's peak RSS.

Usage: .venv/bin/python bench/bench_duplicate.py [--objects 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clone import PASSWORD, Server

API = "/MicroStrategyLibrary/api"
BATCH = 5000


def login(server: Server) -> httpx.Client:
    body = {"username": "admin", "password": PASSWORD, "loginMode": 1}
    response = httpx.post(server.url + API + "/auth/login", json=body, timeout=60)
    response.raise_for_status()
    headers = {"X-MSTR-AuthToken": response.headers["X-MSTR-AuthToken"]}
    return httpx.Client(base_url=server.url + API, headers=headers, timeout=120)


def seed_project(server: Server, objects: int) -> tuple[str, list[str]]:
    """A project with ``objects`` metadata objects from the demo content's object stream."""
    from envclone.demodata.objects import object_stream

    rng = random.Random(42)
    owners = [f"user{i:03d}" for i in range(20)]
    with httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=300) as http:
        project = http.post("/v1/projects", json={"name": "Bench Project", "description": "bench"}).json()
        stream, ids = object_stream(rng, owners, lambda _i: ("Analysts", "Everyone")), []
        for start in range(0, objects, BATCH):
            items = [next(stream) for _ in range(min(BATCH, objects - start))]
            ids += [item["id"] for item in items]
            response = http.post(f"/v1/projects/{project['id']}/objects/batch", json={"items": items})
            response.raise_for_status()
    return str(project["id"]), ids


def change(server: Server, project: str, ids: list[str], fraction: float) -> int:
    """Change the definitions of ``fraction`` of the objects, scattered over the project."""
    chosen = random.Random(7).sample(ids, max(1, int(len(ids) * fraction)))
    with httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=60) as http:
        for object_id in chosen:
            body = {"definition": {"changed": True, "at": time.time()}}
            http.patch(f"/v1/projects/{project}/objects/{object_id}", json=body).raise_for_status()
    return len(chosen)


def wait(client: httpx.Client, dup_id: str, stable: set[str]) -> dict[str, Any]:
    while True:
        record: dict[str, Any] = client.get(f"/projectDuplications/{dup_id}").json()
        if record["status"].lower() in stable:
            return record
        time.sleep(0.2)


def duplicate(src: httpx.Client, dst: httpx.Client, source: Server, target: Server, project: str, name: str) -> float:
    body = {
        "source": {"environment": {"id": source.url, "name": "Source"}, "project": {"id": project, "name": "Bench"}},
        "target": {"environment": {"id": target.url, "name": "Target"}, "project": {"name": name}},
    }
    start = time.perf_counter()
    created = src.post("/projectDuplications", json=body, headers={"Prefer": "respond-async"})
    created.raise_for_status()
    dup_id = created.json()["id"]
    dst.put(f"/projectDuplications/{dup_id}", json=body).raise_for_status()
    exported = wait(src, dup_id, {"exported", "export_failed", "cancelled"})
    completed = wait(dst, dup_id, {"completed", "import_failed", "cancelled"})
    seconds = time.perf_counter() - start
    if exported["status"].lower() != "exported" or completed["status"].lower() != "completed":
        raise SystemExit(f"duplication ended {exported['status']} / {completed['status']}: {completed['message']}")
    return seconds


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envclone-dup-", dir=args.workdir))
    storage = work / "storage"
    storage.mkdir()
    source, target = Server(work / "source").start(), Server(work / "target").start()
    rows: list[tuple[str, float, int]] = []
    try:
        project, ids = seed_project(source, args.objects)
        src, dst = login(source), login(target)
        for client in (src, dst):
            patch = {"sharedFileStore": {"type": "file_system", "location": str(storage), "alias": "bench"}}
            client.patch("/mstrServices/library/storage", json=patch).raise_for_status()
        before = du(storage)
        rows.append(("first duplication", duplicate(src, dst, source, target, project, "Copy 1"), du(storage) - before))
        changed = change(source, project, ids, 0.01)
        before = du(storage)
        seconds = duplicate(src, dst, source, target, project, "Copy 2")
        rows.append((f"after {changed} objects changed (1 %)", seconds, du(storage) - before))
        rss = (source.peak_rss_mb(), target.peak_rss_mb())
    finally:
        source.stop()
        target.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.objects} metadata objects, two servers on loopback sharing a Storage Service folder\n")
    print("| run | time | moved through the storage service |\n|---|---|---|")
    for name, seconds, moved in rows:
        print(f"| {name} | {seconds:.2f} s | {moved / 1e6:.1f} MB |")
    print(f"\npeak RSS: source {rss[0]:.0f} MB, target {rss[1]:.0f} MB")


if __name__ == "__main__":
    main()
