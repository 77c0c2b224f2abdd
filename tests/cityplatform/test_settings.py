"""Settings: environment and secret files are read; laptop defaults are refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityplatform.settings import (
    DEV_SECRET_KEY,
    MIN_SECRET_KEY_LENGTH,
    InsecureProductionConfig,
    SettingsError,
    load_settings,
)

LONG_SECRET = "a-real-secret-of-sufficient-length"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (
        "CITY_MODE",
        "CITY_S3_ACCESS_KEY",
        "CITY_S3_SECRET_KEY",
        "CITY_S3_SECURE",
        "CITY_S3_CA_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_dev_mode_runs_on_laptop_defaults() -> None:
    settings = load_settings()
    assert settings.s3_secret_key.get_secret_value() == DEV_SECRET_KEY
    assert "change-me" not in repr(settings)  # secrets are masked in logs


def test_production_refuses_the_published_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_SECURE", "true")
    with pytest.raises(InsecureProductionConfig, match="laptop S3 credentials"):
        load_settings()


def test_production_requires_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_ACCESS_KEY", "traffic-prod")
    monkeypatch.setenv("CITY_S3_SECRET_KEY", LONG_SECRET)
    with pytest.raises(InsecureProductionConfig, match="CITY_S3_SECURE"):
        load_settings()


def test_production_refuses_a_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_SECURE", "true")
    monkeypatch.setenv("CITY_S3_ACCESS_KEY", "platform-prod")
    monkeypatch.setenv("CITY_S3_SECRET_KEY", "x" * (MIN_SECRET_KEY_LENGTH - 1))
    with pytest.raises(
        InsecureProductionConfig, match=rf"shorter than {MIN_SECRET_KEY_LENGTH} .*CITY_S3_SECRET_KEY"
    ):
        load_settings()
    monkeypatch.setenv("CITY_S3_SECRET_KEY", "x" * MIN_SECRET_KEY_LENGTH)
    assert load_settings().mode == "production"
    # the dev laptop keeps its short test secrets
    monkeypatch.setenv("CITY_MODE", "dev")
    monkeypatch.setenv("CITY_S3_SECRET_KEY", "short")
    assert load_settings().s3_secret_key.get_secret_value() == "short"


def test_production_refuses_an_access_key_minio_would_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_SECURE", "true")
    monkeypatch.setenv("CITY_S3_ACCESS_KEY", "ab")
    monkeypatch.setenv("CITY_S3_SECRET_KEY", LONG_SECRET)
    with pytest.raises(InsecureProductionConfig, match="CITY_S3_ACCESS_KEY"):
        load_settings()


def test_the_ca_file_must_exist_and_empty_means_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CITY_S3_CA_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match=r"^CITY_S3_CA_FILE: .*missing.pem is not a file"):
        load_settings()
    monkeypatch.setenv("CITY_S3_CA_FILE", "")
    assert load_settings().s3_ca_file is None
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("CITY_S3_CA_FILE", "ca.pem")  # relative to where the platform starts
    assert load_settings().s3_ca_file == tmp_path / "ca.pem"


def test_production_reads_the_secret_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "s3_secret_key"
    secret.write_text("from-a-mounted-secret\n")
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_SECURE", "true")
    monkeypatch.setenv("CITY_S3_ACCESS_KEY", "platform-prod")
    monkeypatch.setenv("CITY_S3_SECRET_KEY_FILE", str(secret))
    assert load_settings().s3_secret_key.get_secret_value() == "from-a-mounted-secret"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CITY_S3_ENDPOINT=127.0.0.1:9999\n")
    assert load_settings().s3_port == 9999


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_MODE", "staging")
    with pytest.raises(SettingsError, match=r"^CITY_MODE: "):
        load_settings()


def test_governance_locations_are_settings_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert load_settings().governance_registry is None  # governance resolves it to its shipped registry
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(tmp_path))
    monkeypatch.setenv("CITY_OWNERSHIP_LEDGER", "s3://governance/rehearsal/")
    settings = load_settings()
    assert settings.governance_registry == tmp_path
    assert settings.ownership_ledger == "s3://governance/rehearsal/"
    monkeypatch.setenv("CITY_OWNERSHIP_LEDGER", "/tmp/ledger")
    with pytest.raises(SettingsError, match=r"^CITY_OWNERSHIP_LEDGER: String should match pattern"):
        load_settings()
