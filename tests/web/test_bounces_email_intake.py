"""Bounce emails: read for what they are, and applied only through a valid member token, to that member."""

import json

import pytest
from sqlalchemy import func, select

from maillist.bounce_addresses import bounce_address
from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from maillist.transports.email.dsn_parser import read_report
from maillist.transports.email.readings import BOUNCE, COMPLAINT, DELAY, NOT_A_BOUNCE
from tests import helpers

FIXTURES = helpers.ROOT / "tests" / "fixtures" / "dsn"
LIST = "club@lists.example.org"


def load(name):
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "name, kind, expected",
    [
        ("postfix-rfc3464-permanent.eml", BOUNCE, [("gone@example.net", "Permanent", "5.1.1")]),
        ("rfc3464-two-recipients-mixed.eml", BOUNCE, [("full@example.net", "Permanent", "5.2.2"), ("slow@example.net", None, "4.4.1"),
                                                      ("busy@example.net", "Transient", "4.2.2")]),
        ("exim-prose.eml", BOUNCE, [("nobody@example.net", "Permanent", "5.1.1")]),
        ("qmail-prose.eml", BOUNCE, [("olduser@example.net", "Permanent", None)]),
        ("exchange-style.eml", BOUNCE, [("left@example.net", "Permanent", "5.1.10")]),
        ("not-a-bounce.eml", NOT_A_BOUNCE, []),
        # Given up after temporary failures: "This is a permanent error" in the prose, but no dead address.
        ("qmail-gave-up-temporary.eml", BOUNCE, [("slow@example.net", "Transient", "4.3.0")]),
        ("exim-retry-timeout.eml", BOUNCE, [("busy@example.net", "Transient", None)]),
        # Servers flufl.bounce has no detector for.
        ("dma-prose.eml", BOUNCE, [("gone@example.net", "Permanent", "5.1.1")]),
        ("opensmtpd-prose.eml", BOUNCE, [("gone@example.net", "Permanent", "5.1.1")]),
        ("domino-prose.eml", BOUNCE, [("gone@example.net", "Permanent", None)]),
        ("notes-failure-reasons.eml", BOUNCE, [("kijitora@u1.example.co.jp", "Permanent", None)]),
    ],
)
def test_read_common_forms(name, kind, expected):
    reading = read_report(load(name))
    assert reading.kind == kind
    assert [(r.email, r.bounce_type, r.status) for r in reading.recipients] == expected


def test_a_multi_line_reply_in_a_dma_report_gives_its_status_and_reason():
    raw = load("dma-prose.eml").replace(b"remote delivery to [192.0.2.7] failed after DATA: 550 5.1.1 <gone@example.net>: "
                                        b"Recipient address rejected: User unknown in virtual mailbox table",
                                        b"mx.example.net [192.0.2.7] did not like our final DATA:\n550-5.7.26 Unauthenticated "
                                        b"email is not accepted due to\n550 5.7.26 the domain's DMARC policy")
    (entry,) = read_report(raw).recipients
    assert (entry.bounce_type, entry.status, entry.reason, entry.deactivates) == ("Permanent", "5.7.26", "authentication", False)


def test_notes_says_in_japanese_that_the_address_is_not_in_its_directory():
    (entry,) = read_report(load("notes-failure-reasons.eml")).recipients
    assert entry.reason == "no-such-user" and entry.deactivates


def test_a_persons_mail_in_a_servers_words_is_no_bounce():
    """The extra readers run only on a mail server's report: a member quoting one changes nothing."""
    raw = load("opensmtpd-prose.eml").replace(b"From: Mailer Daemon <MAILER-DAEMON@mx.example.net>", b"From: Ann <ann@example.org>")
    assert read_report(raw).kind == NOT_A_BOUNCE


def test_rfc3464_details():
    reading = read_report(load("postfix-rfc3464-permanent.eml"))
    (entry,) = reading.recipients
    assert entry.diagnostic.startswith("smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected")
    assert entry.action == "failed" and reading.occurred_at.isoformat() == "2026-11-27T10:15:02"


@pytest.fixture
def app_overrides():
    return {"ENABLE_EMAIL_BOUNCE_PROCESSING": True}


@pytest.fixture
def club(app):
    return helpers.make_list(LIST, "Club")


def run(runner, raw, recipient):
    return runner.invoke(args=["bounces", "process-dsn", "--recipient", recipient], input=raw)


def token_for(member):
    return bounce_address(LIST, member.id, member.email)


def test_a_report_through_the_members_token_applies_once(runner, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    first = run(runner, load("postfix-rfc3464-permanent.eml"), token_for(member))
    assert first.exit_code == 0 and first.output.startswith("applied bounce:Permanent:member"), first.output
    again = run(runner, load("postfix-rfc3464-permanent.eml"), token_for(member))
    assert again.exit_code == 0 and again.output.startswith("duplicate")
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("hard", False, 1)
    log = db.session.scalar(select(BounceLog))
    assert (log.status, log.bounce_subtype, log.email) == ("5.1.1", "DSN", "gone@example.net")
    assert log.report_key == f"dsn:{member.id}:<20261127101502.9A1B21A0C3@mx.example.net>"


@pytest.mark.parametrize("recipient", ["club-bounces@lists.example.org", "club-bounces+1.aaaaaaaaaaaaa@lists.example.org",
                                       "club-bounces+zz@lists.example.org", "club-bounces+@lists.example.org", "nonsense"])
def test_reports_without_a_valid_token_change_nothing(runner, club, recipient):
    """A stranger's hand-written DSN naming a member, to the bare address or with a forged token."""
    member = helpers.make_member("gone@example.net", lists=[club])
    result = run(runner, load("postfix-rfc3464-permanent.eml"), recipient)
    assert result.exit_code == 0 and result.output.startswith("no-member-token"), result.output
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("clean", True, 0)
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 0


def test_another_lists_token_does_not_transfer(runner, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    other = bounce_address("other@lists.example.org", member.id, member.email).replace("other-bounces", "club-bounces")
    assert run(runner, load("postfix-rfc3464-permanent.eml"), other).output.startswith("no-member-token")


def test_a_report_naming_others_bounces_only_the_tokens_member(runner, club):
    """The report names full@, slow@ and busy@; the token names ann: ann alone gets one bounce,
    of the report's most permanent kind (5.2.2 mailbox full: counted, not deactivating)."""
    ann = helpers.make_member("ann@example.org", lists=[club])
    others = [helpers.make_member(e, lists=[club]) for e in ("gone@example.net", "full@example.net", "busy@example.net")]
    result = run(runner, load("rfc3464-two-recipients-mixed.eml"), token_for(ann))
    assert result.output.startswith("applied bounce:Permanent:member"), result.output
    db.session.refresh(ann)
    assert (ann.bounce_status, ann.bounce_count, ann.active) == ("clean", 1, True)
    assert db.session.scalar(select(BounceLog.reason)) == "mailbox-full"
    for member in others:
        db.session.refresh(member)
        assert (member.bounce_status, member.bounce_count, member.active) == ("clean", 0, True)
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 1


def test_the_members_own_entry_decides_the_type(runner, club):
    busy = helpers.make_member("busy@example.net", lists=[club])
    run(runner, load("rfc3464-two-recipients-mixed.eml"), token_for(busy))
    db.session.refresh(busy)
    assert (busy.bounce_status, busy.active, busy.bounce_count) == ("clean", True, 1)
    assert db.session.scalar(select(BounceLog.bounce_type)) == "Transient"


def test_a_forwarded_address_still_bounces_the_subscriber(runner, club):
    """Final-Recipient is where the mail was forwarded; the token names the subscriber."""
    member = helpers.make_member("old@example.org", lists=[club])
    raw = load("postfix-rfc3464-permanent.eml").replace(b"Final-Recipient: rfc822; Gone@example.net\nOriginal-Recipient: rfc822;gone@example.net",
                                                         b"Final-Recipient: rfc822; new-home@example.com")
    assert run(runner, raw, token_for(member)).output.startswith("applied")
    db.session.refresh(member)
    assert member.bounce_status == "hard"
    assert db.session.scalar(select(BounceLog.email)) == "old@example.org"


def test_original_recipient_comes_before_final_recipient():
    raw = load("postfix-rfc3464-permanent.eml").replace(
        b"Final-Recipient: rfc822; Gone@example.net\nOriginal-Recipient: rfc822;gone@example.net",
        b"Final-Recipient: rfc822; forward-target@example.com\nOriginal-Recipient: rfc822; subscribed@example.org")
    assert [r.email for r in read_report(raw).recipients] == ["subscribed@example.org"]


VACATION = b"""From: Alice Example <alice@example.org>
To: club-bounces@lists.example.org
Subject: Out of office: Meeting on Friday
Auto-Submitted: auto-replied
Date: Fri, 27 Nov 2026 10:15:02 +0000
Message-ID: <vacation-1@example.org>

I am away until Monday. Please write to bob@example.org or ring 555 0100.
Mail to carol@example.org failed 550 5.1.1 last week, so do not use that.
"""


@pytest.mark.parametrize("headers", [b"", b"Precedence: bulk\n", b"X-Autoreply: yes\n"])
def test_auto_replies_change_nothing(runner, club, headers):
    alice = helpers.make_member("alice@example.org", lists=[club])
    bystanders = [helpers.make_member(e, lists=[club]) for e in ("bob@example.org", "carol@example.org")]
    raw = VACATION if not headers else VACATION.replace(b"Auto-Submitted: auto-replied\n", headers)
    result = run(runner, raw, token_for(alice))
    assert result.exit_code == 0 and result.output.startswith("auto-reply"), result.output
    for member in [alice, *bystanders]:
        db.session.refresh(member)
        assert (member.bounce_status, member.bounce_count, member.active) == ("clean", 0, True)


def test_delay_notices_change_nothing(runner, club):
    slow = helpers.make_member("slow@example.net", lists=[club])
    raw = load("rfc3464-two-recipients-mixed.eml")
    only_delay = raw.split(b"Final-Recipient: rfc822; full@example.net")[0] + b"Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.1\n\n--XYZ--\n"
    assert read_report(only_delay).kind == DELAY
    assert run(runner, only_delay, token_for(slow)).output.startswith("delay")
    db.session.refresh(slow)
    assert slow.bounce_count == 0


ARF = b"""From: feedback@mailbox.example
To: club-bounces@lists.example.org
Subject: Abuse report
Date: Fri, 27 Nov 2026 10:15:02 +0000
Message-ID: <arf-1@mailbox.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <someone-else@example.org>

--ARF--
"""


def test_feedback_reports_are_complaints_for_the_tokens_member(runner, club):
    member = helpers.make_member("ann@example.org", lists=[club])
    bystander = helpers.make_member("someone-else@example.org", lists=[club])
    assert read_report(ARF).kind == COMPLAINT
    result = run(runner, ARF, token_for(member))
    assert result.output.startswith("applied complaint:member"), result.output
    db.session.refresh(member)
    db.session.refresh(bystander)
    assert member.active is False and bystander.active is True
    log = db.session.scalar(select(BounceLog))
    assert (log.event, log.email, log.feedback_type, log.user_agent) == ("complaint", "ann@example.org", "abuse", "ExampleFBL/1.0")


@pytest.mark.parametrize("feedback_type", ["not-spam", "auth-failure", "other", "unknown-kind", "", None, "abuse\x00"])
def test_a_feedback_report_that_is_no_complaint_stops_no_mail(runner, club, feedback_type):
    """A leaked bounce address once let any ARF report (not-spam, unknown or no type) deactivate its member."""
    member = helpers.make_member("ann@example.org", lists=[club])
    if feedback_type is None:
        raw = ARF.replace(b"Feedback-Type: abuse\n", b"")
    else:
        raw = ARF.replace(b"Feedback-Type: abuse", f"Feedback-Type: {feedback_type}".encode())
    result = run(runner, raw, token_for(member))
    assert result.exit_code == 0 and "nothing to record" in result.output, result.output
    db.session.refresh(member)
    assert member.active is True and db.session.scalar(select(BounceLog)) is None


@pytest.mark.parametrize("feedback_type", ["abuse", "fraud", "virus", "ABUSE"])
def test_a_recipients_complaint_of_any_arf_kind_counts(runner, club, feedback_type):
    member = helpers.make_member("ann@example.org", lists=[club])
    result = run(runner, ARF.replace(b"Feedback-Type: abuse", f"Feedback-Type: {feedback_type}".encode()), token_for(member))
    assert result.output.startswith("applied complaint:member"), result.output
    db.session.refresh(member)
    assert member.active is False


def test_the_complaint_kinds_are_a_setting(runner, app, club):
    app.config["ARF_COMPLAINT_TYPES"] = frozenset({"abuse", "other"})
    member = helpers.make_member("ann@example.org", lists=[club])
    result = run(runner, ARF.replace(b"Feedback-Type: abuse", b"Feedback-Type: other"), token_for(member))
    assert result.output.startswith("applied complaint:member"), result.output


def test_an_opt_out_report_takes_the_member_off_that_list_only(runner, club):
    other = helpers.make_list("choir@lists.example.org", "Choir")
    member = helpers.make_member("ann@example.org", lists=[club, other])
    result = run(runner, ARF.replace(b"Feedback-Type: abuse", b"Feedback-Type: opt-out"), token_for(member))
    assert result.exit_code == 0 and result.output.startswith("opt-out"), result.output
    db.session.refresh(member)
    assert member.active is True and [s.list_id for s in member.subscriptions] == [other.id]
    assert db.session.scalar(select(BounceLog)) is None


def test_a_recipient_repeated_many_times_is_one_bounce(runner, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    raw = load("postfix-rfc3464-permanent.eml")
    head, _, tail = raw.partition(b"Final-Recipient: rfc822; Gone@example.net")
    group = b"Final-Recipient: rfc822; Gone@example.net" + tail.split(b"\n\n")[0] + b"\n\n"
    repeated = head + group * 11 + tail.split(b"\n\n", 1)[1]
    assert len(read_report(repeated).recipients) == 1
    run(runner, repeated, token_for(member))
    db.session.refresh(member)
    assert member.bounce_count == 1


def test_switched_off_and_not_a_bounce(runner, app, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    assert run(runner, load("not-a-bounce.eml"), token_for(member)).output.startswith("not-a-bounce")
    app.config["ENABLE_EMAIL_BOUNCE_PROCESSING"] = False
    off = run(runner, load("postfix-rfc3464-permanent.eml"), token_for(member))
    assert off.exit_code == 0 and off.output.startswith("ignored")
    db.session.refresh(member)
    assert member.bounce_status == "clean"
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 0


def test_storage_failure_exits_75_for_postfix_to_retry(runner, club):
    from sqlalchemy import text

    member = helpers.make_member("nobody@example.net", lists=[club])
    db.session.execute(text("ALTER TABLE bounce_log RENAME TO bounce_log_away"))
    db.session.commit()
    try:
        result = run(runner, load("exim-prose.eml"), token_for(member))
    finally:
        db.session.execute(text("ALTER TABLE bounce_log_away RENAME TO bounce_log"))
        db.session.commit()
    assert result.exit_code == 75 and result.output.startswith("storage-failed")
    assert run(runner, load("exim-prose.eml"), token_for(member)).output.startswith("applied")


def test_email_and_webhook_give_identical_member_states(runner, client, app, aws, club):
    app.config.update(ENABLE_SNS_WEBHOOKS=True, ENABLE_BOUNCE_HANDLING=True, SNS_TOPIC_ARNS=[helpers.TOPIC_ARN])
    by_email = [helpers.make_member("full@example.net"), helpers.make_member("busy@example.net")]
    for member in by_email:
        run(runner, load("rfc3464-two-recipients-mixed.eml"), token_for(member))
    by_sns = [helpers.make_member("full2@example.net"), helpers.make_member("busy2@example.net")]
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["full2@example.net"], bounce_type="Permanent", status="5.2.2")))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["busy2@example.net"], bounce_type="Transient")))
    state = lambda m: (db.session.refresh(m), (m.bounce_status, m.active, m.bounce_count))[1]  # noqa: E731
    # A full mailbox is no dead address, whichever way the bounce came: counted, not deactivated.
    assert [state(m) for m in by_email] == [state(m) for m in by_sns] == [("clean", True, 1), ("clean", True, 1)]


def test_dry_run_json_says_what_each_file_is(runner, tmp_path):
    vacation = tmp_path / "vacation.eml"
    vacation.write_bytes(VACATION)
    files = [str(FIXTURES / "rfc3464-two-recipients-mixed.eml"), str(vacation), str(tmp_path / "missing.eml")]
    result = runner.invoke(args=["bounces", "process-dsn", "--dry-run", "--json", *files])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["file"], line["kind"], line["error"] is None) for line in lines] == [
        (files[0], "bounce", True), (files[1], "auto-reply", True), (files[2], None, False)]
    assert lines[0]["recipients"][0] == {"email": "full@example.net", "bounce_type": "Permanent", "status": "5.2.2",
                                         "diagnostic": "smtp; 552 5.2.2 Mailbox full", "reason": "mailbox-full",
                                         "deactivates": False}
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 0


def test_bounce_address_command(runner, club):
    member = helpers.make_member("ann@example.org", lists=[club])
    result = runner.invoke(args=["members", "bounce-address", "ANN@example.org", "--list", LIST])
    assert result.exit_code == 0 and result.output.strip() == token_for(member)
    assert result.output.startswith("club-bounces+") and len(result.output.split("@")[0]) <= 64
    unknown = runner.invoke(args=["members", "bounce-address", "nobody@example.org", "--list", LIST])
    assert unknown.exit_code != 0 and "No member" in unknown.output


HOSTILE = {
    "unknown charset": b"From: MAILER-DAEMON@mx.example.net\nContent-Type: text/plain; charset=ansi_x3.110-1983\n\n\xe9 550 5.1.1 <ann@example.org>\n",
    "date in 9999 west of UTC": b"Date: 31 Dec 9999 23:59:59 -1200\nFrom: MAILER-DAEMON@mx.example.net\n\nx\n",
    "blank lines": b"Subject: x\n\n" + b"\n" * 1_000_000,
    "deep nesting": b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(2_000)),
    "empty": b"",
    "binary": bytes(range(256)) * 100,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_reports_are_answered_never_crash_never_retry(runner, club, name):
    member = helpers.make_member("ann@example.org", lists=[club])
    result = run(runner, HOSTILE[name], token_for(member))
    assert result.exit_code == 0, result.output


def test_an_over_long_action_is_cut_to_its_column_and_applied(runner, club):
    """An Action longer than its column once made MariaDB refuse the row and Postfix retry for days."""
    member = helpers.make_member("gone@example.net", lists=[club])
    raw = load("postfix-rfc3464-permanent.eml").replace(b"Action: failed", b"Action: failed " + b"x" * 300)
    result = run(runner, raw, token_for(member))
    assert result.exit_code == 0 and result.output.startswith("applied"), result.output
    assert len(db.session.scalar(select(BounceLog.action))) <= 50


@pytest.mark.parametrize("subject", [
    "Réponse automatique : Réunion", "=?utf-8?q?R=C3=A9ponse_automatique_=3A_R=C3=A9union?=", "Absent du bureau",
    "Automatische Antwort: Treffen", "Abwesenheitsnotiz", "Respuesta automática: Reunión", "Fuera de la oficina",
    "Risposta automatica: Riunione", "Fuori ufficio", "Automatisch antwoord: Vergadering", "Afwezig",
    "Resposta automática: Reunião", "Automatyczna odpowiedź: Spotkanie", "Automatiskt svar: Möte",
    "=?iso-2022-jp?b?GyRCPCtGMDF+RXobKEI=?=", "自動返信: 会議", "不在のお知らせ",
])
def test_auto_replies_in_many_languages_change_nothing(runner, club, subject):
    """A reply that quotes bounce prose ("Mail to carol@... failed 550 5.1.1") once deactivated its sender."""
    alice = helpers.make_member("alice@example.org", lists=[club])
    raw = VACATION.replace(b"Subject: Out of office: Meeting on Friday", f"Subject: {subject}".encode())
    raw = raw.replace(b"Auto-Submitted: auto-replied\n", b"")
    result = run(runner, raw, token_for(alice))
    assert result.exit_code == 0 and result.output.startswith("auto-reply"), result.output
    db.session.refresh(alice)
    assert (alice.bounce_status, alice.bounce_count, alice.active) == ("clean", 0, True)


@pytest.mark.parametrize("sender", [b"Club Postmaster <alice@example.org>", b"Mail Delivery Team <alice@example.org>"])
def test_a_persons_auto_reply_counts_as_one_whatever_their_display_name(runner, club, sender):
    alice = helpers.make_member("alice@example.org", lists=[club])
    raw = VACATION.replace(b"From: Alice Example <alice@example.org>", b"From: " + sender)
    result = run(runner, raw, token_for(alice))
    assert result.output.startswith("auto-reply"), result.output
    db.session.refresh(alice)
    assert alice.active is True and alice.bounce_count == 0


def test_a_flood_of_reports_for_one_member_is_cut_off(runner, app, club):
    """200 forged soft bounces in half a second once made 200 history rows for the token's member."""
    member = helpers.make_member("ann@example.org", lists=[club])
    other = helpers.make_member("bob@example.org", lists=[club])
    raw = load("postfix-rfc3464-permanent.eml").replace(b"Status: 5.1.1", b"Status: 4.2.2")
    outcomes = []
    for n in range(12):
        result = run(runner, raw.replace(b"Message-Id: <", f"Message-Id: <flood-{n}-".encode()), token_for(member))
        assert result.exit_code == 0
        outcomes.append(result.output.split(":")[0].split()[0])
    assert outcomes.count("rate-limited") == 7, outcomes
    assert db.session.scalar(select(func.count()).select_from(BounceLog).where(BounceLog.member_id == member.id)) == 5
    assert run(runner, raw, token_for(other)).output.startswith("applied"), "other members are not held back"
    app.config["EMAIL_REPORTS_PER_MINUTE"] = 0
    assert not run(runner, raw.replace(b"Message-Id: <", b"Message-Id: <unlimited-"), token_for(member)).output.startswith("rate-limited")


def test_a_hostile_report_through_the_whole_intake_is_bounded(runner, club):
    """The relay-refusal check once parsed the raw bytes again, outside the parser's bounds."""
    import time

    member = helpers.make_member("ann@example.org", lists=[club])
    raw = (b"From: MAILER-DAEMON@lists.example.org\nSubject: x\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
           b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; lists.example.org\n\n" + b"\n \n" * 85_000 + b"\n--B--\n")
    started = time.process_time()
    result = run(runner, raw, token_for(member))
    assert time.process_time() - started < 1.0 and result.exit_code == 0, result.output


def test_a_refusal_is_told_once_per_post_whatever_its_message_id_holds(app, club):
    from maillist.transports.email import relay_refusals

    app.config.update(NOTIFY_ADMIN="", POSTFIX_MYHOSTNAME="lists.example.org")
    first = relay_refusals.RelayRefusal("554 Message rejected", "<post-one-long@example.org>", "x")
    assert relay_refusals.report(club, first, app.config) is True
    assert relay_refusals.already_reported(club, first)
    wildcard = relay_refusals.RelayRefusal("554 Message rejected", "<post%@example.org>", "y")
    underscore = relay_refusals.RelayRefusal("554 Message rejected", "<post_one_long@example.org>", "z")
    assert not relay_refusals.already_reported(club, wildcard) and not relay_refusals.already_reported(club, underscore)


AWS_SAMPLES = helpers.SHARED / "aws-samples"


@pytest.mark.skipif(not AWS_SAMPLES.exists(), reason="AWS's documented examples are in ../shared, beside the checkout")
@pytest.mark.parametrize("sample", ["ses-notification-delivery.json", "ses-eventpublishing-delivery.json",
                                    "ses-eventpublishing-delivery-delay.json", "ses-notification-bounce-permanent-with-dsn.json",
                                    "ses-notification-complaint-with-feedback-report.json"])
def test_ses_notifications_mailed_by_an_sns_email_subscription_are_no_bounce(sample):
    """A topic with an email subscription mails the JSON itself: its addresses and status codes are
    about other mail (or the webhook's business), never a bounce of the address it came to."""
    raw = ("From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: club-bounces@lists.example.org\n"
           "Subject: AWS Notification Message\nContent-Type: text/plain; charset=UTF-8\n\n"
           + (AWS_SAMPLES / sample).read_text()).encode()
    assert read_report(raw).kind not in (BOUNCE, COMPLAINT)


EXIM_BODY = load("exim-prose.eml").split(b"\n\n", 1)[1]
PERSON = b"From: Alice Example <alice@example.org>\nTo: club-bounces@lists.example.org\nSubject: Re: Meeting on Friday\n\n"
ATTACHED_DSN = b"""From: Alice Example <alice@example.org>
To: club-bounces@lists.example.org
Subject: Re: Meeting on Friday
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

Thanks, see you there. Your post is attached.

--outer
Content-Type: message/rfc822

From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
Subject: Undelivered Mail
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="inner"

--inner
Content-Type: text/plain

Delivery failed.

--inner
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; alice@example.org
Action: failed
Status: 5.1.1

--inner--

--outer--
"""


@pytest.mark.parametrize("raw", [
    PERSON + b"Thanks.\n\n-----Original Message-----\n" + EXIM_BODY.replace(b"nobody@example.net", b"alice@example.org"),
    PERSON + b"Thanks.\n\nOn Friday the club wrote:\n" + b"".join(b"> " + line + b"\n" for line in EXIM_BODY.replace(
        b"nobody@example.net", b"alice@example.org").split(b"\n")),
    PERSON + b"See below, what a mess.\n\n" + EXIM_BODY,  # pasted, naming somebody else
    ATTACHED_DSN,
], ids=["quoted-original", "quoted-lines", "pasted-about-another", "attached-dsn"])
def test_bounce_words_in_what_a_person_quotes_or_attaches_change_nothing(runner, club, raw):
    """A forged list post full of a server's words, quoted or attached by a member's mail program,
    once read as a Permanent bounce of that member."""
    alice = helpers.make_member("alice@example.org", lists=[club])
    result = run(runner, raw, token_for(alice))
    assert result.exit_code == 0 and not result.output.startswith("applied"), result.output
    db.session.refresh(alice)
    assert (alice.bounce_status, alice.bounce_count, alice.active) == ("clean", 0, True)


def test_a_mail_server_passing_on_a_report_as_an_attachment_is_still_read(runner, club):
    alice = helpers.make_member("alice@example.org", lists=[club])
    raw = ATTACHED_DSN.replace(b"From: Alice Example <alice@example.org>", b"From: postmaster@relay.example.net")
    result = run(runner, raw, token_for(alice))
    assert result.output.startswith("applied bounce:Permanent"), result.output


@pytest.mark.parametrize("sender", [b"AWS Notifications <no-reply@sns.amazonaws.com>", b"relay@forwarder.example"])
def test_ses_json_naming_a_recipient_is_no_bounce_whoever_forwards_it(sender):
    raw = (b"From: " + sender + b"\nSubject: AWS Notification Message\n\n"
           b'{"notificationType":"Delivery","mail":{"destination":["ann@example.org"]},'
           b'"delivery":{"recipients":["ann@example.org"],"smtpResponse":"250 ok"}}\n')
    assert read_report(raw).kind == NOT_A_BOUNCE


@pytest.mark.parametrize("original_type, original", [
    ("message/rfc822", "From: Ann <ann@example.org>\nMessage-ID: <post-7@example.org>\nSubject: Meeting on Friday\n\n"
                       "Mail to carol@example.org failed 550 5.1.1 user unknown.\n"),
    ("text/rfc822-headers", "From: Ann <ann@example.org>\nMessage-ID: <post-7@example.org>\nSubject: Meeting on Friday\n"),
])
def test_a_relay_refusal_names_its_post_though_the_returned_original_is_unread(app, original_type, original):
    from maillist.transports.email import relay_refusals
    from maillist.transports.email.dsn_parser import parse_report

    app.config.update(POSTFIX_MYHOSTNAME="lists.example.org", SES_SMTP_HOST="email-smtp.eu-west-1.amazonaws.com")
    raw = ("From: MAILER-DAEMON@lists.example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
           "The relay refused it.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; lists.example.org\n\n"
           "Final-Recipient: rfc822; m1@example.net\nAction: failed\nStatus: 5.0.0\n"
           "Remote-MTA: dns; email-smtp.eu-west-1.amazonaws.com\nDiagnostic-Code: smtp; 554 Message rejected: Email address is not verified\n\n"
           f"--B\nContent-Type: {original_type}\n\n{original}\n--B--\n").encode()
    message = parse_report(raw)
    refusal = relay_refusals.read_refusal(message, app.config)
    assert (refusal.post_id, refusal.subject) == ("<post-7@example.org>", "Meeting on Friday")
    assert "carol" not in str([part.get_payload() for part in message.walk()])
