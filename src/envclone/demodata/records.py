"""Application audit, job console and data management records of the seed content. Each size adds
its own layer of records over the same year, in time order within the layer, so a smaller size's
records are a prefix of a larger size's stream (a count of what exists says what is missing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from envclone.demodata.people import People
from envclone.demodata.projects import Projects
from envclone.demodata.sections import Item, Section
from envclone.demodata.sizes import COUNTS, SIZES, Counts, Size, layers
from envclone.demodata.streams import Streams
from envclone.demodata.vocabulary import ATTRIBUTES, CONSOLE_JOBS, EPOCH, FACTS, REGIONS

COUNT: dict[Section, Callable[[Counts], int]] = {
    Section.AUDIT: lambda c: c.audit,
    Section.JOB_CONSOLE: lambda c: c.job_console,
    Section.DATA_MANAGEMENT: lambda c: c.data_management,
}
YEAR_MS = 365 * 86400 * 1000


class Records:
    def __init__(self, streams: Streams, size: Size, people: People, projects: Projects) -> None:
        self._streams = streams
        self._size = size
        self._people = people
        self._projects = projects

    def of(self, section: Section) -> Iterator[Item]:
        """Records of one kind, layer by layer, each layer in time order over one year with naive
        UTC timestamps (the union of the layers is as dense as a size that had one layer)."""
        for level, first, count in layers(self._size, COUNT[section]):
            yield from self._layer(section, level, first, count)

    def _layer(self, section: Section, level: int, first: int, count: int) -> Iterator[Item]:
        # Layer 0 keeps the stream name it always had; the pools are those of the layer's size.
        rng = self._streams.rng("records", section, *([level] if level else []))
        pools = COUNTS[SIZES[level]]
        logins = self._people.logins[: pools.users]
        projects = [p["name"] for p in self._projects.all_projects[: pools.projects]]
        gap, ts = YEAR_MS / max(count, 1), EPOCH
        for seq in range(first, first + count):
            ts += dt.timedelta(milliseconds=int(rng.expovariate(1 / gap)))
            actor, ok = rng.choice(logins), rng.random() > 0.05
            if section is Section.AUDIT:
                action = rng.choice(("Login", "Logout", "Create", "Modify", "Delete", "Export", "Import", "Run Rule"))
                subject = f"{rng.choice(projects)}/{rng.choice(ATTRIBUTES)} {rng.choice(FACTS)}"
                details: Item = {
                    "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    "client": rng.choice(("Web", "Smart View", "REST API", "EPM Automate")),
                }
                status = "Success" if ok else "Failure"
            elif section is Section.JOB_CONSOLE:
                action = rng.choice(CONSOLE_JOBS)
                subject = f"{action} {rng.choice(FACTS)} {rng.choice(REGIONS)}"
                details = {
                    "jobId": 1000 + seq,
                    "application": rng.choice(projects),
                    "durationSeconds": round(rng.lognormvariate(3, 1.2), 1),
                    "rows": rng.randint(0, 500_000),
                }
                status = rng.choice(("Completed", "Completed", "Completed with Errors")) if ok else "Failed"
            else:
                action = rng.choice(("Run Integration", "Import", "Validate", "Export", "Load Data"))
                subject = (
                    f"{rng.choice(REGIONS)}_{rng.choice(('GL', 'HR', 'AP', 'AR'))}_{rng.choice(('Actual', 'Budget'))}"
                )
                details = {
                    "processId": 5000 + seq,
                    "period": ts.strftime("%b-%y"),
                    "rowsImported": rng.randint(0, 100_000),
                    "rowsRejected": 0 if ok else rng.randint(1, 500),
                }
                status = "Success" if ok else rng.choice(("Warning", "Failed"))
            yield {"ts": ts, "actor": actor, "action": action, "subject": subject, "status": status, "details": details}
