"""Object storage over TLS signed by the city's own CA, end to end, in production mode.

The test makes a CA and a certificate for 127.0.0.1, starts the embedded SeaweedFS with that
certificate (HTTPS only on its S3 port) and a lineage receiver standing in for Marquez behind the
same certificate. With ``CITY_S3_CA_FILE`` set, a simulated day is ingested, its marts built and
published, and lineage reaches the receiver over HTTPS; without it, the object store and the dbt
build each fail saying that the certificate is the problem. Production mode throughout: TLS, a
long secret, lineage over HTTPS to Marquez.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cityplatform.embedded_s3 import EmbeddedS3, ServerTLS, temporary_server
from cityplatform.layout import mart_export_key
from cityplatform.objectstore import CORE_BUCKETS, ObjectStore, ObjectStoreTLSError
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from governance.registry.departments import load_departments, mart_buckets
from orchestration.definitions import defs
from tests.conftest import TEST_ACCESS_KEY, TEST_SECRET_KEY, platform_env
from tests.lineage_spec import Receiver, lineage_receiver

pytestmark = [pytest.mark.production, pytest.mark.integration]

DAY = date(2026, 5, 5)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path) -> ServerTLS:
    """A CA (``ca.pem``) and a server certificate it signs for 127.0.0.1 (``server.pem``, ``server.key``)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("City test CA"))
        .issuer_name(_name("City test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = ServerTLS(folder / "server.pem", folder / "server.key", folder / "ca.pem")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tls


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> ServerTLS:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, certificates: ServerTLS) -> Iterator[EmbeddedS3]:
    with temporary_server(
        tmp_path_factory.mktemp("s3"), TEST_ACCESS_KEY, TEST_SECRET_KEY, tls=certificates
    ) as server:
        server.store().ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
        yield server


@pytest.fixture(scope="module")
def marquez(certificates: ServerTLS) -> Iterator[Receiver]:
    """Marquez's stand-in behind TLS with the test CA's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    with lineage_receiver(context) as state:
        yield state


@pytest.fixture(scope="module")
def production_env(
    tls_server: EmbeddedS3,
    certificates: ServerTLS,
    marquez: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Path]:
    """The platform in production mode on the TLS server, trusting the test CA; returns its home."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in platform_env(tls_server, home).items():
            patch.setenv(name, value)
        patch.setenv("CITY_MODE", "production")
        patch.setenv("CITY_S3_SECURE", "true")
        patch.setenv("CITY_S3_CA_FILE", str(certificates.ca_file))
        patch.setenv("CITY_FIRST_DAY", DAY.isoformat())  # the daily partitions begin on it
        patch.setenv("OPENLINEAGE_URL", marquez.url)
        patch.setenv("DBT_TARGET_PATH", str(tmp_path_factory.mktemp("dbt_target")))
        # the lineage client copies OPENLINEAGE_URL into these: registered here to be removed after
        for part in ("TYPE", "URL"):
            patch.setenv(f"OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__{part}", "")
            patch.delenv(f"OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__{part}")
        yield home


@pytest.fixture(scope="module")
def definitions(production_env: Path) -> dg.Definitions:
    return defs()


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster"))) as test_instance:
        yield test_instance


def run(
    definitions: dg.Definitions, instance: dg.DagsterInstance, job: str, partition: str | None = None
) -> dg.ExecuteInProcessResult:
    return definitions.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, raise_on_error=False
    )


@pytest.fixture(scope="module")
def landed(definitions: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """One small simulated day in landing, written over TLS, and the sensor registry in bronze."""
    settings = load_settings()
    write_iot_day(ObjectStore.from_settings(settings), build_city(seed=5, sensors=20), DAY, tz=settings.zone)
    assert run(definitions, instance, "iot_registry").success


def test_with_the_ca_a_day_is_ingested_built_and_published_and_lineage_reaches_marquez(
    definitions: dg.Definitions, instance: dg.DagsterInstance, landed: None, marquez: Receiver
) -> None:
    assert run(definitions, instance, "iot_ingest_day", DAY.isoformat()).success
    assert run(definitions, instance, "marts_build_day", DAY.isoformat()).success
    store = ObjectStore.from_settings(load_settings())
    traffic = next(d for d in load_departments() if d.id == "traffic")
    published = store.stat(traffic.bucket, mart_export_key("fct_segment_traffic_hourly", DAY))
    assert published is not None and published.size > 0
    # the lineage client trusted Marquez's certificate too
    assert "COMPLETE" in [r.event["eventType"] for r in marquez.received]


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        event.step_failure_data.error.to_string()
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.error is not None
    ]


def test_without_the_ca_the_object_store_says_it_is_a_certificate_failure(
    production_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITY_S3_CA_FILE")
    with pytest.raises(ObjectStoreTLSError) as info:
        ObjectStore.from_settings(load_settings()).ping()
    message = str(info.value)
    assert message.startswith("certificate failure: S3 at https://127.0.0.1:")
    assert "no CA of this machine trusts" in message and "set CITY_S3_CA_FILE" in message
    assert "\n" not in message


def test_another_ca_is_named_in_the_certificate_failure(
    production_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_certificates(tmp_path).ca_file
    monkeypatch.setenv("CITY_S3_CA_FILE", str(other))
    with pytest.raises(ObjectStoreTLSError, match=f"does not verify against CITY_S3_CA_FILE={other} "):
        ObjectStore.from_settings(load_settings()).ping()


def test_without_the_ca_the_dbt_build_says_it_is_a_certificate_failure(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    landed: None,
    tls_server: EmbeddedS3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CITY_S3_CA_FILE")
    # Lineage fails its TLS too, and its HTTP transport retries each event for seconds (minutes for
    # the events of a whole build); what this test reads is dbt's error.
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    result = run(definitions, instance, "marts_build_day", DAY.isoformat())
    assert not result.success
    # Before building, the dbt step reads the ownership ledger (blocking reaches every consumer), so
    # the platform's own words come first; where DuckDB meets the server, curl's. Both say
    # certificate and name the endpoint.
    said = (
        f"certificate failure: S3 at https://{tls_server.endpoint}",
        f"SSL peer certificate or SSH remote key was not OK error for HTTP HEAD to 'https://{tls_server.endpoint}/",
    )
    assert any(words in failure for failure in step_failures(result) for words in said)
