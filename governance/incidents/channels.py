"""How a notice reaches a person: pluggable channels, chosen by ``CITY_INCIDENT_CHANNEL``.

Modelled on the OpenLineage client's transports: a channel is a class with a ``kind`` and a
``config_class`` whose ``from_settings`` reads its part of the settings; the setting names a kind
(``file``, ``smtp``) or the dotted path of a class of your own. Every channel sends the same
message, a standard e-mail (``email.message.EmailMessage``):

- ``file`` (the laptop default): each message as an ``.eml`` file in an outbox folder, and a log
  line; any mail client opens it;
- ``smtp`` (production): the city's mail server through ``smtplib``, STARTTLS or implicit TLS
  verified against ``CITY_S3_CA_FILE`` when set (the city's CA), else the system's CAs.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import ClassVar, Literal

from cityplatform.settings import Settings, SettingsError
from governance.incidents.config import IncidentSettings
from governance.incidents.model import Level
from governance.incidents.rules import Contact, Notice

log = logging.getLogger(__name__)

_WHY = {
    Level.OWNER: "You are the steward of this dataset.",
    Level.DEPUTY: "You are the deputy steward: nobody has acknowledged this incident since it opened.",
    Level.HEAD: "You are the department head: neither steward nor deputy has acknowledged this incident.",
}


class NotificationFailed(RuntimeError):
    """A notice could not be delivered; the one-line reason is recorded and it is tried again."""


def compose(notice: Notice, to: Contact, sender: str, now: datetime) -> EmailMessage:
    """The e-mail for ``notice``: what failed, why this person, and how to acknowledge it."""
    incident = notice.incident
    message = EmailMessage()
    message["Subject"] = f"Incident {incident.id}: {incident.check} failed on {incident.dataset}"
    message["From"] = sender
    message["To"] = formataddr((to.name, to.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-City-Incident"] = incident.id
    message["X-City-Escalation"] = str(notice.level)
    message.set_content(
        f"{_WHY[notice.level]}\n\n"
        f"Dataset: {incident.dataset}\n"
        f"Check:   {incident.check} (blocking: what reads this dataset is not built while it fails)\n"
        f"Failed:  {incident.failed_at.isoformat(timespec='seconds')}"
        f"{f' in run {incident.failed_run}' if incident.failed_run else ''}\n"
        f"Opened:  {incident.opened_at.isoformat(timespec='seconds')}\n"
        f"Reason:  {incident.reason or 'see the check in Dagster'}\n\n"
        f"Take it on:  city incidents ack {incident.id}\n"
        "It closes by itself when the check passes again.\n"
    )
    return message


class ChannelConfig(ABC):
    @classmethod
    @abstractmethod
    def from_settings(cls, incident: IncidentSettings, settings: Settings) -> ChannelConfig: ...


class Channel(ABC):
    kind: ClassVar[str]
    config_class: ClassVar[type[ChannelConfig]]

    @abstractmethod
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise NotificationFailed with a one-line reason."""


@dataclass(frozen=True)
class FileChannelConfig(ChannelConfig):
    outbox: Path

    @classmethod
    def from_settings(cls, incident: IncidentSettings, settings: Settings) -> FileChannelConfig:
        return cls(incident.outbox(settings))


class FileChannel(Channel):
    """Each message as ``<outbox>/<time>-<incident>-<level>.eml``: on a laptop nobody runs a mail server."""

    kind = "file"
    config_class = FileChannelConfig

    def __init__(self, config: FileChannelConfig) -> None:
        self.config = config

    def send(self, message: EmailMessage) -> None:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{message['X-City-Incident']}-{message['X-City-Escalation']}.eml"
        path = self.config.outbox / name
        try:
            self.config.outbox.mkdir(parents=True, exist_ok=True)
            path.write_bytes(message.as_bytes())
        except OSError as exc:
            raise NotificationFailed(f"cannot write {path}: {exc.strerror}") from exc
        log.info("incident notice to %s: %s (%s)", message["To"], message["Subject"], path)


@dataclass(frozen=True)
class SmtpChannelConfig(ChannelConfig):
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    sender: str
    username: str | None
    password: str | None
    timeout: float
    ca_file: Path | None

    @classmethod
    def from_settings(cls, incident: IncidentSettings, settings: Settings) -> SmtpChannelConfig:
        password = incident.smtp_password()
        return cls(
            host=incident.smtp_host,
            port=incident.smtp_port,
            security=incident.smtp_security,
            sender=incident.smtp_from,
            username=incident.smtp_username,
            password=password.get_secret_value() if password else None,
            timeout=incident.smtp_timeout,
            ca_file=settings.s3_ca_file,
        )


class SmtpChannel(Channel):
    """One SMTP session per message: notices are rare, and a held connection would time out between them."""

    kind = "smtp"
    config_class = SmtpChannelConfig

    def __init__(self, config: SmtpChannelConfig) -> None:
        self.config = config

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)

    def send(self, message: EmailMessage) -> None:
        c = self.config
        try:
            if c.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=self._tls()
                )
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            with client:
                if c.security == "starttls":
                    client.starttls(context=self._tls())
                if c.username and c.password:
                    client.login(c.username, c.password)
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise NotificationFailed(f"SMTP {c.host}:{c.port}: {reason}") from exc


CHANNELS: dict[str, type[Channel]] = {channel.kind: channel for channel in (FileChannel, SmtpChannel)}


def channel_class(name: str) -> type[Channel]:
    """The channel a kind or a dotted path ``package.module.Class`` names; SettingsError otherwise."""
    if name in CHANNELS:
        return CHANNELS[name]
    module_name, _, class_name = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name) if module_name else None
    except (ImportError, AttributeError):
        found = None
    if not (isinstance(found, type) and issubclass(found, Channel)):
        raise SettingsError(
            f"CITY_INCIDENT_CHANNEL={name!r} is neither {' nor '.join(CHANNELS)} nor the dotted path "
            "of a Channel class"
        )
    return found


def make_channel(incident: IncidentSettings, settings: Settings) -> Channel:
    cls = channel_class(incident.incident_channel)
    return cls(cls.config_class.from_settings(incident, settings))
