"""Fixtures shared by the SDK tests: the official client pointed at Tandem by
CLOUDFLARE_BASE_URL and CLOUDFLARE_API_TOKEN, and the id of the `default` account."""

import os

import pytest
from cloudflare import Cloudflare


@pytest.fixture(scope="module")
def cf():
    assert os.environ.get("CLOUDFLARE_BASE_URL"), "CLOUDFLARE_BASE_URL must point at Tandem"
    return Cloudflare(max_retries=0)


@pytest.fixture(scope="module")
def account_id(cf):
    return next(a.id for a in cf.accounts.list() if a.name == "default")
