#!/usr/bin/env python3
"""The server's memory while many large uploads arrive at once.

    cargo build --release
    python3 benches/upload_memory.py [--gaic target/release/gaic] [--uploads 32] [--mib 64]

Starts `gaic serve` on a fresh data folder (SQLite), signs up one
competitor per four uploads, then opens --uploads connections that each POST
a --mib MiB model to `digits` and sends all of it but the last MiB. With
every upload that far, it prints the server's resident memory (VmRSS) and
how much it grew, and the bytes waiting in the data folder's spool/; then
it finishes the uploads (each is refused as an invalid module: the point is
the receiving), and prints the peak (VmHWM). Standard library only.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSWORD = "correct horse battery staple"


def rss(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def post_json(base, path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def token_for(base, name):
    post_json(base, "/api/v1/users", {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
                                      "country": "KR", "age_14_or_older": True})
    return post_json(base, "/api/v1/tokens", {"username": name, "password": PASSWORD})["token"]


def du(folder):
    try:
        return sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
    except FileNotFoundError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gaic", default="target/release/gaic")
    ap.add_argument("--uploads", type=int, default=32)
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args()
    size = args.mib << 20
    data = tempfile.mkdtemp(prefix="gaic-upload-memory-")
    tasks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tasks")
    env = dict(os.environ, GAIC_ADMIN_PASSWORD="admin-password-for-the-bench", GAIC_WORKERS="0")
    server = subprocess.Popen([args.gaic, "serve", "--bind", "127.0.0.1:0", "--data-dir", data, "--tasks-dir", tasks],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in server.stdout:
            if line.startswith("gaic is running at "):
                base = "/".join(line.split()[-1].split("/")[:3])
                break
        else:
            sys.exit("gaic did not start")
        addr = base.removeprefix("http://")
        host, port = addr.split(":")
        tokens = [token_for(base, f"bench{i}") for i in range((args.uploads + 3) // 4)]
        time.sleep(1)
        before = rss(server.pid)
        part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="m.wasm"\r\n\r\n'
        tail = b"\r\n--x--\r\n"
        chunk = bytes(i % 251 for i in range(1 << 20))
        conns = []
        started = time.time()
        for i in range(args.uploads):
            s = socket.create_connection((host, int(port)))
            head = (f"POST /api/v1/tasks/digits/submissions HTTP/1.1\r\nHost: {addr}\r\n"
                    f"Authorization: Bearer {tokens[i // 4]}\r\n"
                    f"Content-Type: multipart/form-data; boundary=x\r\n"
                    f"Content-Length: {len(part) + size + len(tail)}\r\n\r\n").encode()
            s.sendall(head + part + b"\0asm\x01\0\0\0")
            sent = 8
            while sent + len(chunk) < size:
                s.sendall(chunk)
                sent += len(chunk)
            conns.append((s, size - sent))
        deadline = time.time() + 120
        target = args.uploads * (size - (2 << 20))
        # Received means in spool/ (or, for a server that keeps uploads in
        # memory, in its RSS).
        while (du(os.path.join(data, "spool")) < target and rss(server.pid) - before < target
               and time.time() < deadline):
            time.sleep(0.05)
        time.sleep(0.5)
        during = rss(server.pid)
        spooled = du(os.path.join(data, "spool"))
        print(f"{args.uploads} uploads of {args.mib} MiB in flight ({args.uploads * args.mib} MiB) after "
              f"{time.time() - started:.1f} s: server RSS {before >> 20} -> {during >> 20} MiB "
              f"(+{(during - before) >> 20} MiB); {spooled >> 20} MiB in spool/")
        statuses = []
        for s, left in conns:
            s.sendall(chunk[:left] + tail)
        for s, _ in conns:
            statuses.append(s.recv(64).split(b" ")[1].decode())
            s.close()
        print(f"answers: {sorted(set(statuses))}; peak RSS (VmHWM) {rss(server.pid, 'VmHWM') >> 20} MiB; "
              f"{du(os.path.join(data, 'spool')) >> 20} MiB left in spool/")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
