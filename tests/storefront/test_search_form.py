"""The search page's form: read leniently from the query string, turned into the search API's parameters, and the
links that change one thing keep the rest."""

from __future__ import annotations

import pytest

from storefront.search_form import page_count, read_form

pytestmark = pytest.mark.unit


def test_filters_facets_and_the_pincode_become_search_parameters():
    form = read_form([("q", " ketle "), ("category", "kitchen"), ("attr.colour", "red"), ("min_price", "100"),
                      ("pincode", "560001"), ("sort", "price_asc"), ("page", "2")])

    params = form.api_params()

    assert ("q", "ketle") in params and ("category", "kitchen") in params and ("attr.colour", "red") in params
    assert ("min_price", "100") in params and ("pincode", "560001") in params
    assert ("sort", "price_asc") in params and ("page", "2") in params


def test_what_the_api_would_refuse_is_left_out_instead_of_failing_the_page():
    form = read_form([("min_price", "cheap"), ("pincode", "012345"), ("sort", "random"), ("page", "-3")])

    params = dict(form.api_params())

    assert "min_price" not in params and "pincode" not in params
    assert (params["sort"], params["page"]) == ("relevance", "1")
    assert not form.valid_pincode


def test_the_shoppers_own_pincode_is_the_default_until_one_is_typed():
    assert read_form([], default_pincode="560001").pincode == "560001"
    assert read_form([("pincode", "110001")], default_pincode="560001").pincode == "110001"


def test_a_page_link_keeps_every_filter():
    form = read_form([("q", "kettle"), ("brand", "Pagecraft"), ("page", "3")])

    assert form.query(page=4) == "q=kettle&sort=relevance&brand=Pagecraft&page=4"
    assert "page" not in form.query(page="")


def test_pages_are_counted_from_the_total():
    assert (page_count(0), page_count(12), page_count(13)) == (1, 1, 2)
