"""The `flask users|lists|members` commands, run through click against the real database."""

import json

from sqlalchemy import select

from maillist.extensions import db
from maillist.models import AuditLog, Member, User
from tests import helpers


def test_users_create_from_stdin_and_list(runner):
    result = runner.invoke(args=["users", "create", "Boss@Example.org", "--role", "admin", "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.role == "admin" and user.check_password("a long enough password")
    listing = runner.invoke(args=["users", "list"])
    assert "boss@example.org\tadmin\tactive\tlast login never" in listing.output


def test_users_create_prompts_for_password(runner):
    result = runner.invoke(args=["users", "create", "op@example.org", "--role", "operator"], input="pppppppppppp\npppppppppppp\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "op@example.org")) == "operator"


def test_users_create_refuses_duplicates_and_weak_passwords(runner):
    helpers.make_user("boss@example.org")
    duplicate = runner.invoke(args=["users", "create", "boss@example.org", "--password-stdin"], input="a long enough password\n")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    weak = runner.invoke(args=["users", "create", "new@example.org", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output


def test_users_set_password(runner):
    helpers.make_user("boss@example.org")
    result = runner.invoke(args=["users", "set-password", "boss@example.org", "--password-stdin"], input="brand new password\n")
    assert result.exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "boss@example.org")).check_password("brand new password")
    unknown = runner.invoke(args=["users", "set-password", "nobody@example.org", "--password-stdin"], input="brand new password\n")
    assert unknown.exit_code != 0 and "no user" in unknown.output


def test_ensure_admin_only_when_no_user_exists(runner):
    first = runner.invoke(args=["users", "ensure-admin", "--email", "admin@example.org"])
    assert "Created administrator admin@example.org with password: " in first.output
    password = first.output.strip().rsplit(" ", 1)[1]
    assert db.session.scalar(select(User).where(User.email == "admin@example.org")).check_password(password)
    second = runner.invoke(args=["users", "ensure-admin", "--email", "admin@example.org"])
    assert "exist already" in second.output


def test_lists_and_members_commands(runner):
    assert runner.invoke(args=["lists", "add", "Club@Example.org", "--name", "Club"]).exit_code == 0
    added = runner.invoke(args=["members", "add", "Ann@Example.org", "--name", "Ann", "--list", "club@example.org"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(args=["members", "add", "bob@example.org"]).exit_code == 0
    subscribed = runner.invoke(args=["lists", "subscribe", "club@example.org", "bob@example.org", "ANN@example.org"])
    assert subscribed.output.strip() == "Subscribed 1 member(s) to club@example.org"
    shown = runner.invoke(args=["members", "show", "ANN@example.org", "--json"])
    data = json.loads(shown.output)
    assert {k: data[k] for k in ("email", "active", "bounce_status", "bounce_count", "last_bounce_at", "lists")} == {
        "email": "ann@example.org", "active": True, "bounce_status": "clean", "bounce_count": 0,
        "last_bounce_at": None, "lists": ["club@example.org"],
    }
    assert isinstance(data["id"], int)
    listing = runner.invoke(args=["lists", "list"])
    assert "club@example.org\tClub\tactive\t2 subscribed, 2 active" in listing.output
    assert db.session.scalars(select(AuditLog.actor)).all() == ["cli"] * 4


def test_command_errors_are_one_line_and_non_zero(runner):
    helpers.make_member("ann@example.org")
    cases = [
        ["members", "add", "ann@example.org"],
        ["members", "add", "new@example.org", "--list", "nolist@example.org"],
        ["members", "add", "not-an-address"],
        ["members", "show", "nobody@example.org"],
        ["lists", "subscribe", "nolist@example.org", "ann@example.org"],
        ["lists", "add", "bad address", "--name", "X"],
    ]
    for args in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert db.session.scalar(select(Member).where(Member.email == "new@example.org")) is None


def test_subscribe_is_all_or_nothing(runner):
    runner.invoke(args=["lists", "add", "club@example.org", "--name", "Club"])
    helpers.make_member("ann@example.org")
    result = runner.invoke(args=["lists", "subscribe", "club@example.org", "ann@example.org", "ghost@example.org"])
    assert result.exit_code != 0 and "ghost@example.org" in result.output
    shown = json.loads(runner.invoke(args=["members", "show", "ann@example.org", "--json"]).output)
    assert shown["lists"] == []


def test_the_same_list_twice_is_one_subscription(runner):
    helpers.make_list("club@example.org")
    result = runner.invoke(args=["members", "add", "ann@example.org", "--list", "club@example.org", "--list", "CLUB@example.org"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    shown = runner.invoke(args=["members", "show", "ann@example.org", "--json"])
    assert json.loads(shown.output)["lists"] == ["club@example.org"]
