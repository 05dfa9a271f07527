"""Shared fixtures of the client tests (test_certbot.py, test_lexicon.py), run by
tests/tests/clients.rs with pytest from the repository's .venv against the real binary.

The environment names the server: TANDEM_API_URL (http://127.0.0.1:PORT/client/v4),
TANDEM_API_TOKEN, TANDEM_DNS_PORT, and DIG (the path of dig). What Tandem holds is read here with
a plain HTTP client, independent of the tools under test, and what it serves with dig.
"""

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method, path, body=None):
        """(HTTP status, envelope) of one request."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def ok(self, method, path, body=None):
        status, env = self.call(method, path, body)
        assert status == 200 and env["success"], f"{method} {path} {body}: {status} {env}"
        return env["result"]

    def account_id(self):
        return next(a["id"] for a in self.ok("GET", "/accounts") if a["name"] == "default")

    def create_zone(self, name):
        body = {"name": name, "account": {"id": self.account_id()}, "type": "full"}
        return self.ok("POST", "/zones", body)["id"]

    def records(self, zone_id, rtype, name):
        """Every record of the zone of that type and exact name, filtered HERE (from the whole
        zone, without relying on the list filters under test)."""
        out, page = [], 1
        while True:
            status, env = self.call(
                "GET", f"/zones/{zone_id}/dns_records?page={page}&per_page=100")
            assert status == 200 and env["success"], env
            out += env["result"]
            if page >= env["result_info"]["total_pages"] or not env["result"]:
                break
            page += 1
        return [r for r in out if r["type"] == rtype and r["name"] == name]

    def contents(self, zone_id, rtype, name):
        return sorted(r["content"] for r in self.records(zone_id, rtype, name))


class Tandem:
    def __init__(self):
        self.api_url = os.environ["TANDEM_API_URL"]
        self.token = os.environ["TANDEM_API_TOKEN"]
        self.dns_port = int(os.environ["TANDEM_DNS_PORT"])
        self.dig_path = os.environ["DIG"]
        self.api = Api(self.api_url, self.token)

    def dig(self, name, rtype):
        """(rcode, [rdata text]) of `dig @127.0.0.1 -p PORT name rtype`, answer section."""
        out = subprocess.run(
            [self.dig_path, "@127.0.0.1", "-p", str(self.dns_port), "+norecurse", "+tries=1",
             "+time=5", name, rtype],
            capture_output=True, text=True, check=True,
        ).stdout
        rcode = out.split("status: ", 1)[1].split(",", 1)[0]
        answers = []
        section = None
        for line in out.splitlines():
            if line.startswith(";"):
                section = line
                continue
            if section == ";; ANSWER SECTION:" and line.strip():
                _owner, _ttl, _class, rrtype, text = line.split(None, 4)
                if rrtype == rtype:
                    answers.append(text)
        return rcode, sorted(answers)

    def dig_txt(self, name):
        """(rcode, sorted TXT values, each the concatenation of its strings) from Tandem's DNS."""
        import dns.rdata  # dnspython, a dependency of the tools under test

        rcode, texts = self.dig(name, "TXT")
        values = sorted(
            b"".join(dns.rdata.from_text("IN", "TXT", t).strings).decode() for t in texts)
        return rcode, values


@pytest.fixture(scope="module")
def tandem():
    return Tandem()
