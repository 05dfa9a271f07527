#!/usr/bin/env python3
"""RSS after repeated replace-imports that change every record (issue: "memory is retained").
Starts BINARY on free ports in a temp dir, creates rss.test, imports ROUNDS zone files of N A
records with ?replace=true (each round every address differs), waits 5 s and prints VmRSS.
Standard library only.

    bench/import_rss.py target/release/tandem 200000 20
"""
import sys, time
from tandem_api import Tandem

binary, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Tandem(binary) as t:
    z = t.call("POST", "/zones", {"name": "rss.test"})["id"]
    for r in range(rounds):
        zone = "@ 300 IN NS ns1.rss.test.\n" + "".join(
            f"h{i} 300 IN A 10.{r}.{(i >> 8) & 255}.{i & 255}\n" for i in range(n))
        t.import_zone(z, zone)
    time.sleep(5)
    print(f"{binary}: {rounds} replace-imports of {n} records: VmRSS {t.rss_mib()} MiB 5 s after the last")
