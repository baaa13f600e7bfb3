"""nginx as a benchmark peer: a generated configuration, run in the foreground, stopped by its pid.

The configuration is the fair comparison for a static file server: ``worker_processes`` as asked (1 by
default, like our one loop), ``sendfile on``, ``tcp_nopush``/``tcp_nodelay`` as nginx ships them,
access log off (ours runs ``--quiet``), keep-alive without a request cap, and ``gzip on`` for text at
nginx's default level 1 so the compressible row compares compression with compression. With a
certificate and key it listens with ``ssl`` instead (TLS 1.2 and 1.3, as ours), for the tls suite.
With ``proxy_to`` it is a reverse proxy instead, for the proxy suite: ``proxy_pass`` to that port with
keep-alive connections to the upstream (``keepalive`` as many as our pool keeps idle, HTTP/1.1 without
``Connection: close``), the Host and X-Forwarded fields our proxy sends too, nginx's buffering as it
ships.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from reactor.upstream import MAX_IDLE

CONFIG = """\
daemon off;
master_process on;
{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{
        text/html html;
        text/css css;
        text/plain txt;
        application/javascript js;
        application/json json;
        image/svg+xml svg;
    }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    gzip on;
    gzip_types text/css text/plain application/javascript application/json image/svg+xml;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{upstream}    server {{
        listen 127.0.0.1:{port}{ssl};
{tls}{serve}    }}
}}
"""
STATIC = """\
        root {docroot};
        autoindex on;
"""
UPSTREAM = """\
    upstream backend {{
        server 127.0.0.1:{backend};
        keepalive {keepalive};
    }}
"""
PROXY = """\
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }
"""


def installed() -> bool:
    return shutil.which("nginx") is not None


TLS = """\
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
"""


def config(
    docroot: Path,
    port: int,
    prefix: Path,
    workers: int = 1,
    tls: tuple[Path, Path] | None = None,
    proxy_to: int | None = None,
) -> str:
    """The nginx.conf text serving ``docroot`` on 127.0.0.1:``port``; nginx writes only under ``prefix``.
    ``tls``: (certificate, key) files to serve HTTPS with. ``proxy_to``: pass every request to
    127.0.0.1 at that port instead."""
    # Started by root, nginx would run its workers as nobody, who may not read the docroot our server
    # reads: keep the user we are (a directive only root may give).
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    ssl = " ssl" if tls is not None else ""
    tls_lines = TLS.format(cert=tls[0], key=tls[1]) if tls is not None else ""
    upstream = "" if proxy_to is None else UPSTREAM.format(backend=proxy_to, keepalive=MAX_IDLE)
    serve = STATIC.format(docroot=docroot) if proxy_to is None else PROXY
    return CONFIG.format(
        port=port, prefix=prefix, workers=workers, user=user, ssl=ssl, tls=tls_lines, upstream=upstream, serve=serve
    )


def command(
    docroot: Path, port: int, workers: int = 1, tls: tuple[Path, Path] | None = None, proxy_to: int | None = None
) -> list[str]:
    """Write a configuration beside ``docroot`` (in ``nginx-PORT/``) and return the argv that runs it."""
    prefix = docroot.parent / f"nginx-{port}"
    prefix.mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(config(docroot, port, prefix, workers, tls, proxy_to))
    # -e: where errors go before the configuration is read (the default path may not be writable).
    return ["nginx", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(path)]
