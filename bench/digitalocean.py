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

import rented

if __name__ == "__main__":
    rented.main(rented.DIGITALOCEAN, __doc__)
