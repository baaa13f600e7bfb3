"""Hidden names, symlinks, caching headers, error pages, single-page apps, MIME overrides and CORS,
each over real sockets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from tests.conftest import LiveServer
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture
def private(docroot: Path) -> Path:
    (docroot / ".env").write_text("SECRET=1\n")
    (docroot / ".git").mkdir()
    (docroot / ".git" / "config").write_text("[core]\n")
    (docroot / "public").mkdir()
    (docroot / "public" / ".htpasswd").write_text("user:hash\n")
    (docroot / ".well-known").mkdir()
    (docroot / ".well-known" / "security.txt").write_text("Contact: mailto:a@b\n")
    return docroot


# -- hidden names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/.env", "/.git/config", "/.git/", "/.git", "/public/.htpasswd", "/%2eenv"])
def test_dot_names_are_404_by_default(serve: ServeStatic, private: Path, path: str) -> None:
    response = fetch(serve().port, path)
    assert response.status == 404
    assert b"SECRET" not in response.body and b"core" not in response.body


def test_show_hidden_serves_dot_names(serve: ServeStatic, private: Path) -> None:
    server = serve(show_hidden=True)
    assert fetch(server.port, "/.env").body == b"SECRET=1\n"
    assert fetch(server.port, "/.git/config").body == b"[core]\n"


def test_well_known_is_served_because_it_exists_to_be_fetched(serve: ServeStatic, private: Path) -> None:
    # RFC 8615: ACME challenges and security.txt live there.
    server = serve()
    assert fetch(server.port, "/.well-known/security.txt").status == 200
    assert fetch(server.port, "/public/.well-known/x").status == 404  # only at the top


# -- symlinks -------------------------------------------------------------------------------------


def test_symlinks_leaving_the_root_are_refused_by_default(live_server: LiveServer) -> None:
    assert fetch(live_server.port, "/link-out.txt").status == 403
    assert fetch(live_server.port, "/dir-out/secret.txt").status == 403
    assert fetch(live_server.port, "/link-in.txt").body == b"hello world\n"


def test_follow_symlinks_lifts_the_rule(serve: ServeStatic) -> None:
    server = serve(follow_symlinks=True)
    assert fetch(server.port, "/link-out.txt").body == b"secret"
    assert fetch(server.port, "/dir-out/secret.txt").body == b"secret"
    assert fetch(server.port, "/../outside/secret.txt").status == 403  # ".." is still no way out


def test_an_index_symlink_leaving_the_root_is_not_served(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "trap").mkdir()
    os.symlink(docroot.parent / "outside" / "secret.txt", docroot / "trap" / "index.html")
    response = fetch(serve().port, "/trap/")
    assert b"secret" not in response.body
    assert response.status == 200 and b"Index of" in response.body  # listed instead (and the link hidden)


# -- edge cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/hello.txt/x", "/hello.txt/", "/hello.txt/../hello.txt/x", "/site/index.html/x"])
def test_a_file_used_as_a_directory_is_404(live_server: LiveServer, path: str) -> None:
    assert fetch(live_server.port, path).status == 404


# -- caching ----------------------------------------------------------------------------------------


def test_cache_control_goes_on_file_responses_304_included(serve: ServeStatic) -> None:
    server = serve(cache_control="public, max-age=60")
    first = fetch(server.port, "/hello.txt")
    assert first.header("Cache-Control") == "public, max-age=60"
    assert fetch(server.port, "/1k.bin", [("Range", "bytes=0-1")]).header("Cache-Control") == "public, max-age=60"
    revalidated = fetch(server.port, "/hello.txt", [("If-None-Match", first.header("ETag") or "")])
    assert revalidated.status == 304
    assert revalidated.header("Cache-Control") == "public, max-age=60"
    assert fetch(server.port, "/listed/").header("Cache-Control") is None
    assert fetch(server.port, "/nope").header("Cache-Control") is None


def test_no_cache_control_by_default(live_server: LiveServer) -> None:
    assert fetch(live_server.port, "/hello.txt").header("Cache-Control") is None


# -- error pages ----------------------------------------------------------------------------------


@pytest.fixture
def pages(docroot: Path) -> Path:
    (docroot / "errors").mkdir()
    (docroot / "errors" / "404.html").write_text("<h1>Lost?</h1>\n")
    (docroot / "errors" / "403.txt").write_text("go away\n")
    (docroot / "app.html").write_text("<!doctype html><title>app</title>\n")
    return docroot


def test_error_page_is_the_body_of_its_status(serve: ServeStatic, pages: Path) -> None:
    server = serve(error_pages={404: "/errors/404.html", 403: "/errors/403.txt"}, listing=False)
    response = fetch(server.port, "/nope")
    assert (response.status, response.body) == (404, b"<h1>Lost?</h1>\n")
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    forbidden = fetch(server.port, "/listed/")
    assert (forbidden.status, forbidden.body) == (403, b"go away\n")
    assert forbidden.header("Content-Type") == "text/plain; charset=utf-8"
    head = fetch(server.port, "/nope", method="HEAD")
    assert (head.status, head.body, head.header("Content-Length")) == (404, b"", "15")


def test_statuses_without_a_page_keep_the_built_in_one(serve: ServeStatic, pages: Path) -> None:
    server = serve(error_pages={404: "/errors/404.html"})
    response = fetch(server.port, "/hello.txt", method="DELETE")
    assert response.status == 405 and response.header("Allow") == "GET, HEAD"
    assert b"405" in response.body


def test_an_error_page_gone_at_run_time_falls_back_to_the_built_in_page(serve: ServeStatic, pages: Path) -> None:
    server = serve(error_pages={404: "/errors/404.html"})
    (pages / "errors" / "404.html").unlink()
    response = fetch(server.port, "/nope")
    assert response.status == 404 and b"404" in response.body


def test_416_can_have_an_error_page_and_keeps_its_content_range(serve: ServeStatic, pages: Path) -> None:
    server = serve(error_pages={416: "/errors/403.txt"})
    response = fetch(server.port, "/hello.txt", [("Range", "bytes=100-")])
    assert (response.status, response.body) == (416, b"go away\n")
    assert response.header("Content-Range") == "bytes */12"


@pytest.mark.parametrize("page", ["/errors/none.html", "/errors/", "/../outside/secret.txt", "/link-out.txt"])
def test_an_error_page_must_be_a_file_under_the_root(docroot: Path, pages: Path, page: str) -> None:
    with pytest.raises(ValueError, match="not a file"):
        StaticFiles(str(docroot), StaticOptions(error_pages={404: page}))


# -- single-page apps -----------------------------------------------------------------------------


def test_spa_answers_unknown_paths_that_ask_for_html(serve: ServeStatic, pages: Path) -> None:
    server = serve(spa="/app.html")
    response = fetch(server.port, "/dashboard/settings", [("Accept", BROWSER)])
    assert response.status == 200
    assert response.body == b"<!doctype html><title>app</title>\n"
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert response.header("Vary") == "Accept-Encoding, Accept"
    assert response.header("ETag") is not None


def test_spa_leaves_other_requests_alone(serve: ServeStatic, pages: Path) -> None:
    server = serve(spa="/app.html", error_pages={404: "/errors/404.html"})
    missing_asset = fetch(server.port, "/missing.js", [("Accept", "*/*")])
    assert (missing_asset.status, missing_asset.body) == (404, b"<h1>Lost?</h1>\n")
    assert missing_asset.header("Vary") == "Accept"
    assert fetch(server.port, "/nope").status == 404  # no Accept at all
    assert fetch(server.port, "/hello.txt", [("Accept", BROWSER)]).body == b"hello world\n"
    assert fetch(server.port, "/link-out.txt", [("Accept", BROWSER)]).status == 403  # refused, not missing
    assert fetch(server.port, "/nope", [("Accept", BROWSER)], method="POST").status == 405


def test_spa_entry_revalidates(serve: ServeStatic, pages: Path) -> None:
    server = serve(spa="/app.html")
    etag = fetch(server.port, "/a/b", [("Accept", BROWSER)]).header("ETag") or ""
    assert fetch(server.port, "/c/d", [("Accept", BROWSER), ("If-None-Match", etag)]).status == 304


def test_spa_entry_gone_at_run_time_gives_404(serve: ServeStatic, pages: Path) -> None:
    server = serve(spa="/app.html")
    (pages / "app.html").unlink()
    assert fetch(server.port, "/somewhere", [("Accept", BROWSER)]).status == 404


# -- MIME types -----------------------------------------------------------------------------------


def test_mime_overrides_add_and_replace(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "notes.org").write_text("* hi\n")
    server = serve(mime_types={"org": "text/org", "js": "application/javascript"})
    assert fetch(server.port, "/notes.org").header("Content-Type") == "text/org; charset=utf-8"
    assert fetch(server.port, "/app.js").header("Content-Type") == "application/javascript; charset=utf-8"
    assert fetch(server.port, "/data.json").header("Content-Type") == "application/json; charset=utf-8"


# -- CORS -------------------------------------------------------------------------------------------


def test_cors_header_on_every_response(serve: ServeStatic) -> None:
    server = serve(cors=True)
    for path in ["/hello.txt", "/listed/", "/nope", "/site"]:
        assert fetch(server.port, path).header("Access-Control-Allow-Origin") == "*", path
    etag = fetch(server.port, "/hello.txt").header("ETag") or ""
    revalidated = fetch(server.port, "/hello.txt", [("If-None-Match", etag)])
    assert revalidated.header("Access-Control-Allow-Origin") == "*"
    exposed = fetch(server.port, "/hello.txt").header("Access-Control-Expose-Headers") or ""
    assert {"Content-Range", "ETag", "Accept-Ranges"} <= {name.strip() for name in exposed.split(",")}


def test_cors_preflight_is_answered(serve: ServeStatic) -> None:
    server = serve(cors=True)
    preflight = [
        ("Origin", "https://app.example"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "range, x-requested-with"),
    ]
    response = fetch(server.port, "/1k.bin", preflight, method="OPTIONS")
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == "*"
    assert response.header("Access-Control-Allow-Methods") == "GET, HEAD, OPTIONS"
    assert response.header("Access-Control-Allow-Headers") == "range, x-requested-with"
    assert response.header("Access-Control-Max-Age") == "86400"
    assert response.header("Content-Length") is None  # RFC 9110 8.6: none in a 204


def test_cors_options_without_preflight_fields_lists_the_methods(serve: ServeStatic) -> None:
    response = fetch(serve(cors=True).port, "/hello.txt", method="OPTIONS")
    assert response.status == 204 and response.header("Allow") == "GET, HEAD, OPTIONS"
    assert response.header("Access-Control-Allow-Methods") is None


def test_without_cors_there_are_no_cors_headers_and_options_is_405(live_server: LiveServer) -> None:
    assert fetch(live_server.port, "/hello.txt").header("Access-Control-Allow-Origin") is None
    preflight = [("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET")]
    assert fetch(live_server.port, "/hello.txt", preflight, method="OPTIONS").status == 405


def test_a_preflight_asking_for_odd_header_names_gets_no_allow_headers(serve: ServeStatic) -> None:
    preflight = [("Origin", "x"), ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "a b")]
    response = fetch(serve(cors=True).port, "/hello.txt", preflight, method="OPTIONS")
    assert response.status == 204 and response.header("Access-Control-Allow-Headers") is None
