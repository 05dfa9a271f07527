"""certbot's `dns-cloudflare` authenticator against Tandem (run by tests/tests/clients.rs).

The plugin is found, configured and called the way certbot itself does it: from certbot's plugin
registry, with the configuration certbot's own command-line parser makes of
`certonly --authenticator dns-cloudflare --dns-cloudflare-credentials FILE`, through the
authenticator's public `perform(achalls)` and `cleanup(achalls)`, with DNS-01 challenges
annotated by certbot's `challb_to_achall`. Only the ACME server is absent: the challenges are made
here. The plugin's `cloudflare` SDK client takes the API from CLOUDFLARE_BASE_URL, which the test
points at Tandem; the token is in the credentials INI file, as users keep it.
"""

import os
import sys

import josepy as jose
import pytest
from acme import challenges, messages
from certbot._internal import cli
from certbot._internal.display import obj as display_obj
from certbot._internal.auth_handler import challb_to_achall
from certbot._internal.plugins import disco
from cryptography.hazmat.primitives.asymmetric import rsa

DOMAIN = "example.com"
NAME = "_acme-challenge.example.com"


@pytest.fixture(scope="module")
def zone_id(tandem):
    assert os.environ.get("CLOUDFLARE_BASE_URL") == tandem.api_url, \
        "CLOUDFLARE_BASE_URL must point the plugin at Tandem"
    # Zones listed before example.com: a zone lookup that ignored `name` would pick these.
    tandem.api.create_zone("example.net")
    tandem.api.create_zone("challenge.example.com.example.org")
    return tandem.api.create_zone(DOMAIN)


@pytest.fixture(scope="module")
def account_key():
    return jose.JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))


def certbot_run(tmp_path_factory, tandem):
    """The dns-cloudflare authenticator of one `certbot certonly -d example.com -d '*.example.com'`
    run (each run has its own directories and plugin instance)."""
    state = tmp_path_factory.mktemp("certbot")
    credentials = state / "cloudflare.ini"
    credentials.write_text(f"dns_cloudflare_api_token = {tandem.token}\n")
    credentials.chmod(0o600)
    plugins = disco.PluginsRegistry.find_all()
    config = cli.prepare_and_parse_args(plugins, [
        "certonly", "--non-interactive", "--agree-tos", "--register-unsafely-without-email",
        "--authenticator", "dns-cloudflare",
        "--dns-cloudflare-credentials", str(credentials),
        "--dns-cloudflare-propagation-seconds", "0",
        "--config-dir", str(state / "config"),
        "--work-dir", str(state / "work"),
        "--logs-dir", str(state / "logs"),
        "-d", DOMAIN, "-d", f"*.{DOMAIN}",
    ])
    # certbot's main sets the display its --non-interactive runs use before running a command.
    display_obj.set_display(display_obj.NoninteractiveDisplay(sys.stdout))
    auth = plugins["dns-cloudflare"].init(config)
    auth.prepare()
    return auth


def dns01(key, token):
    """A pending DNS-01 challenge for DOMAIN, annotated as certbot does. The authorizations of
    `example.com` and `*.example.com` both have the identifier `example.com`, so both
    challenges are answered at _acme-challenge.example.com."""
    challb = messages.ChallengeBody(
        chall=challenges.DNS01(token=token),
        uri=f"https://acme.invalid/chall/{token.hex()[:8]}",
        status=messages.STATUS_PENDING,
    )
    achall = challb_to_achall(
        challb, key, messages.Identifier(typ=messages.IDENTIFIER_FQDN, value=DOMAIN))
    assert achall.validation_domain_name(DOMAIN) == NAME
    return achall


def test_apex_and_wildcard_challenges(tandem, zone_id, account_key, tmp_path_factory):
    api = tandem.api
    # A TXT record at the challenge name that belongs to someone else (another client's pending
    # challenge): no cleanup below may touch it.
    other = api.ok("POST", f"/zones/{zone_id}/dns_records",
                   {"type": "TXT", "name": NAME, "content": "another-clients-challenge",
                    "ttl": 120})

    apex = dns01(account_key, os.urandom(32))
    wildcard = dns01(account_key, os.urandom(32))
    v_apex = apex.validation(account_key)
    v_wild = wildcard.validation(account_key)
    assert v_apex != v_wild

    run = certbot_run(tmp_path_factory, tandem)
    responses = run.perform([apex, wildcard])
    assert len(responses) == 2
    want = sorted(["another-clients-challenge", v_apex, v_wild])
    assert api.contents(zone_id, "TXT", NAME) == want
    for r in api.records(zone_id, "TXT", NAME):
        assert r["ttl"] in (120,), r  # the plugin's TTL, and the other record's
    assert tandem.dig_txt(NAME) == ("NOERROR", want)

    # The apex authorization is done and cleaned up; the wildcard one is still pending.
    run.cleanup([apex])
    want = sorted(["another-clients-challenge", v_wild])
    assert api.contents(zone_id, "TXT", NAME) == want, \
        "cleanup of one challenge must delete exactly its own TXT record"
    assert tandem.dig_txt(NAME) == ("NOERROR", want)

    # Tandem refuses an identical record with the provider's code, which the plugin looks for.
    status, env = api.call("POST", f"/zones/{zone_id}/dns_records",
                           {"type": "TXT", "name": NAME, "content": v_wild, "ttl": 120})
    assert status == 400 and [e["code"] for e in env["errors"]] == [81058], env

    # A new certbot run meets the same pending wildcard challenge (its record still there): the
    # perform succeeds and leaves one record, not two.
    rerun = certbot_run(tmp_path_factory, tandem)
    assert len(rerun.perform([wildcard])) == 1
    assert api.contents(zone_id, "TXT", NAME) == want
    assert tandem.dig_txt(NAME) == ("NOERROR", want)

    rerun.cleanup([wildcard])
    assert api.contents(zone_id, "TXT", NAME) == ["another-clients-challenge"]
    assert [r["id"] for r in api.records(zone_id, "TXT", NAME)] == [other["id"]]
    assert tandem.dig_txt(NAME) == ("NOERROR", ["another-clients-challenge"])

    # A cleanup of a challenge that is gone changes nothing.
    run.cleanup([apex, wildcard])
    assert api.contents(zone_id, "TXT", NAME) == ["another-clients-challenge"]


def test_challenge_for_a_name_below_the_zone(tandem, zone_id, account_key, tmp_path_factory):
    """`-d www.example.com`: the plugin finds the zone example.com by trying www.example.com
    first (a zone Tandem does not have), and the record lands in example.com."""
    api = tandem.api
    run = certbot_run(tmp_path_factory, tandem)
    challb = messages.ChallengeBody(
        chall=challenges.DNS01(token=os.urandom(32)),
        uri="https://acme.invalid/chall/www",
        status=messages.STATUS_PENDING,
    )
    achall = challb_to_achall(challb, account_key, messages.Identifier(
        typ=messages.IDENTIFIER_FQDN, value=f"www.{DOMAIN}"))
    name = f"_acme-challenge.www.{DOMAIN}"
    run.perform([achall])
    assert api.contents(zone_id, "TXT", name) == [achall.validation(account_key)]
    assert tandem.dig_txt(name) == ("NOERROR", [achall.validation(account_key)])
    run.cleanup([achall])
    assert api.contents(zone_id, "TXT", name) == []
    rcode, values = tandem.dig_txt(name)
    assert (rcode, values) == ("NXDOMAIN", [])
