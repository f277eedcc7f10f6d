"""Without JavaScript, delete, reset and unsubscribe show a confirmation page that says the consequence;
nothing changes until it is confirmed. With htmx the browser asked already (hx-confirm)."""

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import Member, Subscription
from tests import helpers


@pytest.fixture
def club():
    return helpers.make_list()


def test_delete_asks_first_without_javascript(login):
    ann = helpers.make_member("ann@example.org")
    staff = login("operator")
    page = staff.post_form(f"/members/{ann.id}/delete", {})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Delete ann@example.org?" in text and "cannot be undone" in text
    assert 'name="confirmed" value="yes"' in text and f'action="/members/{ann.id}/delete"' in text
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1, "nothing changed yet"
    done = staff.post_form(f"/members/{ann.id}/delete", {"confirmed": "yes"})
    assert done.status_code == 303 and db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_reset_asks_first_and_carries_the_ses_choice_through(login):
    member = helpers.hard_member("gone@example.org")
    member.ses_suppressed = True
    db.session.commit()
    staff = login("operator")
    text = staff.post_form(f"/members/{member.id}/bounces/reset", {"ses_suppression": "remove"}).get_data(as_text=True)
    assert "Reset the bounce status of gone@example.org?" in text and "suppression list" in text
    assert 'name="ses_suppression" value="remove"' in text, "what the first form said is kept for the confirmation"
    db.session.refresh(member)
    assert member.bounce_status == "hard" and not member.active


def test_unsubscribe_asks_first(login, club):
    ann = helpers.make_member("ann@example.org", lists=[club])
    staff = login("operator")
    text = staff.post_form(f"/lists/{club.id}/unsubscribe/{ann.id}", {}).get_data(as_text=True)
    assert f"Unsubscribe ann@example.org from {club.address}?" in text
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    staff.post_form(f"/lists/{club.id}/unsubscribe/{ann.id}", {"confirmed": "yes"})
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_deleting_a_list_asks_first(login, club):
    staff = login("operator")
    assert "Delete the list" in staff.post_form(f"/lists/{club.id}/delete", {}).get_data(as_text=True)
    assert staff.post_form(f"/lists/{club.id}/delete", {"confirmed": "yes"}).status_code == 303


def test_htmx_requests_are_not_asked_twice(login):
    ann = helpers.make_member("ann@example.org")
    assert login("operator").htmx_post(f"/members/{ann.id}/delete").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_viewer_gets_no_confirmation_page(login):
    ann = helpers.make_member("ann@example.org")
    assert login("viewer").post_form(f"/members/{ann.id}/delete", {}).status_code == 403
