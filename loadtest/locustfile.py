"""Locust scenarios for a static site built by ``python -m loadtest.site``.

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 [--shape step|soak|spike] ...

The site's manifest is read from the server under test (``/manifest.json``), so workers on other
machines need nothing but this repository. Every task checks its response (status, length, and the
bytes against the manifest's sha256, or against bytes recomputed from the seed for ranges) and reports
a failure that says what was wrong. Request names say what was expected, e.g. ``range (206)``.

Users: ``Visitor`` (weighted tasks, tagged: page, revalidate, range, download, listing, 404, close) and
one ``SlowReader`` and one ``SlowSender`` on raw sockets (tag hostile). ``--tags`` / ``--exclude-tags``
select tasks, and a user class left without any is left out; naming classes (``locust ... Visitor``)
selects users.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import sys
import time
import zlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import brotli
import gevent
from gevent.pool import Pool
from locust import FastHttpUser, LoadTestShape, User, constant, events, tag, task
from locust.argument_parser import LocustArgumentParser
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.exception import CatchResponseError, StopUser
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # locust imports us by path, from any cwd
from loadtest import rawhttp, shapes, slowclients
from loadtest.site import MANIFEST, FileEntry, Manifest, SiteError, blob_range, fetch_manifest

ASSET_LINK = re.compile(r'(?:src|href)="(/(?:assets|images)/[^"]+)"')
LISTING_LINK = re.compile(rb'href="([^"]+)"')
BROWSER_CONNECTIONS = 6  # parallel asset fetches per page, as browsers do per host
BROWSER_ENCODINGS = "gzip, deflate, br"
IDENTITY = {"Accept-Encoding": "identity"}  # ranges and sizes refer to the file's own bytes
READ_CHUNK = 1 << 16
DECODE_ERRORS = (ValueError, OSError, zlib.error, brotli.error)  # what decoding a bad body raises


def add_options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--shape", choices=sorted(shapes.SHAPES), default="constant", help="load shape (see loadtest/shapes.py)"
    )
    parser.add_argument("--steps", type=int, default=6, help="number of steps of the step shape")
    parser.add_argument(
        "--pace",
        type=float,
        default=None,
        help="seconds between task starts of one visitor (0: back to back; default 1 for soak, else 0)",
    )


events.init_command_line_parser.add_listener(add_options)  # type: ignore[no-untyped-call]


def write_final_csvs(environment: Environment, **_kwargs: object) -> None:
    """Rewrite ``<prefix>_stats.csv`` and ``_failures.csv`` from the final statistics.

    locust rewrites them once a second while it runs, so its last write can miss the requests that end
    during the stop timeout (a 100 MiB download, a slow reader), which the HTML report, made at the
    very end, does count. Rewritten here, on quitting, the CSVs and the report agree.
    """
    options = environment.parsed_options
    prefix = getattr(options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (("_stats.csv", writer.requests_csv), ("_failures.csv", writer.failures_csv)):
        target = Path(prefix + suffix)
        temporary = target.with_suffix(".tmp")
        with temporary.open("w", newline="") as file:
            write(csv.writer(file))
        os.replace(temporary, target)  # a new file: locust's own writer keeps its handle on the old one


events.quitting.add_listener(write_final_csvs)  # type: ignore[no-untyped-call]


def drop_users_without_tasks(environment: Environment, **_kwargs: object) -> None:
    """``--tags`` / ``--exclude-tags`` select tasks; a user class left with none would fail at each
    start (locust logs a traceback per user), so it is left out: ``--tags range`` means visitors doing
    ranges, without hostile clients. On workers the master decides which classes run."""
    options = environment.parsed_options
    tags = set(getattr(options, "tags", None) or ())
    excluded = set(getattr(options, "exclude_tags", None) or ())

    def selected(task: object) -> bool:
        task_tags: set[str] = getattr(task, "locust_tag_set", set())
        return (not tags or bool(task_tags & tags)) and not task_tags & excluded

    if tags or excluded:
        kept = [user for user in environment.user_classes if any(selected(task) for task in user.tasks)]
        environment.user_classes[:] = kept or environment.user_classes  # none left: let locust say so


events.init.add_listener(drop_users_without_tasks)  # type: ignore[no-untyped-call]


@cache
def site_manifest(host: str) -> Manifest:
    """The manifest the server at ``host`` serves (read once per process). Raises SiteError."""
    return fetch_manifest(host, timeout=30)


def _report(user: User, kind: str, name: str, milliseconds: float, length: int, error: Exception | None) -> None:
    """Report an outcome locust's clients did not see (a raw socket's, or a check made without a
    request) as a request of type ``kind``: it shows in the statistics and the failures like any other."""
    user.environment.events.request.fire(
        request_type=kind,
        name=name,
        response_time=milliseconds,
        response_length=length,
        exception=error,
        context={},
    )


def _start_with_manifest(user: User) -> Manifest:
    """The site's manifest, or a reported failure and the end of this user."""
    started = time.perf_counter()
    try:
        return site_manifest(user.host or "")
    except SiteError as error:
        _report(user, "GET", f"/{MANIFEST}", (time.perf_counter() - started) * 1000, 0, error)
        raise StopUser from None


def _header(response: ResponseContextManager, name: str) -> str | None:
    """One header field's value, None if absent; repeated fields joined as RFC 9110 5.3 allows."""
    value = response.headers.get(name) if response.headers is not None else None
    if isinstance(value, list):
        return ", ".join(value)
    return None if value is None else str(value)


def _file_problem(response: ResponseContextManager, entry: FileEntry) -> str | None:
    """Why the response is not the file ``entry`` (decoded if it came compressed), or None if it is."""
    if response.status_code != 200:
        return f"expected 200, got {response.status_code}"
    try:
        body = response.content or b""  # geventhttpclient decodes gzip, deflate and br
    except DECODE_ERRORS as error:
        return f"cannot decode the body ({type(error).__name__})"
    encoding = _header(response, "Content-Encoding")
    length = _header(response, "Content-Length")
    if encoding is None and length is not None and length != str(entry.size):
        return "Content-Length is not the file's size"
    if hashlib.sha256(body).hexdigest() != entry.sha256:
        coding = f" (decoded from Content-Encoding {encoding})" if encoding else ""
        return f"body differs from the file{coding}"
    return None


class Visitor(FastHttpUser):
    """A visitor of a static site: reads pages with their assets, revalidates what it has cached,
    resumes and seeks in downloads, fetches a large file, opens a directory listing, follows dead
    links, and sometimes comes on a fresh connection."""

    max_retries = 0  # a failed request must show as a failure, not vanish in a retry
    concurrency = BROWSER_CONNECTIONS

    def on_start(self) -> None:
        self.site = _start_with_manifest(self)
        self.etags: dict[str, str] = {}  # what this visitor's cache holds: path -> ETag
        options = self.environment.parsed_options
        shape = getattr(options, "shape", "constant")
        pace = getattr(options, "pace", None)
        self.pacer = shapes.Pacer(shapes.default_pace(shape) if pace is None else pace, time.perf_counter())

    def wait_time(self) -> float:
        return self.pacer.delay(time.perf_counter())

    def _remember(self, path: str, response: ResponseContextManager) -> None:
        """Keep the ETag of a good 200, as a browser cache does."""
        etag = _header(response, "ETag")
        if etag is not None:
            self.etags[path] = etag

    def _fetch(self, path: str, name: str, headers: dict[str, str] | None = None) -> bytes | None:
        """GET a file of the site as a browser would (compressed if the server offers) and check it.
        Returns its (decoded) body, or None when it failed."""
        entry = self.site.files[path]
        request_headers = {"Accept-Encoding": BROWSER_ENCODINGS, **(headers or {})}
        with self.client.get(path, name=name, headers=request_headers, catch_response=True) as response:
            problem = _file_problem(response, entry)
            if problem:
                response.failure(problem)
                return None
            self._remember(path, response)
            response.success()
            return response.content or b""

    @tag("page")
    @task(20)
    def browse(self) -> None:
        """A page, then its stylesheet, scripts and images, fetched in parallel like a browser."""
        page = self._fetch(random.choice(self.site.pages), "page")
        if page is None:
            return
        pool = Pool(BROWSER_CONNECTIONS)
        for asset in ASSET_LINK.findall(page.decode("utf-8", "replace")):
            pool.spawn(self._fetch, asset, "page asset")
        pool.join()

    @tag("revalidate")
    @task(8)
    def revalidate(self) -> None:
        """A file from this visitor's cache, asked with If-None-Match: expects 304 and no body."""
        path = random.choice(self.site.pages + self.site.assets + self.site.images)
        if path not in self.etags:
            self._fetch(path, "page asset")
        etag = self.etags.get(path)
        if etag is None:
            problem = "the 200 response had no ETag to revalidate with (RFC 9110 8.8.3)"
            _report(self, "GET", "revalidate (304)", 0.0, 0, CatchResponseError(problem))
            return
        headers = {"If-None-Match": etag, "Accept-Encoding": BROWSER_ENCODINGS}
        with self.client.get(
            path, name="revalidate (304)", headers=headers, stream=True, catch_response=True
        ) as response:
            if response.status_code != 304:
                response.failure(f"expected 304 Not Modified for a matching If-None-Match, got {response.status_code}")
            # Raw bytes: a 304 may name the Content-Encoding of the 200, and an empty body does not decode.
            elif any(response.iter_content(READ_CHUNK, decode_content=False)):
                response.failure("a 304 carries no body (RFC 9110 15.4.5), this one had one")
            elif _header(response, "ETag") != etag:
                response.failure("a 304 repeats the ETag it validated (RFC 9110 15.4.5), this one did not")
            else:
                response.success()

    @tag("range")
    @task(4)
    def resume_download(self) -> None:
        """A download that broke off after some bytes, resumed with Range: bytes=N- and If-Range."""
        path = random.choice([blob for blob in self.site.blobs if blob != self.site.large])
        entry = self.site.files[path]
        offset = random.randrange(1, entry.size)
        etag = self._interrupted_download(path, entry, offset)
        headers = {**IDENTITY, "Range": f"bytes={offset}-"}
        if etag:
            headers["If-Range"] = etag
        self._check_range(path, entry, headers, offset, entry.size, "range (206)")

    @tag("range")
    @task(2)
    def seek(self) -> None:
        """A media player seeking in the large file: a window bytes=A-B, or the last K bytes."""
        entry = self.site.files[self.site.large]
        length = random.randrange(1, 256 * 1024)
        if random.random() < 0.5:
            start = random.randrange(0, entry.size - length)
            headers = {**IDENTITY, "Range": f"bytes={start}-{start + length - 1}"}
        else:
            start = entry.size - length
            headers = {**IDENTITY, "Range": f"bytes=-{length}"}
        self._check_range(entry.path, entry, headers, start, start + length, "range (206)")

    def _interrupted_download(self, path: str, entry: FileEntry, stop: int) -> str | None:
        """GET the file, read ``stop`` bytes and drop the connection. Returns the ETag, if any."""
        with self.client.get(
            path, name="download (interrupted)", headers=IDENTITY, stream=True, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
                return None
            received = bytearray()
            for chunk in response.iter_content(min(READ_CHUNK, stop), decode_content=False):
                received += chunk
                if len(received) >= stop:
                    break
                gevent.sleep(0)
            del received[stop:]
            response.request_meta["response_length"] = len(received)
            if bytes(received) != blob_range(self.site.seed, path, 0, stop):
                response.failure("the bytes before the break differ from the site's")
            else:
                response.success()
            # The rest stays unread: geventhttpclient closes a connection whose response is not complete.
            return _header(response, "ETag")

    def _check_range(
        self, path: str, entry: FileEntry, headers: dict[str, str], start: int, stop: int, name: str
    ) -> None:
        """GET with a Range and check the 206 (RFC 9110 14.4, 15.3.7): Content-Range, length, bytes."""
        expected_range = f"bytes {start}-{stop - 1}/{entry.size}"
        started = time.perf_counter()
        with self.client.get(path, name=name, headers=headers, stream=True, catch_response=True) as response:
            if response.status_code != 206:
                # Unread: a server that ignores Range sends the whole file, and we do not want it.
                response.failure(f"expected 206 Partial Content, got {response.status_code}")
                return
            content_range = _header(response, "Content-Range")
            if content_range != expected_range:
                response.failure("Content-Range does not name the range asked for (RFC 9110 14.4)")
                return
            body = bytearray()
            for chunk in response.iter_content(READ_CHUNK, decode_content=False):
                body += chunk
                gevent.sleep(0)
            response.request_meta["response_time"] = (time.perf_counter() - started) * 1000  # body included
            response.request_meta["response_length"] = len(body)
            if _header(response, "Content-Length") != str(stop - start) or len(body) != stop - start:
                response.failure("the part's length is not the range's (Content-Length or body)")
            elif body != blob_range(self.site.seed, path, start, stop):
                response.failure("the part's bytes differ from the file's")
            else:
                response.success()

    @tag("download")
    @task(1)
    def download_large(self) -> None:
        """The 100 MiB file in full, hashed as it streams in; the time covers the whole body."""
        entry = self.site.files[self.site.large]
        started = time.perf_counter()
        with self.client.get(
            entry.path, name="download 100 MiB", headers=IDENTITY, stream=True, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
                return
            digest = hashlib.sha256()
            count = 0
            for chunk in response.iter_content(READ_CHUNK, decode_content=False):
                digest.update(chunk)
                count += len(chunk)
                gevent.sleep(0)  # loopback always has data ready: yield, or the other users stall meanwhile
            # stream=True leaves the body out of locust's time; put it back.
            response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
            response.request_meta["response_length"] = count
            if count != entry.size:
                response.failure("the body's length is not the file's size")
            elif digest.hexdigest() != entry.sha256:
                response.failure("body differs from the file")
            else:
                response.success()
                self._remember(entry.path, response)

    @tag("listing")
    @task(2)
    def listing(self) -> None:
        """The folder of 1,000 files, which has no index: every name must be linked."""
        with self.client.get(self.site.listing, name="listing (1,000 files)", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
                return
            try:
                body = response.content or b""
            except DECODE_ERRORS as error:
                response.failure(f"cannot decode the body ({type(error).__name__})")
                return
            links = {unquote(href.decode("utf-8", "replace")) for href in LISTING_LINK.findall(body)}
            missing = [name for name in self.site.listing_names if name not in links]
            if missing:
                response.failure(f"{len(missing)} of the folder's {len(self.site.listing_names)} files not linked")
            else:
                response.success()

    @tag("404")
    @task(3)
    def missing(self) -> None:
        """A dead link."""
        path = f"{self.site.missing}{random.getrandbits(64):016x}.html"
        with self.client.get(path, name="missing (404)", catch_response=True) as response:
            if response.status_code == 404:
                response.success()
            else:
                response.failure(f"expected 404, got {response.status_code}")

    @tag("close")
    @task(3)
    def fresh_connection(self) -> None:
        """A client that does not keep connections: Connection: close (RFC 9112 9.6)."""
        path = random.choice(self.site.assets + self.site.images)
        self._fetch(path, "Connection: close", {"Connection": "close"})


class HostileUser(User):
    """A raw-socket client that misbehaves within the rules. Each attempt is reported like a request
    (type RAW), so its outcome and its effect on everybody else show in the same report. Its time is
    the server's: from the end of the request to the response head, not the slowness we chose."""

    abstract = True
    fixed_count = 1  # one of each kind in every run, whatever the number of visitors
    wait_time = constant(1)
    request_name = ""  # how its attempts are named in the report

    def on_start(self) -> None:
        self.site = _start_with_manifest(self)
        self.origin = slowclients.Origin.of(self.host or "")

    def attempt(self) -> slowclients.Received:
        """Misbehave once. Raises rawhttp.BadResponse or OSError."""
        raise NotImplementedError

    def problem(self, received: slowclients.Received) -> str | None:
        """What is wrong with the server's answer, or None."""
        raise NotImplementedError

    @tag("hostile")
    @task
    def misbehave(self) -> None:
        started = time.perf_counter()
        error: Exception | None = None
        waited, length = time.perf_counter() - started, 0
        try:
            received = self.attempt()
            waited, length = received.waited, len(received.body)
            problem = self.problem(received)
            if problem is not None:
                error = CatchResponseError(problem)
        except rawhttp.BadResponse as failure:  # a ConnectionError, but the server's fault: say what
            error = CatchResponseError(str(failure))
        except OSError as failure:
            error = failure
        _report(self, "RAW", self.request_name, waited * 1000, length, error)


class SlowReader(HostileUser):
    """Reads the 100 MiB file at about 160 KiB/s through an 8 KiB receive window for a few seconds,
    then hangs up: the server must wait on a full socket buffer, then let go, while serving the rest."""

    request_name = "slow reader"
    seconds = 4.0

    def attempt(self) -> slowclients.Received:
        return slowclients.slow_read(self.origin, self.site.large, self.seconds)

    def problem(self, received: slowclients.Received) -> str | None:
        entry = self.site.files[self.site.large]
        if received.status != 200:
            return f"expected 200, got {received.status}"
        if received.headers.get("content-length") != str(entry.size):
            return "Content-Length is not the file's size"
        if received.body != blob_range(self.site.seed, entry.path, 0, len(received.body)):
            return "the bytes read differ from the site's"
        return None


class SlowSender(HostileUser):
    """Sends its request head 8 bytes every 100 ms (a slowloris that finishes), then wants the answer."""

    request_name = "slow sender"

    def attempt(self) -> slowclients.Received:
        return slowclients.slow_send(self.origin, self.site.assets[0])

    def problem(self, received: slowclients.Received) -> str | None:
        entry = self.site.files[self.site.assets[0]]
        if received.status != 200:
            return f"expected 200, got {received.status}"
        if hashlib.sha256(received.body).hexdigest() != entry.sha256:
            return "body differs from the file"
        return None


class SelectedShape(LoadTestShape):
    """The shape named by ``--shape``, driven by the common options (--users, --spawn-rate, --run-time)."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options: Any = self.runner.environment.parsed_options
        settings = shapes.Settings(
            users=options.num_users or 1,
            spawn_rate=options.spawn_rate or 1.0,
            duration=options.run_time or None,
            steps=options.steps,
        )
        return shapes.SHAPES[options.shape](settings, time.perf_counter() - self.start_time)
