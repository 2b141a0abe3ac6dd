"""README.md's snippets, run as a reader would run them, so they cannot rot.

Every ```python block is saved as a script and run with this venv's Python against a fresh server
started the way the README's nearest preceding `uc-emulator serve` command says (its
`--fixtures`), with the README's address replaced by the test server's. Output shown in the
README as comments right after a `print(...)` must be what the script prints (`...` stands for any
text). `uc-emulator explain` commands run against the database of the block before them. The
fixture keys the README lists are exactly the keys the fixture parser accepts."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from conftest import REPO_ROOT, Server, ServerWithArgs, emulator_bin

README = REPO_ROOT / "README.md"
README_HOST = "http://127.0.0.1:8080"


@dataclass
class Block:
    lang: str
    code: str
    line: int  # 1-based line of the opening fence


def blocks() -> list[Block]:
    out, lang, start, buf = [], None, 0, []
    for n, line in enumerate(README.read_text().splitlines(), 1):
        fence = re.match(r"^\s*```(\S*)\s*$", line)
        if fence and lang is None:
            lang, start, buf = fence.group(1), n, []
        elif fence:
            out.append(Block(lang, "\n".join(buf) + "\n", start))
            lang = None
        elif lang is not None:
            buf.append(line)
    assert lang is None, "README.md has an unclosed code fence"
    return out


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a shell block (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in joined.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # a placeholder such as <the URL you cloned from> is no command
            continue
        if words:
            out.append(words)
    return out


def serve_command_before(all_blocks: list[Block], index: int) -> list[str]:
    for b in reversed(all_blocks[:index]):
        if b.lang in ("sh", "bash", "console"):
            for cmd in reversed(shell_commands(b.code)):
                if "serve" in cmd and any(c.endswith("uc-emulator") for c in cmd):
                    return cmd
    raise AssertionError(f"no `uc-emulator serve` command before the block at README.md line {all_blocks[index].line}")


def data_plane_args(all_blocks: list[Block], serve: list[str], tmp_path) -> tuple[list[str], dict]:
    """The serve command's `--storage-map`, `--file-root`, `--s3-bind` and `--credential-lifetime`,
    each README directory replaced by a fresh one under `tmp_path`, filled by the `cp` commands
    of the block that holds the serve command; and the README directories with their stand-ins
    (the snippets' text names them too)."""
    dirs: dict[str, object] = {}

    def local(d: str):
        key = d.rstrip("/")
        if key not in dirs:
            dirs[key] = tmp_path / f"dir{len(dirs)}"
            dirs[key].mkdir(parents=True)
        return dirs[key]

    extra = []
    for m in option(serve, "--storage-map"):
        url, d = m.split("=", 1)
        extra += ["--storage-map", f"{url}={local(d)}"]
    for d in option(serve, "--file-root"):
        extra += ["--file-root", str(local(d))]
    if option(serve, "--s3-bind"):
        extra += ["--s3-bind", "127.0.0.1:0"]
    for v in option(serve, "--credential-lifetime"):
        extra += ["--credential-lifetime", v]
    block = next(b for b in all_blocks if b.lang in ("sh", "bash") and serve in shell_commands(b.code))
    for line in shell_commands(block.code):
        commands, current = [], []
        for w in line + ["&&"]:
            if w == "&&":
                commands.append(current)
                current = []
            else:
                current.append(w)
        for words in commands:
            if words[:1] == ["cp"]:
                src, dst = words[-2], words[-1].rstrip("/")
                if dst in dirs:
                    shutil.copytree(REPO_ROOT / src.removesuffix("/."), dirs[dst], dirs_exist_ok=True)
    return extra, dirs


def option(cmd: list[str], name: str) -> list[str]:
    return [cmd[i + 1] for i, c in enumerate(cmd[:-1]) if c == name]


def expected_outputs(code: str) -> list[str]:
    """The comment lines right after each `print(...)`, joined: what that print shows."""
    out, lines = [], code.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("print("):
            shown = []
            for nxt in lines[i + 1:]:
                if not nxt.lstrip().startswith("# ") or nxt.lstrip().startswith("# ---"):
                    break
                shown.append(nxt.lstrip()[2:])
            if shown:
                out.append(" ".join(shown))
    return out


def matches(expected: str, printed: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in re.split(r"\s*\.\.\.\s*", " ".join(expected.split())))
    return re.search(pattern, " ".join(printed.split())) is not None


PY_BLOCKS = [(i, b) for i, b in enumerate(blocks()) if b.lang == "python"]


def test_the_readme_has_python_snippets():
    assert len(PY_BLOCKS) >= 2
    assert all(README_HOST in b.code for _, b in PY_BLOCKS), "every snippet talks to the README's address"


@pytest.mark.parametrize("index,block", PY_BLOCKS, ids=[f"line{b.line}" for _, b in PY_BLOCKS])
def test_python_block_runs_as_a_script(index, block, tmp_path, _reaper):
    all_blocks = blocks()
    serve = serve_command_before(all_blocks, index)
    fixtures = [str(REPO_ROOT / f) for f in option(serve, "--fixtures")]
    db = tmp_path / "readme.db"
    extra, dirs = data_plane_args(all_blocks, serve, tmp_path)
    if extra:
        server = ServerWithArgs(str(db), fixtures, tmp_path / "server.log", extra)
    else:
        server = Server(str(db), fixtures, tmp_path / "server.log")
    try:
        script = tmp_path / "snippet.py"
        code = block.code.replace(README_HOST, server.url)
        for readme_dir, real in dirs.items():
            code = code.replace(readme_dir, str(real))
        script.write_text(code)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                             cwd=tmp_path, env=env)
        # The deltalake Python client sometimes aborts at interpreter shutdown after all its work
        # is done ("terminate called without an active exception", SIGABRT; delta-io/delta-rs
        # issue 2184). That abort is the client's, not the emulator's: it is accepted only when
        # it is exactly that message and the printed output below still matches in full.
        # polars writes through the same deltalake client, so both kinds of snippet qualify.
        client_abort = (run.returncode == -6 and ("deltalake" in code or "polars" in code)
                        and "terminate called without an active exception" in run.stderr
                        and bool(expected_outputs(block.code)))
        assert run.returncode == 0 or client_abort, f"README.md line {block.line}:\n{run.stderr}"
        for shown in expected_outputs(block.code):
            shown = shown.replace(README_HOST, server.url)  # printed addresses are the server's
            assert matches(shown, run.stdout), f"README.md line {block.line} shows {shown!r}; the script printed:\n{run.stdout}"

        # The `uc-emulator explain` commands of the next shell block read the same database.
        later = all_blocks[index + 1:]
        following = next((b for b in later if b.lang in ("sh", "bash")), None)
        for cmd in shell_commands(following.code) if following else []:
            if cmd[:2] == ["uc-emulator", "explain"]:
                readme_db = option(serve, "--db")
                args = [str(db) if readme_db and a == readme_db[0] else a for a in cmd[1:]]
                env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
                out = subprocess.run([str(emulator_bin()), *args], capture_output=True, text=True, timeout=30, env=env)
                assert out.stdout.startswith(("ALLOWED: ", "DENIED: ")), out.stdout
                # explain exits 1 on DENIED, so that scripts can branch on the verdict.
                assert out.returncode == (0 if out.stdout.startswith("ALLOWED: ") else 1), out.stderr
                for shown in expected_outputs_of_shell(following.code):
                    assert matches(shown, out.stdout), (shown, out.stdout)
    finally:
        server.stop()


def expected_outputs_of_shell(code: str) -> list[str]:
    """Comment lines after a command in a shell block: what it prints."""
    lines = code.splitlines()
    shown = [ln.lstrip()[2:] for ln in lines if ln.lstrip().startswith("# ")]
    return [" ".join(shown)] if shown else []


def test_fixture_keys_listed_are_the_accepted_ones(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"no_such_key": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    run = subprocess.run([str(emulator_bin()), "serve", "--db", ":memory:", "--fixtures", str(bogus)],
                         capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 2
    accepted = set(re.findall(r"`(\w+)`", run.stderr.split("expected one of", 1)[1]))
    assert "workspaces" in accepted and "tables" in accepted, run.stderr
    text = README.read_text()
    section = text[text.index("### Fixtures"):]
    section = section[:section.index("\n## ")]
    sentence = section.split("top-level keys", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`(\w+)`", re.sub(r"\([^()]*\)", "", sentence)))  # not the (sub-keys)
    assert accepted <= listed, f"README.md does not list the fixture keys {sorted(accepted - listed)}"
    assert listed <= accepted, f"README.md lists fixture keys that do not exist: {sorted(listed - accepted)}"
