#!/usr/bin/env python3
"""RSS after repeated replace-imports that change every record (issue: "memory is retained").
Starts BINARY on free ports in a temp dir, creates rss.test, imports ROUNDS zone files of N A
records with ?replace=true (each round every address differs), waits 5 s and prints VmRSS.
Standard library only.

    bench/import_rss.py target/release/tandem 200000 20
"""
import json, os, subprocess, sys, tempfile, time, urllib.request, uuid
binary, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = tempfile.mkdtemp()
p = subprocess.Popen([binary, "serve", "--data-dir", d, "--api-listen", "127.0.0.1:0", "--dns-listen", "127.0.0.1:0", "--api-token", "tok"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(d + "/listen.json"): break
    time.sleep(0.1)
api = "http://" + json.load(open(d + "/listen.json"))["api"] + "/client/v4"
def req(method, path, data, ctype):
    r = urllib.request.Request(api + path, method=method, data=data, headers={"Authorization": "Bearer tok", "Content-Type": ctype})
    return json.load(urllib.request.urlopen(r, timeout=600))
z = req("POST", "/zones", json.dumps({"name": "rss.test"}).encode(), "application/json")["result"]["id"]
def rss():
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) // 1024
for r in range(rounds):
    zone = "@ 300 IN NS ns1.rss.test.\n" + "".join(f"h{i} 300 IN A 10.{r}.{(i>>8)&255}.{i&255}\n" for i in range(n))
    b = uuid.uuid4().hex
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"z\"\r\n\r\n" + zone + f"\r\n--{b}--\r\n").encode()
    out = req("POST", f"/zones/{z}/dns_records/import?replace=true", body, f"multipart/form-data; boundary={b}")
    assert out["success"], out
time.sleep(5)
print(f"{binary}: {rounds} replace-imports of {n} records: VmRSS {rss()} MiB 5 s after the last")
p.terminate(); p.wait()
