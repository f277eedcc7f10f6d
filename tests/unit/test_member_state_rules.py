"""The rules of a member's mail state, as plain functions: what each change decides, and why in words."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillist import member_state
from maillist.member_state import Rules, State

NOW = datetime(2026, 6, 1, 12, 0)
DEAD, NOT_DEAD = True, False


def member(**values):
    return State(id=7, email="ann@example.org", **values)


def test_a_dead_address_makes_the_member_hard_and_inactive_and_says_so():
    decision = member_state.bounce(member(bounce_count=1), "Permanent", DEAD, NOW, Rules())
    assert decision.changes == {"active": False, "bounce_status": "hard", "bounce_count": 2, "last_bounce_at": NOW,
                                "deactivated_by": "hard-bounce"}
    assert decision.why == "the address is dead: marked hard and deactivated"
    assert decision.deactivated_dead_address


def test_a_permanent_refusal_that_is_not_a_dead_address_counts_like_a_transient_one():
    decision = member_state.bounce(member(bounce_count=2), "Permanent", NOT_DEAD, NOW, Rules(), reason_label="blocked")
    assert decision.after.bounce_status == "soft" and decision.after.active
    assert decision.notes == ("blocked: not a dead address, so counted like a transient bounce", "3 bounces: marked soft")


def test_type_policy_deactivates_on_any_permanent_bounce():
    decision = member_state.bounce(member(), "Permanent", NOT_DEAD, NOW, Rules(hard_bounce_policy="type"))
    assert (decision.after.bounce_status, decision.after.active) == ("hard", False)


def test_soft_action_deactivate_stops_mail_once_and_keeps_who_stopped_it_first():
    rules = Rules(threshold=2, soft_deactivates=True)
    first = member_state.bounce(member(bounce_count=1), "Transient", NOT_DEAD, NOW, rules)
    assert first.changes["deactivated_by"] == "soft-bounce"
    assert first.why == "2 bounces: marked soft and deactivated (SOFT_BOUNCE_ACTION=deactivate)"
    by_staff = member(bounce_count=1, active=False, deactivated_by="staff")
    assert member_state.bounce(by_staff, "Transient", NOT_DEAD, NOW, rules).after.deactivated_by == "staff"


def test_a_stale_count_starts_again_and_a_stale_soft_member_starts_from_clean():
    old = member(bounce_status="soft", bounce_count=5, last_bounce_at=NOW - timedelta(days=40))
    decision = member_state.bounce(old, "Transient", NOT_DEAD, NOW, Rules(soft_window_days=30))
    assert (decision.after.bounce_status, decision.after.bounce_count) == ("clean", 1)
    assert decision.why == "the last bounce was more than 30 days earlier, so counting starts again"


def test_an_undetermined_bounce_counts_but_never_changes_the_status():
    decision = member_state.bounce(member(bounce_count=9), "Undetermined", NOT_DEAD, NOW, Rules())
    assert (decision.after.bounce_status, decision.after.bounce_count, decision.why) == ("clean", 10, None)


def test_a_late_bounce_never_moves_the_last_bounce_back_and_suppression_sticks():
    later = member(last_bounce_at=NOW, ses_suppressed=True)
    decision = member_state.bounce(later, "Transient", NOT_DEAD, NOW - timedelta(hours=1), Rules())
    assert decision.after.last_bounce_at == NOW and decision.after.ses_suppressed


def test_staff_cannot_activate_a_hard_bounced_member_but_reset_can():
    hard = member(bounce_status="hard", active=False, deactivated_by="hard-bounce", bounce_count=2)
    with pytest.raises(member_state.HardBounced, match="Reset Bounce Status"):
        member_state.staff_active(hard, True, "op@example.org")
    decision = member_state.reset(hard, "op@example.org")
    assert decision.changes == {"active": True, "bounce_status": "clean", "bounce_count": 0, "deactivated_by": None}
    assert decision.why == "reset by op@example.org; it was hard, 2 bounces counted, inactive"


def test_a_complaint_stops_mail_unless_complaint_action_says_otherwise():
    assert member_state.complaint(member(), Rules()).changes == {"active": False, "deactivated_by": "complaint"}
    assert not member_state.complaint(member(), Rules(deactivate_on_complaint=False)).changed


def test_storm_undo_leaves_a_member_staff_changed_since():
    hard = member(bounce_status="hard", active=False, deactivated_by="hard-bounce")
    assert member_state.storm_undone(hard, "soft").changes == {"active": True, "bounce_status": "soft", "deactivated_by": None}
    assert not member_state.storm_undone(member(bounce_status="hard"), "soft").changed  # staff reactivated meanwhile
    assert member_state.storm_redone(member()).changes == {"active": False, "bounce_status": "hard",
                                                           "deactivated_by": "hard-bounce"}


def test_soft_expiry_only_for_a_soft_member_quiet_since_the_cutoff():
    quiet = member(bounce_status="soft", bounce_count=3, last_bounce_at=NOW - timedelta(days=31), active=False)
    decision = member_state.soft_expired(quiet, NOW - timedelta(days=30), 30)
    assert decision.changes == {"bounce_status": "clean", "bounce_count": 0}
    assert "3 counted before" in decision.why
    recent = member(bounce_status="soft", bounce_count=3, last_bounce_at=NOW - timedelta(days=1))
    assert not member_state.soft_expired(recent, NOW - timedelta(days=30), 30).changed


states = st.builds(State, id=st.just(1), email=st.just("a@b.org"), active=st.booleans(),
                   bounce_status=st.sampled_from(["clean", "soft", "hard"]), bounce_count=st.integers(0, 50),
                   last_bounce_at=st.none() | st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)),
                   deactivated_by=st.sampled_from([None, "staff", "complaint", "hard-bounce", "soft-bounce"]),
                   ses_suppressed=st.booleans())
rules = st.builds(Rules, threshold=st.integers(1, 10), soft_window_days=st.integers(0, 60), soft_deactivates=st.booleans(),
                  hard_bounce_policy=st.sampled_from(["reason", "type"]))


@given(states, st.sampled_from(["Permanent", "Transient", "Undetermined"]), st.booleans(),
       st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)), rules)
def test_every_bounce_counts_never_revives_and_never_downgrades_hard(state, bounce_type, dead, occurred_at, rules):
    after = member_state.bounce(state, bounce_type, dead, occurred_at, rules).after
    assert after.bounce_count >= 1 and after.last_bounce_at >= occurred_at
    assert after.active <= state.active  # a bounce never starts mail
    assert state.bounce_status != "hard" or after.bounce_status == "hard"
    assert not (state.active and not after.active) or after.deactivated_by in ("hard-bounce", "soft-bounce")
