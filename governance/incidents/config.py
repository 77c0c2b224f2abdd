"""Incident settings: ``CITY_INCIDENT_*`` (channel, escalation) and ``CITY_SMTP_*`` (the mail server).

Kept beside the incidents rather than in ``cityplatform.settings``: nothing else reads them. Read
the same way (environment, ``.env``), with one-line errors naming the variable. The SMTP password is
read from a file only (``CITY_SMTP_PASSWORD_FILE``, a Docker/Kubernetes secret), never from a
variable. ``CITY_MODE=production`` refuses notices kept in a local folder, SMTP without TLS and the
laptop's sender address.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityplatform.settings import InsecureProductionConfig, Settings, SettingsError
from governance.incidents.rules import Delays

DEV_SENDER = "city-platform@localhost"


class IncidentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", env_file=".env", extra="ignore")

    incident_channel: str = Field(
        default="file",
        description=(
            "How notices reach people: 'file' (an .eml file per notice in CITY_INCIDENT_OUTBOX), "
            "'smtp', or the dotted path of a Channel class of your own."
        ),
    )
    incident_outbox: Path | None = Field(
        default=None, description="Folder of the file channel; default <CITY_HOME>/incidents/outbox."
    )
    incident_escalate_deputy_after: timedelta = Field(
        default=timedelta(hours=4),
        description="Unacknowledged this long after opening (ISO 8601, PT4H, or HH:MM:SS): tell the deputy.",
    )
    incident_escalate_head_after: timedelta = Field(
        default=timedelta(hours=24),
        description="Unacknowledged this long after opening: tell the department head.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="STARTTLS on a plain port, implicit TLS (ssl, port 465), or none."
    )
    smtp_from: str = DEV_SENDER
    smtp_username: str | None = None
    smtp_password_file: Path | None = Field(default=None, description="File holding the SMTP password.")
    smtp_timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _ordered_delays(self) -> IncidentSettings:
        if self.incident_escalate_head_after < self.incident_escalate_deputy_after:
            raise ValueError(
                "CITY_INCIDENT_ESCALATE_HEAD_AFTER must not be shorter than "
                "CITY_INCIDENT_ESCALATE_DEPUTY_AFTER"
            )
        return self

    @property
    def delays(self) -> Delays:
        return Delays(self.incident_escalate_deputy_after, self.incident_escalate_head_after)

    def outbox(self, settings: Settings) -> Path:
        return self.incident_outbox or settings.home_dir / "incidents" / "outbox"

    def smtp_password(self) -> SecretStr | None:
        """The password from ``CITY_SMTP_PASSWORD_FILE``, if set; SettingsError when unreadable."""
        if self.smtp_password_file is None:
            return None
        try:
            return SecretStr(self.smtp_password_file.read_text().strip())
        except OSError as exc:
            raise SettingsError(
                f"CITY_SMTP_PASSWORD_FILE: cannot read {self.smtp_password_file}: {exc.strerror}"
            ) from exc


def load_incident_settings(settings: Settings) -> IncidentSettings:
    """Incident settings from the environment, refused in one line naming the variable when unusable;
    ``settings`` says the mode."""
    if "CITY_SMTP_PASSWORD" in os.environ:
        raise SettingsError(
            "CITY_SMTP_PASSWORD is not read: put the password in a file and set CITY_SMTP_PASSWORD_FILE."
        )
    try:
        incident = IncidentSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = "CITY_" + "_".join(str(part) for part in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}" if first["loc"] else message) from None
    if incident.smtp_username and incident.smtp_password_file is None:
        raise SettingsError("CITY_SMTP_USERNAME is set without CITY_SMTP_PASSWORD_FILE: set both or neither.")
    if settings.mode == "production":
        _refuse_laptop_delivery(incident)
    return incident


def _refuse_laptop_delivery(incident: IncidentSettings) -> None:
    if incident.incident_channel == "file":
        raise InsecureProductionConfig(
            "CITY_MODE=production refuses incident notices kept in a local folder: set "
            "CITY_INCIDENT_CHANNEL=smtp and CITY_SMTP_HOST."
        )
    if incident.incident_channel == "smtp":
        if incident.smtp_security == "none":
            raise InsecureProductionConfig(
                "CITY_MODE=production refuses SMTP without TLS: set CITY_SMTP_SECURITY=starttls or ssl."
            )
        if incident.smtp_from == DEV_SENDER:
            raise InsecureProductionConfig(
                f"CITY_MODE=production refuses the laptop sender {DEV_SENDER}: set CITY_SMTP_FROM."
            )
