"""A Tandem for the Python benchmarks: the given binary started on free loopback ports in a
temporary data dir (removed afterwards), and its API called with the run's token. Standard
library only.

    with Tandem("target/release/tandem") as t:
        zone = t.call("POST", "/zones", {"name": "bench.test"})["id"]
"""
import json, os, subprocess, tempfile, time, urllib.request, uuid

TOKEN = "bench-token"


class Tandem:
    def __init__(self, binary):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        self.proc = subprocess.Popen(
            [binary, "serve", "--data-dir", d, "--api-listen", "127.0.0.1:0",
             "--dns-listen", "127.0.0.1:0", "--api-token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listen = os.path.join(d, "listen.json")
        for _ in range(300):
            if os.path.exists(listen):
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"{binary} exited with {self.proc.returncode} before it was ready")
            time.sleep(0.1)
        else:
            self.close()
            raise SystemExit(f"{binary} was not ready within 30 s")
        self.api = "http://" + json.load(open(listen))["api"] + "/client/v4"

    def call(self, method, path, body=None, data=None, ctype="application/json"):
        """The `result` of an API call; `body` is sent as JSON, `data` as it is."""
        if body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.api + path, method=method, data=data,
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": ctype})
        answer = json.load(urllib.request.urlopen(req, timeout=600))
        if not answer["success"]:
            raise SystemExit(f"{method} {path}: {answer['errors']}")
        return answer["result"]

    def import_zone(self, zone, text):
        """Replaces the records of `zone` with the zone file `text` (multipart upload)."""
        b = uuid.uuid4().hex
        body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"z\"\r\n\r\n"
                + text + f"\r\n--{b}--\r\n").encode()
        return self.call("POST", f"/zones/{zone}/dns_records/import?replace=true", data=body,
                         ctype=f"multipart/form-data; boundary={b}")

    def rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
