"""Configuration objects, backup repositories and jobs of the seed content. A smaller size's items
are a subset of a larger size's: ids come from each item's own stream, and a job's repository from
those of the smallest size that has the job."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from envclone.demodata.people import People
from envclone.demodata.sections import Item
from envclone.demodata.sizes import Counts, introduced_at
from envclone.demodata.streams import Streams, hex32, uuid4
from envclone.demodata.vocabulary import (
    DBMS,
    DEPTS,
    JOB_TYPES,
    JOB_WEIGHTS,
    REPOSITORY_KINDS,
    SCHEDULES,
    SECURITY_ROLES,
    WORKLOADS,
)


def _config(kind: int, name: str, description: str, definition: Item, subtype: int = 0) -> Item:
    return {"type": kind, "subtype": subtype or kind * 256, "name": name, "description": description,
            "definition": definition}  # fmt: skip


class Configuration:
    def __init__(self, streams: Streams, counts: Counts, people: People) -> None:
        self._streams = streams
        self.counts = counts
        self._people = people

    def config_objects(self) -> Iterator[Item]:
        """Security roles (44), schedules (51), database connections, logins and instances (31, 30,
        29), then the user groups and users (34) mirrored from the users component."""
        rng = self._streams.rng("configuration")
        out = [
            _config(44, r, f"Security role {r}", {"privileges": rng.sample(range(1, 300), 12)}) for r in SECURITY_ROLES
        ]
        for s in SCHEDULES:
            kind = "event_based" if s.startswith("On ") else "time_based"
            out.append(_config(51, s, "", {"scheduleType": kind, "timeZone": "UTC", "recurrence": s.lower()}))
        for i in range(min(10, max(2, self.counts.config_objects // 250))):
            dbms = DBMS[i % len(DBMS)]
            base, port = f"{dbms} {rng.choice(DEPTS)} {i + 1}", rng.choice((1521, 5432, 443))
            host = {"host": f"db{i + 1:02d}.corp.example.com", "port": port, "database": f"DW{i + 1}"}
            out.append(_config(31, f"{base} Connection", dbms, {**host, "maxConnections": rng.choice((10, 25, 50))}))
            out.append(_config(30, f"{base} Login", "", {"login": f"svc_bi_{i + 1}", "passwordSet": True}))
            parts = {"dbms": dbms, "connection": f"{base} Connection", "login": f"{base} Login"}
            out.append(_config(29, base, f"{dbms} warehouse", parts))
        out += [
            _config(34, g, "user group", {"ldapDn": f"CN={g},OU=Groups,DC=corp"}, 8705) for g, _ in self._people.tree
        ]
        for u in self._people.all_users[: max(0, self.counts.config_objects - len(out))]:
            definition = {"enabled": u["enabled"], "ldapDn": f"CN={u['display_name']},OU=Users,DC=corp"}
            out.append(_config(34, u["login"], u["display_name"], definition, 8704))
        for entry in out[: self.counts.config_objects]:
            # An id of its own, not the next in one stream: the list's order differs between sizes.
            yield {"id": hex32(self._streams.rng("configuration", entry["subtype"], entry["name"])), **entry}

    @cached_property
    def all_repositories(self) -> list[Item]:
        rng = self._streams.rng("repositories")
        out = []
        for i in range(self.counts.repositories):
            kind, site = rng.choice(list(REPOSITORY_KINDS)), rng.choice(("HQ", "DR", "Branch", "Cloud"))
            uid, path = f"urn:veeam:Repository:{uuid4(rng)}", f"{REPOSITORY_KINDS[kind]}/{site.lower()}{i + 1}"
            description = f"{kind} repository at {site}"
            out.append({"uid": uid, "name": f"{site}-{kind}-{i + 1:02d}", "kind": kind, "path": path,
                        "description": description})  # fmt: skip
        return out

    def repositories(self) -> Iterator[Item]:
        return (dict(r) for r in self.all_repositories)

    def jobs(self) -> Iterator[Item]:
        rng, backups = self._streams.rng("jobs"), list[str]()
        for i in range(self.counts.jobs):
            pool = self.all_repositories[: introduced_at(i, lambda c: c.jobs).repositories]
            job_type = rng.choices(JOB_TYPES, JOB_WEIGHTS)[0] if backups else "Backup"
            repository = None if job_type == "Replica" else rng.choice(pool)
            uid, workload = f"urn:veeam:Job:{uuid4(rng)}", rng.choice(WORKLOADS)
            vms = [
                {
                    "type": "VirtualMachine",
                    "name": f"vm-{workload.split()[0].lower()}-{rng.randint(1, 99):02d}",
                    "hostName": f"vcenter{rng.randint(1, 4)}.corp.example.com",
                }
                for _ in range(rng.randint(1, 6))
            ]
            definition: Item = {
                "virtualMachines": {"includes": vms},
                "storage": {
                    "retentionPolicy": {"type": "RestorePoints", "quantity": rng.choice((7, 14, 30))},
                    "compressionLevel": rng.choice(("Optimal", "High", "None")),
                    "encryption": rng.random() < 0.4,
                },
                "schedule": {
                    "daily": {"isEnabled": True, "localTime": f"{rng.randint(18, 23)}:{rng.choice((0, 30)):02d}"},
                    "retry": {"isEnabled": True, "retryCount": 3, "awaitMinutes": 10},
                },
            }
            if job_type in ("BackupCopy", "ImmediateBackupCopy"):
                definition["sourceJobs"] = rng.sample(backups, min(len(backups), rng.randint(1, 3)))
            if job_type == "Backup":
                backups.append(uid)
            yield {
                "uid": uid,
                "name": f"{workload} {job_type} {i + 1:03d}",
                "job_type": job_type,
                "description": f"{job_type} of {workload}",
                "repository_uid": repository and repository["uid"],
                "folder_name": rng.choice(("Production", "Development", "Tier 1", "Tier 2", "DR")),
                "schedule_enabled": rng.random() < 0.8,
                "definition": definition,
            }
