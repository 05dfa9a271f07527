"""Tandem's records and zones API driven by the provider's official Python SDK (`cloudflare` 5.x).

Run by tests/tests/sdk.rs against the real binary, with CLOUDFLARE_BASE_URL pointing at Tandem's
/client/v4, CLOUDFLARE_API_TOKEN its administrator token and TANDEM_DNS its DNS address
(`127.0.0.1:PORT`, asked with `dig`). It checks what the SDK's users see: the typed record
classes the SDK picks for each answer (its union is decided by validation, so a record without
`meta` turns into an `ARecord`), every record type of the provider in its `content` and its
`data` form and what the DNS port serves for it, every list filter with the SDK's own parameter
shapes, auto-pagination, batch, import and export, and zones create/edit/delete.
"""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import time

import cloudflare
import pytest
from cloudflare import Cloudflare
from cloudflare.types.dns import record_response as R

TYPED = {
    "A": R.ARecord,
    "AAAA": R.AAAARecord,
    "CNAME": R.CNAMERecord,
    "MX": R.MXRecord,
    "NS": R.NSRecord,
    "PTR": R.PTRRecord,
    "TXT": R.TXTRecord,
    "CAA": R.CAARecord,
    "CERT": R.CERTRecord,
    "DNSKEY": R.DNSKEYRecord,
    "DS": R.DSRecord,
    "HTTPS": R.HTTPSRecord,
    "LOC": R.LOCRecord,
    "NAPTR": R.NAPTRRecord,
    "SMIMEA": R.SMIMEARecord,
    "SRV": R.SRVRecord,
    "SSHFP": R.SSHFPRecord,
    "SVCB": R.SVCBRecord,
    "TLSA": R.TLSARecord,
    "URI": R.URIRecord,
}

SHA256_A = hashlib.sha256(b"tandem sshfp").hexdigest()
SHA256_B = hashlib.sha256(b"tandem tlsa").hexdigest()
SHA256_C = hashlib.sha256(b"tandem ds").hexdigest()
SHA256_D = hashlib.sha256(b"tandem smimea").hexdigest()
DNSKEY_B64 = base64.b64encode(hashlib.sha512(b"tandem dnskey").digest()).decode()
CERT_B64 = base64.b64encode(bytes(range(1, 49))).decode()
DKIM = "v=DKIM1; k=rsa; p=" + base64.b64encode(hashlib.sha512(b"dkim").digest() * 4 + bytes(24)).decode()
assert len(DKIM) > 360

# Every type with a `data` form: (type, owner label, data, priority, content as a person writes
# it (None: take the content Tandem returns for the data form), the content the contract fixes
# (None: only consistency is checked), what dig prints for it (None: compared between forms)).
DATA_CASES = [
    ("CAA", "caa", {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}, None,
     '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'),
    ("CERT", "cert", {"type": 1, "key_tag": 12345, "algorithm": 8, "certificate": CERT_B64}, None,
     f"1 12345 8 {CERT_B64}", None, None),
    ("DNSKEY", "dnskey", {"flags": 257, "protocol": 3, "algorithm": 13, "public_key": DNSKEY_B64}, None,
     f"257 3 13 {DNSKEY_B64}", None, f"257 3 13 {DNSKEY_B64}"),
    ("DS", "ds", {"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": SHA256_C}, None,
     f"2371 13 2 {SHA256_C.upper()}", f"2371 13 2 {SHA256_C}", f"2371 13 2 {SHA256_C}"),
    ("HTTPS", "https", {"priority": 1, "target": ".", "value": 'alpn="h3,h2" ipv4hint="192.0.2.1"'}, None,
     '1 . alpn="h3,h2" ipv4hint="192.0.2.1"', None, None),
    ("LOC", "loc", {
        "lat_degrees": 51, "lat_minutes": 30, "lat_seconds": 12.748, "lat_direction": "N",
        "long_degrees": 0, "long_minutes": 7, "long_seconds": 39.611, "long_direction": "W",
        "altitude": 10, "size": 1, "precision_horz": 10000, "precision_vert": 10,
    }, None, "51 30 12.748 N 0 7 39.611 W 10m 1m 10000m 10m", None, None),
    ("NAPTR", "naptr", {
        "order": 100, "preference": 10, "flags": "S", "service": "SIP+D2U",
        "regex": "!^.*$!sip:info@example.com!", "replacement": ".",
    }, None, '100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" .', None,
     '100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" .'),
    ("SMIMEA", "smimea", {"usage": 3, "selector": 1, "matching_type": 1, "certificate": SHA256_D}, None,
     f"3 1 1 {SHA256_D}", f"3 1 1 {SHA256_D}", f"3 1 1 {SHA256_D}"),
    ("SRV", "_sip._tcp", {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}, 10,
     "5 5060 sip.example.com", "5 5060 sip.example.com", "10 5 5060 sip.example.com."),
    ("SSHFP", "sshfp", {"algorithm": 4, "type": 2, "fingerprint": SHA256_A}, None,
     f"4 2 {SHA256_A.upper()}", f"4 2 {SHA256_A}", f"4 2 {SHA256_A}"),
    ("SVCB", "_8443._svc", {"priority": 1, "target": "svc.example.net", "value": 'alpn="h2" port="8443"'}, None,
     '1 svc.example.net alpn="h2" port="8443"', None, None),
    ("TLSA", "_443._tcp", {"usage": 3, "selector": 1, "matching_type": 1, "certificate": SHA256_B}, None,
     f"3 1 1 {SHA256_B.upper()}", f"3 1 1 {SHA256_B}", f"3 1 1 {SHA256_B}"),
    ("URI", "_ftp._tcp", {"weight": 1, "target": "ftp://ftp.example.com/public"}, 10,
     None, None, '10 1 "ftp://ftp.example.com/public"'),
]

# Content-only types: (type, owner label, content sent, priority, content returned, dig +short).
CONTENT_CASES = [
    ("A", "a", "192.0.2.1", None, "192.0.2.1", ["192.0.2.1"]),
    ("AAAA", "aaaa", "2001:db8::1", None, "2001:db8::1", ["2001:db8::1"]),
    ("CNAME", "cname", "target.example.net", None, "target.example.net", ["target.example.net."]),
    ("CNAME", "cname-dot", "target2.example.net.", None, "target2.example.net", ["target2.example.net."]),
    ("MX", "mx", "mail.example.com", 10, "mail.example.com", ["10 mail.example.com."]),
    ("MX", "nullmx", ".", 0, ".", ["0 ."]),
    ("PTR", "ptr", "host.example.net", None, "host.example.net", ["host.example.net."]),
    ("TXT", "spf", "v=spf1 include:_spf.example.net ~all", None, "v=spf1 include:_spf.example.net ~all",
     ['"v=spf1 include:_spf.example.net ~all"']),
    ("TXT", "dkim._domainkey", DKIM, None, DKIM, [f'"{DKIM[:255]}" "{DKIM[255:]}"']),
    ("TXT", "quoted", '"hello world"', None, "hello world", ['"hello world"']),
    ("TXT", "two", '"a" "b"', None, '"a" "b"', ['"a" "b"']),
    ("TXT", "quote", 'say "hi"', None, 'say "hi"', ['"say \\"hi\\""']),
]


# ---------------------------------------------------------------------------------------------
# Helpers


# `cf` and `account_id` come from conftest.py.


def new_zone(cf, account_id, name):
    z = cf.zones.create(account={"id": account_id}, name=name, type="full")
    assert (z.name, z.type) == (name, "full")
    return z.id


def dig(name, rtype, *opts):
    """dig's output for `name rtype` asked of Tandem's DNS port."""
    dig_path = shutil.which("dig")
    assert dig_path, "dig is not installed (apt-get install bind9-dnsutils)"
    host, port = os.environ["TANDEM_DNS"].rsplit(":", 1)
    out = subprocess.run(
        [dig_path, f"@{host}", "-p", port, "+norec", "+time=2", "+tries=2", *opts, name, rtype],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, f"dig {name} {rtype} failed: {out.stdout}{out.stderr}"
    return out.stdout


def served(name, rtype):
    """The answer's RDATA as dig prints it (+short), sorted."""
    return sorted(line for line in dig(name, rtype, "+short").splitlines() if line.strip())


def rcode(name, rtype):
    m = re.search(r"status: ([A-Z]+)", dig(name, rtype))
    assert m, f"no status in dig output for {name} {rtype}"
    return m.group(1)


def served_eventually(name, rtype, want, seconds=5.0):
    """Waits until the DNS port serves `want` (list of +short lines) for `name rtype`."""
    deadline = time.monotonic() + seconds
    while True:
        got = served(name, rtype)
        if got == sorted(want) or time.monotonic() > deadline:
            assert got == sorted(want), f"DNS serves {got} for {name} {rtype}, expected {sorted(want)}"
            return
        time.sleep(0.1)


def squash(text, upper=False):
    """Whitespace removed (dig splits long hex and base64 fields), optionally upper-cased."""
    text = re.sub(r"\s+", "", text)
    return text.upper() if upper else text


def soa_serial(cf, zone_id):
    soa = list(cf.dns.records.list(zone_id=zone_id, type="SOA"))
    assert len(soa) == 1, soa
    return int(soa[0].content.split()[2])


def error_codes(exc):
    return [e.code for e in exc.errors]


def ids(page_or_iter):
    return {r.id for r in page_or_iter}


def same_number(a, b):
    return a is not None and b is not None and float(a) == float(b)


def svc_params(value):
    """SvcParams as a set of key=value with quotes dropped (`alpn="h2"` and `alpn=h2` are one)."""
    return {p.replace('"', "") for p in value.split()}


def assert_data(rtype, got, want):
    """`got` (the SDK's data model) holds `want` (the data sent)."""
    assert got is not None, f"{rtype}: no data in the answer"
    got = got.to_dict() if hasattr(got, "to_dict") else dict(got)
    for key, value in want.items():
        assert key in got, f"{rtype}: data lacks {key}: {got}"
        if isinstance(value, (int, float)):
            assert same_number(got[key], value), f"{rtype}: data.{key} is {got[key]!r}, sent {value!r}"
        elif rtype in ("HTTPS", "SVCB") and key == "value":
            assert svc_params(got[key]) == svc_params(value), f"{rtype}: data.value {got[key]!r} != {value!r}"
        elif rtype in ("HTTPS", "SVCB", "NAPTR") and key in ("target", "replacement"):
            # A name given without the trailing dot is absolute, as everywhere in the API; the
            # contract does not say whether these come back with the dot.
            assert got[key] in (value, value.rstrip(".") + "."), f"{rtype}: data.{key} is {got[key]!r}, sent {value!r}"
        elif key in ("fingerprint", "certificate", "digest") and rtype != "CERT":
            assert got[key] == value.lower(), f"{rtype}: data.{key} is {got[key]!r}, want lower-case {value!r}"
        else:
            assert got[key] == value, f"{rtype}: data.{key} is {got[key]!r}, sent {value!r}"


def assert_record_shape(r, rtype):
    """The fields every record carries (records-contract): the SDK's class, meta, settings, ..."""
    assert isinstance(r, TYPED[rtype]), f"{rtype} record deserialised as {type(r).__name__}: {r.to_dict()}"
    assert r.type == rtype
    raw = r.to_dict()
    for field in ("id", "name", "type", "content", "ttl", "proxied", "proxiable", "meta", "settings",
                  "tags", "comment", "created_on", "modified_on"):
        assert field in raw, f"{rtype} record has no {field}: {raw}"
    assert isinstance(raw["meta"], dict) and isinstance(raw["settings"], dict), raw
    assert raw["proxied"] is False and raw["proxiable"] is False, raw
    assert isinstance(raw["tags"], list), raw


# ---------------------------------------------------------------------------------------------
# Record types


@pytest.fixture(scope="module")
def types_zone(cf, account_id):
    return new_zone(cf, account_id, "py-types.test")


@pytest.mark.parametrize("case", CONTENT_CASES, ids=[f"{c[0]}-{c[1]}" for c in CONTENT_CASES])
def test_content_types(cf, types_zone, case):
    rtype, label, content, priority, returned, on_wire = case
    name = f"{label}.py-types.test"
    extra = {} if priority is None else {"priority": priority}
    r = cf.dns.records.create(zone_id=types_zone, name=name, type=rtype, content=content, ttl=300, **extra)
    assert_record_shape(r, rtype)
    assert (r.name, r.content, r.ttl) == (name, returned, 300)
    if priority is not None:
        assert same_number(r.priority, priority)
    got = cf.dns.records.get(r.id, zone_id=types_zone)
    assert_record_shape(got, rtype)
    assert got.to_dict() == r.to_dict()
    listed = [x for x in cf.dns.records.list(zone_id=types_zone, name={"exact": name}, type=rtype)]
    assert [x.to_dict() for x in listed] == [r.to_dict()]
    served_eventually(name, rtype, on_wire)


def test_ns_delegation(cf, types_zone):
    r = cf.dns.records.create(zone_id=types_zone, name="sub.py-types.test", type="NS",
                              content="ns1.example.net", ttl=3600)
    assert_record_shape(r, "NS")
    assert r.content == "ns1.example.net"
    assert isinstance(cf.dns.records.get(r.id, zone_id=types_zone), R.NSRecord)
    deadline = time.monotonic() + 5
    while True:
        authority = dig("host.sub.py-types.test", "A", "+noall", "+authority")
        if "ns1.example.net." in authority or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert re.search(r"^sub\.py-types\.test\.\s+3600\s+IN\s+NS\s+ns1\.example\.net\.$", authority, re.M), authority


@pytest.mark.parametrize("case", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_data_types(cf, types_zone, case):
    rtype, label, data, priority, written, fixed_content, on_wire = case
    extra = {} if priority is None else {"priority": priority}
    by_data_name = f"{label}.d.py-types.test"
    by_data = cf.dns.records.create(zone_id=types_zone, name=by_data_name, type=rtype, data=data, ttl=300, **extra)
    assert_record_shape(by_data, rtype)
    assert by_data.name == by_data_name
    assert_data(rtype, by_data.data, data)
    assert isinstance(by_data.content, str) and by_data.content, f"{rtype}: no content beside data"
    if fixed_content is not None:
        assert by_data.content == fixed_content
    if priority is not None:
        assert same_number(by_data.priority, priority)
    got = cf.dns.records.get(by_data.id, zone_id=types_zone)
    assert_record_shape(got, rtype)
    assert got.to_dict() == by_data.to_dict()

    # The content form of the same RDATA gives the same data and the same content.
    by_content_name = f"{label}.c.py-types.test"
    by_content = cf.dns.records.create(
        zone_id=types_zone, name=by_content_name, type=rtype, content=written or by_data.content, ttl=300, **extra
    )
    assert_record_shape(by_content, rtype)
    assert_data(rtype, by_content.data, data)
    assert by_content.content == by_data.content

    # Both are served, alike.
    deadline = time.monotonic() + 5
    while not (served(by_data_name, rtype) and served(by_content_name, rtype)) and time.monotonic() < deadline:
        time.sleep(0.1)
    wire_d, wire_c = served(by_data_name, rtype), served(by_content_name, rtype)
    assert len(wire_d) == 1, f"{rtype}: DNS serves {wire_d}"
    hexish = rtype in ("DS", "SSHFP", "TLSA", "SMIMEA")
    assert squash(wire_d[0], hexish) == squash(wire_c[0], hexish), (wire_d, wire_c)
    if on_wire is not None:
        assert squash(wire_d[0], hexish) == squash(on_wire, hexish), (rtype, wire_d, on_wire)

    # The data form's answer round-trips through PUT unchanged.
    again = cf.dns.records.update(by_data.id, zone_id=types_zone, name=by_data_name, type=rtype,
                                  data=by_data.data.to_dict(), ttl=300, **extra)
    assert_record_shape(again, rtype)
    assert again.content == by_data.content


def test_srv_data_round_trip_and_edit(cf, types_zone):
    name = "_xmpp._tcp.py-types.test"
    srv = cf.dns.records.create(zone_id=types_zone, name=name, type="SRV", ttl=300,
                                data={"priority": 20, "weight": 0, "port": 5222, "target": "xmpp.example.net"})
    assert isinstance(srv, R.SRVRecord)
    assert (srv.content, srv.priority) == ("0 5222 xmpp.example.net", 20)
    assert (srv.data.priority, srv.data.weight, srv.data.port, srv.data.target) == (20, 0, 5222, "xmpp.example.net")
    edited = cf.dns.records.edit(srv.id, zone_id=types_zone, name=name, type="SRV", ttl=300,
                                 data={"priority": 20, "weight": 0, "port": 5223, "target": "xmpp.example.net"})
    assert isinstance(edited, R.SRVRecord)
    assert edited.content == "0 5223 xmpp.example.net" and edited.data.port == 5223
    served_eventually(name, "SRV", ["20 0 5223 xmpp.example.net."])
    # The target "." (no service) stays the root.
    none = cf.dns.records.create(zone_id=types_zone, name="_none._tcp.py-types.test", type="SRV", ttl=300,
                                 data={"priority": 0, "weight": 0, "port": 0, "target": "."})
    assert none.content == "0 0 ." and none.data.target == "."


def test_ttl_automatic(cf, types_zone):
    name = "auto.py-types.test"
    r = cf.dns.records.create(zone_id=types_zone, name=name, type="A", content="192.0.2.55", ttl=1)
    assert r.ttl == 1
    assert cf.dns.records.get(r.id, zone_id=types_zone).ttl == 1
    assert [x.ttl for x in cf.dns.records.list(zone_id=types_zone, name={"exact": name})] == [1]
    served_eventually(name, "A", ["192.0.2.55"])
    answer = dig(name, "A", "+noall", "+answer")
    assert re.search(rf"^{re.escape(name)}\.\s+300\s+IN\s+A\s+192\.0\.2\.55$", answer, re.M), answer
    assert cf.dns.records.create(zone_id=types_zone, name="ttl30.py-types.test", type="A",
                                 content="192.0.2.56", ttl=30).ttl == 30
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.create(zone_id=types_zone, name="ttl29.py-types.test", type="A", content="192.0.2.57", ttl=29)
    assert "ttl" in str(refused.value)


def test_metadata_fields(cf, types_zone):
    plain = cf.dns.records.create(zone_id=types_zone, name="plain.py-types.test", type="A",
                                  content="192.0.2.60", ttl=300)
    assert isinstance(plain.meta, R.ARecordMeta)
    assert plain.comment is None and plain.tags == []
    assert plain.comment_modified_on is None and plain.tags_modified_on is None
    assert plain.settings is not None
    assert not plain.settings.ipv4_only and not plain.settings.ipv6_only

    noted = cf.dns.records.create(zone_id=types_zone, name="noted.py-types.test", type="CNAME",
                                  content="plain.py-types.test", ttl=300,
                                  comment="points at plain", tags=["owner:team-a", "env:prod"])
    assert isinstance(noted, R.CNAMERecord) and isinstance(noted.meta, R.CNAMERecordMeta)
    assert noted.comment == "points at plain"
    assert sorted(noted.tags) == ["env:prod", "owner:team-a"]
    assert noted.comment_modified_on is not None and noted.tags_modified_on is not None
    fetched = cf.dns.records.get(noted.id, zone_id=types_zone)
    assert isinstance(fetched, R.CNAMERecord)
    assert (fetched.comment, sorted(fetched.tags)) == ("points at plain", ["env:prod", "owner:team-a"])

    for setting in ("ipv4_only", "ipv6_only"):
        with pytest.raises(cloudflare.BadRequestError) as refused:
            cf.dns.records.create(zone_id=types_zone, name=f"{setting}.py-types.test", type="A",
                                  content="192.0.2.61", ttl=300, settings={setting: True})
        assert setting in str(refused.value)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.create(zone_id=types_zone, name="flat.py-types.test", type="CNAME",
                              content="plain.py-types.test", ttl=300, settings={"flatten_cname": True})
    assert "flatten_cname" in str(refused.value)
    assert list(cf.dns.records.list(zone_id=types_zone, name={"startswith": "ipv"})) == []


def test_errors_carry_the_providers_codes(cf, types_zone):
    first = cf.dns.records.create(zone_id=types_zone, name="dup.py-types.test", type="TXT",
                                  content="same value", ttl=300)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.create(zone_id=types_zone, name="dup.py-types.test", type="TXT", content="same value",
                              ttl=600, comment="other metadata does not make it another record")
    assert 81058 in error_codes(refused.value), refused.value.errors
    # A CNAME where other data is, and other data where a CNAME is.
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.create(zone_id=types_zone, name="dup.py-types.test", type="CNAME",
                              content="elsewhere.example.net", ttl=300)
    assert 81053 in error_codes(refused.value), refused.value.errors
    alias = cf.dns.records.create(zone_id=types_zone, name="alias.py-types.test", type="CNAME",
                                  content="elsewhere.example.net", ttl=300)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.create(zone_id=types_zone, name="alias.py-types.test", type="A", content="192.0.2.70", ttl=300)
    assert 81054 in error_codes(refused.value), refused.value.errors

    assert cf.dns.records.delete(first.id, zone_id=types_zone).id == first.id
    with pytest.raises(cloudflare.NotFoundError) as missing:
        cf.dns.records.get(first.id, zone_id=types_zone)
    assert 81044 in error_codes(missing.value), missing.value.errors
    with pytest.raises(cloudflare.NotFoundError) as missing:
        cf.dns.records.delete(first.id, zone_id=types_zone)
    assert 81044 in error_codes(missing.value)
    served_eventually("dup.py-types.test", "TXT", [])
    cf.dns.records.delete(alias.id, zone_id=types_zone)


def test_put_patch_and_no_op_writes(cf, account_id):
    zone = new_zone(cf, account_id, "py-writes.test")
    name = "www.py-writes.test"
    r = cf.dns.records.create(zone_id=zone, name=name, type="A", content="192.0.2.1", ttl=300,
                              comment="first", tags=["env:prod"])
    serial = soa_serial(cf, zone)

    # PUT of the record as it is: nothing changes, no new serial.
    same = cf.dns.records.update(r.id, zone_id=zone, name=name, type="A", content="192.0.2.1", ttl=300,
                                 comment="first", tags=["env:prod"])
    assert isinstance(same, R.ARecord)
    assert same.modified_on == r.modified_on and same.content == "192.0.2.1"
    assert soa_serial(cf, zone) == serial

    # PATCH of the comment alone: metadata, no new serial.
    noted = cf.dns.records.edit(r.id, zone_id=zone, name=name, type="A", ttl=300, comment="second")
    assert isinstance(noted, R.ARecord)
    assert (noted.comment, noted.content, noted.tags) == ("second", "192.0.2.1", ["env:prod"])
    assert noted.comment_modified_on is not None and noted.comment_modified_on >= r.comment_modified_on
    assert soa_serial(cf, zone) == serial

    # PATCH of the address: a new serial, served at once.
    moved = cf.dns.records.edit(r.id, zone_id=zone, name=name, type="A", ttl=300, content="192.0.2.2")
    assert (moved.content, moved.comment) == ("192.0.2.2", "second")
    assert soa_serial(cf, zone) == serial + 1
    served_eventually(name, "A", ["192.0.2.2"])

    # PUT replaces the whole record: what it leaves out is gone.
    replaced = cf.dns.records.update(r.id, zone_id=zone, name=name, type="A", content="192.0.2.3", ttl=600)
    assert (replaced.content, replaced.ttl, replaced.comment, replaced.tags) == ("192.0.2.3", 600, None, [])
    assert replaced.comment_modified_on is None and replaced.tags_modified_on is None
    assert soa_serial(cf, zone) == serial + 2
    served_eventually(name, "A", ["192.0.2.3"])
    cf.zones.delete(zone_id=zone)


# ---------------------------------------------------------------------------------------------
# List filters


@pytest.fixture(scope="module")
def filt(cf, account_id):
    """A zone with records to filter; answers (zone id, zone name, {label: record id})."""
    zn = "py-filters.test"
    zone = new_zone(cf, account_id, zn)
    make = lambda **kw: cf.dns.records.create(zone_id=zone, **kw).id  # noqa: E731
    rec = {
        "www_a": make(name=f"www.{zn}", type="A", content="192.0.2.1", ttl=300, comment="Web server",
                      tags=["env:prod", "team:web"]),
        "www_aaaa": make(name=f"www.{zn}", type="AAAA", content="2001:db8::1", ttl=120, comment="web v6",
                         tags=["env:staging"]),
        "api_a": make(name=f"api.{zn}", type="A", content="192.0.2.2", ttl=600, tags=["env:prod"]),
        "mx": make(name=f"mail.{zn}", type="MX", content="mx1.example.net", priority=10, ttl=3600,
                   comment="Mail exchanger"),
        "txt1": make(name=f"_acme-challenge.{zn}", type="TXT", content="token-one", ttl=120),
        "txt2": make(name=f"_acme-challenge.{zn}", type="TXT", content="token-two", ttl=120),
        "blog": make(name=f"blog.{zn}", type="CNAME", content=f"www.{zn}", ttl=300),
    }
    rec["ns"] = next(iter(cf.dns.records.list(zone_id=zone, type="NS"))).id
    rec["soa"] = next(iter(cf.dns.records.list(zone_id=zone, type="SOA"))).id
    return zone, zn, rec


def listed(cf, zone, **params):
    return ids(cf.dns.records.list(zone_id=zone, **params))


def expect(rec, *labels):
    return {rec[label] for label in labels}


def test_filter_type_and_name(cf, filt):
    zone, zn, rec = filt
    assert listed(cf, zone, type="TXT") == expect(rec, "txt1", "txt2")
    assert listed(cf, zone, name=f"www.{zn}") == expect(rec, "www_a", "www_aaaa")
    assert listed(cf, zone, name={"exact": f"WWW.{zn}"}) == expect(rec, "www_a", "www_aaaa")
    assert listed(cf, zone, name={"contains": "ww"}) == expect(rec, "www_a", "www_aaaa")
    assert listed(cf, zone, name={"startswith": "_acme"}) == expect(rec, "txt1", "txt2")
    assert listed(cf, zone, name={"endswith": f"pi.{zn}"}) == expect(rec, "api_a")
    assert listed(cf, zone, name={"endswith": f".{zn}"}) == set(rec.values()) - expect(rec, "ns", "soa")
    assert listed(cf, zone, type="A", name={"exact": f"www.{zn}"}) == expect(rec, "www_a")


def test_filter_content(cf, filt):
    zone, zn, rec = filt
    # certbot's and lexicon's lookups of their own challenge record.
    assert listed(cf, zone, type="TXT", name=f"_acme-challenge.{zn}", content="token-one") == expect(rec, "txt1")
    page = cf.dns.records.list(zone_id=zone, type="TXT", name=f"_acme-challenge.{zn}",
                               content={"exact": "token-two"}, per_page=1)
    assert [r.id for r in page.result] == [rec["txt2"]]
    assert listed(cf, zone, content={"exact": "TOKEN-ONE"}) == expect(rec, "txt1")
    assert listed(cf, zone, content={"contains": "192.0.2"}) == expect(rec, "www_a", "api_a")
    assert listed(cf, zone, content={"startswith": "2001:db8"}) == expect(rec, "www_aaaa")
    assert listed(cf, zone, content={"endswith": "example.net"}) == expect(rec, "mx")
    # Content as returned: targets without the trailing dot.
    assert listed(cf, zone, content={"exact": f"www.{zn}"}) == expect(rec, "blog")
    assert listed(cf, zone, content="mx1.example.net") == expect(rec, "mx")


def test_filter_comment(cf, filt):
    zone, zn, rec = filt
    assert listed(cf, zone, comment="Web server") == expect(rec, "www_a")
    assert listed(cf, zone, comment={"exact": "web SERVER"}) == expect(rec, "www_a")
    assert listed(cf, zone, comment={"contains": "WEB"}) == expect(rec, "www_a", "www_aaaa")
    assert listed(cf, zone, comment={"startswith": "mail"}) == expect(rec, "mx")
    assert listed(cf, zone, comment={"endswith": "v6"}) == expect(rec, "www_aaaa")
    assert listed(cf, zone, comment={"present": "true"}) == expect(rec, "www_a", "www_aaaa", "mx")
    assert listed(cf, zone, comment={"absent": "true"}) == expect(rec, "api_a", "txt1", "txt2", "blog", "ns", "soa")


def test_filter_tags(cf, filt):
    zone, zn, rec = filt
    assert listed(cf, zone, tag="env:prod") == expect(rec, "www_a", "api_a")
    assert listed(cf, zone, tag="team") == expect(rec, "www_a")
    assert listed(cf, zone, tag={"exact": "env:prod"}) == expect(rec, "www_a", "api_a")
    assert listed(cf, zone, tag={"exact": "ENV:PROD"}) == expect(rec, "www_a", "api_a")
    assert listed(cf, zone, tag={"contains": "env:stag"}) == expect(rec, "www_aaaa")
    assert listed(cf, zone, tag={"startswith": "env:pro"}) == expect(rec, "www_a", "api_a")
    assert listed(cf, zone, tag={"endswith": "env:ing"}) == expect(rec, "www_aaaa")
    assert listed(cf, zone, tag={"present": "team"}) == expect(rec, "www_a")
    assert listed(cf, zone, tag={"absent": "env"}) == expect(rec, "mx", "txt1", "txt2", "blog", "ns", "soa")
    # Two tag filters: both (tag_match=all, the default) or either.
    both = {"exact": "env:prod", "present": "team"}
    assert listed(cf, zone, tag=both) == expect(rec, "www_a")
    assert listed(cf, zone, tag=both, tag_match="all") == expect(rec, "www_a")
    assert listed(cf, zone, tag=both, tag_match="any") == expect(rec, "www_a", "api_a")
    # Tag filters are one condition towards `match`.
    assert listed(cf, zone, type="MX", tag={"present": "team"}, match="any") == expect(rec, "mx", "www_a")
    assert listed(cf, zone, type="A", tag={"present": "team"}) == expect(rec, "www_a")


def test_filter_search_match_proxied(cf, filt):
    zone, zn, rec = filt
    assert listed(cf, zone, search="token") == expect(rec, "txt1", "txt2")
    assert listed(cf, zone, search="mail exch") == expect(rec, "mx")
    assert listed(cf, zone, type="MX", name={"exact": f"api.{zn}"}, match="any") == expect(rec, "mx", "api_a")
    assert listed(cf, zone, type="MX", name={"exact": f"api.{zn}"}, match="all") == set()
    assert listed(cf, zone, type="MX", name={"exact": f"api.{zn}"}) == set()
    assert listed(cf, zone, type="A", comment={"contains": "web"}) == expect(rec, "www_a")
    assert listed(cf, zone, proxied=False) == set(rec.values())
    assert listed(cf, zone, proxied=True) == set()


def test_order_direction_and_paging(cf, filt):
    zone, zn, rec = filt

    def order(**params):
        return [r.id for r in cf.dns.records.list(zone_id=zone, **params)]

    assert order(type="A", order="content") == [rec["www_a"], rec["api_a"]]
    assert order(type="A", order="content", direction="desc") == [rec["api_a"], rec["www_a"]]
    assert order(type="A", order="name", direction="desc") == [rec["www_a"], rec["api_a"]]
    assert order(comment={"present": "true"}, order="ttl") == [rec["www_aaaa"], rec["www_a"], rec["mx"]]
    assert order(comment={"present": "true"}, order="ttl", direction="desc") == [rec["mx"], rec["www_a"], rec["www_aaaa"]]
    types = [r.type for r in cf.dns.records.list(zone_id=zone, comment={"contains": "web"}, order="type")]
    assert types == ["A", "AAAA"]
    types = [r.type for r in cf.dns.records.list(zone_id=zone, comment={"contains": "web"}, order="type", direction="desc")]
    assert types == ["AAAA", "A"]
    assert len(order(order="proxied")) == len(rec)

    page = cf.dns.records.list(zone_id=zone, per_page=4, page=2, order="name")
    assert len(page.result) == 4 and (page.result_info.page, page.result_info.per_page) == (2, 4)
    info = page.result_info.to_dict()
    assert (info["count"], info["total_count"], info["total_pages"]) == (4, len(rec), 3)
    last = cf.dns.records.list(zone_id=zone, per_page=4, page=3, order="name")
    assert len(last.result) == len(rec) - 8
    assert cf.dns.records.list(zone_id=zone, per_page=4, page=4).result == []


def test_bad_filters_are_refused(cf, filt):
    zone, zn, rec = filt
    for params, field in (
        (dict(order="bogus"), "order"),
        (dict(direction="up"), "direction"),
        (dict(match="some"), "match"),
        (dict(tag_match="some"), "tag_match"),
        (dict(per_page=0), "per_page"),
        (dict(extra_query={"colour": "red"}), "colour"),
        (dict(extra_query={"content.like": "x"}), "content.like"),
    ):
        with pytest.raises(cloudflare.BadRequestError) as refused:
            cf.dns.records.list(zone_id=zone, **params).result
        assert field in str(refused.value), (params, refused.value)


# ---------------------------------------------------------------------------------------------
# Auto-pagination


def test_auto_pagination(cf, account_id):
    zone = new_zone(cf, account_id, "py-pages.test")
    want = [f"p{i:02}.py-pages.test" for i in range(1, 13)]
    for i, name in enumerate(want, 1):
        cf.dns.records.create(zone_id=zone, name=name, type="A", content=f"192.0.2.{i}", ttl=300)
    seen = [r.name for r in cf.dns.records.list(zone_id=zone, type="A", per_page=5, order="name")]
    assert seen == want
    assert all(isinstance(r, R.ARecord) for r in cf.dns.records.list(zone_id=zone, type="A", per_page=5))
    pages = [len(p.result) for p in cf.dns.records.list(zone_id=zone, type="A", per_page=5).iter_pages()]
    assert pages[:3] == [5, 5, 2] and all(n == 0 for n in pages[3:]), pages
    # Everything, SOA and NS included, through pages of 5.
    assert len(list(cf.dns.records.list(zone_id=zone, per_page=5))) == 14
    cf.zones.delete(zone_id=zone)


# ---------------------------------------------------------------------------------------------
# Batch


def test_batch(cf, account_id):
    zn = "py-batch.test"
    zone = new_zone(cf, account_id, zn)
    create = lambda **kw: cf.dns.records.create(zone_id=zone, **kw)  # noqa: E731
    gone = create(name=f"gone.{zn}", type="A", content="192.0.2.1", ttl=300)
    patched = create(name=f"patched.{zn}", type="A", content="192.0.2.10", ttl=300)
    replaced = create(name=f"replaced.{zn}", type="TXT", content="old", ttl=300, comment="was here")
    serial = soa_serial(cf, zone)

    result = cf.dns.records.batch(
        zone_id=zone,
        deletes=[{"id": gone.id}],
        patches=[{"id": patched.id, "name": f"patched.{zn}", "type": "A", "ttl": 300,
                  "content": "192.0.2.11", "comment": "patched"}],
        puts=[{"id": replaced.id, "name": f"replaced.{zn}", "type": "TXT", "content": "new value", "ttl": 600}],
        posts=[
            {"name": f"_sip._udp.{zn}", "type": "SRV", "ttl": 300,
             "data": {"priority": 1, "weight": 2, "port": 5060, "target": "sip.example.net"}},
            {"name": f"caa.{zn}", "type": "CAA", "ttl": 300, "data": {"flags": 0, "tag": "issuewild", "value": ";"}},
            {"name": f"new.{zn}", "type": "AAAA", "ttl": 1, "content": "2001:db8::5", "tags": ["env:test"]},
        ],
    )
    assert [r.id for r in result.deletes] == [gone.id]
    [p] = result.patches
    assert isinstance(p, R.ARecord) and (p.id, p.content, p.comment) == (patched.id, "192.0.2.11", "patched")
    [u] = result.puts
    assert isinstance(u, R.TXTRecord)
    assert (u.id, u.content, u.ttl, u.comment) == (replaced.id, "new value", 600, None)
    srv, caa, aaaa = result.posts
    assert isinstance(srv, R.SRVRecord) and srv.content == "2 5060 sip.example.net" and srv.data.port == 5060
    assert isinstance(caa, R.CAARecord) and caa.content == '0 issuewild ";"' and caa.data.tag == "issuewild"
    assert isinstance(aaaa, R.AAAARecord) and aaaa.ttl == 1 and aaaa.tags == ["env:test"]
    assert soa_serial(cf, zone) == serial + 1, "a batch is one change"
    with pytest.raises(cloudflare.NotFoundError):
        cf.dns.records.get(gone.id, zone_id=zone)
    served_eventually(f"gone.{zn}", "A", [])
    served_eventually(f"patched.{zn}", "A", ["192.0.2.11"])
    served_eventually(f"replaced.{zn}", "TXT", ['"new value"'])
    served_eventually(f"_sip._udp.{zn}", "SRV", ["1 2 5060 sip.example.net."])
    served_eventually(f"caa.{zn}", "CAA", ['0 issuewild ";"'])

    # A batch that changes nothing makes no new serial.
    serial = soa_serial(cf, zone)
    same = cf.dns.records.batch(
        zone_id=zone,
        patches=[{"id": patched.id, "name": f"patched.{zn}", "type": "A", "ttl": 300, "content": "192.0.2.11"}],
    )
    assert [r.content for r in same.patches] == ["192.0.2.11"]
    assert soa_serial(cf, zone) == serial

    # One bad operation and nothing happens.
    before = {r.id: r.to_dict() for r in cf.dns.records.list(zone_id=zone)}
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.batch(
            zone_id=zone,
            deletes=[{"id": patched.id}],
            posts=[{"name": f"bad.{zn}", "type": "A", "ttl": 300, "content": "not-an-address"}],
        )
    assert "content" in str(refused.value)
    assert {r.id: r.to_dict() for r in cf.dns.records.list(zone_id=zone)} == before
    assert soa_serial(cf, zone) == serial
    served_eventually(f"patched.{zn}", "A", ["192.0.2.11"])

    # Deletes run before posts: a record deleted and posted again in one batch is no duplicate.
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.dns.records.batch(zone_id=zone, posts=[{"name": f"patched.{zn}", "type": "A", "ttl": 300,
                                                   "content": "192.0.2.11"}])
    assert 81058 in error_codes(refused.value), refused.value.errors
    swapped = cf.dns.records.batch(
        zone_id=zone,
        deletes=[{"id": patched.id}],
        posts=[{"name": f"patched.{zn}", "type": "A", "ttl": 300, "content": "192.0.2.11"}],
    )
    [again] = swapped.posts
    assert again.id != patched.id and again.content == "192.0.2.11"
    assert [r.id for r in cf.dns.records.list(zone_id=zone, name={"exact": f"patched.{zn}"})] == [again.id]
    served_eventually(f"patched.{zn}", "A", ["192.0.2.11"])
    cf.zones.delete(zone_id=zone)


# ---------------------------------------------------------------------------------------------
# Import and export

IMPORT = f"""$ORIGIN py-io.test.
$TTL 3600
www         300 IN A      192.0.2.1
www         300 IN AAAA   2001:db8::1
alias       300 IN CNAME  www.example.net.
@           300 IN MX     10 mail.example.net.
spf         300 IN TXT    "v=spf1 a ~all"
pair        300 IN TXT    "a" "b"
_sip._tcp   300 IN SRV    10 5 5060 sip.example.net.
@           300 IN CAA    0 issue "letsencrypt.org"
host        300 IN SSHFP  4 2 {SHA256_A.upper()}
_443._tcp   300 IN TLSA   3 1 1 {SHA256_B.upper()}
delegated  3600 IN NS     ns1.example.net.
"""


def test_import_and_export(cf, account_id):
    zn = "py-io.test"
    zone = new_zone(cf, account_id, zn)
    imported = cf.dns.records.import_(zone_id=zone, file=IMPORT)
    assert (imported.recs_added, imported.total_records_parsed) == (11, 11)
    by_key = {(r.name, r.type): r for r in cf.dns.records.list(zone_id=zone)}
    expected = {
        (f"www.{zn}", "A"): "192.0.2.1",
        (f"www.{zn}", "AAAA"): "2001:db8::1",
        (f"alias.{zn}", "CNAME"): "www.example.net",
        (zn, "MX"): "mail.example.net",
        (f"spf.{zn}", "TXT"): "v=spf1 a ~all",
        (f"pair.{zn}", "TXT"): '"a" "b"',
        (f"_sip._tcp.{zn}", "SRV"): "5 5060 sip.example.net",
        (zn, "CAA"): '0 issue "letsencrypt.org"',
        (f"host.{zn}", "SSHFP"): f"4 2 {SHA256_A}",
        (f"_443._tcp.{zn}", "TLSA"): f"3 1 1 {SHA256_B}",
        (f"delegated.{zn}", "NS"): "ns1.example.net",
    }
    for key, content in expected.items():
        assert key in by_key, f"{key} not listed after the import"
        r = by_key[key]
        assert isinstance(r, TYPED[key[1]]), f"{key}: {type(r).__name__}"
        assert r.content == content, f"{key}: content {r.content!r}, expected {content!r}"
    assert same_number(by_key[(zn, "MX")].priority, 10)
    srv = by_key[(f"_sip._tcp.{zn}", "SRV")]
    assert same_number(srv.priority, 10) and srv.data.target == "sip.example.net" and srv.data.port == 5060
    assert by_key[(zn, "CAA")].data.value == "letsencrypt.org"
    assert by_key[(f"host.{zn}", "SSHFP")].data.fingerprint == SHA256_A
    served_eventually(f"alias.{zn}", "CNAME", ["www.example.net."])
    served_eventually(f"spf.{zn}", "TXT", ['"v=spf1 a ~all"'])

    # The same file again adds nothing and makes no new serial.
    serial = soa_serial(cf, zone)
    again = cf.dns.records.import_(zone_id=zone, file=IMPORT)
    assert (again.recs_added, again.total_records_parsed) == (0, 11)
    assert soa_serial(cf, zone) == serial

    exported = cf.dns.records.export(zone_id=zone)
    assert isinstance(exported, str)
    for name, rtype in expected:
        assert re.search(rf"^{re.escape(name)}\.\s+\d+\s+IN\s+{rtype}\s", exported, re.M), (name, rtype, exported)

    # The export brings the zone back: delete it, create it anew, import the export.
    def snapshot():
        out = set()
        for r in cf.dns.records.list(zone_id=zone):
            content = r.content if r.type != "SOA" else " ".join(r.content.split()[:2] + r.content.split()[3:])
            out.add((r.name, r.type, content, r.ttl, r.to_dict().get("priority")))
        return out

    before = snapshot()
    assert cf.zones.delete(zone_id=zone).id == zone
    zone = new_zone(cf, account_id, zn)
    cf.dns.records.import_(zone_id=zone, file=exported)
    assert snapshot() == before
    cf.zones.delete(zone_id=zone)


# ---------------------------------------------------------------------------------------------
# Zones


def test_zones_create_edit_delete(cf, account_id):
    zn = "py-zone.test"
    created = cf.zones.create(account={"id": account_id}, name=zn, type="full")
    assert (created.name, created.type, created.status, created.paused) == (zn, "full", "active", False)
    assert created.account.id == account_id
    zone = created.id
    assert cf.zones.get(zone_id=zone).name == zn
    assert [z.id for z in cf.zones.list(name=zn)] == [zone]
    assert [z.id for z in cf.zones.list(name=zn, status="active", type=["full"])] == [zone]
    assert [z.id for z in cf.zones.list(account={"id": account_id}, name=zn)] == [zone]
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.zones.list(extra_query={"colour": "red"}).result
    assert "colour" in str(refused.value)

    cf.dns.records.create(zone_id=zone, name=f"www.{zn}", type="A", content="192.0.2.80", ttl=300)
    serial = soa_serial(cf, zone)
    paused = cf.zones.edit(zone_id=zone, paused=True)
    assert (paused.id, paused.paused) == (zone, True)
    assert cf.zones.get(zone_id=zone).paused is True
    assert [z.paused for z in cf.zones.list(name=zn)] == [True]
    # Pausing concerns the provider's proxy: DNS answers as before, no new version.
    served_eventually(f"www.{zn}", "A", ["192.0.2.80"])
    assert soa_serial(cf, zone) == serial
    assert cf.zones.edit(zone_id=zone, paused=False).paused is False
    assert cf.zones.get(zone_id=zone).paused is False

    for field, value in (("type", "secondary"), ("vanity_name_servers", ["ns1.example.net"])):
        with pytest.raises(cloudflare.BadRequestError) as refused:
            cf.zones.edit(zone_id=zone, **{field: value})
        assert field in str(refused.value)
    assert cf.zones.get(zone_id=zone).type == "full"

    assert cf.zones.delete(zone_id=zone).id == zone
    with pytest.raises(cloudflare.NotFoundError):
        cf.zones.get(zone_id=zone)
    assert list(cf.zones.list(name=zn)) == []
    with pytest.raises(cloudflare.NotFoundError):
        cf.dns.records.list(zone_id=zone).result
    deadline = time.monotonic() + 5
    while rcode(f"www.{zn}", "A") != "REFUSED" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rcode(f"www.{zn}", "A") == "REFUSED"


# ---------------------------------------------------------------------------------------------
# The other calls the SDKs' users make beside records: token checks and page rules


def test_tokens_verify_and_pagerules(cf, account_id):
    admin = cf.user.tokens.verify()
    assert admin.status == "active" and re.fullmatch(r"[0-9a-f]{32}", admin.id), admin
    token = cf.post(f"/accounts/{account_id}/tokens", body={"name": "sdk-verify", "permission": "write"},
                    cast_to=object)["result"]
    scoped = Cloudflare(api_token=token["value"], max_retries=0)
    mine = scoped.user.tokens.verify()
    assert (mine.id, mine.status) == (token["id"], "active")
    assert scoped.accounts.tokens.verify(account_id=account_id).id == token["id"]
    zone = new_zone(cf, account_id, "py-rules.test")
    assert scoped.page_rules.list(zone_id=zone) == []
    cf.delete(f"/accounts/{account_id}/tokens/{token['id']}", cast_to=object)
    with pytest.raises(cloudflare.AuthenticationError):
        scoped.user.tokens.verify()
