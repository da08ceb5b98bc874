"""One settings object for a server, built once at start-up from (highest first) command-line
flags, ``ENVCLONE_*`` variables, a TOML file and defaults, then passed down. Invalid values are
refused here, before anything is opened."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from envclone.blobs.s3_location import S3Credentials, parse_s3_url
from envclone.domain.service import ServiceType
from envclone.errors import ConfigError

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_VERSION = re.compile(r"^\d{2}\.\d{2}(\.\d+)?$")
_LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENVCLONE_", extra="forbid", validate_default=True)

    data_dir: Path = Path("./envclone-data")
    database_url: str = ""
    blob_url: str = ""
    # An object store's access key, for those who keep it in envclone's config rather than where
    # the AWS tools look (AWS_ACCESS_KEY_ID..., ~/.aws/credentials, a role), which apply when unset.
    blob_access_key_id: str = ""
    blob_secret_access_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    environment_name: str = Field("envclone", min_length=1, max_length=100)
    service_type: ServiceType = ServiceType.PLANNING
    version: str = "24.10"
    maintenance_start_time: str = "02:00"
    maintenance_time_zone: str = "UTC"
    locale: str = "en"
    admin_user: str = Field("admin", min_length=1, max_length=255)
    admin_password: SecretStr | None = None
    # The key that seals secrets kept at rest (auth.sealing): every process of one deployment must
    # share it. Unset, a random key is made once in secret_key_file (default <data_dir>/sealing.key).
    secret_key: SecretStr | None = Field(None, min_length=32)
    secret_key_file: Path | None = None
    token_ttl_seconds: int = Field(3600, ge=60, le=86400 * 7)
    # Dialect sessions (a vendor's login/logout): from login or the last renewal, not sliding.
    session_ttl_seconds: int = Field(1800, ge=1, le=86400)
    backup_retention: int = Field(7, ge=1, le=3650)  # daily backups of each kind kept
    scheduler: bool = True  # run daily maintenance at its start time
    verify_backups: bool = True  # the scheduler verifies each new Environment Backup once
    max_json_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    # An uploaded project duplication package (restoration) is spooled to a temporary file up to this size.
    max_package_bytes: int = Field(8 * 1024**3, ge=1024)
    # How Strategy duplication statuses are written: "session" (lower case, upper case for sessions
    # of the SDK's application types 35 and 76, whose client accepts only upper case), or always one.
    strategy_status_case: Literal["session", "lower", "upper"] = "session"
    # How long a cross-environment duplication's target waits for the source to publish the
    # package in the storage service before it fails (the source exports a large project first).
    duplication_sync_timeout_seconds: float = Field(3600, gt=0, le=7 * 86400)
    # Brute-force throttling of password logins (auth/throttle.py), in memory per process.
    login_free_failures: int = Field(5, ge=0, le=10_000)  # per (user, address) before delays
    login_lock_failures: int = Field(20, ge=1, le=100_000)  # per (user, address): then locked
    login_lock_seconds: float = Field(300.0, ge=0, le=86400)
    login_delay_seconds: float = Field(1.0, ge=0, le=3600)  # the first delay; doubles per failure
    login_max_delay_seconds: float = Field(30.0, ge=0, le=3600)
    login_user_free_failures: int = Field(20, ge=0, le=100_000)  # per user from every address
    login_address_free_failures: int = Field(50, ge=0, le=100_000)  # per address for every user
    login_window_seconds: float = Field(900.0, ge=1, le=7 * 86400)  # counts fade after this calm
    # How the blob store keeps chunks: "packs" (the default) moves a store to pack files for good
    # (its older one-blob-per-chunk chunks stay readable and move into packs at the next daily
    # maintenance); "blobs" leaves a store without packs as it is.
    chunk_layout: Literal["blobs", "packs"] = "packs"
    # Operations this server process runs at once. 0: none; it records each operation and enqueues
    # it for `envclone worker` processes (scale-out, PostgreSQL only: docs/scale-out.md).
    workers: int = Field(4, ge=0, le=256)
    # Scale-out: operations one `envclone worker` process runs at once; how often a worker renews
    # its claim on what it runs; after how long without a renewal another worker takes an
    # operation over (resumed, or failed with the reason). Stale must be several heartbeats.
    worker_concurrency: int = Field(4, ge=1, le=256)
    worker_heartbeat_seconds: float = Field(10.0, ge=0.2, le=3600)
    worker_stale_seconds: float = Field(60.0, ge=1, le=86400)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("ENVCLONE_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise ValueError(f"ENVCLONE_CONFIG names {config_file}, which is not a readable file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("maintenance_start_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM in 24-hour time, e.g. 02:00")
        return value

    @field_validator("maintenance_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError("must look like YY.MM, e.g. 24.10")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if not _LOCALE.match(value):
            raise ValueError("must be a locale such as en, fr or ja_JP")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("blob_url")
    @classmethod
    def _blobs(cls, value: str) -> str:
        if value.startswith("s3://"):
            parse_s3_url(value)  # its ValueError says what is wrong, never repeating a secret
        elif value and not value.startswith("file://"):
            raise ValueError("must be a file:// URL (a local directory) or s3://BUCKET/PREFIX (an object store)")
        return value

    @model_validator(mode="after")
    def _stale_after_beats(self) -> Settings:
        # A worker alive but slowed (a pause, a busy database) must not be taken over: it has at
        # least three heartbeats' time to renew its claim.
        if self.worker_stale_seconds < 3 * self.worker_heartbeat_seconds:
            raise ValueError("worker_stale_seconds must be at least 3 times worker_heartbeat_seconds")
        return self

    @model_validator(mode="after")
    def _blob_key_whole(self) -> Settings:
        if bool(self.blob_access_key_id) != bool(self.blob_secret_access_key):
            raise ValueError("blob_access_key_id and blob_secret_access_key go together: give both or neither")
        return self

    def blob_credentials(self) -> S3Credentials | None:
        """The object store key from these settings, if any."""
        if not self.blob_access_key_id or self.blob_secret_access_key is None:
            return None
        return S3Credentials(self.blob_access_key_id, self.blob_secret_access_key.get_secret_value())

    @model_validator(mode="after")
    def _defaults_under_data_dir(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'envclone.db'}"
        if not self.blob_url:
            self.blob_url = f"file://{self.data_dir / 'blobs'}"
        if self.secret_key_file is None:
            self.secret_key_file = self.data_dir / "sealing.key"
        return self


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning any validation failure into one readable ConfigError."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML file
        raise ConfigError(f"invalid configuration: {exc}") from None
