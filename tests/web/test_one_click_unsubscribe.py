"""RFC 8058 one-click unsubscribe: personal signed links on every copy, a POST without cookie or
CSRF token that takes that member off that list only, a GET that changes nothing, and tokens that
cannot be forged, moved to another member or list, or reused after a member id is."""

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.lists import unsubscribe as one_click
from maillist.models import AuditLog, Member, Subscription
from tests import helpers

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def app_overrides():
    return {"PUBLIC_URL": "https://lists.example.org"}


@pytest.fixture
def people(app):
    club = helpers.make_list("club@lists.example.org", "Club")
    choir = helpers.make_list("choir@lists.example.org", "Choir")
    ann = helpers.make_member("ann@example.org", lists=[club, choir])
    bob = helpers.make_member("bob@example.org", lists=[club])
    return club, choir, ann, bob


def subscribed(member, mailing_list):
    return db.session.scalar(select(Subscription.id).where(Subscription.member_id == member.id,
                                                           Subscription.list_id == mailing_list.id)) is not None


def url(mailing_list, member):
    return f"/unsubscribe/{one_click.token(mailing_list.id, member.id, member.email)}"


def test_the_personal_headers_name_the_member_and_list(people):
    club, _, ann, _ = people
    lines = one_click.personal_headers(club, ann.id, ann.email, "https://lists.example.org/").decode()
    value = one_click.token(club.id, ann.id, ann.email)
    assert lines == (f"List-Unsubscribe: <https://lists.example.org/unsubscribe/{value}>, "
                     f"<mailto:club-unsubscribe+{value}@lists.example.org>\r\n"
                     "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    assert "List-Unsubscribe-Post" not in one_click.personal_headers(club, ann.id, ann.email, "").decode()


def test_a_get_shows_a_button_and_changes_nothing(client, people):
    club, _, ann, _ = people
    for _ in range(3):  # a link scanner fetching the URL
        page = client.get(url(club, ann))
        assert page.status_code == 200 and b"ann@example.org" in page.data and b'value="One-Click"' in page.data
    assert subscribed(ann, club)


def test_a_one_click_post_without_cookie_or_token_unsubscribes_from_that_list_only(client, people):
    club, choir, ann, bob = people
    answer = client.post(url(club, ann), data=ONE_CLICK)
    assert answer.status_code == 200 and b"Unsubscribed" in answer.data
    assert not subscribed(ann, club) and subscribed(ann, choir) and subscribed(bob, club)
    again = client.post(url(club, ann), data=ONE_CLICK)
    assert again.status_code == 200, "idempotent"
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == one_click.AUDIT_ACTION)).all()
    assert [(e.target, e.details, e.actor) for e in entries] == [("club@lists.example.org", "ann@example.org via web", "member")]


def test_the_post_must_say_one_click(client, people):
    club, _, ann, _ = people
    for data in ({}, {"List-Unsubscribe": "one-click"}, {"List-Unsubscribe": "One-Click-Not"}):
        assert client.post(url(club, ann), data=data).status_code == 400
    assert subscribed(ann, club)


def test_tampered_and_foreign_tokens_change_nothing(client, people):
    club, choir, ann, bob = people
    good = one_click.token(club.id, ann.id, ann.email)
    list_part, member_part, mac = good.split(".")
    bob_part = one_click.base36(bob.id)
    choir_part = one_click.base36(choir.id)
    forged = [
        f"{list_part}.{bob_part}.{mac}",        # ann's MAC on bob
        f"{choir_part}.{member_part}.{mac}",    # club's MAC on choir
        f"{list_part}.{member_part}.{'a' * len(mac)}",
        f"{list_part}.{member_part}.{mac[:-1]}",
        f"{list_part}.{member_part}",
        "zzzzzzzzz.1.aaaaaaaaaaaaaaaa", "..", "%00", "1.1." + "a" * 5000, good.upper() + "x",
    ]
    for token in forged:
        assert client.post(f"/unsubscribe/{token}", data=ONE_CLICK).status_code in (400, 404), token
        assert client.get(f"/unsubscribe/{token}").status_code in (400, 404), token
    assert subscribed(ann, club) and subscribed(ann, choir) and subscribed(bob, club)


def test_a_token_does_not_survive_its_members_deletion(client, people):
    """SQLite may give a new member a deleted member's id: the old token must not unsubscribe them."""
    club, _, _, bob = people
    old = url(club, bob)
    bob_id = bob.id
    db.session.delete(bob)
    db.session.commit()
    newcomer = Member(id=bob_id, email="newcomer@example.org", name="")
    db.session.add(newcomer)
    db.session.add(Subscription(member_id=bob_id, list_id=club.id))
    db.session.commit()
    assert client.post(old, data=ONE_CLICK).status_code == 404
    assert subscribed(newcomer, club)


def test_the_mail_address_does_what_the_post_does(runner, people):
    club, choir, ann, _ = people
    address = one_click.unsubscribe_address(club.address, one_click.token(club.id, ann.id, ann.email))
    result = runner.invoke(args=["lists", "unsubscribe-mail", "--recipient", address], input=b"Subject: unsubscribe\n\n")
    assert result.exit_code == 0 and "unsubscribed from club@lists.example.org" in result.output
    assert not subscribed(ann, club) and subscribed(ann, choir)
    moved = address.replace("club-unsubscribe", "choir-unsubscribe")
    result = runner.invoke(args=["lists", "unsubscribe-mail", "--recipient", moved], input=b"")
    assert result.exit_code == 0 and "not unsubscribing" in result.output
    assert subscribed(ann, choir)


def test_the_dashboard_counts_one_click_unsubscribes(client, login, people):
    club, choir, ann, bob = people
    client.post(url(club, ann), data=ONE_CLICK)
    client.post(url(club, bob), data=ONE_CLICK)
    client.post(url(club, bob), data=ONE_CLICK)  # a repeat is not a second unsubscribe
    page = login("viewer").get("/bounces/").get_data(as_text=True)
    assert page.count("<dt>One-click unsubscribes</dt><dd>2</dd>") == 3  # 24 hours, 7 days, 30 days


def test_one_click_posts_at_once_unsubscribe_once(app, people):
    """A mail client's POST and the member's click may arrive together: one unsubscribes, none fails."""
    import threading

    club, choir, ann, _ = people
    path = url(club, ann)
    answers, start = [], threading.Barrier(6)

    def post():
        client = app.test_client()
        start.wait()
        with app.app_context():
            answers.append(client.post(path, data=ONE_CLICK).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * 6
    db.session.expire_all()
    assert not subscribed(ann, club) and subscribed(ann, choir)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == one_click.AUDIT_ACTION)) == 1
