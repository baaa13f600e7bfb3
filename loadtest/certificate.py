"""The benchmark's own TLS certificate: self-signed for 127.0.0.1 and localhost, made with openssl
once into the results folder, and shared by every server of the tls suite (the same key size and
signature for all, so the handshakes cost the same)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SUBJECT_ALT_NAME = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` in ``folder``, made unless both are there. Raises OSError when openssl
    is missing or fails."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
        "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost", "-addext", SUBJECT_ALT_NAME,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise OSError("openssl is not installed; on Debian or Ubuntu: apt-get install -y openssl") from None
    if result.returncode != 0:
        raise OSError(f"openssl could not make a certificate: {result.stderr.strip()[-300:]}")
    return cert, key
