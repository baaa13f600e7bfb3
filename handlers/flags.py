"""The command-line flags about what answers requests: how the directory is served (static files)
and what runs instead of or beside it (a WSGI application, static mounts).

``handler_factory`` checks every such flag at once, in the process that parsed them, and returns a
function that builds the handler in the process that serves: with ``--workers`` that is each worker,
after fork, since the WSGI gateway's threads would not survive a fork.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import ipaddress
import os
import re
import sys
from collections.abc import Callable
from typing import NamedTuple, cast

from handlers.auth.basic import load_users
from handlers.auth.passwd import PasswordHash
from handlers.livereload.reloader import LiveReload
from handlers.proxy.reverseproxy import Backend, ReverseProxy, parse_backend
from handlers.router import PrefixRouter, normalize_prefix
from handlers.static.listing import human_size
from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from handlers.wsgi import WSGIApplication, WSGIGateway
from handlers.wsgi.headers import with_headers
from reactor.arguments import limits_from_args
from reactor.exchange import Handler
from reactor.http.fields import TOKEN_CHAR
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop


class Built(NamedTuple):
    """A handler, what to call when the process stops serving, and what its parts count for the
    status page's metrics ({name: count}, names of handlers/status/metrics.py: HANDLER_METRICS)."""

    handler: Handler
    close: Callable[[], None]
    counters: Callable[[], dict[str, int]]


# The largest request body with --upload and no --max-body: nginx's 1m (the default otherwise) refuses
# the first photo or PDF; 4 GiB (FAT32's largest file) takes photos, scans and most videos, while a
# client that is not stopped by --auth-file still cannot fill a disk in one request.
UPLOAD_MAX_BODY = 4 << 30

# A field value we are willing to send: visible ASCII and spaces, no control characters.
_FIELD_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?", re.ASCII)
# RFC 9110 8.3.1: type "/" subtype, both tokens, then parameters held only to visible ASCII.
_TOKEN = TOKEN_CHAR.decode() + "+"
_MEDIA_TYPE = re.compile(_TOKEN + "/" + _TOKEN + r"(?:[ \t]*;[\x20-\x7e]*)?", re.ASCII)


def _field_value(text: str) -> str:
    if _FIELD_VALUE.fullmatch(text) is None:
        raise argparse.ArgumentTypeError(f"invalid header value {text!r}")
    return text


# Fields a -H may not give: the server frames and dates every response, and the static handler works
# these out per file; a second copy would contradict the first. Each maps to what to use instead.
_SET_BY_SERVER = {
    **dict.fromkeys(
        ("content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"),
        "the server frames every response",
    ),
    "date": "the server dates every response",
    "server": "the server names itself",
    "content-type": "use --mime EXT=TYPE",
    "cache-control": "use --cache-control",
    **dict.fromkeys(
        ("content-encoding", "content-range", "etag", "last-modified", "location", "allow"),
        "it is worked out for each response",
    ),
}


def _response_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    value = value.strip(" \t")
    if not colon or re.fullmatch(_TOKEN, name, re.ASCII) is None:
        raise argparse.ArgumentTypeError(f"invalid header {text!r}: want 'Name: value', the name a token")
    if _FIELD_VALUE.fullmatch(value) is None:
        raise argparse.ArgumentTypeError(
            f"invalid header {text!r}: the value must be printable ASCII, not empty, no control characters"
        )
    reason = _SET_BY_SERVER.get(name.lower())
    if reason is not None:
        raise argparse.ArgumentTypeError(f"invalid header {text!r}: {name} is not yours to set ({reason})")
    return name, value


def _error_page(text: str) -> tuple[int, str]:
    status, equals, path = text.partition("=")
    if not equals or not status.strip().isdigit() or not 400 <= int(status) <= 599:
        raise argparse.ArgumentTypeError(f"invalid error page {text!r}: expected STATUS=/PATH with a 4xx or 5xx status")
    if not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"invalid error page {text!r}: the path must start with /")
    return int(status), path


def _url_path(text: str) -> str:
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"invalid path {text!r}: it must start with /")
    return text


def _mime(text: str) -> tuple[str, str]:
    extension, equals, content_type = text.partition("=")
    extension = extension.strip().lstrip(".")
    if not equals or not extension or "/" in extension or any(char.isspace() for char in extension):
        raise argparse.ArgumentTypeError(f"invalid MIME mapping {text!r}: expected EXT=TYPE, e.g. md=text/markdown")
    if _MEDIA_TYPE.fullmatch(content_type.strip()) is None:
        raise argparse.ArgumentTypeError(f"invalid MIME mapping {text!r}: {content_type!r} is not a media type")
    return extension, content_type.strip()


def _threads(text: str) -> int:
    try:
        threads = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: not a number") from None
    if threads < 0:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: must be zero or more")
    return threads


def add_handler_arguments(parser: argparse.ArgumentParser) -> None:
    static = parser.add_argument_group("static files")
    static.add_argument("--no-listing", action="store_true", help="answer 403 for directories without an index file")
    static.add_argument("--show-hidden", action="store_true", help="serve and list names starting with a dot")
    static.add_argument(
        "--follow-symlinks", action="store_true", help="follow symlinks even when they lead outside the directory"
    )
    static.add_argument(
        "--cache-control", type=_field_value, metavar="VALUE", help="Cache-Control value for file responses"
    )
    static.add_argument(
        "-H",
        "--header",
        type=_response_header,
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add this header to every response of the static files and of a --wsgi application, "
        "e.g. 'X-Frame-Options: DENY' (repeatable)",
    )
    static.add_argument(
        "--error-page",
        type=_error_page,
        action="append",
        default=[],
        metavar="STATUS=/PATH",
        help="serve this file as the body of an error status, e.g. 404=/404.html (repeatable)",
    )
    static.add_argument(
        "--spa", type=_url_path, metavar="/PATH", help="answer unknown paths asking for HTML with this file"
    )
    static.add_argument(
        "--mime",
        type=_mime,
        action="append",
        default=[],
        metavar="EXT=TYPE",
        help="add or override a content type, e.g. md=text/markdown (repeatable)",
    )
    static.add_argument(
        "--cors", action="store_true", help="allow cross-origin requests (Access-Control-Allow-Origin: *)"
    )
    # Compression and uploads (issue 13, part B).
    static.add_argument(
        "--compress",
        action=argparse.BooleanOptionalAction,
        help="gzip small text files on the fly for clients that accept it (default: on)",
    )
    static.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        help="let a listed directory be downloaded as a .zip or .tar.gz, made as it is sent (default: on)",
    )
    static.add_argument(
        "--upload", action="store_true", help="accept uploads: PUT /path, and a form on directory listings"
    )
    static.add_argument(
        "--upload-overwrite", action="store_true", help="let an upload replace an existing file (otherwise 409)"
    )
    access = parser.add_argument_group("access")
    access.add_argument(
        "--auth-file",
        metavar="FILE",
        help="ask for a user and password (HTTP Basic) on every request; FILE holds user:hash lines made by "
        "python -m handlers.auth.passwd USER",
    )
    # miniserve's and http-server's spelling, refused: a password in the arguments shows in ps.
    access.add_argument("--auth", "--basic-auth", action=_RefusePassword, help=argparse.SUPPRESS)
    development = parser.add_argument_group("development")
    development.add_argument(
        "--live-reload",
        action="store_true",
        help="reload pages in the browser when a file of the directory (or of a --static folder) changes",
    )
    development.add_argument(
        "--proxy",
        action="append",
        default=[],
        metavar="PREFIX=URL",
        help="pass the requests under PREFIX to the HTTP backend at URL (http://HOST:PORT[/PATH]; a PATH "
        "replaces PREFIX), e.g. /api=http://localhost:5000 (repeatable; --proxy-timeout bounds its waits)",
    )
    applications = parser.add_argument_group("applications")
    applications.add_argument(
        "--wsgi",
        metavar="MODULE:APP",
        help="serve this WSGI application instead of the directory (APP defaults to 'application')",
    )
    applications.add_argument(
        "--threads",
        type=_threads,
        metavar="N",
        help="worker threads for the WSGI application (default: 4; 0 runs it on the loop thread, for study)",
    )
    applications.add_argument(
        "--static",
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help="also serve the files of DIR under the URL path PREFIX, e.g. /static=./public (repeatable)",
    )


class _RefusePassword(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        parser.error(
            f"{self.option_strings[0]}: a password on the command line shows in ps; write a line with "
            "'python -m handlers.auth.passwd USER >> FILE' and pass --auth-file FILE"
        )


def auth_users(args: argparse.Namespace) -> dict[str, PasswordHash] | None:
    """The users of ``--auth-file``, or None without one. Raises ValueError saying what is wrong."""
    return load_users(args.auth_file) if args.auth_file else None


def _static_options(args: argparse.Namespace) -> StaticOptions:
    return StaticOptions(
        listing=not args.no_listing,
        show_hidden=args.show_hidden,
        follow_symlinks=args.follow_symlinks,
        cache_control=args.cache_control,
        error_pages=dict(args.error_page),
        spa=args.spa,
        cors=args.cors,
        mime_types=dict(args.mime),
        headers=tuple(args.header),
        compress=args.compress is not False,
        upload=args.upload,
        upload_overwrite=args.upload_overwrite,
        archive=args.archive is not False,
        live_reload=args.live_reload,
    )


def load_wsgi_app(spec: str) -> WSGIApplication:
    """Import ``module:attribute`` as gunicorn does, from the current directory first. Raises
    ValueError saying what is wrong."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ValueError(f"invalid --wsgi {spec!r}: want MODULE:APP, e.g. myapp:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name!r}: {error}") from None
    except Exception as error:
        raise ValueError(f"importing {module_name!r} failed: {type(error).__name__}: {error}") from None
    for name in (attribute or "application").split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attribute or 'application'!r}") from None
    if not callable(target):
        raise ValueError(f"{spec!r} is not callable: a WSGI application is called with (environ, start_response)")
    return cast(WSGIApplication, target)


def _mounts(args: argparse.Namespace) -> list[tuple[str, str]]:
    mounts: list[tuple[str, str]] = []
    for mount in args.static:
        prefix, equals, folder = mount.partition("=")
        try:
            prefix = normalize_prefix(prefix)
        except ValueError as error:
            raise ValueError(f"--static {mount!r}: {error}") from None
        if not equals or not os.path.isdir(folder):
            raise ValueError(f"--static {mount!r}: want PREFIX=DIR with an existing directory")
        if any(prefix == mounted for mounted, _ in mounts):
            raise ValueError(f"--static {mount!r}: the prefix {prefix!r} is mounted twice")
        mounts.append((prefix, os.path.abspath(folder)))
    return mounts


def _proxies(args: argparse.Namespace, mounts: list[tuple[str, str]]) -> list[tuple[str, Backend]]:
    """The ``--proxy`` routes, each backend's host resolved now. Raises ValueError saying what is wrong."""
    proxies: list[tuple[str, Backend]] = []
    taken = {prefix for prefix, _folder in mounts}
    for route in args.proxy:
        prefix, equals, url = route.partition("=")
        try:
            prefix = normalize_prefix(prefix)
            if not equals:
                raise ValueError("want PREFIX=URL, e.g. /api=http://localhost:5000")
            backend = parse_backend(url)
        except ValueError as error:
            raise ValueError(f"--proxy {route!r}: {error}") from None
        if prefix in taken:
            raise ValueError(f"--proxy {route!r}: the prefix {prefix!r} is taken already")
        taken.add(prefix)
        proxies.append((prefix, backend))
    return proxies


def _check_beside_application(args: argparse.Namespace) -> None:
    """With ``--wsgi`` the application answers instead of the directory: no flag may be left without
    effect. Those about the served directory are refused; those about static files apply to the
    ``--static`` mounts, so they need one (``-H`` also applies to the application's responses).
    Raises ValueError naming the first flag that would do nothing."""
    for flag, given in (("-d", args.directory), ("--spa", args.spa), ("--error-page", args.error_page)):
        if given:
            raise ValueError(f"{flag} applies to the served directory, which --wsgi replaces with the application")
    if args.static:
        return
    static_flags = (
        ("--no-listing", args.no_listing),
        ("--show-hidden", args.show_hidden),
        ("--follow-symlinks", args.follow_symlinks),
        ("--cache-control", args.cache_control),
        ("--mime", args.mime),
        ("--cors", args.cors),
        ("--compress" if args.compress else "--no-compress", args.compress is not None),
        ("--archive" if args.archive else "--no-archive", args.archive is not None),
        ("--upload-overwrite", args.upload_overwrite),
        ("--upload", args.upload),
        ("--live-reload", args.live_reload),
    )
    for flag, given in static_flags:
        if given:
            raise ValueError(f"{flag} applies to static files: add --static PREFIX=DIR beside --wsgi to serve some")


def handler_factory(args: argparse.Namespace, directory: str) -> Callable[[EventLoop], Built]:
    """Check the handler flags now (the WSGI application is imported, error pages must exist) and
    return what builds the handler on a loop. Raises ValueError with a one-line reason."""
    if args.threads is not None and not args.wsgi:
        raise ValueError("--threads applies to a WSGI application: add --wsgi MODULE:APP")
    if args.upload_overwrite and not args.upload:
        raise ValueError("--upload-overwrite applies to uploads: add --upload")
    if args.wsgi:
        _check_beside_application(args)
    options = _static_options(args)
    if not args.wsgi:
        StaticFiles(directory, options)  # raises for an error page or SPA entry that is not a file
    app = load_wsgi_app(args.wsgi) if args.wsgi else None
    if app is not None and options.headers:
        app = with_headers(app, options.headers)
    threads = 4 if args.threads is None else args.threads
    mounts = _mounts(args)
    proxies = _proxies(args, mounts)
    limits = limits_from_args(args)
    scheme = "https" if getattr(args, "tls_cert", None) else "http"  # what clients speak, for the backends
    # Error pages and the SPA entry name files of the main directory, not of the mounted ones.
    mounted_options = dataclasses.replace(options, error_pages={}, spa=None)

    def build(loop: EventLoop) -> Built:
        handler: Handler
        closers: list[Callable[[], None]] = []
        served: list[StaticFiles] = []
        if app is not None:
            gateway = WSGIGateway(app, threads)
            handler = gateway
            closers.append(gateway.close)
        else:
            handler = static = StaticFiles(directory, options)
            served.append(static)
        routes: list[tuple[str, Handler]] = []
        for prefix, folder in mounts:
            files = StaticFiles(folder, mounted_options, mount=prefix)
            served.append(files)
            routes.append((prefix, files))
        proxied: list[ReverseProxy] = []
        for prefix, backend in proxies:
            proxy = ReverseProxy(loop, prefix, backend, limits, scheme)
            proxied.append(proxy)
            closers.append(proxy.close)
            routes.append((prefix, proxy))
        if routes:
            handler = PrefixRouter(routes, handler)
        closers.extend(files.close for files in served)
        if options.live_reload:
            handler = live_reload = LiveReload(handler)
            trees = [directory, *(folder for _prefix, folder in mounts)]
            closers.append(live_reload.watch(loop, trees, [files.forget_files for files in served]).close)

        def close() -> None:
            for closer in closers:
                closer()

        def counters() -> dict[str, int]:
            counted: dict[str, int] = {}
            for proxy in proxied:
                for name, count in proxy.counters().items():
                    counted[name] = counted.get(name, 0) + count
            return counted

        return Built(handler, close, counters)

    return build


def handler_limits(args: argparse.Namespace, limits: Limits) -> Limits:
    """``limits`` as the handler flags need them: with ``--upload``, request bodies up to
    UPLOAD_MAX_BODY unless ``--max-body`` said otherwise."""
    if args.upload and args.max_body is None:
        return dataclasses.replace(limits, max_body=UPLOAD_MAX_BODY)
    return limits


def startup_notes(args: argparse.Namespace, limits: Limits) -> list[str]:
    """What the banner says after where the server listens: how large an upload may be, where each
    proxied prefix goes."""
    notes = [f"Proxying {route.replace('=', ' to ', 1)}" for route in args.proxy]
    if args.upload:
        notes.append(f"Accepting uploads up to {human_size(limits.max_body)} each (--max-body changes it)")
    return notes


def startup_warnings(args: argparse.Namespace, host: str) -> list[str]:
    """What to warn about once the server listens on ``host``: uploads open to other machines, and
    passwords that cross the network in the clear."""
    warnings: list[str] = []
    if _is_loopback(host):
        return warnings
    where = host or "all addresses"
    if args.upload and not args.auth_file:
        warnings.append(f"--upload on {where} without --auth-file: anyone who can reach this port can write files")
    if args.auth_file and getattr(args, "tls_cert", None) is None:  # over HTTPS they travel encrypted
        warnings.append(f"--auth-file on {where} over plain HTTP: passwords cross the network readable by anyone on it")
    return warnings


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False
