"""Deterministic seed content for one environment, in the native API's request shapes: the same size
and seed always give the same items. Pure (no I/O), and streamed: objects, records and file bytes
are made as they are consumed, so the large size never sits in memory."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from itertools import islice
from typing import Any, TypeVar

from envclone.domain.components import Component
from envclone.domain.roles import Role

T = TypeVar("T")

Item = dict[str, Any]
MiB = 1024 * 1024


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True)
class Counts:
    projects: int
    objects: int  # metadata objects over all projects, folders included
    users: int
    groups: int
    profile_folders: int  # per project
    subscriptions: int
    config_objects: int
    repositories: int
    jobs: int
    audit: int
    job_console: int
    data_management: int
    files: int
    file_bytes: int


COUNTS: dict[Size, Counts] = {
    Size.SMALL: Counts(2, 3_000, 50, 8, 10, 40, 60, 4, 20, 3_000, 2_000, 1_500, 12, 4 * MiB),
    Size.MEDIUM: Counts(4, 40_000, 1_000, 60, 100, 600, 600, 10, 100, 150_000, 50_000, 20_000, 80, 100 * MiB),
    Size.LARGE: Counts(
        8, 200_000, 5_000, 250, 400, 3_000, 2_500, 25, 500, 1_000_000, 250_000, 100_000, 400, 1024 * MiB
    ),
}


class Section(StrEnum):
    """The kinds of seed content, in the order they are created (references point backwards)."""

    USERS = "users"
    GROUPS = "groups"
    GROUP_MEMBERS = "group members"
    ROLES = "roles"
    ROLE_ASSIGNMENTS = "role assignments"
    PROJECTS = "projects"
    OBJECTS = "objects"
    PROFILE_FOLDERS = "profile folders"
    SUBSCRIPTIONS = "subscriptions"
    CONFIG_OBJECTS = "configuration objects"
    REPOSITORIES = "repositories"
    JOBS = "jobs"
    AUDIT = Component.APPLICATION_AUDIT.value
    JOB_CONSOLE = Component.JOB_CONSOLE.value
    DATA_MANAGEMENT = Component.DATA_MANAGEMENT.value
    FILES = "files"
    SETTINGS = "settings"


RECORD_SECTIONS = (Section.AUDIT, Section.JOB_CONSOLE, Section.DATA_MANAGEMENT)


@dataclass(frozen=True)
class Step:
    """Items of one section for one scope (the path parameters: project_id or group_name)."""

    section: Section
    items: Iterator[Item]
    scope: dict[str, str] = field(default_factory=dict)


# --- vocabulary --------------------------------------------------------------------------------
def _words(text: str, sep: str = "|") -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST = _words(
    "Anna Ben Carla David Elena Farid Grace Hiro Ines Jonas Kara Liam Mei Nora Omar Priya Quinn Rosa Sven Tara "
    "Uma Victor Wen Ximena Yusuf Zoe Aiko Bruno Chloe Diego Emma Felix Giulia Hugo Ivan Julia Kenji Lena Marco Nina",
    " ",
)
LAST = _words(
    "Adams Baker Chen Dubois Evans Fischer Garcia Hansen Ito Jensen Kim Lopez Muller Nakamura Olsen Patel Rossi "
    "Schmidt Tanaka Novak Wang Silva Berg Costa Meyer Khan Park Moreau Larsen Weber Yamamoto Santos Kowalski Ali",
    " ",
)
DEPTS = _words("Finance|Sales|Marketing|Operations|Human Resources|IT|Supply Chain|Executive")
REGIONS = _words("EMEA|APAC|Americas|North America|LATAM|DACH")
TEAMS = _words("Planners|Analysts|Approvers|Reviewers|Admins")
APP_ROLES = _words("Budget Planner|Forecast Approver|Report Author|Data Loader|Auditor|Workforce Manager")
SIGN_IN = {
    "epm.admin": (Role.SERVICE_ADMINISTRATOR, Role.IDENTITY_DOMAIN_ADMINISTRATOR),
    "planning.lead": (Role.POWER_USER,),
    "migration.admin": (Role.MIGRATIONS_ADMINISTER, Role.VIEWER),
}
PROJECTS = _words(
    "Sales Analysis|Financial Reporting|Supply Chain Planning|Workforce Planning|Marketing Insights|"
    "Customer Analytics|Executive Scorecard|Retail Operations"
)
ATTRIBUTES = _words(
    "Year|Quarter|Month|Day|Region|Country|City|Store|Customer|Product|Category|Brand|Supplier|Employee|"
    "Department|Cost Center|Account|Entity|Scenario|Currency|Channel|Warehouse|Order|Segment"
)
QUALIFIERS = ("", " Code", " Group", " Type", " Status", " Level 2", " Manager", " Class")
FACTS = _words(
    "Revenue|Cost|Units|Discount|Freight|Tax|Headcount|Hours|Budget|Forecast|Margin|Inventory|Returns|Orders"
)
AGGREGATES = _words("Sum|Avg|Max|Min|Count")
PERIODS = ("", " YTD", " QTD", " LY", " vs Budget", " %", " Growth")
# Strategy (type, subtype) pairs; subtypes follow the vendor's type * 256 numbering.
SCHEMA_TYPES = ((12, 3072), (13, 3328), (15, 3840), (14, 3584))
SCHEMA_WEIGHTS = (45, 20, 30, 5)
PUBLIC_TYPES = ((4, 1024), (1, 256), (3, 768), (2, 512), (10, 2560), (55, 14081), (47, 12032), (18, 4608))
PUBLIC_WEIGHTS = (25, 15, 25, 8, 7, 10, 3, 7)
SCHEMA_FOLDERS = {12: "Attributes", 13: "Facts", 15: "Tables", 14: "Hierarchies"}
PUBLIC_FOLDERS = {4: "Metrics", 1: "Filters", 2: "Templates", 10: "Prompts", 47: "Consolidations", 18: "Shortcuts"}
FOLDER_OF = {k: f"/Schema Objects/{v}" for k, v in SCHEMA_FOLDERS.items()} | {
    k: f"/Public Objects/{v}" for k, v in PUBLIC_FOLDERS.items()
}
RIGHTS = {"full_control": 255, "modify": 223, "view": 199, "browse": 1}
LOCALES = ("2052", "1036", "1031")  # zh-CN, French, German; 1033 (English) holds the name itself
_TRANSLATED = """\
Revenue|收入|Chiffre d'affaires|Umsatz
Cost|成本|Coût|Kosten
Margin|利润率|Marge|Marge
Region|地区|Région|Region
Year|年|Année|Jahr
Month|月|Mois|Monat
Quarter|季度|Trimestre|Quartal
Customer|客户|Client|Kunde
Product|产品|Produit|Produkt
Budget|预算|Budget|Budget
Forecast|预测|Prévision|Prognose
Dashboard|仪表板|Tableau de bord|Dashboard
Units|单位|Unités|Einheiten
Employee|员工|Employé|Mitarbeiter
Sales|销售|Ventes|Vertrieb
Finance|财务|Finance|Finanzen
Country|国家|Pays|Land
Orders|订单|Commandes|Aufträge
by|按|par|nach
Sum|合计|Somme|Summe
Avg|平均|Moyenne|Durchschnitt"""
TRANSLATIONS = {word: rest for word, *rest in map(_words, _TRANSLATED.splitlines())}
SCHEDULES = _words(
    "Daily 06:00|Daily 22:00|Weekly Monday 07:00|Monthly Close Day 3|Hourly Business Hours|Every 15 Minutes|"
    "Quarter End|On Warehouse Load"
)
SECURITY_ROLES = _words(
    "Normal Users|Power Users|Developers|Architects|Web Reporter|Mobile User|Analyst|System Monitors"
)
DBMS = _words("Oracle Autonomous Data Warehouse|Snowflake|PostgreSQL|SQL Server|Teradata|Databricks")
JOB_TYPES = ("Backup", "Replica", "BackupCopy", "ImmediateBackupCopy")
JOB_WEIGHTS = (60, 15, 15, 10)
WORKLOADS = _words(
    "SQL Prod|Exchange|File Server|ERP|Web Farm|Domain Controllers|EPM Servers|SharePoint|Dev Lab|Citrix"
)
REPOSITORY_KINDS = {
    "WinLocal": "D:\\Backups",
    "LinuxHardened": "/mnt/veeam",
    "Smb": "\\\\nas01\\veeam",
    "Nfs": "nfs01:/export/veeam",
    "AmazonS3": "s3://veeam-backups",
    "AzureBlob": "azure://veeam",
}
CONSOLE_JOBS = _words("Rules|Import Data|Export Data|Refresh Database|Clear Cube|Import Metadata|Export Metadata")
THEMES = _words("Redwood|Sky Blue|Dark Silver|Natural|Blue|Green")
EPOCH = dt.datetime(2024, 1, 1)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly."""
    scale = sum(weights)
    parts = [int(total * w / scale) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def _hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032X}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _translate(name: str, locale: int) -> str:
    return " ".join(TRANSLATIONS[w][locale] if w in TRANSLATIONS else w for w in name.split(" "))


def _object_name(rng: random.Random, kind: int) -> str:
    attribute = rng.choice(ATTRIBUTES) + rng.choice(QUALIFIERS)
    match kind:
        case 12:
            return attribute
        case 13:
            return rng.choice(FACTS)
        case 15:
            return f"{rng.choice(('LU', 'FACT', 'REL', 'AGG'))}_{attribute.upper().replace(' ', '_')}"
        case 14:
            return f"{attribute} Hierarchy"
        case 4:
            return f"{rng.choice(AGGREGATES)} {rng.choice(FACTS)}{rng.choice(PERIODS)}"
        case 1:
            return f"{attribute} = {rng.choice(REGIONS + DEPTS)}"
        case 2:
            return f"{attribute} by {rng.choice(ATTRIBUTES)} Grid"
        case 10:
            return f"Choose {attribute}"
        case 3:
            return f"{rng.choice(DEPTS)} {rng.choice(FACTS)} by {attribute}"
        case 55:
            return f"{rng.choice(DEPTS)} {rng.choice(('Dashboard', 'Scorecard', 'Briefing Book'))}"
        case 47:
            return f"{attribute} Groups"
        case _:
            return f"Shortcut to {rng.choice(FACTS)} by {attribute}"


def _definition(rng: random.Random, kind: int, name: str, recent: dict[int, list[tuple[str, str]]]) -> Item:
    def refs(of: int, most: int) -> list[str]:
        pool = recent.get(of, [])
        return [object_id for object_id, _ in rng.sample(pool, min(len(pool), rng.randint(1, most)))]

    if kind == 8:
        return {"hidden": rng.random() < 0.05, "sortOrder": "name"}
    if kind == 12:
        return {
            "forms": [{"name": f, "dataType": rng.choice(("varChar", "integer", "date"))} for f in ("ID", "DESC")],
            "lookupTable": refs(15, 1),
            "parents": refs(12, 2),
        }
    if kind == 13:
        return {"expression": f"[{name.split(' ')[0].upper()}_AMT]", "sourceTables": refs(15, 3)}
    if kind == 15:
        columns = [{"name": f"COL_{c}", "dataType": rng.choice(("NUMBER", "VARCHAR2", "DATE"))} for c in range(8)]
        return {"physicalTable": f"DW.{name.replace(' ', '_')}", "columns": columns, "rowCount": rng.randint(10, 10**8)}
    if kind == 4:
        category = rng.choice(("Currency", "Percent", "Number"))
        return {
            "expression": f"{name.split(' ')[0]}([{rng.choice(FACTS)}])",
            "facts": refs(13, 2),
            "dimensionality": refs(12, 2),
            "format": {"category": category, "decimals": rng.choice((0, 2))},
        }
    if kind == 1:
        return {
            "qualification": {
                "attribute": refs(12, 1),
                "operator": rng.choice(("In", "NotIn", "Equals")),
                "elements": rng.sample(REGIONS, 2),
            }
        }
    if kind in (3, 2, 55):
        return {
            "rows": refs(12, 3),
            "columns": refs(4, 4),
            "filter": refs(1, 1),
            "prompts": refs(10, 2),
            "datasets": refs(3, 3),
            "viewMode": rng.choice(("grid", "graph", "gridGraph")),
        }
    return {"target": refs(12, 1), "elements": rng.randint(2, 12)}


class SeedData:
    """All seed content of one size and seed. Each section draws from its own random stream, so a
    section's content does not depend on which other sections were generated, or in what order."""

    def __init__(self, size: Size | str, seed: int = 1) -> None:
        self.size = Size(size)
        self.seed = seed
        self.counts = COUNTS[self.size]

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(["envclone-seed", str(self.seed), *map(str, parts)]))

    # -- users, groups, roles --------------------------------------------------------------------
    @cached_property
    def passwords(self) -> dict[str, str]:
        """Sign-in users' passwords, derived from the seed: seed only test and demo environments."""
        rng = self._rng("passwords")
        return {login: f"Seed{self.seed}-{rng.getrandbits(64):016x}" for login in SIGN_IN}

    @cached_property
    def _users(self) -> list[Item]:
        def user(login: str, display_name: str, password: str | None, enabled: bool) -> Item:
            email = f"{login}@example.com"
            return {
                "login": login,
                "display_name": display_name,
                "email": email,
                "password": password,
                "enabled": enabled,
            }

        rng = self._rng("users")
        users = [user(login, login.replace(".", " ").title(), pw, True) for login, pw in self.passwords.items()]
        taken = set(SIGN_IN)
        while len(users) < self.counts.users:
            given, family = rng.choice(FIRST), rng.choice(LAST)
            login = f"{given}.{family}".lower()
            while login in taken:
                login = f"{given}.{family}{rng.randint(2, 999)}".lower()
            taken.add(login)
            users.append(user(login, f"{given} {family}", None, rng.random() > 0.03))
        return users

    @cached_property
    def logins(self) -> list[str]:
        return [u["login"] for u in self._users]

    def users(self) -> Iterator[Item]:
        return (dict(u) for u in self._users)

    @cached_property
    def _groups(self) -> list[tuple[str, str | None]]:
        """(name, parent) in creation order: departments, then regional groups, then teams."""
        roots = DEPTS[: min(len(DEPTS), max(2, self.counts.groups // 8))]
        out: list[tuple[str, str | None]] = [(r, None) for r in roots]
        level = list(roots)
        for words in (REGIONS, TEAMS):
            pairs = [(f"{parent} {w}", parent) for w in words for parent in level]
            out += pairs
            level = [name for name, _ in pairs]
        return out[: self.counts.groups]

    def groups(self) -> Iterator[Item]:
        for name, parent in self._groups:
            scope = f"part of {parent}" if parent else "department"
            yield {"name": name, "description": f"{name} ({scope})"}

    def group_members(self) -> Iterator[tuple[str, list[Item]]]:
        rng = self._rng("members")
        names = [name for name, _ in self._groups]
        members: dict[str, list[Item]] = {name: [] for name in names}
        for name, parent in self._groups:
            if parent is not None:
                members[parent].append({"member_kind": "group", "member_name": name})
        for login in self.logins:
            for group in rng.sample(names, min(2, len(names))):
                members[group].append({"member_kind": "user", "member_name": login})
        yield from ((name, items) for name, items in members.items() if items)

    def roles(self) -> Iterator[Item]:
        return ({"name": name, "description": f"Application role: {name}"} for name in APP_ROLES)

    def role_assignments(self) -> Iterator[Item]:
        rng = self._rng("assignments")
        for login, roles in SIGN_IN.items():
            yield from ({"principal_kind": "user", "principal_name": login, "role_name": r.value} for r in roles)
        choices = [Role.POWER_USER.value, Role.USER.value, Role.VIEWER.value, *APP_ROLES]
        for name, parent in self._groups:
            role = Role.VIEWER.value if parent is None else rng.choice(choices)
            yield {"principal_kind": "group", "principal_name": name, "role_name": role}
        for login in self.logins[len(SIGN_IN) :: 10]:
            yield {"principal_kind": "user", "principal_name": login, "role_name": rng.choice(choices)}

    # -- artifacts -------------------------------------------------------------------------------
    @cached_property
    def _projects(self) -> list[Item]:
        rng = self._rng("projects")
        return [
            {
                "id": _hex32(rng),
                "name": name,
                "description": f"{name} project for the {DEPTS[i % len(DEPTS)]} team",
                "default_locale": rng.choices((1033, 2052, 1036, 1031), (80, 8, 6, 6))[0],
                "owner": "planning.lead",
            }
            for i, name in enumerate(PROJECTS[: self.counts.projects])
        ]

    def projects(self) -> Iterator[Item]:
        return (dict(p) for p in self._projects)

    def _share(self, total: int) -> list[int]:
        return _split(total, [1 / (i + 1) ** 0.5 for i in range(self.counts.projects)])

    def _folders(self, rng: random.Random, count: int) -> list[str]:
        paths = ["/Public Objects", "/Public Objects/Reports", "/Public Objects/Documents", "/Profiles"]
        paths += ["/Schema Objects", *sorted(set(FOLDER_OF.values()))]
        homes = [f"/Public Objects/{kind}/{d}" for kind in ("Reports", "Documents") for d in DEPTS]
        paths += homes
        while len(paths) < count:
            child = f"{rng.choice(homes)}/{rng.choice(('FY', 'Q', 'Archive ', 'Team '))}{len(paths)}"
            paths.append(child)
            if child.count("/") < 6:
                homes.append(child)
        return paths

    def objects(self, project: int) -> Iterator[Item]:
        """Metadata objects of one project: its folders, then schema objects, then public objects
        whose definitions refer to earlier ones."""
        rng, count = self._rng("objects", project), self._share(self.counts.objects)[project]
        owners, groups = self.logins[:20], [name for name, _ in self._groups]
        folders = self._folders(rng, max(40, count // 50))[:count]
        homes = [f for f in folders if "/Reports/" in f or "/Documents/" in f]
        schema_end = len(folders) + count * 15 // 100
        recent: dict[int, list[tuple[str, str]]] = {}
        for index in range(count):
            if index < len(folders):
                where, _, name = folders[index].rpartition("/")
                kind, sub, where = 8, 2048, where or "/"
            else:
                types, weights = (
                    (SCHEMA_TYPES, SCHEMA_WEIGHTS) if index < schema_end else (PUBLIC_TYPES, PUBLIC_WEIGHTS)
                )
                kind, sub = rng.choices(types, weights)[0]
                name = f"{_object_name(rng, kind)} {index}"
                where = FOLDER_OF.get(kind) or rng.choice(homes)
            object_id, owner = _hex32(rng), rng.choice(owners)
            recent.setdefault(kind, []).append((object_id, name))
            del recent[kind][:-32]
            acl = [{"trustee": owner, "kind": "user", "rights": RIGHTS["full_control"], "inheritable": kind == 8}]
            acl += [
                {"trustee": g, "kind": "group", "rights": RIGHTS[rng.choice(("view", "modify", "browse"))]}
                for g in rng.sample(groups, min(len(groups), rng.randint(1, 3)))
            ]
            translations: Item = {}
            if rng.random() < 0.25:
                translations = {"1033": {"name": name}} | {
                    loc: {"name": _translate(name, i)} for i, loc in enumerate(LOCALES) if rng.random() < 0.7
                }
            yield {
                "id": object_id,
                "type": kind,
                "subtype": sub,
                "name": name,
                "folder_path": where,
                "is_schema": kind in (12, 13, 14, 15),
                "owner": owner,
                "definition": _definition(rng, kind, name, recent),
                "acl": acl,
                "translations": translations,
            }

    def profile_folders(self, project: int) -> Iterator[Item]:
        rng = self._rng("profiles", project)
        for user in rng.sample(self._users, min(len(self._users), self.counts.profile_folders)):
            yield {"id": _hex32(rng), "owner": user["login"], "name": user["display_name"]}

    def subscriptions(self, project: int) -> Iterator[Item]:
        rng = self._rng("subscriptions", project)
        targets: list[tuple[str | None, str]] = []
        for obj in self.objects(project):  # the first reports and documents; stops early
            if obj["type"] in (3, 55):
                targets.append((obj["id"], obj["name"]))
                if len(targets) == 64:
                    break
        for _ in range(self._share(self.counts.subscriptions)[project]):
            object_id, name = rng.choice(targets or [(None, "Briefing")])
            owner, schedule = rng.choice(self.logins), rng.choice(SCHEDULES)
            contact = rng.random() < 0.2
            recipient = f"{rng.choice(DEPTS).lower().replace(' ', '-')}-team@partner.example.com" if contact else owner
            delivery = rng.choice(("email", "historyList", "file", "cache"))
            yield {
                "id": _hex32(rng),
                "name": f"{name} - {schedule}",
                "kind": "contact" if contact else "user",
                "owner": owner,
                "recipient": recipient,
                "object_id": object_id,
                "schedule": schedule,
                "definition": {
                    "delivery": {"mode": delivery, "format": rng.choice(("PDF", "Excel", "CSV"))},
                    "compress": rng.random() < 0.3,
                    "sendNow": False,
                },
            }

    # -- configuration and jobs ------------------------------------------------------------------
    def config_objects(self) -> Iterator[Item]:
        """Security roles (44), schedules (51), database connections, logins and instances (31, 30,
        29), then the user groups and users (34) mirrored from the users component."""
        rng = self._rng("configuration")

        def item(kind: int, name: str, description: str, definition: Item, subtype: int = 0) -> Item:
            return {"type": kind, "subtype": subtype or kind * 256, "name": name, "description": description,
                    "definition": definition}  # fmt: skip

        out = [item(44, r, f"Security role {r}", {"privileges": rng.sample(range(1, 300), 12)}) for r in SECURITY_ROLES]
        for s in SCHEDULES:
            kind = "event_based" if s.startswith("On ") else "time_based"
            out.append(item(51, s, "", {"scheduleType": kind, "timeZone": "UTC", "recurrence": s.lower()}))
        for i in range(min(10, max(2, self.counts.config_objects // 250))):
            dbms = DBMS[i % len(DBMS)]
            base, port = f"{dbms} {rng.choice(DEPTS)} {i + 1}", rng.choice((1521, 5432, 443))
            host = {"host": f"db{i + 1:02d}.corp.example.com", "port": port, "database": f"DW{i + 1}"}
            out.append(item(31, f"{base} Connection", dbms, {**host, "maxConnections": rng.choice((10, 25, 50))}))
            out.append(item(30, f"{base} Login", "", {"login": f"svc_bi_{i + 1}", "passwordSet": True}))
            parts = {"dbms": dbms, "connection": f"{base} Connection", "login": f"{base} Login"}
            out.append(item(29, base, f"{dbms} warehouse", parts))
        out += [item(34, g, "user group", {"ldapDn": f"CN={g},OU=Groups,DC=corp"}, 8705) for g, _ in self._groups]
        for u in self._users[: max(0, self.counts.config_objects - len(out))]:
            definition = {"enabled": u["enabled"], "ldapDn": f"CN={u['display_name']},OU=Users,DC=corp"}
            out.append(item(34, u["login"], u["display_name"], definition, 8704))
        for entry in out[: self.counts.config_objects]:
            yield {"id": _hex32(rng), **entry}

    @cached_property
    def _repositories(self) -> list[Item]:
        rng = self._rng("repositories")
        out = []
        for i in range(self.counts.repositories):
            kind, site = rng.choice(list(REPOSITORY_KINDS)), rng.choice(("HQ", "DR", "Branch", "Cloud"))
            uid, path = f"urn:veeam:Repository:{_uuid(rng)}", f"{REPOSITORY_KINDS[kind]}/{site.lower()}{i + 1}"
            description = f"{kind} repository at {site}"
            out.append({"uid": uid, "name": f"{site}-{kind}-{i + 1:02d}", "kind": kind, "path": path,
                        "description": description})  # fmt: skip
        return out

    def repositories(self) -> Iterator[Item]:
        return (dict(r) for r in self._repositories)

    def jobs(self) -> Iterator[Item]:
        rng, backups = self._rng("jobs"), list[str]()
        for i in range(self.counts.jobs):
            job_type = rng.choices(JOB_TYPES, JOB_WEIGHTS)[0] if backups else "Backup"
            repository = None if job_type == "Replica" else rng.choice(self._repositories)
            uid, workload = f"urn:veeam:Job:{_uuid(rng)}", rng.choice(WORKLOADS)
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

    # -- records, files, settings ----------------------------------------------------------------
    def records(self, section: Section) -> Iterator[Item]:
        """Records of one kind in time order over one year, with naive UTC timestamps."""
        total = {
            Section.AUDIT: self.counts.audit,
            Section.JOB_CONSOLE: self.counts.job_console,
            Section.DATA_MANAGEMENT: self.counts.data_management,
        }[section]
        rng, logins, projects = self._rng("records", section), self.logins, [p["name"] for p in self._projects]
        gap, ts = 365 * 86400 * 1000 / max(total, 1), EPOCH
        for seq in range(total):
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

    def files(self) -> Iterator[SeedFile]:
        rng, count = self._rng("files"), self.counts.files
        floor = min(1024, self.counts.file_bytes // count)
        weights = [rng.lognormvariate(0, 1.2) for _ in range(count)]
        sizes = [floor + part for part in _split(self.counts.file_bytes - floor * count, weights)]
        for i, size in enumerate(sizes):
            area = "inbox" if i % 3 else "outbox"
            region, period = rng.choice(REGIONS), f"{rng.choice(('Jan', 'Apr', 'Jul', 'Oct'))}{rng.randint(22, 25)}"
            name = rng.choice(
                (
                    f"{region}_GL_Actuals_{period}_{i:04d}.csv",
                    f"Rates_{period}_{i:04d}.txt",
                    f"Metadata_{rng.choice(ATTRIBUTES)}_{i:04d}.zip",
                )
                if area == "inbox"
                else (
                    f"Artifact Snapshot {period} {i:04d}.zip",
                    f"DataLoad_{5000 + i}.log",
                    f"ExportData_{region}_{i:04d}.csv",
                )
            )
            yield SeedFile(area=area, name=name, size=size, content_seed=f"{self.seed}:file:{i}")

    def settings(self) -> Item:
        rng = self._rng("settings")
        return {"theme": rng.choice(THEMES), "business_process_name": rng.choice(("Planning", "FCCS", "EPBCS", "Tax"))}

    # -- the whole plan --------------------------------------------------------------------------
    def steps(self) -> Iterator[Step]:
        """Every dict-shaped section in dependency order (files and settings come separately)."""
        yield Step(Section.USERS, self.users())
        yield Step(Section.GROUPS, self.groups())
        for group, members in self.group_members():
            yield Step(Section.GROUP_MEMBERS, iter(members), {"group_name": group})
        yield Step(Section.ROLES, self.roles())
        yield Step(Section.ROLE_ASSIGNMENTS, self.role_assignments())
        yield Step(Section.PROJECTS, self.projects())
        for index, project in enumerate(self._projects):
            scope = {"project_id": project["id"]}
            yield Step(Section.OBJECTS, self.objects(index), scope)
            yield Step(Section.PROFILE_FOLDERS, self.profile_folders(index), scope)
            yield Step(Section.SUBSCRIPTIONS, self.subscriptions(index), scope)
        yield Step(Section.CONFIG_OBJECTS, self.config_objects())
        yield Step(Section.REPOSITORIES, self.repositories())
        yield Step(Section.JOBS, self.jobs())
        for section in RECORD_SECTIONS:
            yield Step(section, self.records(section))

    def totals(self) -> dict[Section, int]:
        """How many items each section will have (bytes for files), for progress displays."""
        c = self.counts
        return {
            Section.USERS: c.users,
            Section.GROUPS: len(self._groups),
            Section.GROUP_MEMBERS: sum(len(m) for _, m in self.group_members()),
            Section.ROLES: len(APP_ROLES),
            Section.ROLE_ASSIGNMENTS: sum(1 for _ in self.role_assignments()),
            Section.PROJECTS: c.projects,
            Section.OBJECTS: c.objects,
            Section.PROFILE_FOLDERS: c.projects * min(c.users, c.profile_folders),
            Section.SUBSCRIPTIONS: c.subscriptions,
            Section.CONFIG_OBJECTS: c.config_objects,
            Section.REPOSITORIES: c.repositories,
            Section.JOBS: c.jobs,
            Section.AUDIT: c.audit,
            Section.JOB_CONSOLE: c.job_console,
            Section.DATA_MANAGEMENT: c.data_management,
            Section.FILES: c.file_bytes,
            Section.SETTINGS: len(self.settings()),
        }


BLOCK = MiB
_TEXT = bytes(b"0123456789;,.-\n \nABCDEFGH"[i % 25] for i in range(256))


@dataclass(frozen=True)
class SeedFile:
    """One inbox or outbox file; its bytes are made on demand, one block at a time."""

    area: str
    name: str
    size: int
    content_seed: str

    @property
    def modified(self) -> dt.datetime:
        """A fixed modification time, so that seeded environments agree on it too."""
        offset = int.from_bytes(self.content_seed.encode()[-4:], "big") % (365 * 24 * 3600)
        return dt.datetime(2026, 1, 1) + dt.timedelta(seconds=offset)

    def chunks(self) -> Iterator[bytes]:
        """Deterministic content in blocks of at most 1 MiB: CSV-like lines (compressible) for text
        files, random bytes for archives, and a mix of both for logs."""
        rng = random.Random(f"envclone-seed-file:{self.content_seed}")
        suffix = self.name.rsplit(".", 1)[-1]
        text_share = {"csv": 1.0, "txt": 1.0, "log": 0.6}.get(suffix, 0.0)
        lines = [
            f"{rng.choice(REGIONS)};{rng.choice(ATTRIBUTES)};{rng.choice(FACTS)};{rng.randint(1, 12):02d};"
            f"{rng.uniform(-1e6, 1e6):.2f}\n".encode()
            for _ in range(min(2048, max(1, self.size // 64)))
        ]
        left = self.size
        while left > 0:
            n = min(BLOCK, left)
            if rng.random() < text_share:
                block = b"".join(rng.choices(lines, k=n // 40 + 1))[:n]
                block += rng.randbytes(n - len(block)).translate(_TEXT)
            else:
                block = rng.randbytes(n)
            left -= n
            yield block


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most ``size`` items, lazily (batches for bulk inserts and batch requests)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
