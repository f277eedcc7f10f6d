"""Sessions end when they should; sign-in throttling stops guessing without locking the real user out."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from maillist.auth import services, throttle
from maillist.extensions import db
from maillist.models import LoginAttempt, User
from maillist.models.types import utcnow
from tests import helpers

PASSWORD = "a long enough password"


def sign_in(app, email, password=PASSWORD, address="198.51.100.7", **options):
    staff = helpers.staff_client(app)
    response = staff.post_form("/login", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}, **options)
    return staff, response


def copy_of(app, staff):
    """A second browser holding a copy of `staff`'s session cookie."""
    thief = helpers.staff_client(app)
    cookie = staff.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def signed_in(staff):
    return staff.get("/members/").status_code == 200


# Sessions ---------------------------------------------------------------------------------------

def test_a_copied_cookie_stops_working_at_sign_out(app):
    helpers.make_user("ann@example.org", "operator", PASSWORD)
    staff, _ = sign_in(app, "ann@example.org")
    thief = copy_of(app, staff)
    assert signed_in(thief)
    assert staff.post_form("/logout").status_code == 303
    assert not signed_in(thief) and not signed_in(staff)


def test_signing_in_starts_a_new_session(app):
    """A session cookie planted before sign-in (session fixation) carries nothing into the signed-in one:
    not the CSRF secret the planter knows, not the cookie value."""
    helpers.make_user("ann@example.org", "operator", PASSWORD)
    victim = helpers.staff_client(app)
    victim.csrf_token()  # the login page, as the planter fetched it: the session now holds a CSRF secret
    planted = victim.get_cookie("session").value
    with victim.session_transaction() as session:
        planted_secret = session["csrf_token"]
    assert victim.post_form("/login", {"email": "ann@example.org", "password": PASSWORD}).status_code == 303
    assert victim.get_cookie("session").value != planted
    with victim.session_transaction() as session:
        assert session.get("csrf_token") != planted_secret
    assert signed_in(victim)


def test_changing_ones_password_ends_other_sessions_but_not_this_one(app):
    helpers.make_user("ann@example.org", "operator", PASSWORD)
    here, _ = sign_in(app, "ann@example.org")
    elsewhere, _ = sign_in(app, "ann@example.org", address="198.51.100.8")
    changed = here.post_form("/account/password", {"current_password": PASSWORD, "new_password": "n" * 12, "confirm": "n" * 12})
    assert changed.status_code == 303
    assert signed_in(here) and not signed_in(elsewhere)


@pytest.mark.parametrize("action, data", [("password", {"password": "q" * 12}), ("role", {"role": "viewer"}), ("active", {"confirmed": "yes"})])
def test_an_admins_change_ends_the_users_sessions(app, login, action, data):
    user = helpers.make_user("ann@example.org", "operator", PASSWORD)
    staff, _ = sign_in(app, "ann@example.org")
    assert signed_in(staff)
    assert login("admin").post_form(f"/users/{user.id}/{action}", data).status_code == 303
    assert not signed_in(staff)


def test_sessions_end_after_the_idle_limit_and_the_absolute_lifetime(app):
    helpers.make_user("ann@example.org", "operator", PASSWORD)
    app.config.update(SESSION_IDLE_TIMEOUT=600, SESSION_MAX_AGE=3600)
    idle, _ = sign_in(app, "ann@example.org")
    with idle.session_transaction() as session:
        session["seen_at"] -= 601
    assert not signed_in(idle)
    old, _ = sign_in(app, "ann@example.org")
    with old.session_transaction() as session:
        session["signed_in_at"] -= 3601
        session["seen_at"] = int(time.time())
    assert not signed_in(old)
    fresh, _ = sign_in(app, "ann@example.org")
    with fresh.session_transaction() as session:
        session["seen_at"] -= 300
    assert signed_in(fresh)
    with fresh.session_transaction() as session:
        assert int(time.time()) - session["seen_at"] < 5  # activity moves the idle clock


def test_a_session_without_clocks_is_not_signed_in(app):
    helpers.make_user("ann@example.org", "operator", PASSWORD)
    staff, _ = sign_in(app, "ann@example.org")
    with staff.session_transaction() as session:
        del session["signed_in_at"]
    assert not signed_in(staff)


# Throttling -------------------------------------------------------------------------------------

def test_a_guesser_elsewhere_cannot_lock_the_real_user_out(app):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    for _ in range(6):
        _, response = sign_in(app, "boss@example.org", "wrong password!", address="203.0.113.9")
    assert response.status_code == 429
    _, real = sign_in(app, "boss@example.org", address="198.51.100.7")
    assert real.status_code == 303


def test_the_account_ceiling_stops_guessing_from_many_addresses(app):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    app.config.update(LOGIN_MAX_FAILURES_PER_ACCOUNT=8, LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS=100)
    answers = [sign_in(app, "boss@example.org", "wrong password!", address=f"203.0.113.{n}")[1].status_code for n in range(8)]
    assert answers == [401] * 8
    _, after = sign_in(app, "boss@example.org", address="198.51.100.7")
    assert after.status_code == 429


def test_the_owner_signs_in_from_their_usual_address_past_the_ceiling_and_back_off(app):
    """55 wrong passwords from 11 addresses once locked the real admin out for the window."""
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    assert sign_in(app, "boss@example.org", address="198.51.100.7")[1].status_code == 303  # the owner, last week
    for n in range(11):
        for _ in range(5):
            sign_in(app, "boss@example.org", "wrong password!", address=f"203.0.113.{n}")
    assert sign_in(app, "boss@example.org", "wrong password!", address="203.0.113.99")[1].status_code == 429
    assert sign_in(app, "boss@example.org", address="198.51.100.7")[1].status_code == 303
    # The usual address still has its own pair limit: guessing from it stops as before.
    answers = [sign_in(app, "boss@example.org", "wrong password!", address="198.51.100.7")[1].status_code for _ in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429] * 2


def test_known_addresses_are_forgotten_after_their_time(app):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    assert sign_in(app, "boss@example.org", address="198.51.100.7")[1].status_code == 303
    db.session.execute(update(LoginAttempt).where(LoginAttempt.scope == throttle.KNOWN)
                       .values(window_start=utcnow() - throttle.KNOWN_FOR - timedelta(days=1)))
    db.session.commit()
    app.config.update(LOGIN_MAX_FAILURES_PER_ACCOUNT=3, LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS=100)
    for n in range(3):
        sign_in(app, "boss@example.org", "wrong password!", address=f"203.0.113.{n}")
    assert sign_in(app, "boss@example.org", address="198.51.100.7")[1].status_code == 429
    assert db.session.scalar(select(LoginAttempt).where(LoginAttempt.scope == throttle.KNOWN)) is None


def test_beyond_the_pair_limit_account_attempts_back_off(app):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    app.config.update(LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS=2)
    answers = [sign_in(app, "boss@example.org", "wrong password!", address=f"203.0.113.{n}")[1].status_code for n in range(6)]
    # Attempts 1 to 4 (twice the pair limit) go ahead; attempt 5 needs 1 s since attempt 4, 6 needs 2 s.
    assert answers[:4] == [401] * 4 and 429 in answers[4:]


def test_back_off_doubles_and_is_capped():
    now = helpers.utc_at(2026, 12, 1).replace(tzinfo=None)
    from datetime import timedelta

    assert not throttle.backing_off(0, now - timedelta(seconds=0), now)
    assert throttle.backing_off(1, now - timedelta(milliseconds=500), now)
    assert not throttle.backing_off(1, now - timedelta(seconds=1), now)
    assert throttle.backing_off(4, now - timedelta(seconds=7), now) and not throttle.backing_off(4, now - timedelta(seconds=8), now)
    assert not throttle.backing_off(40, now - timedelta(seconds=throttle.MAX_BACKOFF), now)


def test_unknown_accounts_cost_a_password_check_too(app, monkeypatch):
    checked = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda stored, password: checked.append(stored) or real(stored, password))
    _, response = sign_in(app, "nobody@example.org", "some password")
    assert response.status_code == 401 and checked == [services.dummy_hash()]


def test_parallel_guesses_never_exceed_the_limit(app, monkeypatch):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    checks, lock = [], threading.Lock()
    real = User.check_password

    def counted(self, password):
        with lock:
            checks.append(password)
        time.sleep(0.02)  # widen the window between the count and the check
        return real(self, password)

    monkeypatch.setattr(User, "check_password", counted)
    clients = [helpers.staff_client(app) for _ in range(12)]
    for staff in clients:
        staff.csrf_token()
    barrier = threading.Barrier(12)
    statuses = []

    errors = []

    def guess(staff):
        barrier.wait()
        try:
            response = staff.post_form("/login", {"email": "boss@example.org", "password": "wrong password!"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(repr(error))
            return
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(staff,)) for staff in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(checks) <= 5
    assert sorted(statuses) == [401] * len(checks) + [429] * (12 - len(checks))


@pytest.mark.parametrize("app_overrides", [{"PROXY_FIX_HOPS": 1}])
def test_behind_a_proxy_the_trusted_forwarded_address_is_the_client(app, app_overrides):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    for _ in range(5):
        sign_in(app, "boss@example.org", "wrong password!", address="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.9"})
    _, guesser = sign_in(app, "boss@example.org", address="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.9"})
    _, real = sign_in(app, "boss@example.org", address="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.7"})
    assert (guesser.status_code, real.status_code) == (429, 303)


def test_a_forged_forwarded_header_is_ignored_without_a_proxy(app):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    for number in range(5):
        sign_in(app, "boss@example.org", "wrong password!", address="203.0.113.9", headers={"X-Forwarded-For": f"10.0.0.{number}"})
    _, response = sign_in(app, "boss@example.org", address="203.0.113.9", headers={"X-Forwarded-For": "10.0.0.99"})
    assert response.status_code == 429
