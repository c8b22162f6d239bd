"""HTTPS through the guard: the address is pinned, SNI and verification use the name, and the server
certificate's details are recorded (a CA and a certificate the test makes, trusted through ca_bundle)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.webserver import html, serve
from vigil.config import Config
from vigil.net.client import PoliteFetcher
from vigil.net.guard import StaticResolver


def make_certs(folder: Path, host: str) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_https_certificate_recorded(home: Path, tmp_path: Path) -> None:
    ca, cert, key = make_certs(tmp_path, "secure.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    config = Config.load(home, allowed_networks=("127.0.0.1/32",), ca_bundle=str(ca))
    resolver = StaticResolver({"secure.test": "127.0.0.1", "other.test": "127.0.0.1"})

    async def fetch(url: str) -> object:
        async with PoliteFetcher(config, resolver=resolver) as fetcher:
            return await fetcher.get(url)

    with serve(lambda h, p, hd: html("<p>over TLS</p>"), tls=context) as web:
        good = asyncio.run(fetch(f"https://secure.test:{web.port}/"))
        wrong_name = asyncio.run(fetch(f"https://other.test:{web.port}/"))
    assert good.ok and good.address == "127.0.0.1", good.error  # type: ignore[attr-defined]
    tls = good.tls  # type: ignore[attr-defined]
    assert tls["san"] == ["secure.test"] and "vigil test CA" in tls["issuer"]
    assert len(tls["sha256"]) == 64
    assert wrong_name.error and "certificate" in wrong_name.error.lower()  # type: ignore[attr-defined]
