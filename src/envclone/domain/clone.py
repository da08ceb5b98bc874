"""Clone Environment as the rest of the code names it: the kinds of the source's operation and the
target's apply, their steps, the request with its documented options (defaults, the service types
they apply to, what they carry) and EPM's version rule. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from envclone.domain.apply import apply_phases
from envclone.domain.components import Component
from envclone.domain.progress import Phase, step_phase
from envclone.domain.service import ServiceType
from envclone.domain.settings_keys import APP_PROPERTY_KEYS, MAINTENANCE_KEYS
from envclone.errors import InvalidRequest

KIND = "cloneEnvironment"  # the source's operation
APPLY_KIND = "applyClone"  # the target's side of it

VALIDATE = "Validation before initiating clone"
LOGIN = "Login to target environment"
VERSION = "Validating target environment version"
SERVICE = "Validating target service environment"
RECREATE = "Performing recreate service on target environment"
MIGRATION = "Migration status"
# What a snapshot name means when none is given: the latest maintenance Artifact Snapshot.
ARTIFACT_SNAPSHOT = "Artifact Snapshot"

ALL = frozenset(ServiceType)
AUDITED = frozenset(
    {ServiceType.FREEFORM, ServiceType.PLANNING, ServiceType.FINANCIAL_CONSOLIDATION, ServiceType.TAX_REPORTING}
)


@dataclass(frozen=True)
class Option:
    name: str  # the EPM parameter
    default: bool
    applies_to: frozenset[ServiceType]
    component: Component | None  # replaced on the target when on
    step: str  # reported step


OPTIONS: tuple[Option, ...] = (
    Option("migrateUsers", False, ALL, Component.USERS, "Cloning users and predefined roles"),
    Option(
        "dataManagement",
        True,
        ALL - {ServiceType.DATA_MANAGEMENT, ServiceType.NARRATIVE_REPORTING},
        Component.DATA_MANAGEMENT,
        "Cloning Data Management records",
    ),
    Option("jobConsole", True, AUDITED, Component.JOB_CONSOLE, "Cloning job console records"),
    Option("applicationAudit", True, AUDITED, Component.APPLICATION_AUDIT, "Cloning application audit records"),
    Option("storedSnapshotsAndFiles", False, ALL, Component.FILES, "Cloning stored snapshots and files"),
    Option("maintenanceStartTime", True, ALL, None, "Setting daily maintenance start time"),
    Option(
        "appProperties", True, frozenset({ServiceType.ACCOUNT_RECONCILIATION}), None, "Cloning application properties"
    ),
)
OPTION_NAMES = frozenset(o.name for o in OPTIONS)
ALWAYS = (Component.ARTIFACTS, Component.CONFIGURATION, Component.JOBS, Component.SETTINGS)
STEPS = (VALIDATE, LOGIN, VERSION, SERVICE, RECREATE, *(o.step for o in OPTIONS), MIGRATION)
APPLY_STEPS = (RECREATE,)
# What takes time in the source's recreate step: composing the archive to send (records read
# live), sending what the target lacks, and the target's apply, whose own progress (APPLY_PHASES)
# the source polls. The checks and the options' steps take no time of their own.
COMPOSE, TRANSFER, APPLY = "compose", "transfer", "apply"
PHASES = (
    step_phase(VALIDATE, 3),
    Phase(COMPOSE, 12, RECREATE),
    Phase(TRANSFER, 10, RECREATE),
    Phase(APPLY, 75, RECREATE),
)
REPORT = "report"  # the target's digests of the result and its change report, after the apply
APPLY_PHASES = (*apply_phases(RECREATE), Phase(REPORT, 30))


class CloneRequest(BaseModel):
    """The clone operation's parameters (its dump); the target password travels apart, as a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_url: str
    target_user: str
    snapshot_name: str | None = None
    environment_backup: bool = False
    options: dict[str, bool] = Field(default_factory=dict)  # as given; defaults applied by `effective`
    # A replication job's run: the name the target must have (the source's and the job's
    # VmSuffix), so that a replica job never overwrites an environment that is not its replica.
    replica_name: str | None = None

    def effective(self, service_type: ServiceType) -> dict[str, bool | None]:
        """Each option's value, or None where it does not apply to the source's service type."""
        return {
            o.name: (self.options.get(o.name, o.default) if service_type in o.applies_to else None) for o in OPTIONS
        }

    def components(self, service_type: ServiceType) -> list[Component]:
        chosen = list(ALWAYS)
        for option in OPTIONS:
            if option.component and self.effective(service_type)[option.name]:
                chosen.append(option.component)
        return chosen

    def keep_settings(self, service_type: ServiceType) -> list[str]:
        """Settings keys the target keeps: those of options turned off. Where appProperties does not
        apply (every service type but Account Reconciliation) the properties travel with the
        snapshot like the rest of the application, as a recreated EPM target would get them."""
        values = self.effective(service_type)
        keep: set[str] = set()
        if values["maintenanceStartTime"] is False:
            keep |= MAINTENANCE_KEYS
        if values["appProperties"] is False:
            keep |= APP_PROPERTY_KEYS
        return sorted(keep)

    @property
    def names_snapshot(self) -> bool:
        """A snapshot other than the latest Artifact Snapshot is named (and must exist)."""
        return self.snapshot_name not in (None, "", ARTIFACT_SNAPSHOT) and not self.environment_backup


def months(version: str) -> int:
    year, month = version.split(".")[:2]
    return int(year) * 12 + int(month)


def version_problem(source: str, target: str, *, environment_backup: bool) -> str | None:
    """EPM's rules: an Environment Backup goes to the same version or up to two newer; an Artifact
    Snapshot to one older up to one newer."""
    gap = months(target) - months(source)
    low, high = (0, 2) if environment_backup else (-1, 1)
    if low <= gap <= high:
        return None
    if environment_backup:
        allowed = "an Environment Backup can be cloned only to the same version or up to two versions newer"
    else:
        allowed = "an Artifact Snapshot can be cloned only to a version at most one older or newer"
    return f"the target runs version {target} and the source {source}: {allowed}"


def report_key(op_id: str) -> str:
    """Where a clone's change report is kept, on the target (by its apply) and on the source."""
    return f"reports/{op_id}.json"


def check_target_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidRequest(f"targetURL {url!a} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number or out of range)
    except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 address
        raise InvalidRequest(f"targetURL {url!a} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"targetURL {url!a} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        # They would be kept in the operation's parameters; credentials travel separately.
        raise InvalidRequest("targetURL must not carry a user or password; send them as the target credentials")
    return url
