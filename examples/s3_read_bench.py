"""Read throughput through the S3 endpoint against reading the same files from disk.

    cargo build --release
    .venv/bin/python examples/s3_read_bench.py [--bin target/release/uc-emulator] [--size-mb 100]

Writes a table of `--size-mb` MB (10 MB files) under a temporary `--storage-map` directory,
starts `uc-emulator serve --s3-bind`, vends a READ credential for the table, and reads every file
three times directly from disk and three times through the S3 endpoint with pyarrow's
S3FileSystem (the C++ AWS SDK), keeping the best round of each. Reports MB/s, the ratio, and the
server's resident memory before and at its peak (VmHWM), which must stay far below the table's
size: reads stream through a short queue. Both sides read warm files (the page cache holds them
after the first round), so the comparison is of the endpoint's overhead, not of the disk.

The ceiling: when `target/release/examples/static_file_server` exists (`cargo build --release
--example static_file_server`), the same clients also read the same files from that bare hyper
file server (no signatures, credentials or disk reads: the files are held in memory and every
answer is one buffer), started in the same run, and the report sets the endpoint beside it: what
plain loopback HTTP allows on this machine with these clients. The load average is printed with the
figures, since other processes on the machine move them.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs
import requests

ROOT = Path(__file__).resolve().parent.parent


def rss_kib(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    default_bin = ROOT / "target/release/uc-emulator"
    if not default_bin.exists():
        default_bin = ROOT / "target/debug/uc-emulator"
    ap.add_argument("--bin", default=str(default_bin))
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--ceiling", default=str(ROOT / "target/release/examples/static_file_server"),
                    help="the bare static file server binary (skipped when absent)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per client; the best one counts")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="uc-s3-bench-"))
    table = tmp / "lake/ext/t"
    table.mkdir(parents=True)
    files = []
    for i in range(max(1, args.size_mb // 10)):
        p = table / f"part-{i:05d}.parquet"
        p.write_bytes(os.urandom(10 * 1024 * 1024))
        files.append(p)
    total = sum(p.stat().st_size for p in files)

    fixture = json.loads((ROOT / "fixtures/default.json").read_text())
    fixture["metastores"][0]["external_access_enabled"] = True
    fixture["storage_credentials"] = [{"name": "c", "aws_iam_role": {"role_arn": "arn:aws:iam::1:role/r"}}]
    fixture["external_locations"] = [{"name": "ext", "url": "s3://bench/ext", "credential_name": "c"}]
    fixture["schemas"] = [{"catalog_name": "main", "name": "b"}]
    fixture["tables"] = [{"catalog_name": "main", "schema_name": "b", "name": "t", "table_type": "EXTERNAL",
                          "data_source_format": "PARQUET", "storage_location": "s3://bench/ext/t", "columns": []}]
    fixture["grants"] = [{"securable_type": "catalog", "full_name": "main", "principal": "admin@example.com",
                          "privileges": ["EXTERNAL_USE_SCHEMA"]}]
    (tmp / "fixture.json").write_text(json.dumps(fixture))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    env["RUST_LOG"] = "warn"
    ceiling = None
    proc = subprocess.Popen(
        [args.bin, "serve", "--db", ":memory:", "--bind", "127.0.0.1:0", "--fixtures", str(tmp / "fixture.json"),
         "--s3-bind", "127.0.0.1:0", "--storage-map", f"s3://bench={tmp / 'lake'}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        rest = proc.stdout.readline().decode().split(" on ")[1].strip()
        proc.stdout.readline()
        before = rss_kib(proc.pid)
        t = requests.get(f"{rest}/api/2.1/unity-catalog/tables/main.b.t",
                         headers={"Authorization": "Bearer dapi-admin"}, timeout=10).json()
        c = requests.post(f"{rest}/api/2.1/unity-catalog/temporary-table-credentials",
                          params={"table_id": t["table_id"], "operation": "READ"},
                          headers={"Authorization": "Bearer dapi-admin"}, timeout=10).json()
        a = c["aws_temp_credentials"]
        chunk = 8 * 1024 * 1024

        def direct() -> int:
            n = 0
            for p in files:
                with open(p, "rb", buffering=0) as f:
                    while b := f.read(chunk):
                        n += len(b)
            return n

        def pyarrow_reader(endpoint: str):
            s3 = pafs.S3FileSystem(access_key=a["access_key_id"], secret_key=a["secret_access_key"],
                                   session_token=a["session_token"], endpoint_override=endpoint,
                                   region="us-east-1")

            def read() -> int:
                n = 0
                for p in files:
                    with s3.open_input_stream(f"bench/ext/t/{p.name}") as f:
                        while b := f.read(chunk):
                            n += len(b)
                return n
            return read

        def curl_reader(endpoint: str):
            # Without pyarrow's client: curl signs with SigV4 and discards the body.
            def read() -> int:
                urls = [f"{endpoint}/bench/ext/t/{p.name}" for p in files]
                cmd = ["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:s3",
                       "--user", f"{a['access_key_id']}:{a['secret_access_key']}",
                       "-H", f"x-amz-security-token: {a['session_token']}",
                       "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-w", "%{size_download}\\n"]
                for u in urls:
                    cmd += [u, "-o", "/dev/null"]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                return sum(int(x) for x in out.split())
            return read

        ceiling_url = None
        if Path(args.ceiling).exists():
            ceiling = subprocess.Popen([args.ceiling, str(tmp / "lake")], stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)
            ceiling_url = ceiling.stdout.readline().decode().split(" on ")[1].strip()

        clients = [("direct disk", direct), ("S3 endpoint, pyarrow", pyarrow_reader(a["access_point"]))]
        if ceiling_url:
            clients.append(("bare server, pyarrow", pyarrow_reader(ceiling_url)))
        if shutil.which("curl"):
            clients.append(("S3 endpoint, curl", curl_reader(a["access_point"])))
            if ceiling_url:
                clients.append(("bare server, curl", curl_reader(ceiling_url)))
        results = {}
        load = [os.getloadavg()[0]]
        first = None
        for name, fn in clients:
            best = float("inf")
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                assert fn() == total
                took = time.perf_counter() - t0
                if first is None and name.startswith("S3"):
                    first = total / took / 1e6
                best = min(best, took)
            results[name] = total / best / 1e6
            load.append(os.getloadavg()[0])
        after = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
        if ceiling is not None:
            ceiling.terminate()
            ceiling.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"table: {len(files)} files, {total / 1e6:.0f} MB; binary {args.bin}; "
          f"load average {min(load):.1f}-{max(load):.1f} (1 min) during the run")
    d = results["direct disk"]
    for name, mbps in results.items():
        line = f"{name:22} {mbps:8.0f} MB/s"
        if name != "direct disk":
            line += f"   {mbps / d:5.2f} of direct"
        bare = results.get(name.replace("S3 endpoint", "bare server"))
        if name.startswith("S3 endpoint") and bare:
            line += f"   {mbps / bare:5.2f} of the bare server"
        print(line)
    print(f"first S3 round {first:6.0f} MB/s (the endpoint hashes each file once for its MD5 ETag, then caches it)")
    print(f"server RSS   {before['VmRSS'] / 1024:.0f} MiB at start, peak {after['VmHWM'] / 1024:.0f} MiB "
          f"while serving {total / 1e6:.0f} MB {args.rounds * sum(n.startswith('S3') for n in results)} times")
    return 0


if __name__ == "__main__":
    sys.exit(main())
