"""The shared part of `bench/linode.py` and `bench/digitalocean.py`: a plan over many
servers of a rented-server host with nothing to change, against the host's stand-in
(`tests/standins/HOST.py`, started here on 127.0.0.1; no Prism, whose validation would
dominate the time). See either script for what is measured.
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


def start_standin(host):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / host.standin), str(port), TOKEN],
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


class Host:
    """What differs between the hosts: the stand-in, the token's variable, the server
    resource and the paths of its list and its single reads."""

    def __init__(self, name, standin, token_variable, resource, list_path, noun, settle):
        self.name, self.standin, self.token_variable = name, standin, token_variable
        self.resource, self.list_path, self.noun, self.settle = resource, list_path, noun, settle

    def module(self, port, servers):
        body = self.resource.replace("SERVERS", str(servers))
        return f'provider {self.name} {{\n  api_url = "http://127.0.0.1:{port}"\n}}\n\n{body}'


LINODE = Host(
    "linode", "tests/standins/linode.py", "LINODE_TOKEN",
    """resource linode.instance web for i in range(SERVERS) {
  label  = "web-${i}"
  region = "us-east"
  type   = "g6-nanode-1"
  tags   = ["bench", "web"]
}
""", "/linode/instances", "servers", settle=True)

DIGITALOCEAN = Host(
    "digitalocean", "tests/standins/digitalocean.py", "DIGITALOCEAN_TOKEN",
    """resource digitalocean.droplet web for i in range(SERVERS) {
  name   = "web-${i}"
  region = "nyc3"
  size   = "s-1vcpu-1gb"
  image  = "debian-12-x64"
  tags   = ["bench", "web"]
}
""", "/v2/droplets", "Droplets", settle=False)


def timed(command, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def main(host, doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    infra = os.environ.get("INFRA_BIN")
    if not infra:
        subprocess.run(["cargo", "build", "--release", "-p", "infra-cli"], cwd=ROOT, check=True)
        infra = str(ROOT / "target/release/infra")
    standin, port = start_standin(host)
    try:
        if host.settle:
            control(port, "settle", {"gets": 1})
        env = dict(os.environ, NO_COLOR="1", **{host.token_variable: TOKEN})
        with tempfile.TemporaryDirectory() as work:
            Path(work, "main.infra").write_text(host.module(port, args.servers))
            done, wall, _ = timed([infra, "-C", work, "apply", "--auto-approve", "--parallelism", "20"], env)
            if done.returncode != 0:
                raise SystemExit(f"apply failed:\n{done.stdout}{done.stderr}")
            print(f"apply of {args.servers} {host.noun}: {wall:.2f} s wall")
            walls, cpus, requests = [], [], []
            for _ in range(args.runs):
                seen = len(control(port, "requests"))
                done, wall, cpu = timed([infra, "-C", work, "plan", "--detailed-exitcode"], env)
                if done.returncode != 0:
                    raise SystemExit(f"the plan is not empty (exit {done.returncode}):\n{done.stdout}{done.stderr}")
                walls.append(wall)
                cpus.append(cpu)
                requests.append(control(port, "requests")[seen:])
            gets = [r for r in requests[-1] if r.startswith(f"GET {host.list_path}/")]
            lists = [r for r in requests[-1] if r == f"GET {host.list_path}"]
            print(f"no-change plan of {args.servers} {host.noun}, median of {args.runs}: "
                  f"{statistics.median(walls) * 1000:.0f} ms wall, "
                  f"{statistics.median(cpus) * 1000:.0f} ms of Infra's CPU time")
            print(f"requests per plan: {len(requests[-1])} ({len(lists)} list pages, {len(gets)} single reads)")
    finally:
        standin.kill()
        standin.wait()

