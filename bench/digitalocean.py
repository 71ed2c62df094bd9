#!/usr/bin/env python3
"""A plan over many DigitalOcean Droplets with nothing to change: Infra's own time and
the requests it sends, against the DigitalOcean stand-in
(`tests/standins/digitalocean.py`, started here on 127.0.0.1; no Prism, whose validation
would dominate the time). The twin of `bench/linode.py`.

The Droplets are made by one `infra apply`; then `infra plan --detailed-exitcode` runs
`--runs` times. Reported per plan: wall time, Infra's CPU time (user + system, from the
kernel's accounting of the child), and the requests the stand-in saw. The target: one
list request per page of 200 (not one GET per Droplet) and under 100 ms of Infra's own
time.

    python3 bench/digitalocean.py                # 200 Droplets, 5 plans
    python3 bench/digitalocean.py --servers 20 --runs 1
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(port, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/__standin/{path}", data=data,
                                     method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def start_standin():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "tests/standins/digitalocean.py"), str(port), TOKEN],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while True:
        try:
            control(port, "requests")
            return process, port
        except Exception:
            if time.monotonic() - start > 30:
                raise SystemExit("the stand-in did not start")
            time.sleep(0.1)


def module(port, servers):
    return f'''
provider digitalocean {{
  api_url = "http://127.0.0.1:{port}"
}}

resource digitalocean.droplet web for i in range({servers}) {{
  name   = "web-${{i}}"
  region = "nyc3"
  size   = "s-1vcpu-1gb"
  image  = "debian-12-x64"
  tags   = ["bench", "web"]
}}
'''


def timed(command, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    infra = os.environ.get("INFRA_BIN")
    if not infra:
        subprocess.run(["cargo", "build", "--release", "-p", "infra-cli"], cwd=ROOT, check=True)
        infra = str(ROOT / "target/release/infra")
    standin, port = start_standin()
    try:
        env = dict(os.environ, DIGITALOCEAN_TOKEN=TOKEN, NO_COLOR="1")
        with tempfile.TemporaryDirectory() as work:
            Path(work, "main.infra").write_text(module(port, args.servers))
            done, wall, _ = timed([infra, "-C", work, "apply", "--auto-approve", "--parallelism", "20"], env)
            if done.returncode != 0:
                raise SystemExit(f"apply failed:\n{done.stdout}{done.stderr}")
            print(f"apply of {args.servers} Droplets: {wall:.2f} s wall")
            walls, cpus, requests = [], [], []
            for _ in range(args.runs):
                seen = len(control(port, "requests"))
                done, wall, cpu = timed([infra, "-C", work, "plan", "--detailed-exitcode"], env)
                if done.returncode != 0:
                    raise SystemExit(f"the plan is not empty (exit {done.returncode}):\n{done.stdout}{done.stderr}")
                walls.append(wall)
                cpus.append(cpu)
                requests.append(control(port, "requests")[seen:])
            gets = [r for r in requests[-1] if r.startswith("GET /v2/droplets/")]
            lists = [r for r in requests[-1] if r == "GET /v2/droplets"]
            print(f"no-change plan of {args.servers} Droplets, median of {args.runs}: "
                  f"{statistics.median(walls) * 1000:.0f} ms wall, "
                  f"{statistics.median(cpus) * 1000:.0f} ms of Infra's CPU time")
            print(f"requests per plan: {len(requests[-1])} ({len(lists)} list pages, {len(gets)} single reads)")
    finally:
        standin.kill()
        standin.wait()


if __name__ == "__main__":
    main()
