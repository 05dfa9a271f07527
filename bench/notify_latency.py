#!/usr/bin/env python3
"""How long after an API change's 200 the secondary's NOTIFY arrives (issue: "the first change
after a quiet period sends its NOTIFY at once"). Starts the given tandem binary on free ports in
a temp dir, links a UDP socket of its own on 127.0.0.1 as the only outgoing peer, then 10 times:
waits 0.6 s (a quiet window), creates a record, and measures from the API's answer to the
NOTIFY's arrival. Prints median, min and max in ms. Standard library only.

    bench/notify_latency.py target/release/tandem
"""
import socket, sys, time
from tandem_api import Tandem

binary = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))


def drain():
    sock.settimeout(0.5)
    try:
        while True:
            sock.recvfrom(4096)
    except socket.timeout:
        pass


with Tandem(binary) as t:
    acct = t.call("GET", "/accounts")[0]["id"]
    z = t.call("POST", "/zones", {"name": "lat.test"})["id"]
    peer = t.call("POST", f"/accounts/{acct}/secondary_dns/peers",
                  {"name": "p", "ip": "127.0.0.1", "port": sock.getsockname()[1]})["id"]
    t.call("POST", f"/zones/{z}/secondary_dns/outgoing", {"peers": [peer]})
    t.call("POST", f"/zones/{z}/secondary_dns/outgoing/enable", {})
    lat = []
    for i in range(10):
        time.sleep(0.6)
        drain()
        t.call("POST", f"/zones/{z}/dns_records", {"type": "A", "name": f"h{i}", "content": "192.0.2.1"})
        answered = time.monotonic()
        sock.settimeout(3)
        sock.recvfrom(4096)
        lat.append((time.monotonic() - answered) * 1000)
lat.sort()
print(f"{binary}: NOTIFY after the 200, ms: median {lat[len(lat)//2]:.1f} min {lat[0]:.1f} max {lat[-1]:.1f}")
