"""Settings: sources in order of precedence (arguments, ENVCLONE_* variables, the TOML file named by
ENVCLONE_CONFIG, defaults), validation into one readable ConfigError, and ``envclone serve``
refusing an invalid configuration before it opens anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envclone.domain.service import ServiceType
from envclone.errors import ConfigError
from envclone.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ENVCLONE_"):
            monkeypatch.delenv(name)


def write_toml(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "envclone.toml"
    path.write_text(text)
    monkeypatch.setenv("ENVCLONE_CONFIG", str(path))
    return path


def refused(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    error = caught.value
    assert (error.code, error.exit_code) == ("invalid_config", 2)
    assert error.message.startswith("invalid configuration: ")
    assert "\n" not in error.message and "pydantic" not in error.message  # one readable line
    return error.message


# --- defaults ------------------------------------------------------------------------------------
def test_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'envclone.db'}"
    assert settings.blob_url == f"file://{settings.data_dir / 'blobs'}"
    assert (settings.host, settings.port, settings.service_type) == ("127.0.0.1", 8080, ServiceType.PLANNING)
    assert (settings.maintenance_start_time, settings.maintenance_time_zone) == ("02:00", "UTC")
    assert settings.admin_password is None
    assert not (tmp_path / "data").exists()  # validating opens nothing


def test_an_object_store_blob_url_is_taken_as_given(tmp_path: Path) -> None:
    url = "s3://envclone-prod/backups?endpoint=http://minio.internal:9000&region=eu-west-3"
    assert load_settings(data_dir=tmp_path, blob_url=url).blob_url == url
    assert not (tmp_path / "blobs").exists()  # validating opens nothing, and needs no credentials


def test_an_object_store_key_comes_whole_and_is_never_shown(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, blob_access_key_id="AKIAKEY", blob_secret_access_key="sup3r-s3cret")
    credentials = settings.blob_credentials()
    assert credentials is not None and credentials.secret_access_key == "sup3r-s3cret"
    assert "sup3r-s3cret" not in repr(settings) and "sup3r-s3cret" not in repr(credentials)
    assert "AKIAKEY" not in repr(credentials)
    assert load_settings(data_dir=tmp_path).blob_credentials() is None
    message = refused(data_dir=tmp_path, blob_access_key_id="AKIAKEY")
    assert "go together" in message and "AKIAKEY" not in message


def test_a_secret_in_the_blob_url_is_refused_and_not_repeated(tmp_path: Path) -> None:
    message = refused(data_dir=tmp_path, blob_url="s3://AKIAKEY:sup3r-s3cret@envclone-prod/x")
    assert message.startswith("invalid configuration: blob_url: ") and "credentials" in message
    assert "sup3r-s3cret" not in message


def test_relative_and_home_data_dirs_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(data_dir="rel").data_dir == tmp_path.resolve() / "rel"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(data_dir="~/envs").data_dir == tmp_path.resolve() / "envs"


def test_none_means_not_given(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, port=None, host=None).port == 8080


def test_postgresql_url_gets_the_psycopg_driver(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://envclone@db:5432/envclone")
    assert settings.database_url == "postgresql+psycopg://envclone@db:5432/envclone"
    explicit = "postgresql+psycopg://envclone@db/envclone"
    assert load_settings(data_dir=tmp_path, database_url=explicit).database_url == explicit


def test_admin_password_is_not_shown(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, admin_password="Very-secret-42")
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == "Very-secret-42"
    assert "Very-secret-42" not in repr(settings) and "Very-secret-42" not in str(settings)


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"port": 99999}, "port"),
        ({"port": 0}, "port"),
        ({"port": "eighty"}, "port"),
        ({"maintenance_start_time": "25:00"}, "maintenance_start_time"),
        ({"maintenance_start_time": "2:00"}, "maintenance_start_time"),
        ({"maintenance_start_time": "02:60"}, "maintenance_start_time"),
        ({"maintenance_time_zone": "Mars/Olympus_Mons"}, "maintenance_time_zone"),
        ({"maintenance_time_zone": "../../etc/passwd"}, "maintenance_time_zone"),
        ({"database_url": "mysql://root@db/envclone"}, "database_url"),
        ({"database_url": "envclone.db"}, "database_url"),
        ({"blob_url": "ftp://host/blobs"}, "blob_url"),
        ({"blob_url": "s3://Bad_Bucket/x"}, "blob_url"),
        ({"blob_url": "s3://bucket/x?endpoint=ftp://host"}, "blob_url"),
        ({"blob_url": "s3://bucket/x?colour=blue"}, "blob_url"),
        ({"service_type": "Spreadsheet Cloud"}, "service_type"),
        ({"version": "latest"}, "version"),
        ({"locale": "english!"}, "locale"),
        ({"environment_name": ""}, "environment_name"),
        ({"admin_user": ""}, "admin_user"),
        ({"token_ttl_seconds": 5}, "token_ttl_seconds"),
        ({"max_json_bytes": 10}, "max_json_bytes"),
        ({"chunk_layout": "shards"}, "chunk_layout"),
        ({"no_such_option": 1}, "no_such_option"),
    ],
)
def test_invalid_values_are_refused_with_the_field_named(
    tmp_path: Path, overrides: dict[str, object], field: str
) -> None:
    message = refused(data_dir=tmp_path, **overrides)
    assert message.startswith(f"invalid configuration: {field}: ")


def test_messages_say_what_is_expected(tmp_path: Path) -> None:
    assert "65535" in refused(data_dir=tmp_path, port=70000)
    assert "HH:MM" in refused(data_dir=tmp_path, maintenance_start_time="noon")
    assert "'Mars/Olympus_Mons'" in refused(data_dir=tmp_path, maintenance_time_zone="Mars/Olympus_Mons")
    assert "sqlite:///" in refused(data_dir=tmp_path, database_url="mysql://x")
    assert "'Planning'" in refused(data_dir=tmp_path, service_type="Nope")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = refused(data_dir=tmp_path, port=-1, maintenance_time_zone="Nowhere/Land", service_type="Nope")
    for field in ("port", "maintenance_time_zone", "service_type"):
        assert f"{field}: " in message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata"])
def test_valid_zones_and_service_types(tmp_path: Path, zone: str) -> None:
    settings = load_settings(
        data_dir=tmp_path, maintenance_time_zone=zone, service_type="Financial Consolidation and Close"
    )
    assert settings.maintenance_time_zone == zone
    assert settings.service_type is ServiceType.FINANCIAL_CONSOLIDATION


# --- sources -------------------------------------------------------------------------------------
def test_toml_file_named_by_envclone_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(
        tmp_path,
        'port = 9000\nenvironment_name = "Test env"\nservice_type = "FreeForm"\n'
        'maintenance_start_time = "23:30"\nmaintenance_time_zone = "Europe/Paris"\n',
        monkeypatch,
    )
    settings = load_settings(data_dir=tmp_path)
    assert settings.port == 9000
    assert settings.environment_name == "Test env"
    assert settings.service_type is ServiceType.FREEFORM
    assert (settings.maintenance_start_time, settings.maintenance_time_zone) == ("23:30", "Europe/Paris")


def test_environment_overrides_toml_and_arguments_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_toml(tmp_path, 'port = 9000\nhost = "0.0.0.0"\nversion = "23.01"\n', monkeypatch)
    monkeypatch.setenv("ENVCLONE_PORT", "9100")
    monkeypatch.setenv("ENVCLONE_VERSION", "24.04")
    settings = load_settings(data_dir=tmp_path)
    assert (settings.port, settings.host, settings.version) == (9100, "0.0.0.0", "24.04")
    assert load_settings(data_dir=tmp_path, port=9200).port == 9200


def test_environment_variables_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVCLONE_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("ENVCLONE_ADMIN_PASSWORD", "From-env-1")
    monkeypatch.setenv("ENVCLONE_SERVICE_TYPE", "Tax Reporting")
    settings = load_settings()
    assert settings.data_dir == (tmp_path / "from-env").resolve()
    assert settings.admin_password is not None and settings.admin_password.get_secret_value() == "From-env-1"
    assert settings.service_type is ServiceType.TAX_REPORTING


def test_invalid_environment_variable_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVCLONE_PORT", "not-a-port")
    assert refused(data_dir=tmp_path).startswith("invalid configuration: port: ")
    monkeypatch.setenv("ENVCLONE_PORT", "8081")
    monkeypatch.setenv("ENVCLONE_MAINTENANCE_TIME_ZONE", "Atlantis/Capital")
    assert "Atlantis/Capital" in refused(data_dir=tmp_path)


def test_other_envclone_variables_are_not_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Test and client variables share the prefix; the server must not trip over them.
    monkeypatch.setenv("ENVCLONE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
    monkeypatch.setenv("ENVCLONE_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("ENVCLONE_USER", "admin")
    assert load_settings(data_dir=tmp_path).port == 8080


def test_invalid_toml_values_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, 'port = 99999\nservice_type = "Nope"\n', monkeypatch)
    message = refused(data_dir=tmp_path)
    assert "port: " in message and "service_type: " in message


def test_unknown_toml_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, "prot = 9000\n", monkeypatch)  # a typo must not pass silently
    assert refused(data_dir=tmp_path).startswith("invalid configuration: prot: ")


def test_malformed_toml_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(tmp_path, "port = \n", monkeypatch)
    assert "line 1" in refused(data_dir=tmp_path)


def test_missing_config_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENVCLONE_CONFIG names a file the operator meant to use; a typo in its path must not start
    the server on defaults."""
    monkeypatch.setenv("ENVCLONE_CONFIG", str(tmp_path / "no-such.toml"))
    assert "no-such.toml" in refused(data_dir=tmp_path)


# --- envclone serve ------------------------------------------------------------------------------
def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENVCLONE_")}
    return subprocess.run(
        [sys.executable, "-m", "envclone.cli.main", "serve", "--data-dir", str(tmp_path / "data"), *args],
        env={**clean, "COLUMNS": "300", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_an_invalid_port(tmp_path: Path) -> None:
    result = serve(tmp_path, "--port", "99999")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: invalid configuration: port: Input should be less than or equal to 65535" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_refuses_an_invalid_environment_variable(tmp_path: Path) -> None:
    result = serve(tmp_path, "--port", "8999", env={"ENVCLONE_MAINTENANCE_TIME_ZONE": "Mars/Olympus_Mons"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "maintenance_time_zone" in result.stderr and "'Mars/Olympus_Mons'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_refuses_an_invalid_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "envclone.toml"
    config.write_text('service_type = "Spreadsheet Cloud"\n')
    result = serve(tmp_path, env={"ENVCLONE_CONFIG": str(config)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "service_type" in result.stderr and "Traceback" not in result.stderr


def test_serve_prints_bad_values_verbatim(tmp_path: Path) -> None:
    """The operator's own value is echoed as given, never interpreted as console markup."""
    result = serve(tmp_path, env={"ENVCLONE_MAINTENANCE_TIME_ZONE": "[/]Mars[bold]"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'[/]Mars[bold]'" in result.stderr
    assert "Traceback" not in result.stderr
