#!/usr/bin/env python3
"""The `ssh` provider against Ansible and pyinfra, doing the same work on real Debian hosts.

Each host is a Debian 12 container with systemd as PID 1 (`systemd-nspawn --boot
--volatile=overlay`, every write on a tmpfs that vanishes at stop) whose sshd listens on
its own port of 127.0.0.1. On every host the three tools make the same things: 10
directories, 200 files of one line each, one package (`bench-pkg`, from an apt repository
inside the container, so no mirror's speed is measured) and its systemd service, enabled and
running. Each tool gets fresh containers; its first run and then a no-change run are timed
(wall clock, the tool's whole process), and the hosts are checked afterwards.

Needs root, `systemd-nspawn` and `mmdebstrap` (`apt-get install systemd-container
mmdebstrap`), `dpkg-deb` and the OpenSSH client. The root file system (with Python, which
Ansible needs on its hosts) and a virtualenv with `ansible-core` and `pyinfra` from PyPI
are made once into `$INFRA_BENCH_CACHE` (default `~/.cache/infra-bench`).

    python3 bench/ssh.py                      # 1 and 10 hosts, every tool
    python3 bench/ssh.py --hosts 1 --tools infra,ansible
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("INFRA_BENCH_CACHE", Path.home() / ".cache" / "infra-bench"))
ROOTFS = CACHE / "debian-bookworm-python"
VENV = CACHE / "venv"
INCLUDE = "openssh-server,systemd,systemd-sysv,dbus,sudo,python3,python3-apt"
FILES, DIRS = 200, 10
SERVICE_UNIT = """[Unit]
Description=A service for the ssh benchmark

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
"""


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


def make_rootfs():
    """The root file system with a local apt repository offering `bench-pkg`, made once."""
    if (ROOTFS / "etc/os-release").exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    building = CACHE / f"building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    print(f"making {ROOTFS} with mmdebstrap (once)", file=sys.stderr)
    sh("mmdebstrap", "--quiet", "--variant=minbase", f"--include={INCLUDE}", "bookworm", str(building),
       stdout=subprocess.DEVNULL)
    for timer in ["apt-daily.timer", "apt-daily-upgrade.timer"]:
        link = building / "etc/systemd/system" / timer
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    (building / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
    (building / "root/.ssh/authorized_keys").write_text("")
    # The package: its service's unit, in a repository apt reads from the disk only.
    with tempfile.TemporaryDirectory() as package:
        package = Path(package)
        (package / "DEBIAN").mkdir()
        (package / "DEBIAN/control").write_text(
            "Package: bench-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: bench <bench@example.invalid>\n"
            "Description: the package of the ssh benchmark\n")
        unit_dir = package / "lib/systemd/system"
        unit_dir.mkdir(parents=True)
        (unit_dir / "bench.service").write_text(SERVICE_UNIT)
        repo = building / "srv/bench-repo"
        repo.mkdir(parents=True)
        deb = repo / "bench-pkg_1.0_all.deb"
        sh("dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(package), str(deb), stdout=subprocess.DEVNULL)
        fields = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
        digest = subprocess.run(["sha256sum", str(deb)], check=True, capture_output=True, text=True).stdout.split()[0]
        (repo / "Packages").write_text(
            f"{fields}Filename: ./{deb.name}\nSize: {deb.stat().st_size}\nSHA256: {digest}\n\n")
    (building / "etc/apt/sources.list").unlink(missing_ok=True)
    for source in (building / "etc/apt/sources.list.d").glob("*"):
        source.unlink()
    (building / "etc/apt/sources.list.d/bench.list").write_text("deb [trusted=yes] file:/srv/bench-repo ./\n")
    # Old, as on a server made from an image: every tool's first run refreshes it.
    for index in (building / "var/lib/apt/lists").glob("*"):
        if index.is_file() and index.name != "lock":
            index.unlink()
    two_days_ago = time.time() - 2 * 86400
    for stamp in [building / "var/lib/apt/lists", *(building / "var/lib/apt/periodic").glob("*")]:
        os.utime(stamp, (two_days_ago, two_days_ago))
    building.rename(ROOTFS)


def make_venv():
    """ansible-core and pyinfra from PyPI, once."""
    if (VENV / "bin/ansible-playbook").exists() and (VENV / "bin/pyinfra").exists():
        return
    sh(sys.executable, "-m", "venv", str(VENV))
    sh(str(VENV / "bin/python"), "-m", "pip", "install", "--quiet", "ansible-core", "pyinfra")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """A booted container whose sshd lets root in with `key` on `port`."""

    def __init__(self, key, work):
        self.port = free_port()
        self.key = key
        self.dir = Path(tempfile.mkdtemp(dir=work))
        conf = self.dir / "sshd.conf"
        conf.write_text(f"ListenAddress 127.0.0.1\nPort {self.port}\nPermitRootLogin prohibit-password\n"
                        "PasswordAuthentication no\nMaxSessions 100\nMaxStartups 100\n")
        log = open(self.dir / "console.log", "w")
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit", "--volatile=overlay",
             "--console=passive", "-D", str(ROOTFS),
             f"--bind-ro={conf}:/etc/ssh/sshd_config.d/bench.conf",
             f"--bind-ro={key}.pub:/root/.ssh/authorized_keys"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def ssh(self, script):
        return subprocess.run(
            ["ssh", "-q", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "ConnectTimeout=5", "-i", str(self.key), "-p", str(self.port), "root@127.0.0.1", script],
            stdin=subprocess.DEVNULL, capture_output=True, text=True)

    def wait(self):
        start = time.monotonic()
        while self.ssh("systemctl is-system-running --wait >/dev/null 2>&1; true").returncode != 0:
            if time.monotonic() - start > 120:
                raise SystemExit(f"a container did not answer: {(self.dir / 'console.log').read_text()}")
            time.sleep(0.2)

    def check(self):
        """What every tool must leave: the files, the directories, the package, the service."""
        out = self.ssh(
            "find /srv/bench -type f | wc -l; find /srv/bench -mindepth 1 -type d | wc -l; "
            "cat /srv/bench/d7/f17; dpkg-query -W -f='${Status}' bench-pkg; echo; "
            "systemctl is-enabled bench; systemctl is-active bench").stdout.split("\n")
        expected = [str(FILES), str(DIRS), "file 17", "install ok installed", "enabled", "active"]
        if out[:6] != expected:
            raise SystemExit(f"host on port {self.port} is not as configured: {out[:6]} (expected {expected})")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# The same work in each tool's language.

def infra_config(hosts, key):
    parts = []
    for n, host in enumerate(hosts):
        parts.append(f"""
provider ssh as h{n} {{
  host        = "127.0.0.1"
  port        = {host.port}
  user        = "root"
  private_key = file("{key}")
}}

resource ssh.directory h{n}_dir for d in range({DIRS}) {{
  provider = h{n}
  path     = "/srv/bench/d${{d}}"
  mode     = "0755"
}}

resource ssh.file h{n}_file for i in range({FILES}) {{
  provider = h{n}
  path     = "${{h{n}_dir[i % {DIRS}].path}}/f${{i}}"
  content  = "file ${{i}}\\n"
  mode     = "0644"
}}

resource ssh.package h{n}_pkg {{
  provider = h{n}
  name     = "bench-pkg"
}}

resource ssh.service h{n}_svc {{
  provider = h{n}
  name     = "bench"
  enabled  = true
  running  = true
  depends_on = [h{n}_pkg]
}}
""")
    return "".join(parts)


ANSIBLE_PLAY = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: directories
      ansible.builtin.file:
        path: "/srv/bench/d{{{{ item }}}}"
        state: directory
        mode: "0755"
      loop: "{{{{ range({DIRS}) | list }}}}"
    - name: files
      ansible.builtin.copy:
        dest: "/srv/bench/d{{{{ item % {DIRS} }}}}/f{{{{ item }}}}"
        content: "file {{{{ item }}}}\\n"
        mode: "0644"
      loop: "{{{{ range({FILES}) | list }}}}"
    - name: package
      ansible.builtin.apt:
        name: bench-pkg
        state: present
        update_cache: true
        cache_valid_time: 3600
    - name: service
      ansible.builtin.systemd_service:
        name: bench
        enabled: true
        state: started
"""

PYINFRA_DEPLOY = f"""from io import StringIO

from pyinfra.operations import apt, files, systemd

for d in range({DIRS}):
    files.directory(name=f"directory {{d}}", path=f"/srv/bench/d{{d}}", mode="755")
for i in range({FILES}):
    files.put(name=f"file {{i}}", src=StringIO(f"file {{i}}\\n"), dest=f"/srv/bench/d{{i % {DIRS}}}/f{{i}}", mode="644")
apt.packages(name="package", packages=["bench-pkg"], update=True, cache_time=3600)
systemd.service(name="service", service="bench", running=True, enabled=True)
"""


def prepare(tool, hosts, key, work):
    """Writes the tool's files into `work`; returns the command that applies them."""
    if tool == "infra":
        (work / "main.infra").write_text(infra_config(hosts, key))
        infra = os.environ.get("INFRA_BIN", str(ROOT / "target/release/infra"))
        return [infra, "-C", str(work), "apply", "--auto-approve", "--parallelism", "10"]
    if tool == "ansible":
        lines = [f"h{n} ansible_host=127.0.0.1 ansible_port={h.port}" for n, h in enumerate(hosts)]
        (work / "inventory.ini").write_text(
            "[all]\n" + "\n".join(lines) + f"\n\n[all:vars]\nansible_user=root\nansible_ssh_private_key_file={key}\n"
            "ansible_python_interpreter=/usr/bin/python3\n")
        (work / "ansible.cfg").write_text(
            "[defaults]\nhost_key_checking = False\nforks = 10\n\n[ssh_connection]\npipelining = True\n"
            "ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null\n")
        (work / "play.yml").write_text(ANSIBLE_PLAY)
        return [str(VENV / "bin/ansible-playbook"), "-i", "inventory.ini", "play.yml"]
    hosts_data = ", ".join(
        f'("h{n}", {{"ssh_hostname": "127.0.0.1", "ssh_port": {h.port}, "ssh_user": "root", "ssh_key": "{key}", '
        f'"ssh_known_hosts_file": "/dev/null", "ssh_strict_host_key_checking": "off"}})'
        for n, h in enumerate(hosts))
    (work / "inventory.py").write_text(f"hosts = [{hosts_data}]\n")
    (work / "deploy.py").write_text(PYINFRA_DEPLOY)
    return [str(VENV / "bin/pyinfra"), "-y", "--parallel", "10", "inventory.py", "deploy.py"]


def timed(command, work, env):
    start = time.monotonic()
    done = subprocess.run(command, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    took = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return took


def measure(tool, count, key, work):
    hosts = [Host(key, work) for _ in range(count)]
    try:
        for host in hosts:
            host.wait()
        tool_dir = Path(tempfile.mkdtemp(dir=work))
        command = prepare(tool, hosts, key, tool_dir)
        env = dict(os.environ, ANSIBLE_CONFIG=str(tool_dir / "ansible.cfg"), NO_COLOR="1")
        first = timed(command, tool_dir, env)
        for host in hosts:
            host.check()
        again = timed(command, tool_dir, env)
        return first, again
    finally:
        for host in hosts:
            host.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="1,10", help="host counts, comma-separated (default 1,10)")
    parser.add_argument("--tools", default="infra,ansible,pyinfra")
    parser.add_argument("--runs", type=int, default=1, help="repetitions; the best is reported")
    args = parser.parse_args()
    make_rootfs()
    tools = args.tools.split(",")
    if "ansible" in tools or "pyinfra" in tools:
        make_venv()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        key = work / "key"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        results = {}
        for count in [int(c) for c in args.hosts.split(",")]:
            for _ in range(args.runs):
                for tool in tools:
                    first, again = measure(tool, count, key, work)
                    best = results.get((tool, count))
                    results[(tool, count)] = (min(first, best[0]), min(again, best[1])) if best else (first, again)
                    print(f"{tool:8} {count:3} hosts: first {first:7.2f} s, no change {again:7.2f} s", file=sys.stderr)
    print(f"| tool | hosts | first run | no-change run | first vs Infra | no change vs Infra |")
    print("|---|---|---|---|---|---|")
    for (tool, count), (first, again) in sorted(results.items(), key=lambda r: (r[0][1], tools.index(r[0][0]))):
        base = results.get(("infra", count))
        ratio = (lambda a, b: f"{a / b:.1f}×") if base else (lambda a, b: "")
        print(f"| {tool} | {count} | {first:.2f} s | {again:.2f} s | "
              f"{ratio(first, base[0]) if base else ''} | {ratio(again, base[1]) if base else ''} |")


if __name__ == "__main__":
    main()
