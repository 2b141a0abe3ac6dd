"""Read throughput through the S3 endpoint against reading the same files from disk.

    cargo build --release --bin uc-emulator --example static_file_server
    .venv/bin/python examples/s3_read_bench.py [--bin target/release/uc-emulator] [--size-mb 100]

Writes a Delta table of `--size-mb` MB (Parquet files of about 10 MB) under a temporary
`--storage-map` directory, starts `uc-emulator serve --s3-bind` on a database file, vends a READ
credential for the table, and measures two things side by side, keeping each client's best of
`--rounds` rounds:

- raw bytes: every file read whole, directly from disk and through the S3 endpoint with
  pyarrow's S3FileSystem (the C++ AWS SDK) and `curl --aws-sigv4` when installed;
- what an engine does: the table read as a table (`deltalake.DeltaTable(...).to_pyarrow_table()`,
  and `pyarrow.parquet.read_table` over the same files, which issues parallel ranged GETs), from
  the local path and through the S3 endpoint.

It reports MB/s (of the files' bytes), the ratio to the direct read, the server's CPU time per GB
served (user + system from /proc: a figure the machine's load moves much less than wall time),
and its resident memory before and at its peak (VmHWM), which must stay far below the table's
size: reads stream through a short queue. Both sides read warm files (the page cache holds them
after the first round), so the comparison is of the endpoint's overhead, not of the disk.

The first round through the endpoint is reported apart: the endpoint hashes each file once for
its MD5 ETag. The server is then restarted on the same database and a new credential reads the
table once more: its ETags come from the endpoint's cache beside the database (`<db>-s3/etags`),
so that round is not slowed by hashing.

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

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import requests

ROOT = Path(__file__).resolve().parent.parent


def rss_kib(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def cpu_secs(pid: int) -> float:
    """User + system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_table(table: Path, size_mb: int) -> list:
    """A Delta table of Parquet files of about 10 MB each (random values: they do not compress)."""
    from deltalake import convert_to_deltalake

    rows = 10 * 1024 * 1024 // 40
    for i in range(max(1, size_mb // 10)):
        data = pa.table({
            "id": pa.array(range(i * rows, (i + 1) * rows), pa.int64()),
            "x": pa.array(memoryview(os.urandom(rows * 8)).cast("d").tolist(), pa.float64()),
            "tag": pa.array([os.urandom(12).hex()[:16] for _ in range(rows)], pa.string()),
        })
        pq.write_table(data, table / f"part-{i:05d}.parquet", compression="none", use_dictionary=False)
    convert_to_deltalake(str(table))
    return sorted(table.glob("*.parquet"))


def start_server(args, tmp: Path, env: dict):
    proc = subprocess.Popen(
        [args.bin, "serve", "--db", str(tmp / "bench.db"), "--bind", "127.0.0.1:0", "--fixtures",
         str(tmp / "fixture.json"), "--s3-bind", "127.0.0.1:0", "--storage-map", f"s3://bench={tmp / 'lake'}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    rest = proc.stdout.readline().decode().split(" on ")[1].strip()
    proc.stdout.readline()
    t = requests.get(f"{rest}/api/2.1/unity-catalog/tables/main.b.t",
                     headers={"Authorization": "Bearer dapi-admin"}, timeout=10).json()
    c = requests.post(f"{rest}/api/2.1/unity-catalog/temporary-table-credentials",
                      params={"table_id": t["table_id"], "operation": "READ"},
                      headers={"Authorization": "Bearer dapi-admin"}, timeout=10).json()
    return proc, c["aws_temp_credentials"]


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
    files = write_table(table, args.size_mb)
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
    proc, a = start_server(args, tmp, env)
    try:
        before = rss_kib(proc.pid)
        chunk = 8 * 1024 * 1024

        def direct() -> int:
            n = 0
            for p in files:
                with open(p, "rb", buffering=0) as f:
                    while b := f.read(chunk):
                        n += len(b)
            return n

        def s3fs(endpoint: str, cred=None):
            c = cred or a
            return pafs.S3FileSystem(access_key=c["access_key_id"], secret_key=c["secret_access_key"],
                                     session_token=c["session_token"], endpoint_override=endpoint,
                                     region="us-east-1")

        def pyarrow_reader(endpoint: str, cred=None):
            s3 = s3fs(endpoint, cred)

            def read() -> int:
                n = 0
                for p in files:
                    with s3.open_input_stream(f"bench/ext/t/{p.name}") as f:
                        while b := f.read(chunk):
                            n += len(b)
                return n
            return read

        def parquet_reader(fs=None, prefix=None):
            # pyarrow.parquet over the files: footers, then column chunks in parallel ranged reads.
            paths = [str(p) if fs is None else f"{prefix}/{p.name}" for p in files]

            def read() -> int:
                assert pq.read_table(paths, filesystem=fs).num_rows > 0
                return total
            return read

        def delta_reader(uri: str, options=None):
            from deltalake import DeltaTable

            def read() -> int:
                assert DeltaTable(uri, storage_options=options).to_pyarrow_table().num_rows > 0
                return total
            return read

        delta_options = {"aws_access_key_id": a["access_key_id"], "aws_secret_access_key": a["secret_access_key"],
                         "aws_session_token": a["session_token"], "aws_endpoint_url": a["access_point"],
                         "aws_region": "us-east-1", "aws_allow_http": "true"}

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

        # The first read through the endpoint hashes every file for its ETag.
        t0, spent = time.perf_counter(), cpu_secs(proc.pid)
        assert pyarrow_reader(a["access_point"])() == total
        first = total / (time.perf_counter() - t0) / 1e6
        first_cpu = (cpu_secs(proc.pid) - spent) / (total / 1e9)

        clients = [("direct disk", direct), ("S3 endpoint, pyarrow", pyarrow_reader(a["access_point"]))]
        if ceiling_url:
            clients.append(("bare server, pyarrow", pyarrow_reader(ceiling_url)))
        if shutil.which("curl"):
            clients.append(("S3 endpoint, curl", curl_reader(a["access_point"])))
            if ceiling_url:
                clients.append(("bare server, curl", curl_reader(ceiling_url)))
        engines = [
            ("deltalake, local path", delta_reader(str(table))),
            ("deltalake, S3 endpoint", delta_reader("s3://bench/ext/t", delta_options)),
            ("pyarrow.parquet, local path", parquet_reader()),
            ("pyarrow.parquet, S3 endpoint", parquet_reader(s3fs(a["access_point"]), "bench/ext/t")),
        ]
        if ceiling_url:
            engines.append(("pyarrow.parquet, bare server", parquet_reader(s3fs(ceiling_url), "bench/ext/t")))
        results, cpu = {}, {}
        load = [os.getloadavg()[0]]
        for name, fn in clients + engines:
            best = float("inf")
            spent = cpu_secs(proc.pid)
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                assert fn() == total
                best = min(best, time.perf_counter() - t0)
            if "S3 endpoint" in name:
                cpu[name] = (cpu_secs(proc.pid) - spent) / (args.rounds * total / 1e9)
            results[name] = total / best / 1e6
            load.append(os.getloadavg()[0])
        after = rss_kib(proc.pid)

        # Restart on the same database: credentials are new, the ETags are not hashed again.
        proc.terminate()
        proc.wait(15)
        proc, a2 = start_server(args, tmp, env)
        t0, spent = time.perf_counter(), cpu_secs(proc.pid)
        assert pyarrow_reader(a2["access_point"], a2)() == total
        after_restart = total / (time.perf_counter() - t0) / 1e6
        restart_cpu = (cpu_secs(proc.pid) - spent) / (total / 1e9)
        load.append(os.getloadavg()[0])
    finally:
        proc.terminate()
        proc.wait(15)
        if ceiling is not None:
            ceiling.terminate()
            ceiling.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"table: {len(files)} Parquet files (Delta), {total / 1e6:.0f} MB; binary {args.bin}; "
          f"load average {min(load):.1f}-{max(load):.1f} (1 min) during the run; best of {args.rounds} rounds")
    d = results["direct disk"]
    print("raw bytes (every file read whole):")
    for name, mbps in results.items():
        if name in dict(engines):
            continue
        line = f"  {name:30} {mbps:8.0f} MB/s"
        if name != "direct disk":
            line += f"   {mbps / d:5.2f} of direct"
        bare = results.get(name.replace("S3 endpoint", "bare server"))
        if name.startswith("S3 endpoint") and bare:
            line += f"   {mbps / bare:5.2f} of the bare server"
        if name in cpu:
            line += f"   server CPU {cpu[name]:.2f} s/GB"
        print(line)
    print("the table read as a table (MB/s of its files):")
    for name, mbps in results.items():
        if name not in dict(engines):
            continue
        line = f"  {name:30} {mbps:8.0f} MB/s"
        local = results.get(name.split(",")[0] + ", local path")
        if "local path" not in name and local:
            line += f"   {mbps / local:5.2f} of the local path"
        if name in cpu:
            line += f"   server CPU {cpu[name]:.2f} s/GB"
        print(line)
    print(f"first S3 round {first:6.0f} MB/s, server CPU {first_cpu:.2f} s/GB (the endpoint hashes each file once "
          f"for its MD5 ETag, then caches it)")
    print(f"first round after a restart {after_restart:6.0f} MB/s, server CPU {restart_cpu:.2f} s/GB (new credential; "
          f"ETags from the cache beside the database, nothing hashed)")
    served = args.rounds * sum("S3 endpoint" in n for n in results) + 1
    print(f"server RSS   {before['VmRSS'] / 1024:.0f} MiB at start, peak {after['VmHWM'] / 1024:.0f} MiB "
          f"while serving {total / 1e6:.0f} MB {served} times")
    return 0


if __name__ == "__main__":
    sys.exit(main())
