#!/usr/bin/env python3
"""What the state's place and its encryption cost: the apply of 1,000 `layered` resources
(bench/harness.py's shape) with the state in a plain local file, an encrypted local file
(`INFRA_STATE_PASSPHRASE`, and a key in `INFRA_STATE_KEY`), on S3 (a `moto_server` started here) and encrypted on S3.
Wall time of `infra apply`, median of the runs, each from an empty state; the ratios are
against the plain local file, measured in the same run.

    python3 bench/state.py                 # N = 1000, 5 runs
    python3 bench/state.py --n 100 --runs 1
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (the configuration generator)

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct horse battery staple, for the benchmark"
KEY = "00" * 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return process, endpoint
        except Exception:
            if time.monotonic() - start > 30:
                raise SystemExit("moto_server did not start")
            time.sleep(0.1)


def apply_once(infra, config, backend, env, bucket_number):
    with tempfile.TemporaryDirectory() as work:
        harness.write_tree(work, config)
        command = [infra, "-C", work, "apply", "--auto-approve", "--parallelism", "10"]
        if backend.startswith("s3"):
            command += ["--state-url", f"s3://bench-{bucket_number}/infra.state"]
        start = time.monotonic()
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        took = time.monotonic() - start
        if done.returncode != 0:
            raise SystemExit(f"{backend}: infra apply failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return took


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    infra = os.environ.get("INFRA_BIN", str(ROOT / "target/release/infra"))
    config = harness.infra_config("layered", args.n)
    moto, endpoint = start_moto()
    try:
        aws = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint)
        for name in ("INFRA_STATE_PASSPHRASE", "INFRA_STATE_KEY"):
            aws.pop(name, None)
        backends = {
            "local": aws,
            "local, encrypted (passphrase)": dict(aws, INFRA_STATE_PASSPHRASE=PASSPHRASE),
            "local, encrypted (INFRA_STATE_KEY)": dict(aws, INFRA_STATE_KEY=KEY),
            "s3": aws,
            "s3, encrypted (passphrase)": dict(aws, INFRA_STATE_PASSPHRASE=PASSPHRASE),
        }
        times = {name: [] for name in backends}
        bucket = 0
        for _ in range(args.runs):
            # Alternating backends within each round, so the machine's drift is shared.
            for name, env in backends.items():
                bucket += 1
                if name.startswith("s3"):
                    request = urllib.request.Request(f"{endpoint}/bench-{bucket}", method="PUT")
                    urllib.request.urlopen(request)
                times[name].append(apply_once(infra, config, name, env, bucket))
    finally:
        moto.terminate()
        moto.wait()
    base = statistics.median(times["local"])
    print(f"| state | apply of {args.n} (median of {args.runs}) | against the plain local file |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} s | {median / base:.2f}× |")


if __name__ == "__main__":
    main()
