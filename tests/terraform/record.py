#!/usr/bin/env python3
"""Records Terraform's answers for the differential corpus.

The corpus is every expression in tests/data/terraform/expressions.txt plus every example
in docs/functions/*.md (a line `- `EXPR` → ...`), the same list that
stdlib/tests/terraform_differential.rs reads. Each is evaluated by `terraform console`
as `jsonencode(EXPR)`, and the answer (the JSON text, or that it is an error) is written
to tests/data/terraform/answers.json, which is committed: the test never runs Terraform.

Run it after adding expressions or examples:  python3 tests/terraform/record.py
It needs `terraform` (1.11) on PATH and keeps answers it already has unless --all is given.
Terraform runs in a copy of tests/data/terraform/files/, the directory the test evaluates
in, so relative paths name the same files for both.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/data/terraform/expressions.txt"
ANSWERS = ROOT / "tests/data/terraform/answers.json"
FILES = ROOT / "tests/data/terraform/files"
EXAMPLE = re.compile(r"^- `(.+?)` → ")


def expressions():
    """The corpus, in order, without duplicates (the test's list, read the same way)."""
    found = []
    for line in CORPUS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            found.append(line)
    for page in sorted((ROOT / "docs/functions").glob("*.md")):
        for line in page.read_text().splitlines():
            match = EXAMPLE.match(line)
            if match:
                found.append(match.group(1))
    return list(dict.fromkeys(found))


def hcl_string(text):
    """The value of a string as `terraform console` prints it (HCL's quoting)."""
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        return None
    # HCL escapes template sequences in string literals; JSON does not know them.
    text = text.replace("$${", "${").replace("%%{", "%{")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def evaluate(expression):
    # Each console in a directory of its own: two in one directory fight over its state lock.
    with tempfile.TemporaryDirectory() as workdir:
        shutil.copytree(FILES, workdir, dirs_exist_ok=True)
        return ask(expression, workdir)


def ask(expression, workdir):
    environment = dict(os.environ, TF_CLI_CONFIG_FILE="/dev/null", TF_IN_AUTOMATION="1")
    result = subprocess.run(
        ["terraform", "console", "-no-color"],
        input=f"jsonencode({expression})\n",
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment,
        timeout=60,
    )
    if result.returncode == 0:
        value = hcl_string(result.stdout)
        if value is not None:
            return {"json": value}
    first_error = next((l.strip() for l in result.stderr.splitlines() if "Error:" in l), "error")
    return {"error": first_error.replace("Error:", "").strip()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="record every answer again")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    known = {} if args.all or not ANSWERS.exists() else json.loads(ANSWERS.read_text())
    wanted = expressions()
    todo = [e for e in wanted if e not in known]
    print(f"{len(wanted)} expressions, {len(todo)} to ask Terraform", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for expression, answer in zip(todo, pool.map(evaluate, todo)):
            known[expression] = answer
    answers = {e: known[e] for e in wanted}
    ANSWERS.write_text(json.dumps(answers, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    errors = sum(1 for a in answers.values() if "error" in a)
    print(f"wrote {ANSWERS.relative_to(ROOT)}: {len(answers)} answers, {errors} errors", file=sys.stderr)


if __name__ == "__main__":
    main()
