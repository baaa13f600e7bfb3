"""The benchmark's proxy suite: our --proxy and nginx proxy_pass in front of one backend, each serving
the site's files through the proxy before anything is measured."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

import loadtest.nginx
from loadtest import bench, servers
from reactor.upstream import MAX_IDLE


def test_the_proxy_suite_measures_both_proxies_on_one_backend() -> None:
    suite = bench.proxy_suite()
    assert "proxy" in bench.SUITES and "proxy" not in bench.DEFAULT_SUITES
    assert [scenario.path for scenario in suite.scenarios] == [bench.ONE_KIB, bench.ONE_MIB]
    assert all(scenario.path.startswith(bench.PROXIED + "/") for scenario in suite.scenarios)
    ((backend, port),) = suite.backends
    ours = suite.servers[0]
    assert ours.name == "reactor --proxy"
    command = ours.command(Path("/srv/site"), 8080)
    assert command[command.index("--proxy") + 1] == f"{bench.PROXIED}=http://127.0.0.1:{port}"
    if loadtest.nginx.installed():
        assert backend.name == "nginx"
        assert [server.name for server in suite.servers] == ["reactor --proxy", "nginx proxy_pass"]
        assert suite.reference == "nginx proxy_pass"


def test_nginx_proxies_with_keep_alive_to_the_upstream() -> None:
    where = Path("/srv")
    text = loadtest.nginx.config(where, 8080, where, proxy_to=9000)
    assert "server 127.0.0.1:9000;" in text and f"keepalive {MAX_IDLE};" in text
    assert "proxy_pass http://backend;" in text and "proxy_http_version 1.1;" in text
    assert 'proxy_set_header Connection "";' in text
    assert "root " not in text
    assert "upstream" not in loadtest.nginx.config(where, 8080, where)


@pytest.mark.skipif(not loadtest.nginx.installed(), reason="nginx is not installed (apt-get install -y nginx-light)")
def test_both_proxies_pass_the_site_s_files_on(tmp_path: Path) -> None:
    docroot = tmp_path / "site"
    (docroot / "data").mkdir(parents=True)
    (docroot / "data" / "1KiB.bin").write_bytes(bytes(range(256)) * 4)
    suite = bench.proxy_suite()
    ((backend, backend_port),) = suite.backends
    started = [servers.start("backend", backend.command(docroot, backend_port), backend_port, None, tmp_path / "b")]
    try:
        for server in suite.servers:
            port = servers.free_port()
            log = tmp_path / f"{server.name.replace(' ', '_')}.log"
            started.append(servers.start(server.name, server.command(docroot, port), port, None, log))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for _ in range(2):  # the second on the same connections, both ways
                connection.request("GET", bench.ONE_KIB)
                response = connection.getresponse()
                assert (response.status, response.read()) == (200, bytes(range(256)) * 4), server.name
            connection.close()
    finally:
        for process in started:
            process.stop()
