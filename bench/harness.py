#!/usr/bin/env python3
"""The benchmark harness: generates equivalent Infra and Terraform configurations,
runs both tools on them and writes a Markdown report (bench/RESULTS.md by default).

Run it through `bench/run`, which builds the release binary first; `bench/run --help`
lists the options. Only the Python 3 standard library is used.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SHAPES = ["layered", "deep", "wide", "repeated", "modules", "payload", "cloud", "module-io"]
SIZES = [100, 1000, 3000, 10000]
PHASES = ["plan", "apply", "noop", "destroy"]
PHASE_TITLES = {
    "plan": "fresh plan",
    "apply": "apply",
    "noop": "no-change plan",
    "destroy": "destroy",
}
END_MARKER = "<!-- End of the report bench/run writes; what follows is kept. -->\n"
# layered: each resource depends on the one LAYER before it: 100 chains, as DESIGN.md
# section 6 states the apply target (1,000 instances in 100 chains). deep: on the one
# DEEP before it: 10 chains, N/10 long, the graph of Terraform's figures in SERVICES.md.
LAYER = 100
DEEP = 10
MODULE_SIZE = 10  # modules: resources per module instance
# payload and cloud: each resource depends on the one PAYLOAD_STEP before it.
PAYLOAD_STEP = 10
# module-io: module instances (each with inputs and outputs), N / MODULE_IO_COUNT
# resources in each.
MODULE_IO_COUNT = 100
# The 1,000-resource cells, which the growth ratios divide by, take 10-50 ms a phase: a
# median of three moved those ratios by 1-3 units between runs. They are measured this
# many times as often (a few seconds a shape).
GROWTH_BASE_REPEATS = 3
# Latency-bound applies measured at each parallelism (`--latency-runs`): a run's waves
# line up or spread by chance, so single runs differ by a point or two of the bound.
LATENCY_RUNS = 9


def payload_input(i, upstream):
    """The `input` object of a *payload* resource: a name built from a template, a map
    of tags and a list of ports (the issue's block). `upstream` is an expression for
    the id of the resource it depends on, or None."""
    name = f"web-{i}-${{{upstream}}}" if upstream else f"web-{i}"
    return (
        "{\n"
        f'    name  = "{name}"\n'
        f'    tags  = {{ Name = "web-{i}", Team = "infra", Tier = "{i % 10}" }}\n'
        f"    ports = [80, 443, {8000 + i % 1000}]\n"
        "  }"
    )


def cloud_input(i, upstream, equals):
    """The `input` object of a *cloud* resource: 30 attributes of mixed types, as an
    AWS instance has (strings, numbers, booleans, lists), two nested blocks written as
    objects and a list of objects, and a tags map of 10 entries. `equals` is how the
    language writes an object's fields (`=` in both)."""
    e = equals
    subnet = f"${{{upstream}}}" if upstream else "subnet-0"
    fields = [
        f'ami {e} "ami-0{i % 97:04d}"', f'instance_type {e} "t3.{["micro", "small", "medium"][i % 3]}"',
        f'availability_zone {e} "eu-west-1{"abc"[i % 3]}"', f'subnet_id {e} "{subnet}"',
        f'key_name {e} "deploy-{i % 7}"', f"monitoring {e} {str(i % 2 == 0).lower()}",
        f"ebs_optimized {e} true", f"source_dest_check {e} false", f"disable_api_termination {e} false",
        f'tenancy {e} "default"', f'private_ip {e} "10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"',
        f"associate_public_ip_address {e} {str(i % 3 == 0).lower()}", f"cpu_core_count {e} {1 + i % 4}",
        f"cpu_threads_per_core {e} 2", f'placement_group {e} "pg-{i % 5}"', f'iam_instance_profile {e} "app"',
        f'user_data {e} "#!/bin/sh\\necho web-{i} > /etc/hostname\\n"', f"hibernation {e} false",
        f'security_groups {e} ["sg-web", "sg-ssh", "sg-{i % 11}"]', f'ipv6_addresses {e} []',
        f'secondary_private_ips {e} ["10.1.{i // 256 % 256}.{i % 256}"]', f'shutdown_behavior {e} "stop"',
        f'host_id {e} ""', f"get_password_data {e} false", f"credit_specification {e} {{ cpu_credits {e} \"standard\" }}",
        f"metadata_options {e} {{ http_endpoint {e} \"enabled\", http_tokens {e} \"required\", hop_limit {e} 2 }}",
        f"root_block_device {e} [{{ volume_size {e} {8 + i % 32}, volume_type {e} \"gp3\", encrypted {e} true }}]",
        f'capacity_reservation {e} "open"', f'maintenance {e} "default"', f"volume_tags {e} {{ Backup {e} \"daily\" }}",
    ]
    tags = ", ".join(f'{k} {e} "{v}"' for k, v in [
        ("Name", f"web-{i}"), ("Team", "infra"), ("Tier", str(i % 10)), ("Env", "prod"), ("Owner", "ops"),
        ("Cost", f"cc-{i % 13}"), ("App", "shop"), ("Role", "web"), ("Zone", "abc"[i % 3]), ("Index", str(i)),
    ])
    fields.append(f"tags {e} {{ {tags} }}")
    assert len(fields) == 31  # 30 attributes and the tags map
    return "{\n" + "".join(f"    {f}\n" for f in fields) + "  }"


# ---------------------------------------------------------------- generators


def infra_config(shape, n):
    """The Infra configuration of `shape` with `n` resource instances, as
    {relative path: text}."""
    if shape in ("layered", "deep"):
        step = LAYER if shape == "layered" else DEEP
        parts = []
        for i in range(n):
            value = f'"v{i}"' if i < step else f"r{i - step}.id"
            parts.append(f"resource null.resource r{i} {{\n  input = {value}\n}}\n")
        return {"main.infra": "\n".join(parts)}
    if shape == "wide":
        parts = [f'resource null.resource r{i} {{\n  input = "v{i}"\n}}\n' for i in range(n)]
        return {"main.infra": "\n".join(parts)}
    if shape == "repeated":
        half = n // 2
        return {
            "main.infra": (
                f'resource null.resource a for i in range({half}) {{\n  input = "a${{i}}"\n}}\n\n'
                f"resource null.resource b for i in range({half}) {{\n  input = a[i].id\n}}\n"
            )
        }
    if shape in ("payload", "cloud"):
        parts = []
        for i in range(n):
            upstream = f"r{i - PAYLOAD_STEP}.id" if i >= PAYLOAD_STEP else None
            value = payload_input(i, upstream) if shape == "payload" else cloud_input(i, upstream, "=")
            parts.append(f"resource null.resource r{i} {{\n  input = {value}\n}}\n")
        return {"main.infra": "\n".join(parts)}
    if shape == "module-io":
        size = max(n // MODULE_IO_COUNT, 1)
        count = n // size
        parts = ["input name: string\n", "input tags: map(string)\n", "input upstream: string\n"]
        for j in range(size):
            upstream = f"r{j - 1}.id" if j > 0 else "upstream"
            parts.append(
                f"resource null.resource r{j} {{\n  input = {{\n"
                f'    name = "${{name}}-{j}-${{{upstream}}}"\n    tags = tags\n  }}\n}}\n'
            )
        parts.append(f"output last = r{size - 1}.id\n")
        parts.append(f"output ids = [{', '.join(f'r{j}.id' for j in range(size))}]\n")
        return {
            "main.infra": (
                "resource null.resource seed {\n  input = \"seed\"\n}\n\n"
                f"module m \"./group\" for i in range({count}) {{\n"
                '  name     = "m${i}"\n'
                '  tags     = { Team = "infra", Group = "m${i}" }\n'
                "  upstream = seed.id\n}\n\n"
                "output lasts = [for k, g in m : g.last]\n"
            ),
            "group/main.infra": "\n".join(parts),
        }
    if shape == "modules":
        count = n // MODULE_SIZE
        parts = ["input name: string\n"]
        for j in range(MODULE_SIZE):
            value = f'"${{name}}-{j}"' if j == 0 else f"r{j - 1}.id"
            parts.append(f"resource null.resource r{j} {{\n  input = {value}\n}}\n")
        return {
            "main.infra": (
                f'module m "./group" for i in range({count}) {{\n  name = "m${{i}}"\n}}\n'
            ),
            "group/main.infra": "\n".join(parts),
        }
    raise ValueError(shape)


def terraform_config(shape, n):
    """The Terraform equivalent of `infra_config(shape, n)`."""
    if shape in ("layered", "deep"):
        step = LAYER if shape == "layered" else DEEP
        parts = []
        for i in range(n):
            value = f'"v{i}"' if i < step else f"terraform_data.r{i - step}.id"
            parts.append(f'resource "terraform_data" "r{i}" {{\n  input = {value}\n}}\n')
        return {"main.tf": "\n".join(parts)}
    if shape == "wide":
        parts = [
            f'resource "terraform_data" "r{i}" {{\n  input = "v{i}"\n}}\n' for i in range(n)
        ]
        return {"main.tf": "\n".join(parts)}
    if shape == "repeated":
        half = n // 2
        return {
            "main.tf": (
                f'resource "terraform_data" "a" {{\n  count = {half}\n'
                f'  input = "a${{count.index}}"\n}}\n\n'
                f'resource "terraform_data" "b" {{\n  count = {half}\n'
                f"  input = terraform_data.a[count.index].id\n}}\n"
            )
        }
    if shape in ("payload", "cloud"):
        parts = []
        for i in range(n):
            upstream = f"terraform_data.r{i - PAYLOAD_STEP}.id" if i >= PAYLOAD_STEP else None
            value = payload_input(i, upstream) if shape == "payload" else cloud_input(i, upstream, "=")
            parts.append(f'resource "terraform_data" "r{i}" {{\n  input = {value}\n}}\n')
        return {"main.tf": "\n".join(parts)}
    if shape == "module-io":
        size = max(n // MODULE_IO_COUNT, 1)
        count = n // size
        parts = [
            'variable "name" {\n  type = string\n}\n',
            'variable "tags" {\n  type = map(string)\n}\n',
            'variable "upstream" {\n  type = string\n}\n',
        ]
        for j in range(size):
            upstream = f"terraform_data.r{j - 1}.id" if j > 0 else "var.upstream"
            parts.append(
                f'resource "terraform_data" "r{j}" {{\n  input = {{\n'
                f'    name = "${{var.name}}-{j}-${{{upstream}}}"\n    tags = var.tags\n  }}\n}}\n'
            )
        parts.append(f'output "last" {{\n  value = terraform_data.r{size - 1}.id\n}}\n')
        ids = ", ".join(f"terraform_data.r{j}.id" for j in range(size))
        parts.append(f'output "ids" {{\n  value = [{ids}]\n}}\n')
        return {
            "main.tf": (
                'resource "terraform_data" "seed" {\n  input = "seed"\n}\n\n'
                f'module "m" {{\n  source   = "./group"\n  count    = {count}\n'
                '  name     = "m${count.index}"\n'
                '  tags     = { Team = "infra", Group = "m${count.index}" }\n'
                "  upstream = terraform_data.seed.id\n}\n\n"
                'output "lasts" {\n  value = module.m[*].last\n}\n'
            ),
            "group/main.tf": "\n".join(parts),
        }
    if shape == "modules":
        count = n // MODULE_SIZE
        parts = ['variable "name" {\n  type = string\n}\n']
        for j in range(MODULE_SIZE):
            value = f'"${{var.name}}-{j}"' if j == 0 else f"terraform_data.r{j - 1}.id"
            parts.append(f'resource "terraform_data" "r{j}" {{\n  input = {value}\n}}\n')
        return {
            "main.tf": (
                f'module "m" {{\n  source = "./group"\n  count  = {count}\n'
                f'  name   = "m${{count.index}}"\n}}\n'
            ),
            "group/main.tf": "\n".join(parts),
        }
    raise ValueError(shape)


def latency_config(chains, length, duration):
    """`chains` chains of `length` time.sleep resources: s{i} waits for s{i - chains}."""
    parts = []
    for i in range(chains * length):
        after = f"\n  depends_on      = [s{i - chains}]" if i >= chains else ""
        parts.append(
            f'resource time.sleep s{i} {{\n  create_duration = "{duration}"{after}\n}}\n'
        )
    return {"main.infra": "\n".join(parts)}


FRONT_END_GROUP = """\
# Group {k}: a region, some derived names, nodes and a file describing them.
input region_{k}: string = "eu-west-{r}" {{
  description = "The region of group {k}"
}}

let names_{k} = [for i in range(4) : "node-{k}-${{i}}"]
let sizes_{k} = {{ for n in names_{k} : n => length(n) * 2 + {k} }}
let flags_{k} = {{
  large   = sizes_{k}[names_{k}[0]] > 20
  primary = region_{k} == "eu-west-0" && !contains(names_{k}, "none")
}}

fn label_{k}(name: string, position: number, region: string): string = "${{name}}-${{position}}-${{region}}"

resource null.resource node_{k} for i, n in names_{k} {{
  input = {{
    name  = n
    label = label_{k}(n, i, region_{k})
    size  = sizes_{k}[n]
    tags  = merge({{ group = "{k}" }}, {{ region = region_{k} }})
    class = flags_{k}.large ? "large" : "small"
  }}
}}

resource local.file conf_{k} {{
  path    = "out/{k}/node.conf"
  content = <<-EOT
    # group {k} in ${{upper(region_{k})}}
    nodes = ${{join(", ", names_{k})}}
    EOT
}}

output node_ids_{k} = [for n in node_{k} : n.id]
"""


def front_end_config(size_bytes):
    """A configuration of about `size_bytes` bytes that checks cleanly."""
    groups = []
    total = 0
    k = 0
    while total < size_bytes:
        text = FRONT_END_GROUP.format(k=k, r=k % 3)
        groups.append(text)
        total += len(text) + 1
        k += 1
    return {"main.infra": "\n".join(groups)}


def write_tree(directory, files):
    for rel, text in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------- measuring


class Failed(Exception):
    def __init__(self, command, code, output):
        super().__init__(f"`{' '.join(command)}` exited {code}")
        self.command = command
        self.code = code
        self.output = output


class TimedOut(Exception):
    pass


# Runs one command for `measure`, in a fresh interpreter: the peak RSS the kernel reports
# for a process counts the memory of the process it was forked from (an exec keeps the
# high-water mark of the image it replaces), so a command forked by this harness, which
# holds generated configurations of many megabytes, would never report less than the
# harness itself. This small process forks it instead, times it and writes its usage.
RUNNER = """
import json, os, signal, sys, time
command, timeout, out = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(command[0], command)
if timeout > 0:
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as f:
    json.dump({"wall": wall, "code": os.waitstatus_to_exitcode(status),
               "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024.0}, f)
"""


def measure(command, cwd, env, ok_codes=(0,), timeout=None):
    """Runs `command`; returns wall seconds, CPU seconds (user + system, children
    included) and peak RSS in MB (see RUNNER). Output goes to a file on the same disk. A
    command still running after `timeout` seconds is killed and raises `TimedOut`."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile(suffix=".json") as result:
        runner = [sys.executable, "-S", "-c", RUNNER, json.dumps(command), str(timeout or 0), result.name]
        subprocess.run(runner, cwd=cwd, env=env, stdout=out, stderr=out, check=True)
        with open(result.name, encoding="utf-8") as f:
            usage = json.load(f)
        if timeout and usage["wall"] >= timeout and usage["code"] < 0:
            raise TimedOut()
        if usage["code"] not in ok_codes:
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
            raise Failed(command, usage["code"], text[-4000:])
    return {"wall": usage["wall"], "cpu": usage["cpu"], "rss": usage["rss"]}


class Tool:
    name = ""
    state_file = ""

    def prepare(self, directory):
        pass


class Infra(Tool):
    name = "infra"
    state_file = "infra.state.json"

    def __init__(self, binary, parallelism):
        self.binary = binary
        self.parallelism = str(parallelism)
        self.env = dict(os.environ, NO_COLOR="1")

    def config(self, shape, n):
        return infra_config(shape, n)

    def commands(self, directory):
        b, p = self.binary, self.parallelism
        return {
            "plan": ([b, "-C", directory, "plan", "--detailed-exitcode"], (2,)),
            "apply": ([b, "-C", directory, "apply", "--auto-approve", "--parallelism", p], (0,)),
            "noop": ([b, "-C", directory, "plan", "--detailed-exitcode"], (0,)),
            "destroy": (
                [b, "-C", directory, "destroy", "--auto-approve", "--parallelism", p],
                (0,),
            ),
        }

    def clean(self, directory):
        for name in os.listdir(directory):
            if name.startswith("infra.state"):
                os.remove(os.path.join(directory, name))


class Terraform(Tool):
    name = "terraform"
    state_file = "terraform.tfstate"

    def __init__(self, binary, parallelism, scratch):
        self.binary = binary
        self.parallelism = f"-parallelism={parallelism}"
        rc = os.path.join(scratch, "terraformrc")
        open(rc, "w").close()
        self.env = dict(
            os.environ, CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=rc, TF_IN_AUTOMATION="1"
        )

    def config(self, shape, n):
        return terraform_config(shape, n)

    def prepare(self, directory):
        measure([self.binary, "init", "-input=false", "-no-color"], directory, self.env)

    def commands(self, directory):
        b, p = self.binary, self.parallelism
        plan = [b, "plan", "-input=false", "-no-color", "-detailed-exitcode", p]
        return {
            "plan": (plan, (2,)),
            "apply": ([b, "apply", "-input=false", "-no-color", "-auto-approve", p], (0,)),
            "noop": (plan, (0,)),
            "destroy": ([b, "destroy", "-input=false", "-no-color", "-auto-approve", p], (0,)),
        }

    def clean(self, directory):
        for name in os.listdir(directory):
            if name.startswith("terraform.tfstate"):
                os.remove(os.path.join(directory, name))


def run_cycle(tool, directory, timeout, skip):
    """One fresh plan, apply, no-change plan and destroy, from empty state. A phase
    that takes longer than `timeout` ends the cycle; phases in `skip` are not run
    (they timed out at a smaller size) and end it too."""
    tool.clean(directory)
    result = {}
    for phase, (command, ok) in tool.commands(directory).items():
        if phase in skip:
            result[phase] = {"skipped": "timed out at a smaller N"}
            break
        try:
            result[phase] = measure(command, directory, tool.env, ok, timeout)
        except TimedOut:
            result[phase] = {"timeout": timeout}
            break
        if phase == "apply":
            # The size of the state the apply wrote, which the no-change plan reads.
            path = os.path.join(directory, tool.state_file)
            if os.path.exists(path):
                result[phase]["state"] = os.path.getsize(path)
    return result


def graph_depth(shape, n):
    """How many resources the longest dependency chain of `shape` at `n` holds: an apply
    needs at least that many journal syncs in a row (each begin must be on disk before its
    operation starts), and should need no more."""
    if shape == "layered":
        return math.ceil(n / LAYER)
    if shape == "deep":
        return math.ceil(n / DEEP)
    if shape in ("payload", "cloud"):
        return math.ceil(n / PAYLOAD_STEP)
    if shape == "wide":
        return 1
    if shape == "repeated":
        return 2
    if shape == "modules":
        return MODULE_SIZE
    if shape == "module-io":
        return max(n // MODULE_IO_COUNT, 1) + 1  # the seed, then each module's chain
    return None


def count_syncs(tool, directory):
    """`fsync` and `fdatasync` calls of one apply from an empty state, counted by
    `strace` (a run of its own: tracing slows the process down)."""
    tool.clean(directory)
    command, _ = tool.commands(directory)["apply"]
    with tempfile.NamedTemporaryFile(suffix=".strace") as trace:
        subprocess.run(
            ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", trace.name] + command,
            cwd=directory, env=tool.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            check=True,
        )
        calls = 0
        for line in open(trace.name, encoding="utf-8"):
            fields = line.split()
            if fields and fields[-1] in ("fsync", "fdatasync"):
                calls += int(fields[3])  # % time, seconds, usecs/call, calls[, errors], name
    return calls


def median_of(cycles):
    """Per phase, the medians over the cycles that measured it; otherwise why not."""
    medians = {}
    for phase in PHASES:
        measured = [c[phase] for c in cycles if "wall" in c.get(phase, {})]
        if measured:
            medians[phase] = {
                key: statistics.median(m[key] for m in measured)
                for key in ("wall", "cpu", "rss", "state")
                if all(key in m for m in measured)
            }
        else:
            medians[phase] = next(
                (c[phase] for c in cycles if phase in c), {"skipped": "not reached"}
            )
    return medians


def cycle_seconds(cycle):
    return sum(m.get("wall", m.get("timeout", 0)) for m in cycle.values())


def unsupported_reason(failure):
    """Why a tool failed a shape, for the report."""
    if failure.code == 0:
        return f"`{' '.join(failure.command[3:])}` planned no changes for a fresh state"
    for line in failure.output.splitlines():
        line = line.strip()
        if line.startswith("error") or line.startswith("Error"):
            return line[:160]
    lines = [line for line in failure.output.splitlines() if line.strip()]
    return (lines[0] if lines else str(failure))[:160]


def log(message):
    print(message, file=sys.stderr, flush=True)


def bench_graphs(args, tools, scratch):
    """Every shape and size, per tool: {(tool, shape, n): medians | {"skipped": why}}."""
    results = {}
    for shape in args.shapes:
        for tool in tools:
            if tool.name == "terraform" and shape not in args.terraform_shapes:
                continue
            previous = None  # (n, seconds of one cycle)
            skip = set()  # phases that timed out at a smaller size
            for n in args.sizes:
                key = (tool.name, shape, n)
                if tool.name == "terraform" and previous is not None:
                    # Terraform's apply grows faster than linearly: measured here, a cycle
                    # grows 27x from 100 to 1,000 and 8x from 1,000 to 3,000, so predict
                    # with the power 1.5.
                    predicted = previous[1] * (n / previous[0]) ** 1.5
                    if predicted > args.budget:
                        results[key] = {"skipped": f"predicted {predicted:.0f} s > budget"}
                        log(f"{tool.name} {shape} {n}: skipped (predicted {predicted:.0f} s)")
                        continue
                directory = os.path.join(scratch, f"{tool.name}-{shape}-{n}")
                cycles = []
                write_tree(directory, tool.config(shape, n))
                try:
                    tool.prepare(directory)
                    spent = 0.0
                    runs = args.runs
                    if n == 1000 and 10000 in args.sizes and tool.name == "infra":
                        runs *= GROWTH_BASE_REPEATS
                    for run in range(runs):
                        cycle = run_cycle(tool, directory, args.timeout, skip)
                        cycles.append(cycle)
                        seconds = cycle_seconds(cycle)
                        spent += seconds
                        log(
                            f"{tool.name} {shape} {n} run {run + 1}: "
                            + ", ".join(
                                f"{p} {m['wall']:.2f}s" if "wall" in m else f"{p} {next(iter(m))}"
                                for p, m in cycle.items()
                            )
                        )
                        # Long runs get fewer repetitions, so the budget holds.
                        if spent + seconds > args.budget or any(
                            "timeout" in m for m in cycle.values()
                        ):
                            break
                    results[key] = median_of(cycles)
                    results[key]["runs"] = len(cycles)
                    if tool.name == "infra" and args.syncs and "wall" in results[key]["apply"]:
                        results[key]["syncs"] = count_syncs(tool, directory)
                        log(f"{tool.name} {shape} {n}: {results[key]['syncs']} syncs per apply")
                    skip |= {p for p, m in results[key].items() if p in PHASES and "timeout" in m}
                    previous = (n, spent / len(cycles))
                except Failed as failure:
                    # Only the modules shape may be unsupported (module calls are run
                    # once the engine supports them); any other failure is an error.
                    if shape != "modules" or cycles:
                        log(failure.output)
                        raise
                    reason = unsupported_reason(failure)
                    results[key] = {"unsupported": reason}
                    log(f"{tool.name} {shape} {n}: unsupported: {reason}")
                    break
                finally:
                    if not args.keep:
                        shutil.rmtree(directory, ignore_errors=True)
    return results


def bench_latency(args, infra, scratch):
    """1,000 time.sleep of 100 ms as 100 chains of 10, at each parallelism."""
    chains, length, seconds = 100, 10, 0.1
    directory = os.path.join(scratch, "latency")
    write_tree(directory, latency_config(chains, length, "100ms"))
    rows = []
    for parallelism in args.latency_parallelism:
        walls = []
        for _ in range(args.latency_runs):
            infra.clean(directory)
            # What earlier cells left for the disk to write is written first, so it does
            # not slow this run's journal syncs.
            os.sync()
            command = [
                infra.binary, "-C", directory, "apply", "--auto-approve",
                "--parallelism", str(parallelism),
            ]
            walls.append(measure(command, directory, infra.env)["wall"])
        waves = max(math.ceil(chains * length / parallelism), length)
        bound = waves * seconds
        measured = statistics.median(walls)
        rows.append((parallelism, bound, measured, len(walls)))
        log(f"latency parallelism {parallelism}: {measured:.2f}s against {bound:.2f}s")
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def bench_front_end(args, infra, scratch):
    """`infra check` and `infra fmt --check` on generated configurations."""
    rows = []
    for megabytes in args.front_end_sizes:
        directory = os.path.join(scratch, f"front-end-{megabytes}")
        files = front_end_config(int(megabytes * 1_000_000))
        write_tree(directory, files)
        size = sum(len(text.encode()) for text in files.values())
        # The generated text is formatted first, so `fmt --check` measures the
        # formatter and finds nothing to change.
        measure([infra.binary, "fmt", directory], directory, infra.env)
        for command_name, command in (
            ("check", [infra.binary, "check", directory]),
            ("fmt --check", [infra.binary, "fmt", "--check", directory]),
        ):
            runs = [measure(command, directory, infra.env) for _ in range(args.runs)]
            wall = statistics.median(r["wall"] for r in runs)
            rss = statistics.median(r["rss"] for r in runs)
            rows.append((f"`infra {command_name}`", size, wall, rss))
            log(f"{command_name} {size / 1e6:.1f} MB: {wall:.3f}s, {size / 1e6 / wall:.1f} MB/s")
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    rows.extend(bench_hostile_shapes(args, infra, scratch))
    return rows


def hostile_shapes():
    """Inputs that once took quadratic time: a one-line list of 200,000 numbers (`fmt`),
    20,000 unused `let`s (20,000 warnings) and 20,000 undefined names (errors, each
    looking for a "did you mean" among 20,000 declarations)."""
    numbers = ", ".join(str(i) for i in range(200_000))
    yield "fmt --check", "one-line list", {"main.infra": f"let big = [{numbers}]\noutput o = length(big)\n"}
    unused = "".join(f"let unused{i} = 1\n" for i in range(20_000))
    yield "check", "20,000 warnings", {"main.infra": unused}
    undefined = "".join(f"let u{i} = missing{i}\n" for i in range(20_000))
    yield "check", "20,000 undefined names", {"main.infra": undefined}


def bench_hostile_shapes(args, infra, scratch):
    """The front end stays linear on `hostile_shapes()`: each row's throughput should be
    of the order of the generated configurations' rows."""
    rows = []
    for command_name, shape, files in hostile_shapes():
        directory = os.path.join(scratch, "front-end-hostile")
        write_tree(directory, files)
        size = sum(len(text.encode()) for text in files.values())
        command = [infra.binary, *command_name.split(), directory]
        # These exit non-zero (errors, warnings count as success): only time matters.
        runs = [measure(command, directory, infra.env, ok_codes=(0, 1)) for _ in range(args.runs)]
        wall = statistics.median(r["wall"] for r in runs)
        rss = statistics.median(r["rss"] for r in runs)
        rows.append((f"`infra {command_name}` ({shape})", size, wall, rss))
        log(f"{command_name} {shape}: {wall:.3f}s")
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return rows


# ---------------------------------------------------------------- report


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}"


def calibration():
    """Seconds a fixed piece of work takes this process (the median of three): sorting a
    million generated tuples and hashing 64 MB. This host's speed moves by a fifth or
    more from one quarter hour to the next (other machines share it); measured at the
    start and the end of a run, it tells a slow run from a slow build."""
    def once():
        started = time.perf_counter()
        items = sorted(((i * 7919) % 1000003, str(i)) for i in range(1_000_000))
        hashlib.sha256(bytes(64 << 20)).hexdigest()
        del items
        return time.perf_counter() - started

    return statistics.median(once() for _ in range(3))


def load_average():
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def version(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
        return out.splitlines()[0].strip() if out else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def fmt_seconds(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_ratio(tf, infra):
    if infra <= 0:
        return "–"
    ratio = tf / infra
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def graph_table(args, results):
    lines = [
        "| shape | N | phase | Infra wall | Infra CPU | Infra RSS | Terraform wall "
        "| Terraform CPU | Terraform RSS | Terraform/Infra (wall) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape in args.shapes:
        for n in args.sizes:
            infra = results.get(("infra", shape, n))
            tf = results.get(("terraform", shape, n))
            if infra is None and tf is None:
                continue
            for phase in PHASES:
                cells = [shape, f"{n:,}", PHASE_TITLES[phase]]
                for entry in (infra, tf):
                    if entry is None:
                        cells += ["not run", "", ""]
                    elif "skipped" in entry or "unsupported" in entry:
                        why = entry.get("skipped") or "unsupported"
                        cells += [why if phase == "plan" else "", "", ""]
                    elif "timeout" in entry[phase]:
                        cells += [f"> {entry[phase]['timeout']:.0f} s (stopped)", "", ""]
                    elif "skipped" in entry[phase]:
                        cells += [entry[phase]["skipped"], "", ""]
                    else:
                        m = entry[phase]
                        cells += [fmt_seconds(m["wall"]), fmt_seconds(m["cpu"]),
                                  f"{m['rss']:.0f} MB"]
                both = (
                    infra is not None and tf is not None
                    and "wall" in infra.get(phase, {}) and "wall" in tf.get(phase, {})
                )
                cells.append(fmt_ratio(tf[phase]["wall"], infra[phase]["wall"]) if both else "")
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def scaling_lines(args, results):
    """Growth from 1,000 to 10,000 per Infra shape and phase (linear is 10)."""
    if 1000 not in args.sizes or 10000 not in args.sizes:
        return []
    lines = [
        "| shape | phase | wall 10k/1k | CPU 10k/1k | RSS 10k/1k |",
        "|---|---|---:|---:|---:|",
    ]
    for shape in args.shapes:
        small = results.get(("infra", shape, 1000))
        large = results.get(("infra", shape, 10000))
        if not small or not large or "plan" not in small or "plan" not in large:
            continue
        for phase in PHASES:
            a, b = small[phase], large[phase]
            if "wall" not in a or "wall" not in b:
                continue
            cells = [shape, PHASE_TITLES[phase]]
            for key in ("wall", "cpu", "rss"):
                cells.append(f"{b[key] / a[key]:.1f}" if a[key] > 0 else "–")
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def memory_lines(args, results):
    """The no-change plan's peak memory against the state file it reads (the issue's
    target: within 3x the state plus a fixed base). The base is the same shape's
    no-change plan at the smallest size measured (100 by default): the binary's pages,
    the runtime, and what any configuration holds."""
    base_n = min(args.sizes)
    lines = [
        f"| shape | N | state file | no-change plan peak RSS | base (N = {base_n:,}) | beyond the base, per byte of state |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for shape in args.shapes:
        base = (results.get(("infra", shape, base_n)) or {}).get("noop", {})
        if "rss" not in base:
            continue
        for n in args.sizes:
            if n == base_n:
                continue
            entry = results.get(("infra", shape, n)) or {}
            state = entry.get("apply", {}).get("state")
            noop = entry.get("noop", {})
            if not state or "rss" not in noop:
                continue
            # In MiB, as every memory figure here is (`ru_maxrss`).
            state_mb = state / 2**20
            ratio = (noop["rss"] - base["rss"]) / state_mb
            # (Two decimals: the target is 3, and 2.96 is not 3.04.)
            lines.append(
                f"| {shape} | {n:,} | {state_mb:.2f} MB | {noop['rss']:.1f} MB | {base['rss']:.1f} MB | {ratio:.2f}× |"
            )
    return lines if len(lines) > 2 else []


def sync_lines(args, results):
    """Journal syncs per apply against the depth of the graph."""
    lines = [
        "| shape | N | longest chain | syncs per apply | syncs per resource |",
        "|---|---:|---:|---:|---:|",
    ]
    for shape in args.shapes:
        for n in args.sizes:
            entry = results.get(("infra", shape, n)) or {}
            if "syncs" not in entry:
                continue
            depth = graph_depth(shape, n)
            chain = "–" if depth is None else f"{depth:,}"
            lines.append(f"| {shape} | {n:,} | {chain} | {entry['syncs']:,} | {entry['syncs'] / n:.2f} |")
    return lines if len(lines) > 2 else []


def report(args, results, latency, front_end, unsupported):
    out = ["<!-- Written by bench/run; edit bench/harness.py, not this table. -->", ""]
    out.append("## Machine")
    out.append("")
    out.append(f"- {machine()}")
    out.append(f"- Infra: {version([args.infra, '--version'])} (release build)")
    if args.terraform:
        out.append(f"- Terraform: {version([args.terraform, 'version'])}")
    # Only what this run did: the extra cycles and the latency runs are said when made.
    runs = [f"fewer where a run exceeds the {args.budget:.0f} s budget"]
    if 1000 in args.sizes and 10000 in args.sizes:
        runs.append(f"Infra's 1,000 cells {GROWTH_BASE_REPEATS}× as many")
    if latency:
        applies = "apply" if args.latency_runs == 1 else "applies"
        runs.append(f"{args.latency_runs} latency-bound {applies} at each parallelism, each after a `sync`")
    out.append(
        f"- {args.runs} run{'s' if args.runs != 1 else ''} per cell ({'; '.join(runs)}), medians; "
        f"parallelism {args.parallelism} for both tools; local state"
    )
    out.append(f"- command: `bench/run {' '.join(sys.argv[1:])}`".rstrip())
    out.append(
        f"- load average (1 min) at the start: {args.load_start}, at the end: {load_average()} "
        "(the machine's other work; both tools share it, which is why the ratios come "
        "from the same run)"
    )
    out.append(
        f"- the host's speed: a fixed piece of work (`calibration` in the harness) took "
        f"{args.calibration_start:.2f} s at the start and {calibration():.2f} s at the end"
    )
    out.append("")
    if results:
        out.append("## Plan, apply, no-change plan, destroy")
        out.append("")
        out += graph_table(args, results)
        out.append("")
        for key, why in unsupported.items():
            out.append(f"- {key[0]} `{key[1]}`: unsupported — {why}")
        if unsupported:
            out.append("")
        for title, lines in (
            ("Infra: growth from 1,000 to 10,000 (linear is 10)", scaling_lines(args, results)),
            ("Infra: disk syncs per apply (`strace -c`, a run of its own)", sync_lines(args, results)),
            ("Infra: memory of the no-change plan against its state file", memory_lines(args, results)),
        ):
            if lines:
                out += [f"### {title}", "", *lines, ""]
    if latency:
        out.append("## Latency-bound apply: 1,000 `time.sleep` of 100 ms, 100 chains of 10")
        out.append("")
        out.append("| parallelism | critical-path bound | measured apply | over the bound |")
        out.append("|---:|---:|---:|---:|")
        for parallelism, bound, measured, _ in latency:
            over = (measured - bound) / bound * 100
            out.append(
                f"| {parallelism} | {fmt_seconds(bound)} | {fmt_seconds(measured)} | {over:.1f}% |"
            )
        out.append("")
    if front_end:
        out.append("## Front end")
        out.append("")
        out.append("| command | input | wall | throughput | peak RSS |")
        out.append("|---|---:|---:|---:|---:|")
        for name, size, wall, rss in front_end:
            out.append(
                f"| {name} | {size / 1e6:.1f} MB | {fmt_seconds(wall)} "
                f"| {size / 1e6 / wall:.1f} MB/s | {rss:.0f} MB |"
            )
        out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma-separated shapes (default: all)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated resource counts")
    parser.add_argument("--runs", type=int, default=5, help="runs per cell; medians reported")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--budget", type=float, default=180.0,
                        help="seconds one tool may spend on one shape and size")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds after which one command is stopped and reported as such")
    parser.add_argument("--no-terraform", action="store_true", help="measure Infra only")
    parser.add_argument("--terraform-shapes", help="shapes Terraform runs (default: --shapes)")
    parser.add_argument("--quick", action="store_true",
                        help="N = 100 and 1,000, one run, Terraform on the layered shape only, "
                             "front end at 1 MB")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-front-end", action="store_true")
    parser.add_argument("--no-graphs", action="store_true")
    parser.add_argument("--no-syncs", dest="syncs", action="store_false",
                        help="do not count Infra's disk syncs per apply (needs strace)")
    parser.add_argument("--latency-parallelism", default="10,100")
    parser.add_argument("--latency-runs", type=int, default=LATENCY_RUNS,
                        help="latency-bound applies per parallelism; the median is reported")
    parser.add_argument("--front-end-sizes", default="1,10", help="megabytes")
    parser.add_argument("--out", help="write the report here (default: print it)")
    parser.add_argument("--keep", action="store_true", help="keep the generated directories")
    parser.add_argument("--scratch", help="where to generate (default: a temporary directory)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.runs, args.front_end_sizes = "100,1000", 1, "1"
        args.latency_runs = 1
        args.terraform_shapes = args.terraform_shapes or "layered"
    args.shapes = [s for s in args.shapes.split(",") if s]
    for shape in args.shapes:
        if shape not in SHAPES:
            parser.error(f"unknown shape {shape!r}; shapes are {', '.join(SHAPES)}")
    args.terraform_shapes = (
        args.shapes if args.terraform_shapes is None
        else [s for s in args.terraform_shapes.split(",") if s]
    )
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.latency_parallelism = [int(s) for s in args.latency_parallelism.split(",") if s]
    args.front_end_sizes = [float(s) for s in args.front_end_sizes.split(",") if s]
    args.infra = os.environ.get("INFRA_BIN") or shutil.which("infra")
    if not args.infra:
        parser.error("set INFRA_BIN or run through bench/run")
    args.infra = os.path.abspath(args.infra)
    args.terraform = None if args.no_terraform else shutil.which("terraform")
    if args.syncs and not shutil.which("strace"):
        log("strace is not installed: disk syncs are not counted")
        args.syncs = False

    args.load_start = load_average()
    args.calibration_start = calibration()
    scratch = args.scratch or tempfile.mkdtemp(prefix="infra-bench-")
    os.makedirs(scratch, exist_ok=True)
    infra = Infra(args.infra, args.parallelism)
    tools = [infra]
    if args.terraform:
        tools.append(Terraform(args.terraform, args.parallelism, scratch))
    try:
        results = {} if args.no_graphs else bench_graphs(args, tools, scratch)
        latency = [] if args.no_latency else bench_latency(args, infra, scratch)
        front_end = [] if args.no_front_end else bench_front_end(args, infra, scratch)
    finally:
        if not args.scratch and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    unsupported = {
        (tool, shape): entry["unsupported"]
        for (tool, shape, _), entry in results.items()
        if "unsupported" in entry
    }
    text = report(args, results, latency, front_end, unsupported)
    if args.out:
        # What follows the marker in an existing report (the log of optimizations) is
        # written by hand and kept.
        kept = ""
        try:
            with open(args.out) as f:
                previous = f.read()
            if END_MARKER in previous:
                kept = previous[previous.index(END_MARKER) + len(END_MARKER):]
        except OSError:
            pass
        with open(args.out, "w") as f:
            f.write(text + "\n" + END_MARKER + kept)
        log(f"wrote {args.out}")
    else:
        print(text)
    # Failures other than a tool not supporting a shape are errors.
    return 0


if __name__ == "__main__":
    sys.exit(main())
