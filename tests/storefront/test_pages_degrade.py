"""Pages stay pages when something fails: a service that does not answer, a part not built yet, an unknown item, a
signed-out visitor, a form posted from another site. Served in-process; no browser needed."""

from __future__ import annotations

import pytest
from elasticsearch import ConnectionError as IndexUnreachable
from redis.exceptions import ConnectionError as RedisUnreachable

from analytics import api as analytics_api
from search import api as search_api
from tests.orders.conftest import open_shop

pytestmark = pytest.mark.stack


class UnreachableIndex:
    async def search(self, *args, **kwargs):
        raise IndexUnreachable("N/A", "connection refused", None)


class UnreachableReports:
    async def as_of(self):
        raise RedisUnreachable("connection refused")

    async def trending(self, *args, **kwargs):
        raise RedisUnreachable("connection refused")


@pytest.fixture
async def pages(settings):
    async for shop in open_shop(settings):
        yield shop


async def test_search_says_so_when_elasticsearch_does_not_answer(pages):
    pages.app.dependency_overrides[search_api.search_index] = UnreachableIndex

    shown = await pages.http.get("/search", params={"q": "kettle"})

    assert shown.status_code == 200
    assert "This part of the shop is not answering right now" in shown.text
    assert "Traceback" not in shown.text


async def test_home_offers_a_signed_out_visitor_popular_items_and_a_way_to_their_own(pages):
    shown = await pages.http.get("/")

    assert shown.status_code == 200
    assert "Popular items" in shown.text
    assert "for recommendations of your own" in shown.text


async def test_home_says_when_nothing_is_trending_and_when_the_reports_do_not_answer(pages):
    quiet = await pages.http.get("/")
    pages.app.dependency_overrides[analytics_api.report_reader] = UnreachableReports
    down = await pages.http.get("/")

    assert quiet.status_code == down.status_code == 200
    assert "Nothing has been bought in the last hour yet" in quiet.text or "bought</span>" in quiet.text
    assert "Trending now: not answering right now" in down.text
    assert "Traceback" not in down.text


async def test_an_unknown_item_is_a_page_saying_so(pages):
    shown = await pages.http.get("/items/no-such-item")

    assert shown.status_code == 404
    assert "There is no such item" in shown.text


async def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(pages):
    shown = await pages.http.get("/orders")

    assert shown.status_code == 303
    assert shown.headers["location"] == "/signin?next=%2Forders"


async def test_a_form_posted_from_another_site_is_refused(pages):
    posted = await pages.http.post("/signin", data={"email": "a@example.com", "password": "x"},
                                   headers={"Origin": "https://elsewhere.example"})

    assert posted.status_code == 403
    assert "sent from another site" in posted.text


async def test_a_wrong_password_shows_the_form_again_with_the_reason(pages):
    posted = await pages.http.post("/signin", data={"email": "nobody@example.com", "password": "wrong password"})

    assert posted.status_code == 401
    assert "wrong e-mail or password" in posted.text
