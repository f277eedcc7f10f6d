"""Whatever query string reaches a page, it answers with a page or a reason, never a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlalchemy import select

from maillist.extensions import db
from maillist.lists import unsubscribe as one_click
from maillist.models import Member
from tests import helpers

ROLES = ["admin", "operator", "viewer"]
KNOWN = ["page", "per_page", "q", "status", "active", "list", "sort", "dir", "type", "reason", "since", "until", "next"]
numbers = st.integers(min_value=-(10**40), max_value=10**40).map(str)
days = st.dates().map(str) | st.just("9999-12-31") | st.just("0001-01-01") | st.just("2026-02-30")
odd_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(["\x00", "%", "'; DROP TABLE member; --", "=1+1", "\u202e"])
values = numbers | days | odd_text | st.just("")
queries = st.dictionaries(st.sampled_from(KNOWN) | st.text(max_size=6), values, max_size=6)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def signed_in(app, login):
    """A client per role, and every GET route with its path filled in with a real object."""
    club = helpers.make_list("club@example.org")
    member = helpers.hard_member("ann@example.org")
    helpers.make_member("bob@example.org", lists=[club])
    ids = {"list_id": club.id, "member_id": member.id}
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in ("static", "health.health"):
            path = rule.rule
            for name in rule.arguments:
                if name == "token":  # one-click unsubscribe: bob's real token
                    bob = db.session.scalar(select(Member).where(Member.email == "bob@example.org"))
                    path = path.replace("<token>", one_click.token(club.id, bob.id, bob.email))
                    continue
                path = path.replace(f"<int:{name}>", str(ids[name]))
            routes.append(path)
    return {role: login(role) for role in ROLES}, sorted(routes)


def test_every_get_route_is_covered(signed_in):
    _, routes = signed_in
    assert {"/members/", "/lists/", "/bounces/", "/bounces/export.csv", "/members/export.csv", "/users/", "/login"} <= set(routes)


@FUZZ
@given(data=st.data(), query=queries, htmx=st.booleans())
def test_query_strings_never_reach_a_500(signed_in, data, query, htmx):
    clients, routes = signed_in
    role = data.draw(st.sampled_from(ROLES))
    path = data.draw(st.sampled_from(routes))
    response = clients[role].get(path, query_string=query, headers=helpers.HX if htmx else {})
    assert response.status_code < 500, (role, path, query, response.status_code)
    response.close()


@pytest.mark.parametrize("path, query, status", [
    ("/members/", {"page": "9" * 30}, 400),
    ("/members/", {"list": "9" * 30}, 400),
    ("/members/", {"per_page": "9" * 30}, 400),
    ("/bounces/", {"until": "9999-12-31"}, 400),
    ("/bounces/", {"since": "0001-01-01"}, 400),
    ("/bounces/", {"page": "1" + "0" * 25}, 400),
    ("/members/export.csv", {"list": "9" * 30}, 400),
    ("/bounces/export.csv", {"until": "9999-12-31"}, 400),
    ("/members/" + "9" * 30 + "/bounces", {}, 404),
    ("/lists/" + "9" * 30, {}, 404),
    ("/lists/2147483648/export.csv", {}, 404),
])
def test_out_of_range_numbers_and_dates_answer_4xx(signed_in, path, query, status):
    clients, _ = signed_in
    response = clients["viewer"].get(path, query_string=query)
    assert response.status_code == status
    if status == 400:
        assert "must be" in response.get_data(as_text=True)


def test_lists_form_with_a_non_numeric_list_id_is_refused(signed_in, app):
    clients, _ = signed_in
    member = helpers.make_member("carol@example.org")
    response = clients["operator"].post_form(f"/members/{member.id}/lists", {"list_ids": ["abc", "9" * 30]})
    assert response.status_code == 404
