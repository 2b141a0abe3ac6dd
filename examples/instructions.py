#!/usr/bin/env python3
"""Instructions per request of the server and of the benchmark's ceiling, under callgrind.

Wall-clock rates move with whatever else the machine runs; instruction counts do not. This
script starts the server (and the ceiling of `examples/bench.rs`) under valgrind's callgrind,
sends a warm-up, zeroes the counters, sends N requests on one keep-alive connection, dumps the
counters and divides: instructions per request of the whole process, every thread included.

    cargo build --release --examples
    target/release/examples/bench --keep /tmp/pb --tables 1000 --seconds 0.3 --sustain 1
    python3 examples/instructions.py /tmp/pb [--requests 2000] [--only getTable,ceiling-lookup]

It needs valgrind (callgrind_control) and only the standard library. The directory is one that
`bench --keep` left: `bench.db` (10 catalogs x 10 schemas of tables `t0..`), `ceiling.db` and
`bench-grants.json`. The server runs on copies, so the directory can be measured again.
"""

import argparse
import glob
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = "/api/2.1/unity-catalog"
COLUMNS = [{"name": n, "type_name": "INT", "type_text": "int", "type_json": "{}", "position": i}
           for i, n in enumerate(["id", "a", "b", "c"])]


def table_body(name, catalog):
    return json.dumps({"name": name, "catalog_name": catalog, "schema_name": "load", "table_type": "MANAGED",
                       "data_source_format": "DELTA", "columns": COLUMNS})


def start(cmd, out_dir, pattern):
    """Starts cmd under callgrind; returns (process, base URL, callgrind output prefix)."""
    prefix = os.path.join(out_dir, "callgrind.out")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}.%p"] + cmd,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(out_dir, "stderr.log"), "ab"),
        text=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(pattern, line)
        if m:
            return proc, m.group(1), f"{prefix}.{proc.pid}"
    proc.kill()
    sys.exit(f"no listening line from {cmd[0]} (see {out_dir}/stderr.log)")


def control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def total_instructions(prefix):
    """Sums the `summary:`/`totals:` lines of the dumps callgrind_control -d wrote since zeroing."""
    total = 0
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    total += int(line.split()[1])
                    break
    return total


def measure(proc, base, prefix, requests, make, keep_as=None):
    host = base.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=120)

    def send(i):
        method, path, headers, body = make(i)
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")

    for i in range(min(200, requests)):
        send(1_000_000 + i)
    for stale in glob.glob(prefix + ".*"):
        os.remove(stale)
    time.sleep(0.5)
    control(proc.pid, "--zero")
    for i in range(requests):
        send(i)
    time.sleep(0.5)
    before = set(glob.glob(prefix + "*"))
    control(proc.pid, "--dump")
    dumps = sorted(set(glob.glob(prefix + "*")) - before)
    total = sum(total_instructions(d) for d in dumps)
    if keep_as:
        for n, d in enumerate(dumps):
            shutil.copy(d, f"{keep_as}.{n}.callgrind")
    conn.close()
    return total / requests


def stop(proc):
    proc.stdin.close()
    try:
        proc.terminate()
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="a directory kept by `bench --keep`")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--server", default=os.path.join(ROOT, "target/release/uc-emulator"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "target/release/examples/bench"))
    ap.add_argument("--only", default="", help="comma-separated load names")
    ap.add_argument("--dumps", help="copy the callgrind dumps here (NAME.callgrind) for callgrind_annotate")
    args = ap.parse_args()

    with sqlite3.connect(os.path.join(args.dir, "ceiling.db")) as db:
        seeded = db.execute("SELECT count(*) FROM items WHERE schema_name = 's0' AND catalog_name = 'cat0'")
        tps = max(1, seeded.fetchone()[0])

    def table(i):
        return f"cat{i % 10}.s{(i // 10) % 10}.t{(i // 100) % tps}"

    def auth(token):
        return {"Authorization": f"Bearer {token}"}

    json_post = {"Authorization": "Bearer dapi-admin", "Content-Type": "application/json"}
    ceiling_loads = {
        "ceiling-lookup": lambda i: ("GET", f"/t/{table(i)}", {}, None),
        "ceiling-page": lambda i: ("GET", f"/l/cat{i % 10}/s{(i // 10) % 10}", {}, None),
        "ceiling-insert": lambda i: ("POST", "/t", {"Content-Type": "application/json"},
                                     table_body(f"c{os.getpid()}_{i}", f"cat{i % 10}")),
    }
    server_loads = {
        "getTable-admin": lambda i: ("GET", f"{API}/tables/{table(i)}", auth("dapi-admin"), None),
        "getTable-group": lambda i: ("GET", f"{API}/tables/{table(i)}", auth("dapi-alice"), None),
        "listTables-50": lambda i: (
            "GET", f"{API}/tables?catalog_name=cat{i % 10}&schema_name=s{(i // 10) % 10}&max_results=50",
            auth("dapi-admin"), None),
        "createTable": lambda i: ("POST", f"{API}/tables", json_post, table_body(f"e{os.getpid()}_{i}", f"cat{i % 10}")),
    }
    only = set(filter(None, args.only.split(",")))
    results = {}
    with tempfile.TemporaryDirectory(prefix="uc-instr") as work:
        for suffix in ["", "-wal", "-shm"]:
            for name in ["bench.db", "ceiling.db"]:
                src = os.path.join(args.dir, name + suffix)
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(work, name + suffix))
        for group, loads in [("ceiling", ceiling_loads), ("server", server_loads)]:
            for name, make in loads.items():
                if only and name not in only:
                    continue
                if group == "ceiling":
                    cmd = [args.bench, "--serve-ceiling", os.path.join(work, "ceiling.db")]
                    pattern = r"ceiling listening on (\S+)"
                else:
                    cmd = [args.server, "serve", "--bind", "127.0.0.1:0", "--db", os.path.join(work, "bench.db"),
                           "--fixtures", os.path.join(ROOT, "fixtures/default.json"),
                           "--fixtures", os.path.join(args.dir, "bench-grants.json")]
                    pattern = r"listening on (\S+)"
                proc, base, prefix = start(cmd, work, pattern)
                try:
                    keep_as = os.path.join(args.dumps, name) if args.dumps else None
                    results[name] = measure(proc, base, prefix, args.requests, make, keep_as)
                finally:
                    stop(proc)
                print(f"{name:16} {results[name]:>10,.0f} instructions per request", flush=True)
    pairs = [("getTable-admin", "ceiling-lookup"), ("getTable-group", "ceiling-lookup"),
             ("listTables-50", "ceiling-page"), ("createTable", "ceiling-insert")]
    for a, b in pairs:
        if a in results and b in results:
            print(f"{a:16} ceiling/server = {results[b] / results[a]:.2f}")


if __name__ == "__main__":
    main()
