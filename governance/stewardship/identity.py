"""Who runs a stewardship command: the requester a handover records. An argument naming oneself
would be only a claim, so the person comes from where the platform can check it.

- ``token`` (production, and accepted in dev to rehearse it): ``CITY_IDENTITY_TOKEN`` holds a JSON
  Web Token (RFC 7519, compact JWS) signed with HMAC-SHA256 (``alg`` ``HS256``), which the city's
  authenticating proxy issues to a person after single sign-on. Claims: ``sub`` the staff id,
  ``aud`` ``city-stewards``, ``exp`` (required) and ``iat``, in seconds since the epoch. The key
  shared with the proxy, at least 32 bytes, is read from the file ``CITY_IDENTITY_KEY_FILE`` names
  (a Docker or Kubernetes secret), never from the environment itself. HS256 because any proxy or
  identity provider's JWT library can issue it; PyJWT checks it here, and :func:`issue_token` is the
  issuing side, for a proxy's hook and for rehearsals.
- ``environment`` (dev only): ``CITY_STAFF_ID``, what the laptop's user says about themselves.
  Refused when ``CITY_MODE=production``.

The ledger records which of the two established the requester (``requested_via``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jwt

from governance.registry.ownership import STAFF_ID

Via = Literal["environment", "token"]
TOKEN = "CITY_IDENTITY_TOKEN"
KEY_FILE = "CITY_IDENTITY_KEY_FILE"
STAFF = "CITY_STAFF_ID"
AUDIENCE = "city-stewards"
MIN_KEY_BYTES = 32  # RFC 7518 §3.2: an HS256 key is at least as long as the hash
LEEWAY = timedelta(seconds=30)  # clock skew between the proxy and this machine


class IdentityError(ValueError):
    """Nobody, or nobody verifiable, runs the command; the message says what to set."""


@dataclass(frozen=True)
class Requester:
    staff_id: str
    via: Via

    @property
    def source(self) -> str:
        """Where the staff id came from, to name in a refusal."""
        return STAFF if self.via == "environment" else f"{TOKEN}'s subject"


def identify(environ: Mapping[str, str], mode: str, now: datetime | None = None) -> Requester:
    """The person running the command, from a signed token when one is set, else (dev only) from
    ``CITY_STAFF_ID``."""
    token = environ.get(TOKEN, "").strip()
    if token:
        key_file = environ.get(KEY_FILE, "").strip()
        if not key_file:
            raise IdentityError(
                f"{TOKEN} is set but {KEY_FILE} is not: name the file holding the proxy's key"
            )
        return Requester(verify_token(token, read_key(Path(key_file)), now or datetime.now(UTC)), "token")
    if mode == "production":
        raise IdentityError(
            f"who is asking? set {TOKEN} to the token the city's sign-in proxy issued you "
            f"({STAFF} is not accepted in production)"
        )
    staff_id = environ.get(STAFF, "").strip()
    if not staff_id:
        raise IdentityError(f"who is asking? set {STAFF} to your staff id (export {STAFF}=S-014)")
    if not re.match(STAFF_ID, staff_id):
        raise IdentityError(f"{STAFF}={staff_id!r} is not a staff id (S- and three digits)")
    return Requester(staff_id, "environment")


def read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise IdentityError(f"{KEY_FILE}={path}: cannot read it: {exc.strerror}") from exc
    if len(key) < MIN_KEY_BYTES:
        raise IdentityError(f"{KEY_FILE}={path}: the key is {len(key)} bytes; HS256 needs {MIN_KEY_BYTES}")
    return key


def issue_token(staff_id: str, key: bytes, lifetime: timedelta, now: datetime | None = None) -> str:
    """A token for ``staff_id`` valid for ``lifetime``: what the proxy hands a signed-in person."""
    issued = int((now or datetime.now(UTC)).timestamp())
    claims = {"sub": staff_id, "aud": AUDIENCE, "iat": issued, "exp": issued + int(lifetime.total_seconds())}
    return jwt.encode(claims, key, algorithm="HS256")


def verify_token(token: str, key: bytes, now: datetime) -> str:
    """The staff id a token was issued to, or IdentityError: malformed, not HS256, signature not
    made with ``key`` (altered or forged), for another audience, expired or not yet valid.

    PyJWT checks the form, the algorithm and the signature; the claims (audience, times, subject)
    are judged here, the times against ``now`` (PyJWT would read the clock itself)."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.DecodeError:
        raise IdentityError(f"{TOKEN} is not a signed token (header.claims.signature)") from None
    if algorithm != "HS256":
        raise IdentityError(f"{TOKEN} is signed with alg {algorithm!r}; only HS256 is accepted")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError:
        raise IdentityError(
            f"{TOKEN}: the signature does not verify (altered, or signed with another key)"
        ) from None
    except jwt.InvalidTokenError:
        raise IdentityError(f"{TOKEN} is not a signed token: its parts are not base64url JSON") from None
    return _subject(claims, now)


def _subject(claims: Any, now: datetime) -> str:
    if not isinstance(claims, dict):
        raise IdentityError(f"{TOKEN}: its claims are not a JSON object")
    audience = claims.get("aud")
    if audience != AUDIENCE and not (isinstance(audience, list) and AUDIENCE in audience):
        raise IdentityError(f"{TOKEN} was issued for {audience!r}, not {AUDIENCE!r}")
    expires, not_before = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
    if not isinstance(expires, int) or not isinstance(not_before, int):
        raise IdentityError(f"{TOKEN}: exp (required) and nbf/iat must be whole seconds since the epoch")
    if now - LEEWAY >= datetime.fromtimestamp(expires, UTC):
        at = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
        raise IdentityError(f"{TOKEN} expired at {at}: sign in again for a new one")
    if now + LEEWAY < datetime.fromtimestamp(not_before, UTC):
        raise IdentityError(f"{TOKEN} is not valid yet: check this machine's clock")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not re.match(STAFF_ID, subject):
        raise IdentityError(f"{TOKEN}: its subject {subject!r} is not a staff id")
    return subject
