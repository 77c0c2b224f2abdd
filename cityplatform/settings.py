"""Platform settings, read from the environment (prefix ``CITY_``), a ``.env`` file, or secret files.

The dev defaults exist so that one command runs the platform on a laptop. They are published in
this repository, so they are refused when ``CITY_MODE=production``.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Laptop-only credentials for the embedded S3 server. Public, so never valid in production.
DEV_ACCESS_KEY = "city-dev-admin"
DEV_SECRET_KEY = "city-dev-secret-change-me"
# Production minimums. The secret key signs every request (SigV4, an HMAC), so one captured request
# lets an attacker test guesses offline at any speed: 20 random letters and digits (about 119 bits)
# put that out of reach, MinIO's own minimum of 8 does not. The access key is an identifier sent in
# the clear with every request, so only MinIO's minimum applies to it.
MIN_SECRET_KEY_LENGTH = 20
MIN_ACCESS_KEY_LENGTH = 3
# Daily partitions are timestamps from the epoch on: an earlier day cannot be a partition.
EARLIEST_DAY = date(1970, 1, 1)


class SettingsError(ValueError):
    """Settings that cannot be used, explained in one line naming the variable."""


class InsecureProductionConfig(SettingsError):
    """Raised when production mode would start with laptop defaults."""


class Settings(BaseSettings):
    """Where the platform keeps its state and how it reaches object storage."""

    model_config = SettingsConfigDict(
        env_prefix="CITY_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=None,
    )

    mode: Literal["dev", "production"] = "dev"
    home: Path = Field(default=Path(".city"), description="Local state: S3 data, Dagster, warehouse.")
    s3_endpoint: str = Field(default="127.0.0.1:8333", description="host:port of the S3 API.")
    s3_access_key: SecretStr = SecretStr(DEV_ACCESS_KEY)
    s3_secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    s3_secret_key_file: Path | None = Field(
        default=None, description="File holding the secret key (Docker/Kubernetes secrets)."
    )
    department_credentials_file: Path | None = Field(
        default=None,
        description="JSON secrets file of the departments' S3 keys; default <home>/secrets/departments.json.",
    )
    s3_secure: bool = False
    s3_ca_file: Path | None = Field(
        default=None,
        description=(
            "The city's CA bundle (PEM) that signs the object store's and Marquez's certificates: the "
            "S3 client, DuckDB/dbt and OpenLineage HTTP verify against it. Unset: the system's CAs."
        ),
    )
    s3_region: str = "us-east-1"
    timezone: str = Field(
        default="Asia/Seoul",
        description="IANA zone of the city's local time: landing keys, clip names, daily partitions.",
    )
    first_day: date | None = Field(
        default=None,
        description=(
            "First day of the daily partitions (YYYY-MM-DD). Unset: the first day landed on this "
            "machine (recorded under <home>), else yesterday."
        ),
    )
    governance_registry: Path | None = Field(
        default=None,
        description="Folder of the governance registry YAML; default: the registry shipped with governance.",
    )
    vision_launcher: Literal["subprocess", "k8s"] = Field(
        default="subprocess",
        description=(
            "Where vision runs analyse clips: 'subprocess' (a process beside the run, the laptop default) "
            "or 'k8s' (a pod of CITY_VISION_IMAGE on a GPU node, through dagster-k8s's PipesK8sClient)."
        ),
    )
    vision_image: str | None = Field(default=None, description="The GPU image vision pods run (k8s).")
    vision_namespace: str = Field(default="city-platform", description="Kubernetes namespace of vision pods.")
    vision_gpus: int = Field(
        default=1, ge=1, description="nvidia.com/gpu each vision pod requests and is limited to."
    )
    vision_node_selector: dict[str, str] = Field(
        default={"nvidia.com/gpu.present": "true"},
        description="Node labels a vision pod must land on (JSON object), e.g. the GPU Operator's label.",
    )
    vision_s3_secret: str = Field(
        default="city-s3-platform",
        description="Kubernetes Secret (keys accessKey, secretKey) vision pods read S3 credentials from.",
    )
    vision_clips_per_run: int = Field(
        default=64, ge=1, description="Most clips the CCTV sensor puts in one vision run (one model load)."
    )
    vision_max_resolution: str = Field(
        default="3840x2160",
        pattern=r"^[1-9][0-9]{0,5}x[1-9][0-9]{0,5}$",
        description=(
            "Largest clip the CCTV job decodes, WIDTHxHEIGHT, in either orientation. 4K UHD is the largest "
            "output of common city cameras (8 MP); a larger clip is quarantined as resolution-too-large "
            "from its stream's declared size, before a frame is decoded (one 8000x6000 frame is 144 MB)."
        ),
    )
    cctv_late_days: int = Field(
        default=2,
        ge=0,
        description=(
            "How many days before the newest landed clip the CCTV sensor still lists date prefixes for "
            "late clips; a clip landing later than that under an older date is not seen by the sensor."
        ),
    )
    ownership_ledger: str = Field(
        default="s3://governance/ownership-ledger/",
        pattern=r"^s3://[a-z0-9.-]{3,63}/.*$",
        description="s3://bucket/prefix/ of the ownership ledger (handovers after the registry baseline).",
    )

    vision_model: str | None = Field(
        default=None,
        description=(
            "Detection weights of the CCTV job: a path, an Ultralytics model name or s3://bucket/key.pt "
            "(with the model's settings file <stem>.yaml beside it, when it has one). Unset: the "
            "simulator model shipped with vision_jobs."
        ),
    )
    vision_cameras: str | None = Field(
        default=None,
        description=(
            "Camera registry YAML of the CCTV job: a path or s3://bucket/key.yaml, e.g. "
            "s3://governance/vision/cameras.yaml. Unset: the registry shipped with vision_jobs."
        ),
    )

    @field_validator("vision_model", "vision_cameras")
    @classmethod
    def _location(cls, location: str | None) -> str | None:
        """Empty means unset; an s3:// location must name a bucket and a key."""
        if not location:
            return None
        if location.startswith("s3://") and not re.fullmatch(r"s3://[a-z0-9.-]{3,63}/[^/].*[^/]", location):
            raise ValueError(f"{location!r} is not an s3://bucket/key of one object")
        return location

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, "America"
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Berlin)") from None
        return name

    @field_validator("s3_endpoint")
    @classmethod
    def _host_and_port(cls, endpoint: str) -> str:
        """host:port, as the S3 client takes it: a URL's scheme or path would become part of the host."""
        if "://" in endpoint:
            scheme, _, rest = endpoint.partition("://")
            tls = "; TLS is CITY_S3_SECURE=true" if scheme.lower() == "https" else ""
            raise ValueError(f"{endpoint!r} is a URL: write host:port, e.g. {rest.split('/')[0]!r}{tls}")
        host, _, port = endpoint.rpartition(":")
        if not host or any(c.isspace() or c in "/?#@" for c in endpoint):
            raise ValueError(f"{endpoint!r} is not host:port (e.g. 127.0.0.1:8333)")
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"{endpoint!r}: the port {port!r} is not a number from 1 to 65535")
        return endpoint

    @field_validator("home")
    @classmethod
    def _writable_home(cls, home: Path) -> Path:
        """Every command may write state under it: refuse a file, or a folder this user cannot write,
        or that cannot be created, before anything starts."""
        existing = home.expanduser().absolute()
        while not os.path.lexists(existing) and existing != existing.parent:
            existing = existing.parent
        if not os.path.isdir(existing):
            raise ValueError(f"{existing} is not a directory")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"{existing} is not writable by this user")
        return home

    @field_validator("first_day")
    @classmethod
    def _partition_day(cls, day: date | None) -> date | None:
        if day is not None and day < EARLIEST_DAY:
            raise ValueError(f"{day} is before {EARLIEST_DAY}, the first day a partition can have")
        return day

    @field_validator("s3_secret_key_file", "department_credentials_file")
    @classmethod
    def _readable_if_present(cls, path: Path | None) -> Path | None:
        """A secret file that exists must be a readable file; whether it may be missing is mode's call."""
        if path is not None and os.path.lexists(path):
            if not os.path.isfile(path):
                raise ValueError(f"{path} is not a file")
            if not os.access(path, os.R_OK):
                raise ValueError(f"{path} is not readable by this user")
        return path

    @field_validator("s3_ca_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``CITY_S3_CA_FILE=`` means no CA: dbt's environment (``dbt_env``) sets it empty when unset."""
        return value or None

    @field_validator("s3_ca_file")
    @classmethod
    def _readable_ca(cls, path: Path | None) -> Path | None:
        if path is not None and not os.path.isfile(path):
            raise ValueError(f"{path} is not a file (the city's CA bundle, PEM)")
        if path is not None and not os.access(path, os.R_OK):
            raise ValueError(f"{path} is not readable by this user (the city's CA bundle, PEM)")
        return path.resolve() if path is not None else None

    @model_validator(mode="after")
    def _read_secret_file_and_refuse_dev_defaults(self) -> Settings:
        if self.s3_secret_key_file is not None:
            self.s3_secret_key = SecretStr(_read_secret(self.s3_secret_key_file, "CITY_S3_SECRET_KEY_FILE"))
        if self.vision_launcher == "k8s" and not self.vision_image:
            raise SettingsError("CITY_VISION_IMAGE: required when CITY_VISION_LAUNCHER=k8s (the GPU image)")
        if self.mode == "production":
            credentials = self.department_credentials_file
            if credentials is not None and not os.path.lexists(credentials):
                raise SettingsError(
                    f"CITY_DEPARTMENT_CREDENTIALS_FILE: {credentials} does not exist "
                    "(production never generates department keys: provide the file)"
                )
            uses_dev = (
                self.s3_access_key.get_secret_value() == DEV_ACCESS_KEY
                or self.s3_secret_key.get_secret_value() == DEV_SECRET_KEY
            )
            if uses_dev:
                raise InsecureProductionConfig(
                    "CITY_MODE=production refuses the laptop S3 credentials: set "
                    "CITY_S3_ACCESS_KEY and CITY_S3_SECRET_KEY (or CITY_S3_SECRET_KEY_FILE)."
                )
            if len(self.s3_secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
                raise InsecureProductionConfig(
                    f"CITY_MODE=production refuses an S3 secret key shorter than {MIN_SECRET_KEY_LENGTH} "
                    "characters: set a longer CITY_S3_SECRET_KEY (or CITY_S3_SECRET_KEY_FILE)."
                )
            if len(self.s3_access_key.get_secret_value()) < MIN_ACCESS_KEY_LENGTH:
                raise InsecureProductionConfig(
                    f"CITY_MODE=production refuses an S3 access key shorter than {MIN_ACCESS_KEY_LENGTH} "
                    "characters (MinIO's minimum): set CITY_S3_ACCESS_KEY."
                )
            if not self.s3_secure:
                raise InsecureProductionConfig(
                    "CITY_MODE=production needs TLS to object storage: set CITY_S3_SECURE=true."
                )
        return self

    def today(self) -> date:
        """The city's local date: daily partitions, grants and training expiry all follow it."""
        return datetime.now(self.zone).date()

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone: pass it to whatever names or reads local-time keys."""
        return ZoneInfo(self.timezone)

    @cached_property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def s3_host(self) -> str:
        return self.s3_endpoint.rsplit(":", 1)[0]

    @property
    def s3_port(self) -> int:
        return int(self.s3_endpoint.rsplit(":", 1)[1])

    @property
    def s3_data_dir(self) -> Path:
        return self.home_dir / "s3"

    @property
    def dagster_home(self) -> Path:
        return self.home_dir / "dagster"

    @property
    def warehouse_path(self) -> Path:
        return self.home_dir / "warehouse.duckdb"

    @property
    def department_credentials_path(self) -> Path:
        return self.department_credentials_file or self.home_dir / "secrets" / "departments.json"

    @property
    def lineage_dir(self) -> Path:
        return self.home_dir / "lineage"

    @property
    def reports_dir(self) -> Path:
        """HTML reports written for people: the steward report, the lineage report."""
        return self.home_dir / "reports"


def _read_secret(path: Path, variable: str) -> str:
    """The secret in ``path``; SettingsError naming ``variable`` when missing, unreadable or empty."""
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        raise SettingsError(f"{variable}: {path} does not exist") from None
    except OSError as exc:
        raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{variable}: {path} is not UTF-8 text") from None
    if not secret:
        raise SettingsError(f"{variable}: {path} is empty")
    return secret


def write_secret_file(path: Path, text: str) -> bool:
    """Write ``text`` readable by the owner only (0600 before any byte lands); return whether it changed."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text)
    return True


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides; one-line errors naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as exc:  # the .env file; the environment itself is decoded by Python
        raise SettingsError(
            f".env: not UTF-8 text (byte {exc.object[exc.start]:#04x} at {exc.start})"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, SettingsError):
            raise cause from None
        variable = "CITY_" + "_".join(str(part) for part in first["loc"]).upper()
        message = str(cause) if first["type"] == "value_error" and cause else first["msg"]
        raise SettingsError(f"{variable}: {message}") from None
