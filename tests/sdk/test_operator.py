"""What an operator sees: the command line's errors, the request log (text and JSON), request ids,
colour only on a terminal, and the `healthcheck` subcommand containers use."""

import json
import os
import pty
import re
import select
import subprocess
import time
import uuid

import pytest
import requests

from conftest import UC, ServerWithArgs, emulator_bin

ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def _run(*args, env=None, timeout=30):
    e = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    e.update(env or {})
    return subprocess.run([str(emulator_bin()), *args], capture_output=True, text=True, env=e, timeout=timeout)


# --- command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,env,mentions",
    [
        (["serve", "--no-such-flag"], {}, "--no-such-flag"),
        (["serve", "--bind"], {}, "--bind"),
        (["serve", "--log-format", "xml"], {}, "text, json"),
        (["serve", "--storage-map", "s3://b=/no/such/dir"], {}, "/no/such/dir"),
        (["serve"], {"UC_EMULATOR_LOG_FORMAT": "yaml"}, "yaml"),
        (["sevre"], {}, "serve"),
        ([], {}, "subcommand"),
        (["explain", "--db"], {}, "--db"),
        (["healthcheck", "--timeout", "0"], {}, "--timeout"),
        (["serve", "--presigned-url-lifetime", "0"], {}, "--presigned-url-lifetime"),
        (["serve"], {"UC_EMULATOR_PRESIGNED_URL_LIFETIME": "604801"}, "604801"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2(tmp_path, args, env, mentions):
    r = _run(*args, env={"UC_EMULATOR_DB": str(tmp_path / "x.db"), **env})
    assert r.returncode == 2, r
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("uc-emulator: ") and mentions in lines[0], lines[0]
    assert "--help" in lines[0], "the line says where the usage is"
    assert not ANSI.search(r.stderr.encode())
    assert not (tmp_path / "x.db").exists(), "nothing is started"


def test_help_and_version_exit_0():
    for args in (["--help"], ["serve", "--help"], ["healthcheck", "--help"]):
        r = _run(*args)
        assert r.returncode == 0 and r.stderr == "" and "Usage:" in r.stdout, (args, r)
    help_text = _run("serve", "--help").stdout
    for flag in ("--log-format", "UC_EMULATOR_LOG_FORMAT", "--bind", "--db", "--fixtures", "--storage-map"):
        assert flag in help_text
    r = _run("--version")
    assert r.returncode == 0 and re.fullmatch(r"uc-emulator \d+\.\d+\.\d+\n", r.stdout), r.stdout


# --- healthcheck -------------------------------------------------------------------------------


def test_healthcheck_subcommand(uc):
    port = uc.url.rsplit(":", 1)[1]
    r = _run("healthcheck", "--bind", f"127.0.0.1:{port}")
    assert r.returncode == 0 and r.stdout.strip().endswith("healthy"), r
    # The container's variable, with a wildcard host, is enough.
    r = _run("healthcheck", env={"UC_EMULATOR_BIND": f"0.0.0.0:{port}"})
    assert r.returncode == 0, r
    uc.stop()
    r = _run("healthcheck", "--bind", f"127.0.0.1:{port}", "--timeout", "2")
    assert r.returncode == 1 and r.stdout == "", r
    assert len(r.stderr.splitlines()) == 1 and "127.0.0.1" in r.stderr, r.stderr


def test_healthz_serves_get_only(uc):
    r = uc.raw("DELETE", "/healthz", token=None)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert r.json()["error_code"] == "METHOD_NOT_ALLOWED"
    r = uc.raw("POST", "/.well-known/databricks-config", token=None)
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


# --- request ids ---------------------------------------------------------------------------------


def test_request_id_is_returned_and_an_incoming_one_kept(uc):
    r = uc.raw("GET", f"{UC}/catalogs")
    generated = r.headers["X-Request-Id"]
    assert uuid.UUID(generated)
    assert uc.raw("GET", f"{UC}/catalogs").headers["X-Request-Id"] != generated
    r = uc.raw("GET", f"{UC}/catalogs/private", token="alice", headers={"X-Request-Id": "trace-42.a_b"})
    assert r.status_code == 403 and r.headers["X-Request-Id"] == "trace-42.a_b"
    assert uc.raw("GET", "/healthz", token=None, headers={"X-Request-Id": "hz"}).headers["X-Request-Id"] == "hz"
    # One that is not safe to echo or log is replaced.
    for bad in ("x" * 129, "has space"):
        got = uc.raw("GET", "/healthz", token=None, headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert got != bad and uuid.UUID(got)


# --- the request log ---------------------------------------------------------------------------


def _server(tmp_path, fixture_file, args, env=None):
    log = tmp_path / "server.log"
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        s = ServerWithArgs(str(tmp_path / "uc.db"), [fixture_file], log, args)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return s, log


def _stop(s):
    assert s.stop() == 0


def test_json_log_has_one_object_per_request(tmp_path, fixture_file):
    s, log = _server(tmp_path, fixture_file, ["--log-format", "json"], {"RUST_LOG": "info"})
    try:
        s.raw("GET", f"{UC}/catalogs", headers={"X-Request-Id": "req-ok"})
        s.raw("GET", f"{UC}/catalogs/private", token="alice", headers={"X-Request-Id": "req-denied"})
        s.raw("GET", f"{UC}/catalogs", token="dapi-wrong-token", headers={"X-Request-Id": "req-401"})
        s.raw("GET", "/healthz", token=None, headers={"X-Request-Id": "req-health"})
        # The permission explorer's view-as: the admin reads as alice.
        s.raw("GET", f"{UC}/catalogs", headers={"X-Request-Id": "req-view-as",
                                                "X-UC-Emulator-View-As": "alice@example.com"})
        alice_id = s.alice.current_user.me().id
    finally:
        _stop(s)
    text = log.read_text()
    assert not ANSI.search(text.encode())
    lines = [json.loads(line) for line in text.splitlines()]  # every line is a JSON object
    requests_logged = {o["request_id"]: o for o in lines if o.get("message") == "request"}
    ok = requests_logged["req-ok"]
    assert ok["method"] == "GET" and ok["route"] == "/api/2.1/unity-catalog/catalogs" and ok["status"] == 200
    assert "error_code" not in ok and ok["principal"] == "admin@example.com" and ok["principal_id"].isdigit()
    denied = requests_logged["req-denied"]
    assert denied["route"] == "/api/2.1/unity-catalog/catalogs/{name}", "the route template, not the path"
    assert denied["status"] == 403 and denied["error_code"] == "PERMISSION_DENIED"
    assert denied["principal_id"] == alice_id
    unauth = requests_logged["req-401"]
    assert unauth["status"] == 401 and unauth["error_code"] == "UNAUTHENTICATED" and "principal_id" not in unauth
    assert requests_logged["req-health"]["status"] == 200
    # A view-as request logs both principals: the one it acted as, and the signed-in one.
    viewed = requests_logged["req-view-as"]
    assert viewed["status"] == 200 and viewed["principal"] == "alice@example.com", viewed
    assert viewed["principal_id"] == alice_id and viewed["signed_in"] == "admin@example.com", viewed
    assert "signed_in" not in ok
    for o in requests_logged.values():
        assert isinstance(o["duration_ms"], (int, float)) and o["duration_ms"] >= 0
        assert len(repr(float(o["duration_ms"])).split(".")[1]) <= 3, o["duration_ms"]
    # Never a token, not even a wrong one.
    for token in ("dapi-admin", "dapi-alice", "dapi-wrong-token"):
        assert token not in text


def test_text_log_to_a_file_has_no_colour(tmp_path, fixture_file):
    s, log = _server(tmp_path, fixture_file, [], {"RUST_LOG": "info"})
    try:
        s.raw("GET", f"{UC}/catalogs/private", token="alice", headers={"X-Request-Id": "plain-1"})
    finally:
        _stop(s)
    text = log.read_bytes()
    assert not ANSI.search(text), text[:300]
    line = next(ln for ln in text.decode().splitlines() if "plain-1" in ln)
    for part in ("GET", "/api/2.1/unity-catalog/catalogs/{name}", "status=403", 'error_code="PERMISSION_DENIED"',
                 "alice@example.com"):
        assert part in line, line
    assert re.search(r"duration_ms=\d+(\.\d{1,3})?( |$)", line), line


def _stderr_on_a_terminal(tmp_path, env):
    """Starts a server whose stderr is a pseudo-terminal, makes one request, returns what the
    terminal received."""
    master, slave = pty.openpty()
    e = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_") and k != "NO_COLOR"}
    e.update({"RUST_LOG": "info", **env})
    proc = subprocess.Popen(
        [str(emulator_bin()), "serve", "--bind", "127.0.0.1:0", "--db", str(tmp_path / "tty.db")],
        stdout=subprocess.PIPE, stderr=slave, env=e,
    )
    os.close(slave)
    try:
        url = proc.stdout.readline().decode().strip().rsplit(" ", 1)[1]
        requests.get(url + "/healthz", headers={"X-Request-Id": "tty-1"}, timeout=10)
        out, deadline = b"", time.time() + 10
        while b"tty-1" not in out and time.time() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                out += os.read(master, 65536)
        return out
    finally:
        proc.terminate()
        proc.wait(15)
        os.close(master)


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path):
    assert ANSI.search(_stderr_on_a_terminal(tmp_path, {})), "a terminal gets colour"
    out = _stderr_on_a_terminal(tmp_path, {"NO_COLOR": "1"})
    assert b"tty-1" in out and not ANSI.search(out), out[:300]


# --- container files (no Docker engine needed) -----------------------------------------------------


def test_container_needs_no_curl_and_publishes_on_loopback():
    from conftest import REPO_ROOT

    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    installs = " ".join(line for line in dockerfile.splitlines() if "apt-get install" in line)
    assert "curl" not in installs, installs
    assert 'HEALTHCHECK' in dockerfile and 'CMD ["uc-emulator", "healthcheck"]' in dockerfile
    assert "NO_COLOR=1" in dockerfile
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    ports = [ln.strip() for ln in compose.splitlines() if ln.strip().startswith("- \"") and ":8080\"" in ln]
    assert ports == ['- "${UC_EMULATOR_PUBLISH:-127.0.0.1:8080}:8080"'], ports
    assert 'test: ["CMD", "uc-emulator", "healthcheck"]' in compose
    assert 'NO_COLOR: "1"' in compose
