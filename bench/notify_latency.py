#!/usr/bin/env python3
"""How long after an API change's 200 the secondary's NOTIFY arrives (issue: "the first change
after a quiet period sends its NOTIFY at once"). Starts the given tandem binary on free ports in
a temp dir, links a UDP socket of its own on 127.0.0.1 as the only outgoing peer, then 10 times:
waits 0.6 s (a quiet window), creates a record, and measures from the API's answer to the
NOTIFY's arrival. Prints median, min and max in ms. Standard library only.

    bench/notify_latency.py target/release/tandem
"""
import json, os, socket, subprocess, sys, tempfile, time, urllib.request
binary = sys.argv[1]
d = tempfile.mkdtemp()
p = subprocess.Popen([binary, "serve", "--data-dir", d, "--api-listen", "127.0.0.1:0", "--dns-listen", "127.0.0.1:0", "--api-token", "tok"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(d + "/listen.json"): break
    time.sleep(0.1)
api = "http://" + json.load(open(d + "/listen.json"))["api"] + "/client/v4"
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body is not None else None, headers={"Authorization": "Bearer tok", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["result"]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.bind(("127.0.0.1", 0)); sock.settimeout(3)
port = sock.getsockname()[1]
acct = call("GET", "/accounts")[0]["id"]
z = call("POST", "/zones", {"name": "lat.test"})["id"]
peer = call("POST", f"/accounts/{acct}/secondary_dns/peers", {"name": "p", "ip": "127.0.0.1", "port": port})["id"]
call("POST", f"/zones/{z}/secondary_dns/outgoing", {"peers": [peer]})
call("POST", f"/zones/{z}/secondary_dns/outgoing/enable", {})
def drain():
    sock.settimeout(0.5)
    try:
        while True: sock.recvfrom(4096)
    except socket.timeout: pass
lat = []
for i in range(10):
    time.sleep(0.6); drain()
    t = time.monotonic()
    call("POST", f"/zones/{z}/dns_records", {"type": "A", "name": f"h{i}", "content": "192.0.2.1"})
    t_ok = time.monotonic()
    sock.settimeout(3)
    sock.recvfrom(4096)
    lat.append(((time.monotonic() - t_ok) * 1000))
p.terminate(); p.wait()
lat.sort()
print(f"{binary}: NOTIFY after the 200, ms: median {lat[len(lat)//2]:.1f} min {lat[0]:.1f} max {lat[-1]:.1f}")
