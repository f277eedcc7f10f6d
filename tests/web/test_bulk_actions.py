"""Bulk work on members: the ticked rows or all matching the filters; asked first, one transaction,
one audit entry per member changed, an honest Undo, and hostile forms refused with a reason."""

import csv
import io

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.members.selection import MAX_TICKED
from maillist.models import AuditLog, BounceLog, Member, Subscription
from tests import helpers


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def state(email):
    db.session.expire_all()
    return db.session.scalar(select(Member).where(Member.email == email))


@pytest.fixture
def crowd():
    """A list, three members on it (one hard-bounced), two off it, one of those complaining."""
    club = helpers.make_list()
    ann = helpers.make_member("ann@example.org", "Ann", lists=[club])
    bob = helpers.make_member("bob@example.org", "Bob", lists=[club])
    hard = helpers.hard_member("gone@bigmail.example")
    db.session.add(Subscription(member_id=hard.id, list_id=club.id))
    cy = helpers.make_member("cy@example.org", "Cy")
    spam = helpers.make_member("spam@example.org", "Spam", active=False, deactivated_by="complaint")
    db.session.commit()
    return {"club": club, "ann": ann, "bob": bob, "hard": hard, "cy": cy, "spam": spam}


def bulk(staff, data, confirmed=True, htmx=False):
    data = dict(data, confirmed="yes") if confirmed else dict(data)
    return staff.htmx_post("/members/bulk", data) if htmx else staff.post_form("/members/bulk", data)


def test_ticked_members_are_asked_about_then_deactivated_with_one_audit_entry_each(login, crowd):
    staff = login("operator")
    ids = [str(crowd["ann"].id), str(crowd["bob"].id)]
    question = bulk(staff, {"action": "deactivate", "scope": "ticked", "ids": ids}, confirmed=False)
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "Deactivate 2 members?" in text and "stop receiving list mail" in text
    assert text.count('name="ids"') == 2 and 'name="confirmed" value="yes"' in text, "the confirmation carries the selection"
    assert state("ann@example.org").active, "nothing changes before it is confirmed"
    done = bulk(staff, {"action": "deactivate", "scope": "ticked", "ids": ids})
    assert done.status_code == 303
    assert not state("ann@example.org").active and state("ann@example.org").deactivated_by == "staff"
    assert not state("bob@example.org").active and state("cy@example.org").active
    assert count(AuditLog, AuditLog.action == "member.deactivate") == 2
    assert sorted(db.session.scalars(select(AuditLog.target).where(AuditLog.action == "member.deactivate"))) == \
        ["ann@example.org", "bob@example.org"]
    assert count(BounceLog, BounceLog.event == "staff", BounceLog.member_id == crowd["ann"].id) == 1, "the history says it"
    assert "Deactivated 2 members." in staff.get("/members/").get_data(as_text=True)


def test_all_matching_acts_on_exactly_what_the_filters_match(login, crowd):
    staff = login("operator")
    answer = bulk(staff, {"action": "unsubscribe", "scope": "all", "q": "example.org", "list": str(crowd["club"].id),
                          "to_list": str(crowd["club"].id)}, confirmed=False)
    assert f"Unsubscribe 2 members from {crowd['club'].address}?" in answer.get_data(as_text=True), \
        "ann and bob match the text and the list; gone@bigmail.example does not match the text"
    bulk(staff, {"action": "unsubscribe", "scope": "all", "q": "example.org", "list": str(crowd["club"].id),
                 "to_list": str(crowd["club"].id)})
    assert db.session.scalars(select(Subscription.member_id)).all() == [crowd["hard"].id]
    assert count(AuditLog, AuditLog.action == "list.unsubscribe") == 2


def test_activating_leaves_hard_bounced_members_inactive_and_says_so(login, crowd):
    staff = login("operator")
    data = {"action": "activate", "scope": "all", "active": "inactive"}
    text = bulk(staff, data, confirmed=False).get_data(as_text=True)
    assert "Activate 1 member?" in text and "1 hard-bounced member stays inactive" in text
    answer = bulk(staff, data, htmx=True)
    assert "Activated 1 member." in answer.get_data(as_text=True) and "Undo" not in answer.get_data(as_text=True)
    assert state("spam@example.org").active and state("spam@example.org").deactivated_by is None
    assert not state("gone@bigmail.example").active, "Postfix would not deliver to them: a reset is the way back"


def test_reset_says_what_ses_still_suppresses_and_clears_the_records(login, crowd):
    crowd["hard"].ses_suppressed = True
    db.session.commit()
    staff = login("operator")
    data = {"action": "reset", "scope": "ticked", "ids": [str(crowd["hard"].id), str(crowd["ann"].id)]}
    text = bulk(staff, data, confirmed=False).get_data(as_text=True)
    assert "Reset the bounce status of 1 member?" in text, "ann has nothing to reset"
    assert "suppression list" in text
    done = bulk(staff, data, htmx=True).get_data(as_text=True)
    assert "flash-error" in done and "suppression list" in done, "never a green success while SES drops their mail"
    gone = state("gone@bigmail.example")
    assert (gone.active, gone.bounce_status, gone.bounce_count) == (True, "clean", 0)
    reset = db.session.scalar(select(BounceLog).where(BounceLog.event == "reset"))
    assert reset.details.endswith("(bulk); it was hard, 2 bounces counted, inactive")
    assert db.session.scalar(select(AuditLog.details).where(AuditLog.action == "member.bounce_reset")) == \
        "status=hard count=2 active=False"


def test_delete_keeps_history_unlinked_and_removes_subscriptions(login, crowd):
    staff, hard_id = login("admin"), crowd["hard"].id
    bulk(staff, {"action": "delete", "scope": "all", "status": "hard"})
    assert state("gone@bigmail.example") is None
    assert count(Subscription, Subscription.member_id == hard_id) == 0
    assert count(BounceLog, BounceLog.email == "gone@bigmail.example") == 2
    assert count(BounceLog, BounceLog.email == "gone@bigmail.example", BounceLog.member_id.is_(None)) == 2
    assert count(AuditLog, AuditLog.action == "member.delete") == 1
    assert count(Member) == 4


def test_a_delete_larger_than_the_limit_is_refused_and_deletes_nothing(login, crowd, monkeypatch):
    monkeypatch.setattr("maillist.members.bulk.MAX_DELETE", 2)
    staff = login("admin")
    for confirmed in (False, True):
        answer = bulk(staff, {"action": "delete", "scope": "all"}, confirmed=confirmed, htmx=True)
        assert answer.status_code == 400 and "At most 2 members can be deleted at once (5 selected)" in answer.get_data(as_text=True)
    assert count(Member) == 5 and count(AuditLog) == 0
    bulk(staff, {"action": "delete", "scope": "all", "status": "hard"})
    assert count(Member) == 4, "a selection within the limit goes"


def test_subscribe_adds_only_those_not_on_the_list_and_undo_takes_exactly_them_off(login, crowd):
    staff = login("operator")
    club = str(crowd["club"].id)
    answer = bulk(staff, {"action": "subscribe", "scope": "all", "to_list": club}, htmx=True)
    text = answer.get_data(as_text=True)
    assert answer.headers["HX-Retarget"] == "#flashes" and "members-changed" in answer.headers["HX-Trigger"]
    assert f"Subscribed 2 members to {crowd['club'].address}." in text and "Undo" in text
    assert count(Subscription) == 5 and count(AuditLog, AuditLog.action == "list.subscribe") == 2
    # Undo as the button sends it: exactly the two just added come off, the three before stay.
    undo = {"action": "unsubscribe", "scope": "ticked", "ids": [str(crowd["cy"].id), str(crowd["spam"].id)],
            "to_list": club, "confirmed": "yes"}
    assert f'"ids": [{crowd["cy"].id}, {crowd["spam"].id}]' in text.replace("&#34;", '"')
    bulk(staff, undo, htmx=True)
    assert sorted(db.session.scalars(select(Subscription.member_id))) == sorted(
        [crowd["ann"].id, crowd["bob"].id, crowd["hard"].id])


def test_a_change_too_large_for_undo_says_so_before_and_after(login, crowd, monkeypatch):
    monkeypatch.setattr("maillist.members.bulk_views.MAX_TICKED", 2)
    staff = login("operator")
    asked = bulk(staff, {"action": "deactivate", "scope": "all"}, confirmed=False, htmx=True).get_data(as_text=True)
    assert "This change is final: there is no Undo for more than 2 members." in asked
    done = bulk(staff, {"action": "deactivate", "scope": "all"}, htmx=True).get_data(as_text=True)
    assert "Deactivated 3 members. There is no Undo for a change to more than 2 members." in done and "Undo</button>" not in done
    small = bulk(staff, {"action": "activate", "scope": "ticked", "ids": [str(crowd["ann"].id)]}, htmx=True)
    assert "There is no Undo" not in small.get_data(as_text=True), "activating never had an Undo to lose"


def test_without_javascript_the_confirmation_says_there_is_no_undo(login, crowd):
    asked = bulk(login("operator"), {"action": "deactivate", "scope": "ticked", "ids": [str(crowd["ann"].id)]},
                 confirmed=False).get_data(as_text=True)
    assert "the Undo button needs JavaScript" in asked


def test_htmx_gets_the_confirmation_as_a_dialog(login, crowd):
    answer = bulk(login("operator"), {"action": "delete", "scope": "ticked", "ids": [str(crowd["ann"].id)]},
                  confirmed=False, htmx=True)
    text = answer.get_data(as_text=True)
    assert text.lstrip().startswith("<dialog") and "Delete 1 member?" in text and 'hx-post="/members/bulk"' in text
    assert "<nav" not in text


def test_nothing_to_do_says_so_without_asking(login, crowd):
    answer = bulk(login("operator"), {"action": "deactivate", "scope": "ticked", "ids": [str(crowd["spam"].id)]},
                  confirmed=False, htmx=True)
    assert "Nothing to do" in answer.get_data(as_text=True) and count(AuditLog) == 0


@pytest.mark.parametrize("data, message", [
    ({"action": "deactivate", "scope": "ticked"}, "Tick the members"),
    ({"action": "explode", "scope": "all"}, "Choose what to do"),
    ({"action": "subscribe", "scope": "all"}, "Choose the list"),
    ({"action": "subscribe", "scope": "all", "to_list": "999999"}, "No such list"),
    ({"action": "subscribe", "scope": "all", "to_list": "9" * 40}, "whole number"),
    ({"action": "deactivate", "scope": "ticked", "ids": ["1 OR 1=1"]}, "member numbers"),
    ({"action": "deactivate", "scope": "ticked", "ids": ["-1"]}, "member numbers"),
    ({"action": "deactivate", "scope": "ticked", "ids": ["9" * 30]}, "member numbers"),
    ({"action": "deactivate", "scope": "ticked", "ids": ["１"]}, "member numbers"),
    ({"action": "deactivate", "scope": "ticked", "ids": [str(n) for n in range(1, MAX_TICKED + 2)]}, "At most"),
    ({"action": "deactivate", "scope": "all", "status": "<script>"}, "Unknown bounce status"),
])
def test_hostile_forms_are_refused_with_a_reason_and_change_nothing(login, crowd, data, message):
    for htmx in (False, True):
        answer = bulk(login("operator"), data, htmx=htmx)
        assert answer.status_code in (400, 404) and message in answer.get_data(as_text=True)
    assert count(AuditLog) == 0 and state("ann@example.org").active


def test_ids_of_members_that_no_longer_exist_are_ignored(login, crowd):
    staff = login("operator")
    bulk(staff, {"action": "deactivate", "scope": "ticked", "ids": [str(crowd["ann"].id), "987654", str(crowd["ann"].id)]})
    assert count(AuditLog) == 1 and not state("ann@example.org").active


def test_a_viewer_exports_the_selection_but_cannot_act(login, crowd):
    viewer = login("viewer")
    page = viewer.get("/members/").get_data(as_text=True)
    assert 'form="bulk-form"' in page and "Export selection" in page and 'name="action"' not in page
    answer = viewer.post_form("/members/export-selection.csv", {"scope": "ticked", "ids": [str(crowd["bob"].id), str(crowd["ann"].id)]})
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert answer.status_code == 200 and [row["email"] for row in rows] == ["ann@example.org", "bob@example.org"]
    matching = viewer.post_form("/members/export-selection.csv", {"scope": "all", "status": "hard"})
    assert [row["email"] for row in csv.DictReader(io.StringIO(matching.get_data(as_text=True)))] == ["gone@bigmail.example"]
    assert bulk(viewer, {"action": "deactivate", "scope": "all"}).status_code == 403
    assert count(AuditLog) == 0


def test_the_table_offers_the_bulk_bar_with_the_current_filters(login, crowd):
    page = login("operator").get("/members/?q=example&status=clean").get_data(as_text=True)
    assert '<form id="bulk-form"' in page and 'name="q" value="example"' in page and 'name="status" value="clean"' in page
    assert "all 4 matching" in page and 'aria-label="Select Ann"' in page and 'aria-label="Actions for Ann"' in page
