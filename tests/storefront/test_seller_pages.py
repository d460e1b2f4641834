"""The seller's pages in a real browser: sign in with the seller's key, upload a CSV feed with a bad record and see
its reason while the good record becomes applied, set stock per warehouse, and the seller's orders."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.storefront.conftest import look_at, new_seller

pytestmark = pytest.mark.stack


def feed_file(folder, warehouse_id: str):
    path = folder / "spring-feed.csv"
    path.write_text(
        f"sku,title,description,category,brand,price,currency,size_class,attr.colour,stock.{warehouse_id}\n"
        "teapot-1,Glazed teapot,Holds a litre.,kitchen,Pagecraft,899.00,INR,small,blue,5\n"
        "teapot-2,,No title and no price.,kitchen,Pagecraft,free,INR,small,red,5\n")
    return path


async def sign_in_as_seller(page: Page, seller_id: str, api_key: str) -> None:
    await page.goto("/seller")
    await expect(page).to_have_url(re.compile("/seller/signin$"))
    await page.get_by_label("Seller id").fill(seller_id)
    await page.get_by_label("API key").fill(api_key)
    await look_at(page, "seller-signin")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Upload a feed")).to_be_visible()


async def test_a_seller_uploads_a_feed_sees_the_bad_records_reason_and_sets_stock(
        phone: Page, settings, running_worker, delivering_warehouse, tmp_path):
    await sign_in_as_seller(phone, *await new_seller(settings))
    await look_at(phone, "seller-feeds")

    await phone.get_by_label(re.compile("^Feed file")).set_input_files(feed_file(tmp_path, delivering_warehouse))
    await phone.get_by_role("button", name="Upload feed").click()

    rejected = phone.locator("tr", has_text="teapot-2")
    await expect(rejected).to_contain_text("rejected")
    await expect(rejected).to_contain_text("price")
    await expect(phone.get_by_text("(all settled)")).to_be_visible(timeout=60_000)
    await expect(phone.locator("tr", has_text="teapot-1")).to_contain_text("applied")
    await look_at(phone, "seller-feed")
    item_id = (await phone.locator("tr", has_text="teapot-1").get_by_role("link").get_attribute("href")).rsplit("/")[-1]

    await phone.get_by_role("link", name="Stock", exact=True).click()
    await phone.get_by_label("Item id").fill(item_id)
    await phone.get_by_label("Warehouse").select_option(delivering_warehouse)
    await phone.get_by_label("Units on hand").fill("7")
    await phone.get_by_role("button", name="Set stock").click()
    await expect(phone.get_by_text("Saved: the units on hand are set.")).to_be_visible()
    await expect(phone.get_by_role("row", name=re.compile(f"{delivering_warehouse} 7 0 7"))).to_be_visible()
    await look_at(phone, "seller-stock")

    await phone.get_by_role("link", name="Orders", exact=True).click()
    await expect(phone.get_by_role("heading", name="My orders")).to_be_visible()
    await look_at(phone, "seller-orders")
