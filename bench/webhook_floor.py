"""The floor the webhook benchmark compares maillist against: a bare Flask view doing the least a
correct SES bounce webhook must do, with the raw database driver.

    gunicorn bench.webhook_floor:app   (webhook_throughput.py --vs-floor starts it)

Per message: parse the SNS envelope, verify its RSA signature with the cached certificate, parse
the SES notification, and in one transaction UPDATE each recipient's member row and INSERT a
bounce_log row (a delivery: UPDATE or INSERT the day's count). No ledger, no age or certificate
checks, no bounce reasons, no storm guard, no audit: what maillist does beyond this is the price
of its guarantees, and the ratio to this floor says how much that price is.

With FLOOR_LEDGER=1 (webhook_throughput.py --ledger-floor) it also records each MessageId in
maillist's ledger table in the same transaction, answering a repeat without applying it: the
floor of a webhook that applies each message once, which maillist's users need.

The durability is maillist's: SQLite in WAL mode with its default synchronous=FULL, MariaDB
InnoDB with READ COMMITTED; one connection per thread, kept open.
"""

import base64
import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask, request
from sqlalchemy.engine import make_url

FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

app = Flask(__name__)
URL = make_url(os.environ["DATABASE_URL"])
KEY = x509.load_pem_x509_certificate(Path(os.environ["BENCH_CERT_PEM"]).read_bytes()).public_key()
local = threading.local()
LEDGER = os.environ.get("FLOOR_LEDGER") == "1"


def connect():
    """This thread's connection, opened once."""
    if getattr(local, "connection", None) is None:
        if URL.get_backend_name() == "sqlite":
            connection = sqlite3.connect(URL.database, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            local.connection, local.sqlite = connection, True
        else:
            import pymysql

            connection = pymysql.connect(host=URL.host, port=URL.port or 3306, user=URL.username, password=URL.password or "",
                                         database=URL.database, autocommit=False)
            connection.cursor().execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            local.connection, local.sqlite = connection, False
    return local.connection


def verify(envelope):
    text = "".join(f"{name}\n{envelope[name]}\n" for name in FIELDS if name in envelope).encode()
    KEY.verify(base64.b64decode(envelope["Signature"]), text, padding.PKCS1v15(), HASHES[envelope["SignatureVersion"]]())


@app.get("/health")
def health():
    return "ok"


@app.post("/webhooks/sns")
def webhook():
    envelope = json.loads(request.get_data())
    verify(envelope)
    event = json.loads(envelope["Message"])
    kind = event.get("notificationType") or event.get("eventType")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection = connect()
    mark = "?" if local.sqlite else "%s"
    cursor = connection.cursor()
    if local.sqlite:
        cursor.execute("BEGIN IMMEDIATE")
    if LEDGER:
        try:
            cursor.execute(f"INSERT INTO processed_report (report_key, source, kind, topic_arn, outcome, received_at) "
                           f"VALUES ({mark}, 'sns', 'Notification', {mark}, 'applied', {mark})",
                           (envelope["MessageId"], envelope["TopicArn"], now))
        except connection.IntegrityError:
            connection.rollback()
            return {"status": "duplicate"}
    if kind == "Bounce":
        bounce = event["bounce"]
        for recipient in bounce["bouncedRecipients"]:
            email = recipient["emailAddress"].lower()
            cursor.execute(f"UPDATE member SET bounce_count = bounce_count + 1, last_bounce_at = {mark}, updated_at = {mark} "
                           f"WHERE email = {mark}", (now, now, email))
            cursor.execute(f"INSERT INTO bounce_log (member_id, email, event, bounce_type, bounce_subtype, diagnostic_code, "
                           f"occurred_at, created_at) VALUES ((SELECT id FROM member WHERE email = {mark}), {mark}, 'bounce', "
                           f"{mark}, {mark}, {mark}, {mark}, {mark})",
                           (email, email, bounce["bounceType"], bounce.get("bounceSubType"),
                            recipient.get("diagnosticCode"), now, now))
    elif kind == "Complaint":
        for recipient in event["complaint"]["complainedRecipients"]:
            email = recipient["emailAddress"].lower()
            cursor.execute(f"UPDATE member SET active = 0, updated_at = {mark} WHERE email = {mark}", (now, email))
            cursor.execute(f"INSERT INTO bounce_log (member_id, email, event, occurred_at, created_at) "
                           f"VALUES ((SELECT id FROM member WHERE email = {mark}), {mark}, 'complaint', {mark}, {mark})",
                           (email, email, now, now))
    else:
        day = now.date()
        cursor.execute(f"UPDATE delivery_stat SET deliveries = deliveries + 1 WHERE day = {mark}", (day,))
        if cursor.rowcount == 0:
            try:
                cursor.execute(f"INSERT INTO delivery_stat (day, deliveries) VALUES ({mark}, 1)", (day,))
            except Exception:  # another worker inserted the day's row first (MariaDB; SQLite writes one at a time)
                cursor.execute(f"UPDATE delivery_stat SET deliveries = deliveries + 1 WHERE day = {mark}", (day,))
    if local.sqlite:
        cursor.execute("COMMIT")
    else:
        connection.commit()
    return {"status": "ok"}
