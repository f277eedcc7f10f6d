"""An SMTP relay that refuses what Amazon SES's SMTP interface refuses, for the mail-path tests.

A relay that accepts anything let list mail with the author's own From pass every test while SES
refused it in production. This one applies SES's documented rules to each message at the end of
DATA, as SES does, and keeps what it accepted:

- From, Sender and the envelope sender (Return-Path) must each be a verified identity: the address
  itself, or its domain or a parent domain of it (subdomains inherit a domain's verification):
  `554 Message rejected: Email address is not verified. ...`;
- a message over 40 MB (SES's SMTP limit, after encoding): `552 5.3.4 Message too long`;
- more than 50 recipients in one message: `554 ... Recipient count exceeds 50`;
- more messages in the last second than the maximum send rate: `454 Throttling failure: Maximum
  sending rate exceeded.` (a temporary refusal: the sender must try again later).

    python3 tests/ses_relay.py --port 2525 --identities lists.example.org,ann@example.org --outbox DIR [--rate 14]

Each accepted message is written to DIR as NNNNNN.eml (the bytes as received) and NNNNNN.json
(envelope sender and recipients), so a test outside the relay's process or container reads them.
"""

import argparse
import json
import socketserver
import threading
import time
from collections import deque
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

MAX_MESSAGE_BYTES = 40 * 1024 * 1024
MAX_RECIPIENTS = 50


class Rules:
    """SES's checks, with the identities verified in the account and the maximum send rate."""

    def __init__(self, identities, rate=0):
        self.identities = {identity.strip().lower() for identity in identities if identity.strip()}
        self.rate = rate
        self.recent = deque()
        self.lock = threading.Lock()

    def verified(self, address):
        address = address.strip().lower()
        labels = address.rpartition("@")[2].split(".")
        return address in self.identities or any(".".join(labels[i:]) in self.identities for i in range(len(labels)))

    def refusal(self, sender, recipients, data):
        """The SMTP reply refusing this message, or None when SES would take it."""
        if len(data) > MAX_MESSAGE_BYTES:
            return "552 5.3.4 Message too long"
        if len(recipients) > MAX_RECIPIENTS:
            return f"554 Transaction failed: Recipient count exceeds {MAX_RECIPIENTS}."
        headers = BytesHeaderParser().parsebytes(data)
        froms = [address for _, address in getaddresses(headers.get_all("From", []))]
        senders = [address for _, address in getaddresses(headers.get_all("Sender", []))]
        if len(froms) != 1:
            return "554 Transaction failed: Duplicate header 'From'." if froms else "554 Transaction failed: Missing From header."
        return_path = [] if sender == "<>" else [sender]
        unverified = [address for address in froms + senders + return_path if address and not self.verified(address)]
        if unverified:
            return ("554 Message rejected: Email address is not verified. The following identities failed the check "
                    f"in region EU-WEST-1: {', '.join(dict.fromkeys(unverified))}")
        if self.rate:
            with self.lock:
                now = time.monotonic()
                while self.recent and now - self.recent[0] >= 1:
                    self.recent.popleft()
                if len(self.recent) >= self.rate:
                    return "454 Throttling failure: Maximum sending rate exceeded."
                self.recent.append(now)
        return None


class Outbox:
    """Messages the relay accepted, in memory and (when given a folder) on disk."""

    def __init__(self, folder=None):
        self.folder = Path(folder) if folder else None
        self.messages = []
        self.refused = []
        self.lock = threading.Condition()
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def keep(self, sender, recipients, data):
        with self.lock:
            self.messages.append((sender, list(recipients), data))
            number = len(self.messages)
            self.lock.notify_all()
        if self.folder:
            stem = self.folder / f"{number:06d}"
            stem.with_suffix(".eml").write_bytes(data)
            # Written last: a reader that sees the .json finds the .eml complete.
            stem.with_suffix(".json").write_text(json.dumps({"sender": sender, "recipients": list(recipients)}))


    def wait_for(self, count, timeout=30):
        """Wait until `count` messages have been accepted; returns those accepted by then."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.lock.wait(deadline - time.monotonic())
            return list(self.messages)


class Session(socketserver.StreamRequestHandler):
    """One SMTP connection: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 ses-rules relay ESMTP")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            command, _, argument = line.decode("ascii", "replace").strip().partition(" ")
            verb = command.upper()
            if verb in ("EHLO", "HELO"):
                self.reply(f"250-ses-rules\r\n250-SIZE {MAX_MESSAGE_BYTES}\r\n250 8BITMIME" if verb == "EHLO" else "250 ses-rules")
            elif verb == "MAIL":
                # The null sender is kept as "<>", as bounces are written.
                sender, recipients = argument.partition(":")[2].strip().split(" ")[0].strip("<>") or "<>", []
                self.reply("250 Ok")
            elif verb == "RCPT":
                if sender is None:
                    self.reply("503 5.5.1 MAIL first")
                    continue
                recipients.append(argument.partition(":")[2].strip().strip("<>"))
                self.reply("250 Ok")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 5.5.1 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                refusal = self.server.rules.refusal(sender, recipients, data)
                if refusal:
                    self.server.outbox.refused.append((sender, list(recipients), refusal))
                    self.reply(refusal)
                else:
                    self.server.outbox.keep(sender, recipients, data)
                    self.reply("250 Ok")
                sender, recipients = None, []
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 Ok")
            elif verb == "NOOP":
                self.reply("250 Ok")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")

    def read_data(self):
        lines = []
        while True:
            line = self.rfile.readline()
            if line in (b".\r\n", b".\n", b""):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)


class Relay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, rules, outbox):
        self.rules, self.outbox = rules, outbox
        super().__init__(address, Session)

    @property
    def port(self):
        return self.server_address[1]


def start(identities, rate=0, folder=None, host="127.0.0.1", port=0):
    """A relay serving in a thread; `relay.outbox.messages` fills as it accepts mail. Stop with `relay.shutdown()`."""
    relay = Relay((host, port), Rules(identities, rate), Outbox(folder))
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    return relay


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--identities", required=True, help="comma-separated verified domains and addresses")
    parser.add_argument("--rate", type=int, default=0, help="maximum messages per second (0: no limit)")
    parser.add_argument("--outbox", required=True, help="folder accepted messages are written to")
    options = parser.parse_args()
    server = Relay((options.host, options.port), Rules(options.identities.split(","), options.rate), Outbox(options.outbox))
    server.serve_forever()
