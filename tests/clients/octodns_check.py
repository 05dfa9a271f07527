"""Checks for the octoDNS test (tests/tests/clients.rs), run with the repository's .venv Python.

  octodns_check.py dump SOURCE.yaml DUMP.yaml APEX_NS
      The zone octodns-dump wrote from Tandem holds exactly the records of the source YAML (parsed,
      `value`/`values` and list order aside), plus the apex NS APEX_NS (comma-separated) that
      Tandem gives a new zone and octodns-cloudflare does not manage.

  octodns_check.py dig SOURCE.yaml ZONE DIG DNS_PORT
      For every record of the source YAML, `DIG @127.0.0.1 -p DNS_PORT NAME TYPE` answers exactly
      its values with its TTL (a delegation's NS from the referral's authority section, the
      wildcard through a name that exists nowhere else, TXT as the concatenation of its strings).

Prints one line per check and exits 1 with the differences when any check fails.
"""

import json
import subprocess
import sys

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import yaml

DEFAULT_TTL = 3600  # `default_ttl` of the YAML provider in octodns/config.yaml
AUTO_TTL_SERVED = 300  # `ttl: 1` (octoDNS `auto-ttl`) is served as 300


def records_of(zone_yaml):
    """{(name, type): record} of an octoDNS zone file."""
    out = {}
    for name, recs in (zone_yaml or {}).items():
        if isinstance(recs, dict):
            recs = [recs]
        for rec in recs:
            key = (str(name), rec["type"])
            assert key not in out, f"two records for {key}"
            out[key] = rec
    return out


def values_of(rec):
    if "values" in rec:
        return list(rec["values"])
    return [rec["value"]]


def normalized(rec):
    """A record as comparable data: TTL defaulted, values sorted, tag lists sorted."""
    octo = json.loads(json.dumps(rec.get("octodns", {})))
    cf = octo.get("cloudflare", {})
    if "tags" in cf:
        cf["tags"] = sorted(cf["tags"])
    return {
        "type": rec["type"],
        "ttl": rec.get("ttl", DEFAULT_TTL),
        "values": sorted(json.dumps(v, sort_keys=True) for v in values_of(rec)),
        "octodns": octo,
    }


def check_dump(source_path, dump_path, apex_ns):
    with open(source_path) as f:
        source = records_of(yaml.safe_load(f))
    with open(dump_path) as f:
        dumped = records_of(yaml.safe_load(f))
    problems = []
    if ("", "NS") not in source:
        ns = dumped.pop(("", "NS"), None)
        want = sorted(apex_ns.split(","))
        if ns is None or sorted(values_of(ns)) != want:
            problems.append(f"apex NS: dumped {ns}, expected Tandem's default {want}")
        else:
            print(f"ok   dump  @ NS {want} (Tandem's default, not managed by octoDNS)")
    for key in sorted(set(source) | set(dumped)):
        name = key[0] or "@"
        if key not in dumped:
            problems.append(f"{name} {key[1]}: in the source, missing from the dump")
            continue
        if key not in source:
            problems.append(f"{name} {key[1]}: in the dump, not in the source: {dumped[key]}")
            continue
        want, got = normalized(source[key]), normalized(dumped[key])
        if want != got:
            problems.append(
                f"{name} {key[1]}: dump differs from the source\n"
                f"    source: {json.dumps(want, sort_keys=True)}\n"
                f"    dump:   {json.dumps(got, sort_keys=True)}"
            )
        else:
            print(f"ok   dump  {name} {key[1]}")
    return problems


def rdata_text(rtype, value):
    """The zone-file RDATA of one octoDNS value."""
    if rtype in ("A", "AAAA", "CNAME", "NS"):
        return value
    if rtype == "MX":
        return f"{value['preference']} {value['exchange']}"
    if rtype == "SRV":
        return f"{value['priority']} {value['weight']} {value['port']} {value['target']}"
    if rtype == "CAA":
        return f"{value['flags']} {value['tag']} \"{value['value']}\""
    if rtype == "SSHFP":
        return f"{value['algorithm']} {value['fingerprint_type']} {value['fingerprint']}"
    if rtype == "TLSA":
        return (
            f"{value['certificate_usage']} {value['selector']} "
            f"{value['matching_type']} {value['certificate_association_data']}"
        )
    raise ValueError(f"no dig check for {rtype}")


def comparable(rtype, rdata):
    """TXT compares as its concatenated text; every other type as its RDATA."""
    if rtype == "TXT":
        return b"".join(rdata.strings).decode()
    return rdata.to_text()


def dig(dig_path, port, qname, rtype):
    """[(owner, ttl, rdata)] of the answer and authority sections."""
    out = subprocess.run(
        [dig_path, "@127.0.0.1", "-p", str(port), "+norecurse", "+noall", "+answer",
         "+authority", "+tries=1", "+time=5", qname, rtype],
        capture_output=True, text=True, check=True,
    ).stdout
    rrs = []
    for line in out.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        owner, ttl, rclass, rrtype, text = line.split(None, 4)
        if rrtype != rtype:
            continue
        rd = dns.rdata.from_text(dns.rdataclass.from_text(rclass),
                                 dns.rdatatype.from_text(rrtype), text)
        rrs.append((owner, int(ttl), rd))
    return out, rrs


def check_dig(source_path, zone, dig_path, port):
    with open(source_path) as f:
        source = records_of(yaml.safe_load(f))
    problems = []
    for (name, rtype), rec in sorted(source.items()):
        if name == "*":
            qname = f"no-such-name-but-the-wildcard.{zone}."
        elif name:
            qname = f"{name}.{zone}."
        else:
            qname = f"{zone}."
        if rec.get("octodns", {}).get("cloudflare", {}).get("auto-ttl"):
            ttl = AUTO_TTL_SERVED
        else:
            ttl = rec.get("ttl", DEFAULT_TTL)
        if rtype == "TXT":
            want = sorted(v.replace("\\;", ";") for v in values_of(rec))
        else:
            t = dns.rdatatype.from_text(rtype)
            want = sorted(
                dns.rdata.from_text(dns.rdataclass.IN, t, rdata_text(rtype, v)).to_text()
                for v in values_of(rec)
            )
        raw, rrs = dig(dig_path, port, qname, rtype)
        got = sorted(comparable(rtype, rd) for owner, _, rd in rrs if owner.lower() == qname)
        ttls = sorted({t for owner, t, _ in rrs if owner.lower() == qname})
        if got != want or ttls != [ttl]:
            problems.append(
                f"dig {qname} {rtype}: expected TTL {ttl} and {want},\n"
                f"    got TTLs {ttls} and {got}; dig printed:\n{raw}"
            )
        else:
            print(f"ok   dig   {qname} {rtype} {ttl} {want}")
    return problems


def main():
    if sys.argv[1] == "dump":
        problems = check_dump(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "dig":
        problems = check_dig(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit(f"unknown check {sys.argv[1]}")
    for p in problems:
        print(f"FAIL {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
