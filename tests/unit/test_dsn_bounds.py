"""Reading a bounce email takes bounded work, whatever its body: anyone holding one member's bounce
address (it is in every copy's Return-Path) can send one, so nothing in it may tie up the mail host."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillist.transports.email.dsn_parser import read_report
from maillist.transports.email.report_parts import MAX_REPORT_BYTES

CPU_LIMIT = 1.0  # seconds of CPU for one report, at the largest size read
HEAD = b"From: MAILER-DAEMON@mx.example\nTo: club-bounces+1.abc@lists.example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"


def status_report(status_body):
    return (HEAD + b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
            b"--B\nContent-Type: text/plain\n\nfailed\n\n--B\nContent-Type: message/delivery-status\n\n"
            + status_body + b"\n--B--\n")


def cpu_seconds(raw):
    started = time.process_time()
    read_report(raw)
    return time.process_time() - started


def test_a_status_part_of_blank_blocks():
    """250 KB of "\\n \\n" blocks once took 128 s in `flask bounces process-dsn`."""
    assert cpu_seconds(status_report(b"\n \n" * (MAX_REPORT_BYTES // 3))) < CPU_LIMIT


def test_an_exchange_style_body_with_one_long_line():
    """flufl.bounce's Exchange pattern took minutes on one 250 KB line after its trigger phrase."""
    raw = HEAD + b"\nYour message did not reach the following recipient(s):\n" + b"a" * MAX_REPORT_BYTES + b"\n"
    assert cpu_seconds(raw) < CPU_LIMIT


def test_many_parts_and_deep_nesting():
    many = HEAD + b"Content-Type: multipart/mixed; boundary=B\n\n" + b"--B\nContent-Type: text/plain\n\nno such user a@b.example\n\n" * 5000
    nested = HEAD + b"Content-Type: multipart/mixed; boundary=B0\n\n" + b"".join(
        f"--B{i}\nContent-Type: multipart/mixed; boundary=B{i + 1}\n\n".encode() for i in range(500))
    assert cpu_seconds(many) < CPU_LIMIT and cpu_seconds(nested) < CPU_LIMIT


def test_short_lines_long_words_and_empty_parts_by_the_thousand():
    """Patterns the generator found: 64 KB of one-character lines (flufl.bounce's SimpleMatch tries
    every pattern on each), long runs without spaces in many status groups (its Exchange pattern
    is quadratic on each), and tens of thousands of blocks or empty parts (the email parser)."""
    exchange = (b"did not reach the following recipient(s):\nFinal-Recipient: rfc822; x@y.example\nAction: failed\n"
                b"Status: 5.1.1\n\n" + b"a" * 997 + b"550 5.1.1 user unknown\n\t")
    for unit, as_status in ((b"\n \n=\n", False), (b"\n \n=\n", True), (exchange, True), (b"\t--B\n--B\n", True),
                            (b"=\n\n", True)):
        body = unit * (MAX_REPORT_BYTES // len(unit) + 1)
        assert cpu_seconds(status_report(body) if as_status else HEAD + b"\n" + body) < CPU_LIMIT, unit[:20]


PIECES = st.sampled_from([b"\n", b" \n", b"\n \n", b"a" * 997, b"a@b on ", b"did not reach the following recipient(s):\n",
                          b"<x@y.example>: ", b"550 5.1.1 user unknown\n", b"--B\n", b"Content-Type: text/plain\n\n",
                          b"Final-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n\n", b"=\n", b"\t", b"\xff\xfe"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pieces=st.lists(PIECES, min_size=1, max_size=8), status=st.booleans())
def test_generated_hostile_bodies_stay_within_the_bound(pieces, status):
    """Repeating a hostile pattern up to the size read, as a status part or as prose."""
    unit = b"".join(pieces)
    body = unit * (MAX_REPORT_BYTES // len(unit) + 1)
    raw = status_report(body) if status else HEAD + b"\n" + body
    assert cpu_seconds(raw) < CPU_LIMIT


def test_status_fields_written_into_the_text():
    """A mail server's text with RFC 3464 fields in it is read group by group: 1 MB of groups stays bounded."""
    raw = HEAD + b"\n" + b"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n\n" * 15_000
    assert cpu_seconds(raw) < CPU_LIMIT


def test_the_fixed_sentence_forms_on_long_runs():
    """The fixed-sentence forms (au/ezweb's, Verizon's, Sendmail-style text without a status part)
    read on a body of long lines and many near-matches stay bounded."""
    body = (b"The user(s) account is disabled.\n" + b"x" * 5000 + b"\n\n<" + b"a" * 300 + b"@example.org>\n"
            + b"Error message below:\n" + b"y" * 5000 + b"\nRCPT TO: " + b"b" * 300 + b"\n"
            + b"had permanent fatal errors\n>>> " + b"c" * 300 + b"@x " + b"z" * 5000 + b"\n"
            + b"  Recipient: <" + b"d" * 300 + b"@x>\n    >>> " + b"w" * 5000 + b"\n") * 40
    assert cpu_seconds(HEAD + b"\n" + body) < CPU_LIMIT
