"""dns-lexicon's `cloudflare` provider against Tandem (run by tests/tests/clients.rs).

lexicon is driven through its documented Python interface, `Client(ConfigResolver)` and the
operations of its context manager, as the programs that embed it do; the token comes from the
environment (LEXICON_CLOUDFLARE_AUTH_TOKEN) as users set it.

Pointing it at Tandem: lexicon's cloudflare provider has no setting for the API's URL; its
constructor sets `api_endpoint` to "https://api.cloudflare.com/client/v4". Setting that one value
to Tandem's URL after the constructor is the only change made to lexicon.

Offline: the zone of `example.com` is found by tldextract, which the environment the Rust test
sets (TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS empty, TLDEXTRACT_CACHE_PATH in the test's directory)
keeps to the public-suffix snapshot it ships with. (lexicon's command line does not serve here:
its `--resolve-zone-name` flag is a store_true, never None, so the command line always asks the
system's resolver for the zone's SOA, and dnspython's resolver cannot be pointed at a port other
than 53 by the environment.)
"""

import logging
import os

import pytest
from lexicon._private.providers import cloudflare
from lexicon.client import Client
from lexicon.config import ConfigResolver

DOMAIN = "example.com"
NAME = "_acme-challenge.example.com"
PROVIDER_URL = "https://api.cloudflare.com/client/v4"

_constructor = cloudflare.Provider.__init__


def _pointed_at_tandem(self, config):
    _constructor(self, config)
    assert self.api_endpoint == PROVIDER_URL, self.api_endpoint
    self.api_endpoint = os.environ["TANDEM_API_URL"]


cloudflare.Provider.__init__ = _pointed_at_tandem


@pytest.fixture(scope="module")
def zone_id(tandem):
    assert os.environ.get("LEXICON_CLOUDFLARE_AUTH_TOKEN") == tandem.token
    assert os.environ.get("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS") == "", \
        "tldextract must not download the public suffix list"
    tandem.api.create_zone("example.net")  # another zone lexicon must not pick
    return tandem.api.create_zone(DOMAIN)


def lexicon():
    """A lexicon client for example.com at Tandem (records get TTL 300)."""
    config = ConfigResolver().with_env().with_dict(
        {"provider_name": "cloudflare", "domain": DOMAIN, "ttl": 300})
    return Client(config)


def test_zone_is_found_offline(zone_id, caplog):
    caplog.set_level(logging.DEBUG)
    with lexicon() as ops:
        assert ops.provider.domain_id == zone_id
    assert "use tldextract to guess the zone name" in caplog.text, \
        "lexicon must find the zone without DNS queries to the system's resolver"


def test_lexicon_operations(tandem, zone_id):
    api = tandem.api

    # create, with a relative and with a full name
    with lexicon() as ops:
        assert ops.create_record("TXT", "_acme-challenge", "token-a") is True
        assert ops.create_record("TXT", NAME, "token-b") is True
    assert api.contents(zone_id, "TXT", NAME) == ["token-a", "token-b"]
    assert [r["ttl"] for r in api.records(zone_id, "TXT", NAME)] == [300, 300]
    assert tandem.dig_txt(NAME) == ("NOERROR", ["token-a", "token-b"])

    # list: by type and name, by content too (lexicon passes all three as list filters)
    ids = {r["content"]: r["id"] for r in api.records(zone_id, "TXT", NAME)}
    with lexicon() as ops:
        listed = ops.list_records("TXT", "_acme-challenge")
        by_content = ops.list_records("TXT", "_acme-challenge", "token-a")
        every_txt = ops.list_records("TXT")
        nothing = ops.list_records("TXT", "no-such-name")
    assert sorted(listed, key=lambda r: r["content"]) == [
        {"type": "TXT", "name": NAME, "ttl": 300, "content": c, "id": ids[c]}
        for c in ("token-a", "token-b")
    ]
    assert [(r["content"], r["id"]) for r in by_content] == [("token-a", ids["token-a"])]
    assert sorted(r["content"] for r in every_txt) == ["token-a", "token-b"]
    assert nothing == []

    # a duplicate create succeeds (the provider answers 81058, which lexicon takes as done) and
    # makes no second record
    with lexicon() as ops:
        assert ops.create_record("TXT", "_acme-challenge", "token-a") is True
    assert api.contents(zone_id, "TXT", NAME) == ["token-a", "token-b"]
    status, env = api.call("POST", f"/zones/{zone_id}/dns_records",
                           {"type": "TXT", "name": NAME, "content": "token-a", "ttl": 300})
    assert status == 400 and [e["code"] for e in env["errors"]] == [81058], env

    # update by type and name (lexicon finds the one record with the list filters), and by id
    with lexicon() as ops:
        assert ops.create_record("A", "host", "192.0.2.1") is True
        assert ops.update_record(None, "A", "host", "192.0.2.2") is True
        assert ops.update_record(ids["token-b"], "TXT", "_acme-challenge", "token-c") is True
    assert api.contents(zone_id, "A", f"host.{DOMAIN}") == ["192.0.2.2"]
    assert tandem.dig(f"host.{DOMAIN}", "A") == ("NOERROR", ["192.0.2.2"])
    assert api.contents(zone_id, "TXT", NAME) == ["token-a", "token-c"]
    assert tandem.dig_txt(NAME) == ("NOERROR", ["token-a", "token-c"])

    # delete by content: only that record goes
    with lexicon() as ops:
        assert ops.delete_record(None, "TXT", "_acme-challenge", "token-a") is True
    remaining = api.records(zone_id, "TXT", NAME)
    assert [(r["id"], r["content"]) for r in remaining] == [(ids["token-b"], "token-c")]
    assert tandem.dig_txt(NAME) == ("NOERROR", ["token-c"])
    assert api.contents(zone_id, "A", f"host.{DOMAIN}") == ["192.0.2.2"]

    # deleting content that is not there deletes nothing; delete by id
    with lexicon() as ops:
        assert ops.delete_record(None, "TXT", "_acme-challenge", "token-a") is True
        assert api.contents(zone_id, "TXT", NAME) == ["token-c"]
        assert ops.delete_record(ids["token-b"]) is True
    assert api.records(zone_id, "TXT", NAME) == []
    assert tandem.dig_txt(NAME) == ("NXDOMAIN", [])
