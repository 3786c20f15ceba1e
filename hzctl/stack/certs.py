"""The installation's TLS certificates for Mosquitto's TLS listener (``mqtt_tls_port``, 8883).

A CA of the installation's own signs the broker's server certificate; devices trust the CA
(``ca.crt``, data standard §2), so the server certificate can be made again (new host names, near
its end) without touching a device. Made with pyca's ``cryptography`` (a declared dependency), not
the ``openssl`` command, which neither the hazmon image nor every development machine has.

Files in ``HOME/tls`` (:func:`tls_dir`): ``ca.crt``, ``ca.key`` (0600, never leaves this directory),
``server.crt``, ``server.key`` (0600). :func:`ensure_certificates` is idempotent: the CA is made
once and kept for :data:`CA_DAYS`; the server certificate is made again when it is missing, ends
within :data:`RENEW_DAYS`, was not signed by the CA on disk, or lacks one of the names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hazmon.settings import Settings

CA_DAYS = 3650
SERVER_DAYS = 825          # the longest validity clients commonly accept for a server certificate
RENEW_DAYS = 30
KEY_BITS = 2048            # RSA: what the TLS stacks of older gateways (mbedTLS, wolfSSL builds) all accept


@dataclass(frozen=True)
class BrokerCertificates:
    """Paths of the certificates Mosquitto's TLS listener uses."""

    ca: Path
    certificate: Path
    key: Path


def tls_dir(settings: Settings) -> Path:
    return settings.home / "tls"


def server_names(settings: Settings) -> list[str]:
    """Names the server certificate holds: local ones, the broker's and API's hosts, ``mqtt_tls_names``."""
    public = urllib.parse.urlsplit(settings.alerting_public_url or "").hostname
    names = ["localhost", "127.0.0.1", settings.mqtt_host, public, *settings.mqtt_tls_names]
    return list(dict.fromkeys(name for name in names if name and name not in ("0.0.0.0", "::")))


def ensure_certificates(directory: Path, names: list[str]) -> BrokerCertificates:
    """Make the CA (once) and a server certificate for ``names`` (when needed) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o755)  # a broker started as root drops to user mosquitto, which must reach server.*
    paths = BrokerCertificates(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    ca_key_path = directory / "ca.key"
    if not (paths.ca.is_file() and ca_key_path.is_file()):
        new_ca_key = _new_key()
        _write_key(ca_key_path, new_ca_key)
        paths.ca.write_bytes(_ca_certificate(new_ca_key).public_bytes(serialization.Encoding.PEM))
    ca = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    if not _server_certificate_current(paths, ca, names):
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        if not isinstance(ca_key, rsa.RSAPrivateKey):
            raise ValueError(f"{ca_key_path} is not an RSA key: delete ca.* for a new CA (docs/operations.md)")
        key = _new_key()
        _write_key(paths.key, key)
        paths.certificate.write_bytes(_server_certificate(ca, ca_key, key, names).public_bytes(serialization.Encoding.PEM))
    return paths


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hazmon"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = _name("hazmon broker CA")
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def _alternative_names(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _server_certificate(ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, key: rsa.RSAPrivateKey,
                        names: list[str]) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_alternative_names(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def _server_certificate_current(paths: BrokerCertificates, ca: x509.Certificate, names: list[str]) -> bool:
    if not (paths.certificate.is_file() and paths.key.is_file()):
        return False
    certificate = x509.load_pem_x509_certificate(paths.certificate.read_bytes())
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    ends = certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)
    held = set(certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    return ends > dt.timedelta(days=RENEW_DAYS) and set(_alternative_names(names)) <= held
