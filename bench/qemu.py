#!/usr/bin/env python3
"""Many QEMU VMs from one base image, made by one `infra apply` and removed by one
`infra destroy`: the time to each VM's first SSH banner under TCG, and Infra's own
overhead against the whole wall time (the issue's target: under 5 %).

With `wait_for = "ssh"` (the default) the VMs are full Debian guests with cloud-init,
booted from the base image the tests cache (`$INFRA_TEST_CACHE/qemu-debian-cloud`, by
default under `~/.cache/infra-tests`; made by `examples/local-vm/build-base-image.sh`
when missing), and `apply` returns once every VM answers SSH. With `--no-ssh` they are
the tiny guest of the provider's tests (a cloud kernel with a busybox initramfs that
answers port 22 with a banner; `cargo nextest run -p infra-provider-qemu` builds it into
the same cache) with their disks over an empty base, and `apply` returns once QEMU runs.

Infra's CPU time is the kernel's accounting of the `infra` child (user + system,
`RUSAGE_CHILDREN`) against the wall time from the start of `apply` to the end of
`destroy` (with `--no-ssh`, that includes the wait for the last banner): QEMU daemonizes, so a running VM's CPU is not in it, while the
`qemu-img` runs and QEMU's start before it forks are (an upper bound of Infra's own).
The first SSH banner is found by this script, which tries every forwarded port four
times a second. The run takes the lock the VM tests take, so it never shares the
machine with them.

    python3 bench/qemu.py                # 10 Debian VMs, waiting for SSH
    python3 bench/qemu.py --vms 3
    python3 bench/qemu.py --no-ssh       # 10 tiny guests, not waiting
"""

import argparse
import fcntl
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cache_dir():
    if os.environ.get("INFRA_TEST_CACHE"):
        return Path(os.environ["INFRA_TEST_CACHE"])
    return Path.home() / ".cache/infra-tests"


def debian_image():
    """The cached Debian base image and its kernel, built when missing."""
    directory = cache_dir() / "qemu-debian-cloud"
    disk, kernel = directory / "debian-12-base.qcow2", directory / "vmlinuz"
    if not (disk.exists() and kernel.exists()):
        script = ROOT / "examples/local-vm/build-base-image.sh"
        print(f"building the base image with {script} (minutes) ...", file=sys.stderr)
        subprocess.run(["sh", str(script), str(directory)], check=True)
    return disk, kernel


def tiny_guest():
    directory = cache_dir() / "qemu-tiny-guest"
    kernel, initrd = directory / "vmlinuz", directory / "initrd.gz"
    if not (kernel.exists() and initrd.exists()):
        raise SystemExit(f"no tiny guest in {directory}: run `cargo nextest run -p infra-provider-qemu` once")
    return kernel, initrd


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def debian_module(vms, base, kernel, ports, memory):
    return f'''
resource qemu.disk root for i in range({vms}) {{
  path = "vms/vm-${{i}}.qcow2"
  base = "{base}"
}}

resource qemu.cloudinit seed for i in range({vms}) {{
  path      = "vms/vm-${{i}}-seed.img"
  user_data = "#cloud-config\\ndatasource_list: [NoCloud, ConfigDrive]\\nmanage_etc_hosts: true\\n"
}}

resource qemu.vm vm for i in range({vms}) {{
  name             = "vm-${{i}}"
  memory           = {memory}
  disks            = [root[i].path]
  cloudinit        = seed[i].path
  kernel           = "{kernel}"
  cmdline          = "root=/dev/nvme0n1 rw console=ttyS0"
  accel            = "tcg"
  wait_for         = "ssh"
  boot_timeout     = "20m"
  shutdown_timeout = "1m"

  network {{
    forward {{
      host_port  = {ports}[i]
      guest_port = 22
    }}
  }}
}}
'''


def tiny_module(vms, base, kernel, initrd, ports):
    return f'''
resource qemu.disk root for i in range({vms}) {{
  path = "vms/vm-${{i}}.qcow2"
  base = "{base}"
}}

resource qemu.vm vm for i in range({vms}) {{
  name             = "vm-${{i}}"
  memory           = 128
  disks            = [root[i].path]
  kernel           = "{kernel}"
  initrd           = "{initrd}"
  cmdline          = "console=ttyS0 quiet"
  accel            = "tcg"
  shutdown_timeout = "1s"

  network {{
    forward {{
      host_port  = {ports}[i]
      guest_port = 22
    }}
  }}
}}
'''


class BannerWatch:
    """Tries each port until it answers with an SSH banner; the seconds from `start`."""

    def __init__(self, ports, start):
        self.start, self.seen, self.stop = start, {}, threading.Event()
        self.threads = [threading.Thread(target=self.watch, args=(port,), daemon=True) for port in ports]
        for thread in self.threads:
            thread.start()

    def watch(self, port):
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(4) == b"SSH-":
                        self.seen[port] = time.monotonic() - self.start
                        return
            except OSError:
                pass
            time.sleep(0.25)

    def wait(self, limit):
        deadline = time.monotonic() + limit
        for thread in self.threads:
            thread.join(max(0, deadline - time.monotonic()))
        self.stop.set()
        return sorted(self.seen.values())


def timed(command, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])} failed:\n{done.stdout}{done.stderr}")
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=10)
    parser.add_argument("--no-ssh", action="store_true", help="tiny guests, no `wait_for`")
    parser.add_argument("--memory", type=int, default=512, help="MiB per Debian VM")
    args = parser.parse_args()
    infra = os.environ.get("INFRA_BIN")
    if not infra:
        subprocess.run(["cargo", "build", "--release", "-p", "infra-cli"], cwd=ROOT, check=True)
        infra = str(ROOT / "target/release/infra")
    env = dict(os.environ, NO_COLOR="1")
    lock = open(Path(tempfile.gettempdir()) / "infra-qemu-vm-tests.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with tempfile.TemporaryDirectory() as work:
        ports = free_ports(args.vms)
        if args.no_ssh:
            kernel, initrd = tiny_guest()
            base = Path(work, "base.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "1G"], check=True)
            source = tiny_module(args.vms, base, kernel, initrd, ports)
        else:
            base, kernel = debian_image()
            source = debian_module(args.vms, base, kernel, ports, args.memory)
        Path(work, "main.infra").write_text(source)
        parallelism = str(max(args.vms, 10))
        load = os.getloadavg()[0]
        start = time.monotonic()
        watch = BannerWatch(ports, start)
        apply_wall, apply_cpu = timed([infra, "-C", work, "apply", "--auto-approve", "--parallelism", parallelism], env)
        banners = watch.wait(1200)
        destroy_wall, destroy_cpu = timed([infra, "-C", work, "destroy", "--auto-approve"], env)
        cycle = time.monotonic() - start
    guests = "tiny guests, no wait" if args.no_ssh else f"Debian guests of {args.memory} MiB, wait_for = \"ssh\""
    print(f"{args.vms} VMs ({guests}), TCG, {os.cpu_count()} cores, load {load:.1f} at the start")
    print(f"apply:   {apply_wall:7.2f} s wall, {apply_cpu:5.2f} s of Infra's CPU time")
    print(f"destroy: {destroy_wall:7.2f} s wall, {destroy_cpu:5.2f} s of Infra's CPU time")
    if banners:
        print(f"first SSH banner: first VM {banners[0]:.1f} s, median {banners[len(banners) // 2]:.1f} s, "
              f"last {banners[-1]:.1f} s after apply started ({len(banners)} of {args.vms} answered)")
    total_cpu = apply_cpu + destroy_cpu
    print(f"Infra's overhead: {total_cpu:.2f} s of CPU in {cycle:.1f} s from apply to the end of destroy = "
          f"{100 * total_cpu / cycle:.1f} % (target: under 5 %)")


if __name__ == "__main__":
    main()
