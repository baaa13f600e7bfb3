"""Uploads (``--upload``): ``PUT /dir/name`` stores its body as that file, and a
``multipart/form-data`` POST to a directory (the forms on its listing) stores each file of the form
there, and makes the folder its ``mkdir`` field names. A browser's write for a page of another origin
is refused (handlers.upload.crossorigin).

A body goes to a temporary dot-named file in the target directory as it arrives, each received piece
written at once: a write to a local file is short and bounded by the piece (at most one recv), and the
connection reads the next piece only after it, so a client can send no faster than the disk takes
it. Once the body is whole, the fsync and the move into place run on a background thread: the file
appears whole or not at all. A request that fails, or a client gone before its body ended, leaves
nothing behind. Never outside the root (paths resolved as for GET), never a dot-name unless
``--show-hidden``, never over an existing file unless ``--upload-overwrite`` (409), never over
anything for a new folder (409).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from handlers.background import BackgroundJobs
from handlers.static.errorpages import ErrorAnswer, status_for
from handlers.static.paths import PathError, quote_segment
from handlers.static.site import Site
from handlers.upload.crossorigin import sent_from_another_origin
from handlers.upload.multipart import MultipartError, MultipartParser, Part, PartData, PartEnd, boundary_of
from reactor.exchange import Exchange

logger = logging.getLogger(__name__)

# Files one form may carry: each is an open descriptor until the body ends.
MAX_FILES = 100
# The form field that names a folder to make in the directory (the listing's "New folder" form).
FOLDER_FIELD = "mkdir"
MAX_NAME = 255  # bytes in a file or folder name (NAME_MAX on Linux and the BSDs)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW

# Told the URL path of a stored file and the real path of its directory, so caches forget them.
Stored = Callable[[str, str], None]


class UploadError(Exception):
    """An upload refused: ``status`` and ``reason`` are the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Target:
    """One file being received: where it goes, and the temporary file beside it."""

    final: str
    temporary: str
    fd: int
    url: str
    existed: bool  # it replaces a file (only with overwrite)


class Uploads:
    """Answers PUT and POST for the static handler serving ``site``."""

    def __init__(
        self,
        site: Site,
        jobs: BackgroundJobs,
        stored: Stored,
        errors: ErrorAnswer,
        fields: Sequence[tuple[str, str]],
        *,
        overwrite: bool,
    ) -> None:
        self._site = site
        # What each upload uses.
        self.jobs = jobs
        self.stored = stored
        self.errors = errors
        self.fields = fields
        self.overwrite = overwrite

    def __call__(self, exchange: Exchange) -> None:
        """Answer a PUT or a POST (the static handler sends no other method here)."""
        if sent_from_another_origin(exchange.request.headers):
            self.errors(exchange, 403, "a page of another origin may not write here (cross-site request forgery)")
            return
        try:
            if exchange.request.method == "PUT":
                upload = self._begin_put(exchange)
            else:
                upload = self._begin_form(exchange)
        except (PathError, UploadError) as error:
            self.errors(exchange, error.status, error.reason)
            return
        except OSError as error:  # the temporary file could not be made: permissions, a full disk
            self.errors(exchange, *status_for(error))
            return
        exchange.on_abort(upload.abandon)
        exchange.read_body(upload.receive, upload.body_ended)

    # -- where the bytes go -----------------------------------------------------------------------

    def _directory(self, segments: tuple[str, ...]) -> str:
        """The real path of the directory ``segments`` name under the root. Raises PathError (403 when
        it leads outside the root) or UploadError(409) when it is no directory."""
        real = self._site.resolve(os.path.join(self._site.root, *segments))
        if not os.path.isdir(real):
            raise UploadError(409, "no such directory to store into")  # RFC 9110 9.3.4: no parents made
        return real

    def check_name(self, name: str) -> None:
        """Raises UploadError: 403 for a dot-name, unless hidden names are served; 400 for a name no
        file system here takes (found before the body is received, not when it is moved into place)."""
        if name.startswith(".") and not self._site.show_hidden:
            raise UploadError(403, "names starting with a dot are not accepted")
        if len(os.fsencode(name)) > MAX_NAME:
            raise UploadError(400, f"a name is at most {MAX_NAME} bytes")

    def new_target(self, directory: str, name: str, url: str) -> _Target:
        """A temporary file in ``directory`` for the file ``name``. Raises UploadError (409 when the
        name is taken and may not be replaced) or OSError."""
        final = os.path.join(directory, name)
        existed = os.path.lexists(final)
        if existed and (os.path.isdir(final) or not self.overwrite):
            raise UploadError(409, f"{name!r} already exists")
        # Dot-named, so it is neither listed nor served while it grows (unless --show-hidden).
        temporary = os.path.join(directory, f".upload-{secrets.token_hex(8)}.part")
        fd = os.open(temporary, _CREATE, 0o666)  # the umask applies, as to any new file
        return _Target(final, temporary, fd, url, existed)

    # -- PUT --------------------------------------------------------------------------------------

    def _begin_put(self, exchange: Exchange) -> _Upload:
        path, segments = self._site.place(exchange.request.path)
        if path.trailing_slash or not segments:
            raise UploadError(405, "PUT names a file, not a directory")
        for segment in segments:
            self.check_name(segment)
        directory = self._directory(segments[:-1])
        upload = _Upload(self, exchange)
        upload.open(directory, segments[-1], path.url())
        return upload

    # -- POST of a form ---------------------------------------------------------------------------

    def _begin_form(self, exchange: Exchange) -> _Upload:
        request = exchange.request
        path, segments = self._site.place(request.path)
        for segment in segments:
            self.check_name(segment)
        directory = self._directory(segments)
        if not path.trailing_slash and segments:
            raise UploadError(405, "a form is posted to a directory: its path ends with /")
        try:
            boundary = boundary_of(request.headers.get("content-type") or "")
        except MultipartError as error:
            raise UploadError(400, error.reason) from None
        if boundary is None:
            raise UploadError(415, "a form upload is multipart/form-data")
        listing = path.url(trailing_slash=True)
        upload = _Upload(self, exchange, listing + ("?" + request.query if request.query else ""))
        upload.parser = MultipartParser(boundary)
        upload.directory = directory
        upload.directory_url = listing
        return upload


def form_file_name(filename: str) -> str:
    """The name to store a form's file under: its last path component (old browsers sent whole
    paths), with the ``%22`` browsers write for a double quote decoded (HTML's form-data encoding).
    Raises UploadError(400) for a name no file can have here."""
    name = filename.replace("%22", '"').replace("\\", "/").rsplit("/", 1)[-1]
    if not _possible_name(name):
        raise UploadError(400, f"invalid file name {filename!r}")
    return name


def folder_name(value: bytes) -> str:
    """The name of the folder a form asks for: one path segment, as typed (UTF-8, the listing's
    charset). Raises UploadError(400) for anything else: a path, an empty or a dot name."""
    try:
        name = value.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(400, "the folder name is not UTF-8") from None
    if "/" in name or "\\" in name or not _possible_name(name):
        raise UploadError(400, f"invalid folder name {name!r}: one name, no slash")
    return name


def _possible_name(name: str) -> bool:
    """Whether a directory entry may be called ``name``: not empty, "." or "..", no control character."""
    return name not in ("", ".", "..") and not any(ord(char) < 0x20 or char == "\x7f" for char in name)


class _Upload:
    """One request's upload, on the loop: the temporary files it writes, and its answer."""

    def __init__(self, uploads: Uploads, exchange: Exchange, redirect: str = "") -> None:
        self._uploads = uploads
        self._exchange = exchange
        self._redirect = redirect  # where a form's answer sends the browser: the listing
        self.parser: MultipartParser | None = None  # for a form
        self.directory = ""  # a form's target directory (real path)
        self.directory_url = ""
        self._targets: list[_Target] = []
        self._current: _Target | None = None  # the file the body's bytes go to now
        self._folder_field: bytearray | None = None  # the folder name being received
        self.folder: str | None = None  # the folder the form asks to make in the directory (real path)
        self._done = False  # answered, or handed to the background thread: ignore what still comes

    def open(self, directory: str, name: str, url: str) -> None:
        """Start receiving the file ``name`` in ``directory``. Raises UploadError or OSError."""
        if any(target.final == os.path.join(directory, name) for target in self._targets):
            raise UploadError(409, f"{name!r} is in the form twice")
        target = self._uploads.new_target(directory, name, url)
        self._targets.append(target)
        self._current = target

    # -- body events (on the loop) ----------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        if self._done:
            return
        try:
            if self.parser is None:
                self._write(data)
            else:
                self._receive_form(data)
        except Exception as error:
            self._fail(error)

    def _receive_form(self, data: bytes) -> None:
        assert self.parser is not None
        for event in self.parser.receive_data(data):
            if isinstance(event, PartData):
                if self._current is not None:
                    self._write(event.data)
                elif self._folder_field is not None:
                    self._folder_field += event.data
                    if len(self._folder_field) > MAX_NAME:
                        raise UploadError(400, f"a folder name is at most {MAX_NAME} bytes")
            elif isinstance(event, Part):
                # Another plain field, or a file input left empty (filename=""), is read and dropped.
                if event.filename:
                    if len(self._targets) == MAX_FILES:
                        raise UploadError(400, f"more than {MAX_FILES} files in one form")
                    name = form_file_name(event.filename)
                    self._uploads.check_name(name)
                    self.open(self.directory, name, self.directory_url + quote_segment(name))
                elif event.name == FOLDER_FIELD and event.filename is None:
                    if self.folder is not None or self._folder_field is not None:
                        raise UploadError(400, "one folder at a time")
                    self._folder_field = bytearray()
            elif isinstance(event, PartEnd):
                self._current = None
                if self._folder_field is not None:
                    name = folder_name(bytes(self._folder_field))
                    self._uploads.check_name(name)
                    self.folder = os.path.join(self.directory, name)
                    self._folder_field = None

    def _write(self, data: bytes) -> None:
        assert self._current is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._current.fd, view) :]

    def body_ended(self) -> None:
        if self._done:
            return
        try:
            if self.parser is not None:
                self.parser.end()
                if not self._targets and self.folder is None:
                    raise UploadError(400, "the form holds no file and no folder name")
        except Exception as error:
            self._fail(error)
            return
        self._done = True
        uploads = self._uploads
        store = partial(_store, self._targets, uploads.overwrite, self.folder)
        uploads.jobs.run(self._exchange.loop, store, self._stored)

    def abandon(self) -> None:
        """The connection ended before the answer: unless the body was whole and is being stored,
        what was written goes."""
        if not self._done:
            self._done = True
            self._discard()

    # -- answers ----------------------------------------------------------------------------------

    def _stored(self, _result: None, error: Exception | None) -> None:
        """On the loop: the background thread has stored the files, or failed (some may be stored)."""
        for target in self._targets:
            self._uploads.stored(target.url, os.path.dirname(target.final))
        if self.folder is not None:
            url = self.directory_url + quote_segment(os.path.basename(self.folder))
            for each in (url, url + "/"):
                self._uploads.stored(each, self.directory)
        exchange = self._exchange
        if error is not None:
            self._answer_error(error)
            return
        fields = self._uploads.fields
        if self.parser is not None:
            # 303: the browser fetches the listing, which now shows the files (RFC 9110 15.4.4).
            exchange.respond(303, [("Location", self._redirect), *fields])
        elif self._targets[0].existed:
            exchange.respond(204, list(fields))  # RFC 9110 9.3.4: a replaced representation
        else:
            location = self._targets[0].url
            body = f"created {location}\n".encode()
            exchange.respond(
                201, [("Location", location), ("Content-Type", "text/plain; charset=utf-8"), *fields], body
            )

    def _fail(self, error: Exception) -> None:
        """Refuse the request now: remove what was written, read no more of the body, answer."""
        self._done = True
        self._discard()
        self._exchange.stop_body_delivery()
        self._answer_error(error)

    def _answer_error(self, error: Exception) -> None:
        if isinstance(error, (UploadError, PathError)):
            status, reason = error.status, error.reason
        elif isinstance(error, MultipartError):
            status, reason = 400, error.reason
        elif isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            status, reason = 507, "no space left for the file"  # RFC 4918 11.5
        elif isinstance(error, OSError):
            logger.warning("%r: the upload failed: %s", self._exchange, error)
            status, reason = 500, "the file could not be stored"
        else:
            raise error
        if not self._exchange.response_started:
            self._uploads.errors(self._exchange, status, reason)

    def _discard(self) -> None:
        for target in self._targets:
            _remove(target)
        self._current = None


def _store(targets: list[_Target], overwrite: bool, folder: str | None = None) -> None:
    """On a background thread: make ``folder`` if given; make each file durable, then move it into
    place, atomically and without replacing an existing file unless ``overwrite``; then make the
    directory entries durable. Raises UploadError(409) if a name is taken (the folder's, or a file's
    meanwhile), or OSError; either way no temporary file is left, and what was already made stays."""
    try:
        if folder is not None:
            try:
                os.mkdir(folder)  # the umask applies, as to any new folder
            except FileExistsError:
                raise UploadError(409, f"{os.path.basename(folder)!r} already exists") from None
        for target in targets:
            os.fsync(target.fd)
            os.close(target.fd)
            target.fd = -1
        for target in targets:
            if overwrite:
                os.replace(target.temporary, target.final)
            else:
                try:
                    os.link(target.temporary, target.final)  # fails if the name exists: no clobbering
                except FileExistsError:
                    raise UploadError(409, f"{os.path.basename(target.final)!r} already exists") from None
                os.unlink(target.temporary)
        made = [folder] if folder is not None else []
        for directory in {os.path.dirname(path) for path in [*made, *(target.final for target in targets)]}:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    finally:
        for target in targets:
            _remove(target)


def _remove(target: _Target) -> None:
    """Close and delete a temporary file, whatever state it is in."""
    if target.fd >= 0:
        os.close(target.fd)
        target.fd = -1
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target.temporary)
