"""Who runs a stewardship command: CITY_STAFF_ID in dev, a signed token (HS256 JWT) in production."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.stewardship.identity import IdentityError, Requester, identify, issue_token

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
KEY = b"k" * 32


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "identity.key"
    path.write_bytes(KEY + b"\n")
    return path


def with_token(key_file: Path, token: str) -> dict[str, str]:
    return {"CITY_IDENTITY_TOKEN": token, "CITY_IDENTITY_KEY_FILE": str(key_file)}


def refusal(environ: dict[str, str], mode: str = "production") -> str:
    with pytest.raises(IdentityError) as refused:
        identify(environ, mode, NOW)
    return str(refused.value)


def test_dev_takes_the_staff_id_from_the_environment() -> None:
    assert identify({"CITY_STAFF_ID": "S-014"}, "dev", NOW) == Requester("S-014", "environment")


def test_nobody_named_is_refused_saying_what_to_set() -> None:
    assert (
        refusal({}, "dev") == "who is asking? set CITY_STAFF_ID to your staff id (export CITY_STAFF_ID=S-014)"
    )
    assert "is not a staff id" in refusal({"CITY_STAFF_ID": "kim"}, "dev")


def test_production_refuses_a_staff_id_from_the_environment() -> None:
    assert refusal({"CITY_STAFF_ID": "S-014"}) == (
        "who is asking? set CITY_IDENTITY_TOKEN to the token the city's sign-in proxy issued you "
        "(CITY_STAFF_ID is not accepted in production)"
    )


@pytest.mark.parametrize("mode", ["production", "dev"])
def test_a_valid_token_names_its_subject(key_file: Path, mode: str) -> None:
    token = issue_token("S-043", KEY, timedelta(hours=8), NOW - timedelta(hours=1))
    environ = with_token(key_file, token) | {"CITY_STAFF_ID": "S-003"}  # the token wins over the claim
    assert identify(environ, mode, NOW) == Requester("S-043", "token")


def _encode(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def test_a_tampered_token_is_refused(key_file: Path) -> None:
    header, claims, signature = issue_token("S-025", KEY, timedelta(hours=8), NOW).split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged = ".".join([header, _encode(decoded | {"sub": "S-003"}), signature])
    assert refusal(with_token(key_file, forged)) == (
        "CITY_IDENTITY_TOKEN: the signature does not verify (altered, or signed with another key)"
    )


def test_a_token_signed_with_another_key_is_refused(key_file: Path) -> None:
    token = issue_token("S-003", b"x" * 32, timedelta(hours=8), NOW)
    assert "the signature does not verify" in refusal(with_token(key_file, token))


def test_an_expired_token_is_refused(key_file: Path) -> None:
    token = issue_token("S-003", KEY, timedelta(hours=8), NOW - timedelta(hours=9))
    assert refusal(with_token(key_file, token)) == (
        "CITY_IDENTITY_TOKEN expired at 2026-12-07T08:00:00+00:00: sign in again for a new one"
    )


def _signed(header: dict, claims: dict) -> str:
    """A token made by hand, as a proxy with ``KEY`` could make it."""
    signing_input = f"{_encode(header)}.{_encode(claims)}"
    signature = hmac.new(KEY, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_unsigned_tokens_and_other_audiences_are_refused(key_file: Path) -> None:
    claims = {"sub": "S-003", "aud": "city-stewards", "exp": int((NOW + timedelta(hours=1)).timestamp())}
    unsigned = f"{_encode({'alg': 'none'})}.{_encode(claims)}."
    assert refusal(with_token(key_file, unsigned)) == (
        "CITY_IDENTITY_TOKEN is signed with alg 'none'; only HS256 is accepted"
    )
    hs256 = {"alg": "HS256"}
    assert refusal(with_token(key_file, _signed(hs256, claims | {"aud": "marquez"}))) == (
        "CITY_IDENTITY_TOKEN was issued for 'marquez', not 'city-stewards'"
    )
    assert identify(with_token(key_file, _signed(hs256, claims)), "production", NOW).staff_id == "S-003"
    no_expiry = {k: v for k, v in claims.items() if k != "exp"}
    assert "exp (required)" in refusal(with_token(key_file, _signed(hs256, no_expiry)))
    assert "is not a signed token" in refusal(with_token(key_file, "S-003"))


def test_the_key_must_be_readable_and_long_enough(key_file: Path, tmp_path: Path) -> None:
    token = issue_token("S-003", KEY, timedelta(hours=8), NOW)
    assert refusal({"CITY_IDENTITY_TOKEN": token}) == (
        "CITY_IDENTITY_TOKEN is set but CITY_IDENTITY_KEY_FILE is not: name the file holding the proxy's key"
    )
    short = tmp_path / "short.key"
    short.write_bytes(b"secret")
    assert "the key is 6 bytes; HS256 needs 32" in refusal(with_token(short, token))
    assert "cannot read it" in refusal(with_token(tmp_path / "absent.key", token))
