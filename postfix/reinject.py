#!/usr/bin/env python3
"""Postfix pipe helper: send the message on stdin back into Postfix's re-injection listener,
addressed to the list, with the list's bounce address (<list>-bounces@<domain>) as envelope
sender.

Exit codes follow sysexits.h, which Postfix's pipe(8) understands: 0 delivered, 67 the list has
nobody to deliver to (Postfix returns the message to its sender with the reason), 75 try again.
"""

import argparse
import smtplib
import sys

EX_NOUSER, EX_TEMPFAIL = 67, 75


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=10025)
    parser.add_argument("recipient", help="the list address")
    args = parser.parse_args()
    args.recipient = args.recipient.lower()
    local, _, domain = args.recipient.rpartition("@")
    args.sender = f"{local}-bounces@{domain}"  # the list's bounce address: DSNs come back to maillist
    message = sys.stdin.buffer.read()
    try:
        with smtplib.SMTP(args.host, args.port, timeout=60) as smtp:
            smtp.sendmail(args.sender, [args.recipient], message)
    except smtplib.SMTPRecipientsRefused as refused:
        code, reason = refused.recipients[args.recipient]
        print(f"{args.recipient}: {reason.decode(errors='replace')}", file=sys.stderr)
        return EX_NOUSER if 500 <= code < 600 else EX_TEMPFAIL
    except (OSError, smtplib.SMTPException) as error:
        print(f"re-injection failed: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    return 0


if __name__ == "__main__":
    sys.exit(main())
