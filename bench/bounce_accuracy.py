"""Bounce-email reading measured on real bounces no one here wrote: the corpus flufl.bounce ships for its tests.

Downloads the flufl.bounce source distribution (pip download, the version requirements.txt pins),
reads the expected results from its own test table (tests/test_detectors.py: file, addresses,
temporary or not), and compares, file by file:

- flufl.bounce alone (`all_failures`), and
- maillist's reader (`maillist.transports.email.dsn_parser.read_report`), which adds RFC 3464 field
  reading, auto-reply and feedback-report recognition and the 4.x.x-is-never-Permanent rule, and
- Sisimai (Debian's `libsisimai-perl`, read through bench/sisimai_read.pl), where it is installed:
  the most complete bounce classifier there is, with a reason for each recipient.

Then it measures the reasons (maillist.bounce_reasons) against bench/data/flufl_bounce_reasons.csv:
each permanent failure in that corpus read by a person and labelled `dead` (the address is gone:
no such user or domain, account disabled), `refused` (anything else: mailbox full, loop, relay
denied, timeout, moderation) or `unclear` (the report gives no reason; left out). It counts the
dead addresses the engine would deactivate and the refusals it would keep active.

Then it times the reader on hostile inputs (each must take well under a second):

    .venv/bin/python bench/bounce_accuracy.py [--verbose]
"""

import ast
import csv
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flufl.bounce import all_failures  # noqa: E402

from bench.machine import describe  # noqa: E402
from maillist.transports.email.dsn_parser import read_report  # noqa: E402
from maillist.transports.email.prose import GAVE_UP  # noqa: E402
from maillist.transports.email.readings import BOUNCE, DELAY  # noqa: E402
from maillist.vocabulary import PERMANENT  # noqa: E402


def pinned_version():
    match = re.search(r"^flufl\.bounce==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    return match.group(1)


def corpus(workdir):
    """(data folder, [(file name, expected addresses, temporary?)]) from flufl.bounce's sdist."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "-d", str(workdir), f"flufl.bounce=={pinned_version()}"], check=True)
    archive = next(Path(workdir).glob("flufl*bounce-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    source = next(Path(workdir).glob("flufl*bounce-*/"))
    tree = ast.parse((source / "tests" / "test_detectors.py").read_text())
    table = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "DETECTORS")
    rows = [(name, {a.decode() for a in addresses}, temporary) for _, name, addresses, temporary in ast.literal_eval(table)]
    return source / "tests" / "data", rows


# Sisimai's reasons that say the address itself is gone (deactivate), as HARD_BOUNCE_POLICY=reason means it.
SISIMAI_DEAD = {"userunknown", "hostunknown", "hasmoved", "suspend", "notaccept"}
# What Sisimai reports that is no failure of the recipient.
SISIMAI_NOT_FAILED = {"delivered", "vacation", "feedback"}


def sisimai_available():
    return shutil.which("perl") and subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True).returncode == 0


def sisimai_results(paths):
    """{path: [entry]} from bench/sisimai_read.pl, or None where Sisimai is not installed."""
    if not sisimai_available():
        return None
    done = subprocess.run(["perl", str(ROOT / "bench" / "sisimai_read.pl"), *map(str, paths)], capture_output=True, check=True)
    return {Path(name): entries for name, entries in json.loads(done.stdout).items()}


def sisimai_reader(results):
    """A reader over Sisimai's results: a 4.x.x status or a delay is temporary, the rest permanent
    (Sisimai's own `softbounce` says whether its reason might pass, not whether the server gave up)."""

    def read(path, temporary):
        failed = [e for e in results.get(path, []) if e["reason"] not in SISIMAI_NOT_FAILED]
        soft = {e["recipient"] for e in failed if (e["status"] or "").startswith("4") or e["action"] == "delayed"}
        permanent = {e["recipient"] for e in failed} - soft
        return (soft if temporary else permanent), permanent

    return read


def sisimai_reason(results):
    def reason_of(path, address):
        entry = next((e for e in results.get(path, []) if e["recipient"] == address.lower()), None)
        if entry is None:
            return "not found", False
        return entry["reason"], entry["reason"] in SISIMAI_DEAD

    return reason_of


def maillist_reason(path, address):
    found = {r.email: r for r in read_report(path.read_bytes()).recipients}
    recipient = found.get(address.lower())
    return (recipient.reason if recipient else "not found"), bool(recipient and recipient.deactivates)


def flufl_alone(path, temporary):
    message = message_from_bytes(path.read_bytes(), policy=policy.compat32)
    temp, perm = all_failures(message)
    found = temp if temporary else perm
    return {a.decode().lower() for a in found}, {a.decode().lower() for a in perm}


def maillist_reader(path, temporary):
    """Failed addresses of the asked kind, and those classed Permanent. A delay notice's delayed
    recipients count as temporary failures found (maillist records no bounce for a delay)."""
    reading = read_report(path.read_bytes())
    if reading.kind == DELAY:
        return ({r.email for r in reading.recipients if r.action == "delayed"} if temporary else set()), set()
    if reading.kind != BOUNCE:
        return set(), set()
    failed = {r.email for r in reading.recipients if r.bounce_type and (r.bounce_type != PERMANENT) == temporary}
    permanent = {r.email for r in reading.recipients if r.bounce_type == PERMANENT}
    return failed, permanent


def reason_accuracy(data, reason_of):
    """{truth: [(file, address, reason, deactivates)]} for every labelled recipient."""
    results = {}
    with open(ROOT / "bench" / "data" / "flufl_bounce_reasons.csv", newline="") as labels:
        for row in csv.DictReader(labels):
            reason, deactivates = reason_of(data / row["file"], row["address"])
            results.setdefault(row["truth"], []).append((row["file"], row["address"], reason, deactivates))
    return results


def print_reason_accuracy(label, data, reason_of, verbose):
    results = reason_accuracy(data, reason_of)
    dead, refused = results.get("dead", []), results.get("refused", [])
    recognised = sum(1 for *_, deactivates in dead if deactivates)
    kept = sum(1 for *_, deactivates in refused if not deactivates)
    print(f"reasons, {label}: dead addresses recognised as dead {recognised}/{len(dead)} ({recognised / len(dead):.1%}); "
          f"other refusals kept from deactivation {kept}/{len(refused)} ({kept / len(refused):.1%}); "
          f"{len(results.get('unclear', []))} without a stated reason left out")
    if verbose:
        for truth, rows in sorted(results.items()):
            for name, address, reason, deactivates in rows:
                wrong = (truth == "dead") != deactivates and truth != "unclear"
                print(f"  {'MISS ' if wrong else '     '}{truth:8} {name:18} {address:34} {reason:16} {'deactivates' if deactivates else ''}")


def four_xx(raw):
    """Whether the report gives a 4.x.x status or says the server gave up after retrying (maillist
    classes those Transient by rule: a server that gave up is no proof the address is dead)."""
    return bool(re.search(rb"(?im)^Status:\s*4\.|\(#4\.\d|\b4\.4\.\d\b", raw) or GAVE_UP.search(raw.decode("latin-1")))


def score(reader, data, rows):
    exact = permanent_found = permanent_total = temporary_as_permanent = crashes = 0
    four_xx_permanent = temporary_found = temporary_total = 0
    for name, expected, temporary in rows:
        expected = {a.lower() for a in expected}
        try:
            found, permanent = reader(data / name, temporary)
        except Exception:  # noqa: BLE001 - a benchmark counts crashes rather than stopping at one
            crashes += 1
            continue
        exact += found == expected
        if not temporary and four_xx((data / name).read_bytes()):
            four_xx_permanent += len(expected)
        elif not temporary:
            permanent_total += len(expected)
            permanent_found += len(expected & permanent)
        else:
            temporary_as_permanent += len(expected & permanent)
            temporary_total += len(expected)
            temporary_found += len(expected & found)
    return (exact, permanent_found, permanent_total, temporary_as_permanent, crashes, four_xx_permanent,
            temporary_found, temporary_total)


# Mail that comes to a bounce address and is no bounce: none of it may be read as one.
FIXTURES = ROOT / "tests" / "fixtures" / "dsn"
NOT_BOUNCES = {
    "an ordinary reply (fixture)": (FIXTURES / "not-a-bounce.eml").read_bytes(),
    "RFC 3464 delivered and relayed": b"From: MAILER-DAEMON@mx.example.net\nSubject: Successful Mail Delivery Report\n"
    b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
    b"Content-Type: text/plain\n\nYour message was delivered to ann@example.org.\n\n--B\nContent-Type: message/delivery-status\n\n"
    b"Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; ann@example.org\nAction: delivered\nStatus: 2.0.0\n\n"
    b"Final-Recipient: rfc822; bob@example.org\nAction: relayed\nStatus: 2.0.0\n\n--B--\n",
    "ARF abuse report": b"From: feedback@isp.example\nSubject: Abuse report\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
    b"This is an email abuse report.\n\n--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
    b"User-Agent: ISP-FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: ann@example.org\n\n--B--\n",
    "out-of-office quoting bounce words": b"From: Ann <ann@example.org>\nSubject: Automatische Antwort: Meeting\n\n"
    b"Ich bin nicht im Buero. Mail to carol@example.org failed 550 5.1.1 user unknown.\n",
    "SNS email subscription, SES delivery": b"From: AWS Notifications <no-reply@sns.amazonaws.com>\nSubject: AWS Notification Message\n\n"
    b'{"notificationType":"Delivery","mail":{"destination":["ann@example.org"]},"delivery":{"recipients":["ann@example.org"],'
    b'"smtpResponse":"250 ok"}}\n',
}


def flagged_as_bounce(label, raw):
    """Whether a reader takes a no-bounce message for a bounce."""
    if label == "flufl.bounce alone":
        temporary, permanent = all_failures(message_from_bytes(raw, policy=policy.compat32))
        return bool(temporary or permanent)
    return read_report(raw).kind == BOUNCE


HOSTILE = {
    "1 MB of blank lines": b"Subject: x\n\n" + b"\n" * 1_000_000,
    "1 MB of one address repeated": b"Subject: x\n\n" + b"<a@example.org>: 550 5.1.1 " * 40_000,
    "10,000 recipient groups": b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: message/delivery-status\n\n"
    + b"".join(b"Final-Recipient: rfc822; u%d@example.org\nAction: failed\nStatus: 5.1.1\n\n" % i for i in range(10_000)) + b"--B--\n",
    "unknown charset": b"Content-Type: text/plain; charset=ansi_x3.110-1983\nSubject: x\n\n\xe9\xe8 550 5.1.1 <a@example.org>\n",
    "deeply nested multiparts": b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(2_000)) + b"x\n",
    "date in year 9999 west of UTC": b"Date: 31 Dec 9999 23:59:59 -1200\nSubject: x\n\nx\n",
    "a 1 MB header line": b"Subject: " + b"x" * 1_000_000 + b"\n\nbody\n",
    # The two worst cases found by attack: a status part of 250 KB of "\n \n" blocks, and an
    # Exchange-style report whose recipient line is 250 KB of one letter.
    "250 KB of blank status blocks": b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
    b"Content-Type: message/delivery-status\n\n" + b"\n \n" * 85_000 + b"\n--B--\n",
    "RFC 3464 fields in the text, 1 MB": b"From: MAILER-DAEMON@x.example\nSubject: failure\n\n"
    + b"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n\n" * 15_000,
    "Exchange-style 250 KB line": b"From: postmaster@x.example\nSubject: Undeliverable\n\n"
    b"Your message did not reach the following recipient(s):\n" + b"a" * 250_000 + b"\n",
}


# A held-out corpus: real bounces from Sisimai's public set, none of which maillist's rules were
# written against, with expectations read by hand (tests/fixtures/real-bounces/README.md).
HELD_OUT = ROOT / "tests" / "fixtures" / "real-bounces"


def held_out_rows():
    with open(HELD_OUT / "expectations.csv", newline="") as labels:
        return list(csv.DictReader(labels))


def score_held_out(label, reader, flagged, reason_of, rows):
    """One line of figures for one reader on the held-out corpus."""
    counts = dict.fromkeys(("perm", "perm_found", "temp", "temp_found", "temp_perm", "none", "none_flagged",
                            "dead", "dead_off", "refused", "refused_kept"), 0)
    misses = []
    for row in rows:
        path, address, expect = HELD_OUT / row["file"], row["address"].lower(), row["expect"]
        if expect not in ("permanent", "temporary"):
            counts["none"] += 1
            if flagged(path):
                counts["none_flagged"] += 1
                misses.append(f"{row['file']}: {expect} read as a bounce")
            continue
        temporary = expect == "temporary"
        found, permanent = reader(path, temporary)
        if temporary:
            counts["temp"] += 1
            counts["temp_found"] += address in found
            counts["temp_perm"] += address in permanent
            if address not in found or address in permanent:
                misses.append(f"{row['file']}: temporary {address} not found Transient or delayed")
        else:
            counts["perm"] += 1
            counts["perm_found"] += address in permanent
            if address not in permanent:
                misses.append(f"{row['file']}: permanent {address} not found Permanent")
        if row["truth"] in ("dead", "refused"):
            _, deactivates = reason_of(path, address)
            right = deactivates == (row["truth"] == "dead")
            counts[row["truth"]] += 1
            counts["dead_off" if row["truth"] == "dead" else "refused_kept"] += right
            if not right:
                misses.append(f"{row['file']}: {row['truth']} address {address} {'kept' if row['truth'] == 'dead' else 'deactivated'}")
    c = counts
    print(f"{label:20} permanent found Permanent {c['perm_found']}/{c['perm']}; temporary found Transient or delayed "
          f"{c['temp_found']}/{c['temp']}; temporary called Permanent {c['temp_perm']}/{c['temp']}; no-bounce mail "
          f"read as a bounce {c['none_flagged']}/{c['none']}; dead deactivated {c['dead_off']}/{c['dead']}; "
          f"other refusals kept {c['refused_kept']}/{c['refused']}")
    return misses


def held_out(verbose):
    rows = held_out_rows()
    files = sorted({HELD_OUT / row["file"] for row in rows})
    print(f"held-out corpus (tests/fixtures/real-bounces): {len(files)} real reports, {len(rows)} expectations")
    sisimai = sisimai_results(files)
    readers = [("flufl.bounce alone", flufl_alone, lambda path: flagged_as_bounce("flufl.bounce alone", path.read_bytes()),
                lambda path, address: ("", False)),
               ("maillist reader", maillist_reader, lambda path: flagged_as_bounce("maillist reader", path.read_bytes()),
                maillist_reason)]
    if sisimai is not None:
        readers.append(("Sisimai", sisimai_reader(sisimai),
                        lambda path: any(e["reason"] not in SISIMAI_NOT_FAILED for e in sisimai.get(path, [])),
                        sisimai_reason(sisimai)))
    for label, reader, flagged, reason_of in readers:
        misses = score_held_out(label, reader, flagged, reason_of, rows)
        if verbose:
            for miss in misses:
                print(f"  MISS {miss}")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        data, rows = corpus(Path(workdir))
        print(f"flufl.bounce {pinned_version()} test corpus: {len(rows)} files "
              f"({sum(1 for _, e, _ in rows if e)} with failed addresses, {sum(1 for *_, t in rows if t)} temporary)")
        sisimai = sisimai_results([data / name for name, _, _ in rows])
        readers = [("flufl.bounce alone", flufl_alone), ("maillist reader", maillist_reader)]
        if sisimai is None:
            print("Sisimai is not installed (apt-get install libsisimai-perl): its rows are left out")
        else:
            readers.append(("Sisimai", sisimai_reader(sisimai)))
        for label, reader in readers:
            exact, found, total, temp_perm, crashes, four, temp_found, temp_total = score(reader, data, rows)
            print(f"{label:20} exact recipient set {exact}/{len(rows)}; permanent found and classed Permanent "
                  f"{found}/{total} ({found / total:.1%}); temporary found Transient or delayed {temp_found}/{temp_total}; "
                  f"temporary classed Permanent {temp_perm}/{temp_total}; crashes {crashes}")
        for label in ("flufl.bounce alone", "maillist reader"):
            wrong = [name for name, raw in NOT_BOUNCES.items() if flagged_as_bounce(label, raw)]
            print(f"{label:20} no-bounce mail read as a bounce: {len(wrong)}/{len(NOT_BOUNCES)} {wrong or ''}")
        print(f"(not counted above: {four} address(es) the table calls permanent whose report says 4.x.x or gave up after retrying)")
        print_reason_accuracy("maillist", data, maillist_reason, "--verbose" in sys.argv)
        if sisimai is not None:
            print_reason_accuracy("Sisimai", data, sisimai_reason(sisimai), "--verbose" in sys.argv)
    held_out("--verbose" in sys.argv)
    print(f"hostile inputs (maillist reader, one run each; {describe()}):")
    for label, raw in HOSTILE.items():
        started = time.perf_counter()
        try:
            kind = read_report(raw).kind
        except Exception as error:  # noqa: BLE001
            kind = f"crashed: {type(error).__name__}"
        print(f"  {label:34} {time.perf_counter() - started:7.3f} s  {kind}")


if __name__ == "__main__":
    main()
