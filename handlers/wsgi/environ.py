"""The CGI part of a WSGI environ (PEP 3333), built from a parsed request. Pure: no I/O."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from reactor.http.events import Request

SERVER_SOFTWARE = "reactor"


def cgi_environ(request: Request, server_address: tuple[str, int], client_address: tuple[str, int]) -> dict[str, Any]:
    """The request's CGI variables: method, paths, query, server and client, content headers and
    one ``HTTP_*`` entry per other header field.

    ``PATH_INFO`` is the percent-decoded path as a "bytes-as-latin-1" string (PEP 3333, "Unicode
    Issues"): the application gets the exact bytes the client sent and decodes them itself (Werkzeug,
    Django: as UTF-8). Decoding %2F makes it a "/", as in every WSGI server; ``REQUEST_URI`` keeps
    the target as it arrived for the applications that must tell them apart.
    """
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
        "QUERY_STRING": request.query,
        "REQUEST_URI": request.target,
        "SERVER_PROTOCOL": request.version,
        "SERVER_NAME": server_address[0],
        "SERVER_PORT": str(server_address[1]),
        "REMOTE_ADDR": client_address[0],
        "REMOTE_PORT": str(client_address[1]),
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
    }
    for name, value in request.headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "content-length":
            continue  # the parser checked it: request.content_length below
        if "_" in name:
            # "X-Auth_User" and "X-Auth-User" would both become HTTP_X_AUTH_USER: a client could
            # pass its own value for a header a proxy in front of us sets. nginx
            # (underscores_in_headers off), gunicorn and waitress drop such fields too.
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        previous = environ.get(key)
        if previous is None:
            environ[key] = value
        else:
            # RFC 9110 5.3: repeated fields join with ", "; Cookie is the exception (RFC 6265 5.4:
            # cookie-pairs are separated by "; ", which is also how HTTP/2 rejoins cookie crumbs).
            environ[key] = previous + ("; " if key == "HTTP_COOKIE" else ", ") + value
    if request.content_length is not None:
        environ["CONTENT_LENGTH"] = str(request.content_length)
    return environ
