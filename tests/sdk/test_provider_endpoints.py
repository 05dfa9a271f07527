"""The provider's endpoints its tools call beside records, driven by its official Python SDK.

Run by tests/tests/sdk.rs against the real binary (CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN):
zones.edit (`paused`; a change of `type` refused naming it), user.tokens.verify and
accounts.tokens.verify, page_rules.list, and the legacy api_email + api_key authentication.
The `cf` and `account_id` fixtures come from conftest.py.
"""

import os

import cloudflare
import pytest
from cloudflare import Cloudflare

HEX = set("0123456789abcdef")


def is_id(value):
    return isinstance(value, str) and len(value) == 32 and set(value) <= HEX


@pytest.fixture(scope="module")
def zone_id(cf, account_id):
    return cf.zones.create(account={"id": account_id}, name="sdk-endpoints.test", type="full").id


def test_zone_edit_sets_paused_only(cf, zone_id):
    assert cf.zones.get(zone_id=zone_id).paused is False
    edited = cf.zones.edit(zone_id=zone_id, paused=True)
    assert edited.paused is True and edited.id == zone_id and edited.type == "full"
    assert cf.zones.get(zone_id=zone_id).paused is True
    # The same edit again is fine; the zone's own type is no change.
    assert cf.zones.edit(zone_id=zone_id, paused=True, type="full").paused is True
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.zones.edit(zone_id=zone_id, paused=False, type="secondary")
    assert "type" in str(refused.value)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.zones.edit(zone_id=zone_id, vanity_name_servers=["ns1.example.net"])
    assert "vanity_name_servers" in str(refused.value)
    assert cf.zones.get(zone_id=zone_id).paused is True, "a refused edit changes nothing"
    assert cf.zones.edit(zone_id=zone_id, paused=False).paused is False


def test_token_verify(cf, account_id):
    verified = cf.user.tokens.verify()
    assert verified.status == "active" and is_id(verified.id)
    assert cf.accounts.tokens.verify(account_id=account_id).id == verified.id
    with pytest.raises(cloudflare.NotFoundError):
        cf.accounts.tokens.verify(account_id="0123456789abcdef0123456789abcdef")
    with pytest.raises(cloudflare.AuthenticationError):
        Cloudflare(api_token="not-a-token", max_retries=0).user.tokens.verify()


def test_page_rules_are_an_empty_list(cf, zone_id):
    assert cf.page_rules.list(zone_id=zone_id) == []
    assert cf.page_rules.list(zone_id=zone_id, status="active", order="priority", direction="asc", match="all") == []
    with pytest.raises(cloudflare.NotFoundError):
        cf.page_rules.list(zone_id="0123456789abcdef0123456789abcdef")


def test_legacy_email_and_key(monkeypatch, zone_id):
    token = os.environ["CLOUDFLARE_API_TOKEN"]
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    legacy = Cloudflare(api_email="ops@example.com", api_key=token, max_retries=0)
    assert legacy.user.tokens.verify().status == "active"
    assert zone_id in [z.id for z in legacy.zones.list()]
    with pytest.raises(cloudflare.AuthenticationError):
        Cloudflare(api_email="ops@example.com", api_key="not-a-token", max_retries=0).zones.get(zone_id=zone_id)
