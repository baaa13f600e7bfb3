"""The cipher suites the server offers: in TLS 1.2 only ECDHE key exchange with an AEAD cipher (Mozilla's
"intermediate" profile), TLS 1.3 as OpenSSL has it; held to that list both in the context and by real
handshakes of clients that offer one suite each."""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.integration.client import wait_until
from tests.tls.conftest import ServeTLS, TLSFiles

# Written out here, not imported: a change to the server's list must be a change to this test too.
TLS12_OFFERED = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
]
# What Python's default server context offers in TLS 1.2 besides those: CBC (flagged by testssl.sh as
# obsolete, LUCKY13), and the DHE suites, plus older ones a client may still ask for.
REFUSED = [
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES128-SHA",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-SHA256",
    "AES128-GCM-SHA256",
    "AES256-SHA",
]


def test_the_context_offers_only_ecdhe_with_aead_in_tls12_and_leaves_tls13_alone(
    server_context: ssl.SSLContext,
) -> None:
    offered = server_context.get_ciphers()
    tls12 = [suite for suite in offered if suite["protocol"] == "TLSv1.2"]
    assert [suite["name"] for suite in tls12] == TLS12_OFFERED
    assert all(suite["kea"] == "kx-ecdhe" and suite["aead"] for suite in tls12)
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).get_ciphers()
    tls13 = [suite["name"] for suite in offered if suite["protocol"] == "TLSv1.3"]
    assert tls13 == [suite["name"] for suite in default if suite["protocol"] == "TLSv1.3"] and tls13
    assert {suite["protocol"] for suite in offered} == {"TLSv1.2", "TLSv1.3"}


def handshake(port: int, tls_files: TLSFiles, suite: str) -> str:
    """A TLS 1.2 handshake by a client that offers ``suite`` alone; the suite agreed on. Raises
    ssl.SSLError when the server refuses."""
    client = ssl.create_default_context(cafile=str(tls_files.ca))
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers(suite + ":@SECLEVEL=0")  # the client's own floor must not refuse first
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        client.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None and cipher[1] == "TLSv1.2"
        return cipher[0]


@pytest.mark.parametrize("suite", [name for name in TLS12_OFFERED if "-RSA-" in name])
def test_a_tls12_client_offering_one_ecdhe_aead_suite_gets_it(
    serve_tls: ServeTLS, tls_files: TLSFiles, suite: str
) -> None:
    server = serve_tls()
    assert handshake(server.port, tls_files, suite) == suite  # the test certificate is RSA


def test_a_tls12_client_offering_only_cbc_rsa_or_dhe_suites_is_refused_and_counted(
    serve_tls: ServeTLS, tls_files: TLSFiles
) -> None:
    server = serve_tls()
    for suite in REFUSED:
        with pytest.raises(ssl.SSLError, match=r"HANDSHAKE_FAILURE|handshake failure"):
            handshake(server.port, tls_files, suite)
    # Each refusal is counted by OpenSSL's reason once the server's side of the handshake has ended.
    assert wait_until(lambda: server.statistics().tls_handshake_failures == {"NO_SHARED_CIPHER": len(REFUSED)})
