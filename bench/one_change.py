#!/usr/bin/env python3
"""How long one record change takes through the API on a large zone (issue: "a one-record API
change on a 1M-record zone answers in a few milliseconds plus one fsync, whatever the zone
size"). Starts BINARY on free ports in a temp dir, imports a zone of N A records, then creates
CHANGES records one at a time and prints the median, min and max time from request to 200.
Standard library only.

    bench/one_change.py target/release/tandem 1000000 30
"""
import statistics, sys, time
from tandem_api import Tandem

binary, n, changes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Tandem(binary) as t:
    z = t.call("POST", "/zones", {"name": "one.test"})["id"]
    zone = "@ 300 IN NS ns1.one.test.\n" + "".join(
        f"h{i} 300 IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n" for i in range(n))
    started = time.monotonic()
    t.import_zone(z, zone)
    imported = time.monotonic() - started
    ms = []
    for i in range(changes):
        started = time.monotonic()
        t.call("POST", f"/zones/{z}/dns_records",
               {"type": "A", "name": f"new{i}", "content": "192.0.2.1", "ttl": 300})
        ms.append((time.monotonic() - started) * 1000)
    print(f"{binary}: zone of {n} records imported in {imported:.1f} s; one record created: "
          f"median {statistics.median(ms):.1f} ms, min {min(ms):.1f}, max {max(ms):.1f} "
          f"({changes} changes, one at a time)")
