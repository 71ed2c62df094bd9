#!/usr/bin/env python3
"""A plan over many Linode servers with nothing to change: Infra's own time and the
requests it sends, against the Linode stand-in (`tests/standins/linode.py`, started
here on 127.0.0.1; no Prism, whose validation would dominate the time).

The servers are made by one `infra apply`; then `infra plan --detailed-exitcode` runs
`--runs` times. Reported per plan: wall time, Infra's CPU time (user + system, from the
kernel's accounting of the child), and the requests the stand-in saw. The issue's target:
one list request per kind (not one GET per server) and under 100 ms of Infra's own time.

    python3 bench/linode.py                # 200 servers, 5 plans
    python3 bench/linode.py --servers 20 --runs 1
"""

import rented

if __name__ == "__main__":
    rented.main(rented.LINODE, __doc__)
