"""Tandem's zone-transfer API driven by the provider's official Python SDK (`cloudflare` 5.x).

Run by tests/tests/sdk.rs against the real binary, with CLOUDFLARE_BASE_URL pointing at
Tandem's /client/v4 and CLOUDFLARE_API_TOKEN its administrator token. For peers, TSIG keys,
ACLs, incoming and outgoing configuration it creates, lists, reads, updates and deletes, and
checks every field read back; then the actions (enable, disable, status, force_notify,
force_axfr), the errors an operator meets, and the OpenAPI document.
"""

import base64
import json
import os
import urllib.request

import cloudflare
import pytest
from cloudflare import Cloudflare

HEX = set("0123456789abcdef")


def is_id(value):
    return isinstance(value, str) and len(value) == 32 and set(value) <= HEX


# `cf` and `account_id` come from conftest.py.


def zone(cf, account_id, name, kind):
    z = cf.zones.create(account={"id": account_id}, name=name, type=kind)
    assert z.name == name and z.type == kind
    return z.id


@pytest.fixture(scope="module")
def zones(cf, account_id):
    return {
        "full": zone(cf, account_id, "sdk-full.test", "full"),
        "secondary": zone(cf, account_id, "sdk-sec.test", "secondary"),
    }


def test_tsigs(cf, account_id):
    tsigs = cf.dns.zone_transfers.tsigs
    given = tsigs.create(
        account_id=account_id, name="sdk-key.example.", algo="hmac-sha512", secret="c2RrLXNlY3JldA=="
    )
    assert is_id(given.id)
    assert (given.name, given.algo, given.secret) == ("sdk-key.example.", "hmac-sha512.", "c2RrLXNlY3JldA==")
    # A blank secret is generated, as long as the algorithm's output.
    generated = tsigs.create(account_id=account_id, name="sdk-gen.", algo="hmac-sha256.", secret="")
    assert generated.algo == "hmac-sha256."
    assert len(base64.b64decode(generated.secret, validate=True)) == 32

    got = tsigs.get(given.id, account_id=account_id)
    assert got.to_dict() == given.to_dict()
    listed = {t.id: t.to_dict() for t in tsigs.list(account_id=account_id)}
    assert listed[given.id] == given.to_dict() and listed[generated.id] == generated.to_dict()

    updated = tsigs.update(
        given.id, account_id=account_id, name="sdk-key2.example.", algo="HMAC-SHA1", secret="AAECAw=="
    )
    assert updated.to_dict() == {
        "id": given.id, "name": "sdk-key2.example.", "algo": "hmac-sha1.", "secret": "AAECAw==",
    }
    assert tsigs.get(given.id, account_id=account_id).to_dict() == updated.to_dict()

    with pytest.raises(cloudflare.BadRequestError) as refused:
        tsigs.create(account_id=account_id, name="md5.", algo="hmac-md5", secret="")
    assert "algo" in str(refused.value) and "hmac-md5" in str(refused.value)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        tsigs.create(account_id=account_id, name="bad.", algo="hmac-sha256", secret="not base64!")
    assert "secret" in str(refused.value)

    for t in (given, generated):
        assert tsigs.delete(t.id, account_id=account_id).id == t.id
    with pytest.raises(cloudflare.NotFoundError):
        tsigs.get(given.id, account_id=account_id)


def test_peers(cf, account_id):
    peers = cf.dns.zone_transfers.peers
    key = cf.dns.zone_transfers.tsigs.create(account_id=account_id, name="peer-key.", algo="hmac-sha256", secret="")
    # The SDK's create sends only the name; Tandem takes every field.
    bare = peers.create(account_id=account_id, name="bare")
    assert bare.to_dict() == {
        "id": bare.id, "name": "bare", "ip": None, "port": 53, "ixfr_enable": False, "tsig_id": None,
    }
    full = peers.create(
        account_id=account_id,
        name="full",
        extra_body={"ip": "::1", "port": 5300, "ixfr_enable": True, "tsig_id": key.id},
    )
    assert is_id(full.id)
    assert (full.name, full.ip, full.port, full.ixfr_enable, full.tsig_id) == (
        "full", "::1", 5300, True, key.id,
    )
    assert peers.get(full.id, account_id=account_id).to_dict() == full.to_dict()
    listed = {p.id: p.to_dict() for p in peers.list(account_id=account_id)}
    assert listed[full.id] == full.to_dict() and listed[bare.id] == bare.to_dict()

    updated = peers.update(
        bare.id, account_id=account_id, name="bare2", ip="127.0.0.10", port=5353, ixfr_enable=True, tsig_id=key.id
    )
    assert updated.to_dict() == {
        "id": bare.id, "name": "bare2", "ip": "127.0.0.10", "port": 5353, "ixfr_enable": True, "tsig_id": key.id,
    }
    assert peers.get(bare.id, account_id=account_id).to_dict() == updated.to_dict()
    # PUT replaces the whole object: what is left out returns to its default.
    reset = peers.update(bare.id, account_id=account_id, name="bare3")
    assert reset.to_dict() == {
        "id": bare.id, "name": "bare3", "ip": None, "port": 53, "ixfr_enable": False, "tsig_id": None,
    }

    for bad, field in ((dict(ip="192.0.2.999"), "ip"), (dict(port=0), "port"), (dict(port=65536), "port")):
        with pytest.raises(cloudflare.BadRequestError) as refused:
            peers.update(bare.id, account_id=account_id, name="x", **bad)
        assert field in str(refused.value)

    # A key in use cannot go.
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.zone_transfers.tsigs.delete(key.id, account_id=account_id)
    assert "full" in str(refused.value)

    for p in (bare, full):
        assert peers.delete(p.id, account_id=account_id).id == p.id
    with pytest.raises(cloudflare.NotFoundError):
        peers.get(full.id, account_id=account_id)
    cf.dns.zone_transfers.tsigs.delete(key.id, account_id=account_id)


def test_acls(cf, account_id):
    acls = cf.dns.zone_transfers.acls
    v4 = acls.create(account_id=account_id, name="office", ip_range="192.0.2.0/24")
    assert is_id(v4.id) and (v4.name, v4.ip_range) == ("office", "192.0.2.0/24")
    v6 = acls.create(account_id=account_id, name="v6", ip_range="2001:db8:1::/64")
    assert acls.get(v4.id, account_id=account_id).to_dict() == v4.to_dict()
    listed = {a.id: a.to_dict() for a in acls.list(account_id=account_id)}
    assert listed == {v4.id: v4.to_dict(), v6.id: v6.to_dict()}
    updated = acls.update(v4.id, account_id=account_id, name="office2", ip_range="198.51.100.128/25")
    assert updated.to_dict() == {"id": v4.id, "name": "office2", "ip_range": "198.51.100.128/25"}
    assert acls.get(v4.id, account_id=account_id).to_dict() == updated.to_dict()
    for wide in ("10.0.0.0/8", "2001:db8::/32"):
        with pytest.raises(cloudflare.BadRequestError) as refused:
            acls.create(account_id=account_id, name="wide", ip_range=wide)
        assert "ip_range" in str(refused.value)
    for a in (v4, v6):
        assert acls.delete(a.id, account_id=account_id).id == a.id
    assert list(acls.list(account_id=account_id)) == []


def without(obj, keys):
    """The object without the fields the secondary role updates as it works."""
    return {k: v for k, v in obj.items() if k not in keys}


def test_incoming(cf, account_id, zones):
    zt = cf.dns.zone_transfers
    sec = zones["secondary"]
    p1 = zt.peers.create(account_id=account_id, name="primary1", extra_body={"ip": "127.0.0.21"})
    p2 = zt.peers.create(account_id=account_id, name="primary2", extra_body={"ip": "127.0.0.22", "port": 5300})
    created = zt.incoming.create(zone_id=sec, name="sdk-sec.test.", peers=[p1.id, p2.id], auto_refresh_seconds=3600)
    assert is_id(created.id)
    assert created.name == "sdk-sec.test"
    assert created.peers == [p1.id, p2.id]
    assert created.auto_refresh_seconds == 3600
    assert created.soa_serial is None and created.checked_time is None
    assert created.created_time.endswith("Z") and created.modified_time == created.created_time
    extra = created.to_dict()
    # Nothing answers at the primaries' loopback addresses: the zone stays pending while the
    # secondary role keeps trying (next_refresh_time and peer_status move as it does).
    assert (extra["state"], extra["expires_time"], extra["soa_serial"]) == ("pending", None, None)
    assert [s["peer_id"] for s in extra["peer_status"]] == [p1.id, p2.id]
    live = {"next_refresh_time", "peer_status", "state"}
    fetched = zt.incoming.get(zone_id=sec).to_dict()
    assert without(fetched, live) == without(extra, live)
    assert fetched["state"] in ("pending",)

    updated = zt.incoming.update(zone_id=sec, name="sdk-sec.test", peers=[p2.id], auto_refresh_seconds=86400.0)
    assert (updated.id, updated.peers, updated.auto_refresh_seconds) == (created.id, [p2.id], 86400)
    assert updated.created_time == created.created_time
    assert without(zt.incoming.get(zone_id=sec).to_dict(), live) == without(updated.to_dict(), live)

    with pytest.raises(cloudflare.BadRequestError) as refused:
        zt.incoming.update(zone_id=sec, name="sdk-sec.test", peers=[p2.id], auto_refresh_seconds=10)
    assert "auto_refresh_seconds" in str(refused.value)
    hidden = zt.peers.create(account_id=account_id, name="no-ip")
    with pytest.raises(cloudflare.BadRequestError) as refused:
        zt.incoming.update(zone_id=sec, name="sdk-sec.test", peers=[hidden.id], auto_refresh_seconds=3600)
    assert "no ip" in str(refused.value)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        zt.peers.delete(p2.id, account_id=account_id)
    assert "sdk-sec.test" in str(refused.value)
    with pytest.raises(cloudflare.BadRequestError):
        zt.incoming.create(zone_id=zones["full"], name="sdk-full.test", peers=[p1.id], auto_refresh_seconds=3600)

    # force_axfr is recorded, and nothing pretends a transfer happened.
    assert zt.force_axfr.create(zone_id=sec) == "OK"
    after = zt.incoming.get(zone_id=sec).to_dict()
    assert after["state"] == "pending" and after["soa_serial"] is None

    assert zt.incoming.delete(zone_id=sec).id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        zt.incoming.get(zone_id=sec)
    for p in (p1, p2, hidden):
        zt.peers.delete(p.id, account_id=account_id)


def test_outgoing(cf, account_id, zones):
    zt = cf.dns.zone_transfers
    full = zones["full"]
    s1 = zt.peers.create(account_id=account_id, name="secondary1", extra_body={"ip": "127.0.0.31"})
    s2 = zt.peers.create(account_id=account_id, name="secondary2", extra_body={"ip": "127.0.0.32"})
    created = zt.outgoing.create(zone_id=full, name="sdk-full.test.", peers=[s1.id])
    assert is_id(created.id)
    assert (created.name, created.peers, created.soa_serial) == ("sdk-full.test", [s1.id], 1)
    assert created.checked_time is None and created.last_transferred_time is None
    assert created.created_time.endswith("Z")
    extra = created.to_dict()
    assert extra["enabled"] is False
    # One status entry per linked secondary, empty until the primary role has acted.
    assert extra["peer_status"] == [
        {"peer_id": s1.id, "last_notify_time": None, "last_notify_result": None,
         "last_transfer_time": None, "last_transfer_type": None, "last_transfer_serial": None}
    ]
    assert zt.outgoing.get(zone_id=full).to_dict() == created.to_dict()

    updated = zt.outgoing.update(zone_id=full, name="sdk-full.test", peers=[s2.id, s1.id])
    assert (updated.id, updated.peers, updated.created_time) == (created.id, [s2.id, s1.id], created.created_time)
    assert zt.outgoing.get(zone_id=full).to_dict() == updated.to_dict()

    # Outgoing transfers start disabled.
    assert zt.outgoing.status.get(zone_id=full) == "Disabled"
    with pytest.raises(cloudflare.BadRequestError) as refused:
        zt.outgoing.force_notify(zone_id=full)
    assert "disabled" in str(refused.value)
    assert zt.outgoing.enable(zone_id=full) == "Enabled"
    assert zt.outgoing.status.get(zone_id=full) == "Enabled"
    assert zt.outgoing.get(zone_id=full).to_dict()["enabled"] is True
    assert zt.outgoing.force_notify(zone_id=full) == "OK"
    assert zt.outgoing.get(zone_id=full).last_transferred_time is None, "no transfer is pretended"
    assert zt.outgoing.disable(zone_id=full) == "Disabled"
    assert zt.outgoing.status.get(zone_id=full) == "Disabled"

    # A secondary zone can feed further secondaries.
    chained = zt.outgoing.create(zone_id=zones["secondary"], name="sdk-sec.test", peers=[s1.id])
    assert chained.soa_serial is None
    assert zt.outgoing.delete(zone_id=zones["secondary"]).id == chained.id

    assert zt.outgoing.delete(zone_id=full).id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        zt.outgoing.get(zone_id=full)
    for p in (s1, s2):
        zt.peers.delete(p.id, account_id=account_id)


def test_tenants_and_read_tokens(cf, account_id, zones):
    """Another account's token sees nothing here (404); a read token changes nothing (403)."""
    other = cf.post("/accounts", body={"name": "sdk-other"}, cast_to=object)["result"]
    other_token = cf.post(
        f"/accounts/{other['id']}/tokens", body={"name": "w", "permission": "write"}, cast_to=object
    )["result"]
    read_token = cf.post(
        f"/accounts/{account_id}/tokens", body={"name": "r", "permission": "read"}, cast_to=object
    )["result"]
    peer = cf.dns.zone_transfers.peers.create(account_id=account_id, name="shared?")
    cf.dns.zone_transfers.outgoing.create(zone_id=zones["full"], name="sdk-full.test", peers=[peer.id])

    stranger = Cloudflare(api_token=other_token["value"], max_retries=0)
    with pytest.raises(cloudflare.NotFoundError):
        stranger.dns.zone_transfers.peers.get(peer.id, account_id=account_id)
    with pytest.raises(cloudflare.NotFoundError):
        stranger.dns.zone_transfers.outgoing.enable(zone_id=zones["full"])
    assert list(stranger.dns.zone_transfers.peers.list(account_id=other["id"])) == []

    reader = Cloudflare(api_token=read_token["value"], max_retries=0)
    assert reader.dns.zone_transfers.peers.get(peer.id, account_id=account_id).name == "shared?"
    assert reader.dns.zone_transfers.outgoing.status.get(zone_id=zones["full"]) == "Disabled"
    for change in (
        lambda zt: zt.peers.create(account_id=account_id, name="nope"),
        lambda zt: zt.peers.delete(peer.id, account_id=account_id),
        lambda zt: zt.outgoing.enable(zone_id=zones["full"]),
        lambda zt: zt.outgoing.force_notify(zone_id=zones["full"]),
        lambda zt: zt.outgoing.disable(zone_id=zones["full"]),
        lambda zt: zt.force_axfr.create(zone_id=zones["secondary"]),
    ):
        with pytest.raises(cloudflare.PermissionDeniedError):
            change(reader.dns.zone_transfers)
    assert cf.dns.zone_transfers.outgoing.status.get(zone_id=zones["full"]) == "Disabled"
    cf.dns.zone_transfers.outgoing.delete(zone_id=zones["full"])
    cf.dns.zone_transfers.peers.delete(peer.id, account_id=account_id)


def test_openapi_document_is_valid():
    try:
        from openapi_spec_validator import validate
    except ImportError:
        if os.environ.get("TANDEM_INTEROP") == "require":
            raise
        pytest.skip("openapi-spec-validator is not installed")
    url = os.environ["CLOUDFLARE_BASE_URL"].rstrip("/") + "/openapi.json"
    with urllib.request.urlopen(url) as resp:
        document = json.load(resp)
    validate(document)
    paths = document["paths"]
    assert "/client/v4/zones/{zone_id}/secondary_dns/outgoing/force_notify" in paths
    assert "/client/v4/accounts/{account_id}/secondary_dns/tsigs/{tsig_id}" in paths
