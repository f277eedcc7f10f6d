"""The deployment as a club runs it: the real Dockerfile and docker-compose.yml built and started
with a real engine (podman behind docker-compose), then driven through its published ports.

The tests run in order on one stack (module fixture): sign-in page and health over HTTPS through
nginx; a genuine AWS-signed SNS bounce through nginx, stored once; a post accepted by the postfix
container reaching an SES-rules relay once per member with each member's own bounce address; a DSN
to one of those addresses updating that member; staff accounts made as the README says; every
container healthy and none restarting; a restart of every container losing nothing, with a bounce
address handed out before it still verifying after it; the poller profile on moto's SQS.
"""

import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email import policy

import boto3
import pytest
import requests

from tests.helpers import CSRF_FIELD, SHARED
from tests.system import compose_stack
from tests.system.compose_stack import Stack

VECTOR = SHARED / "sns-vectors" / "messages" / "django-ses_2022-04-01_ses-bounce_notification_nosubject_sha1.json"
# Same topic as VECTOR: a complaint for complaint@simulator.amazonses.com, for the poller to read from SQS.
COMPLAINT = SHARED / "sns-vectors" / "messages" / "django-ses_2022-03-28_ses-complaint_notification_sha1.json"
SERVER_NAME = "lists.example.org"
LIST = "club@lists.example.org"
MEMBERS = ["ann@members.example", "bob@members.example", "cat@members.example"]
AUTHOR = "ann@members.example"
STAFF = ("secretary@club.example", "a long staff password")

# The certificate is the test's own, made for SERVER_NAME; the tests compare it with what nginx serves.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    compose_stack.need_engine()
    compose_stack.build_standins()
    folder = compose_stack.project_copy(tmp_path_factory.mktemp("club"))
    settings = compose_stack.stack_settings()
    vector_topic = json.loads(VECTOR.read_text())["TopicArn"]
    compose_stack.write_env(folder, settings, {
        "ENABLE_SNS_WEBHOOKS": "true", "ENABLE_BOUNCE_HANDLING": "true", "ENABLE_EMAIL_BOUNCE_PROCESSING": "true",
        "SNS_TOPIC_ARNS": vector_topic, "SES_VERIFIED_IDENTITIES": "club.example", "PUBLIC_URL": f"https://{SERVER_NAME}",
        # The vectors are years old; their certificates were valid when they were signed, which is checked.
        "SNS_MAX_MESSAGE_AGE": "0",
        "POSTFIX_MYHOSTNAME": SERVER_NAME, "POSTFIX_RELAYHOST": "[relay]:2525",
        "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://moto:5000",
        # Owners' digests, which the README runs in the postfix container.
        "NOTIFY_FROM": "maillist@lists.example.org", "NOTIFY_ADMIN": "office@club.example",
    })
    compose_stack.self_signed_certificate(folder / "nginx" / "certs", SERVER_NAME)
    stack = Stack(folder, settings)
    stack.outbox.mkdir()
    stack.start_engine()
    try:
        stack.down()  # anything a crashed earlier run left
        result = stack.compose("config")
        assert f"MYSQL_PASSWORD: {settings['env']['MYSQL_PASSWORD']}" in result.stdout.replace("'", "")
        stack.up("--build")
        yield stack
    finally:
        try:
            stack.down()
        finally:
            stack.stop_engine()


def https(stack, path, method="GET", session=None, **options):
    """A request to nginx's published HTTPS port for SERVER_NAME (the certificate is the one made for it)."""
    port = stack.settings["ports"]["https"]
    headers = {"Host": SERVER_NAME, **options.pop("headers", {})}
    return (session or requests).request(method, f"https://127.0.0.1:{port}{path}", headers=headers, verify=False,
                                         timeout=30, allow_redirects=False, **options)


def sign_in(stack, email, password):
    session = requests.Session()
    page = https(stack, "/login", session=session)
    token = CSRF_FIELD.search(page.text).group(1)
    answer = https(stack, "/login", "POST", session=session, data={"csrf_token": token, "email": email, "password": password},
                   headers={"Referer": f"https://{SERVER_NAME}/login"})
    assert answer.status_code in (302, 303), answer.text[:500]
    return session


def member_row(stack, email):
    rows = stack.sql(f"SELECT id, active, bounce_status, bounce_count FROM member WHERE email = '{email}'")
    assert len(rows) == 1, rows
    return rows[0]


def wait_for(condition, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def relayed(stack):
    """(envelope sender, recipients, message) of everything the SES-rules relay accepted."""
    found = []
    for meta in sorted(stack.outbox.glob("*.json")):
        envelope = json.loads(meta.read_text())
        message = BytesParser(policy=policy.default).parsebytes(meta.with_suffix(".eml").read_bytes())
        found.append((envelope["sender"], envelope["recipients"], message))
    return found


def send(stack, sender, recipient, message):
    with smtplib.SMTP("127.0.0.1", stack.settings["ports"]["smtp"], timeout=60) as smtp:
        smtp.ehlo("mail.members.example")
        smtp.send_message(message, from_addr=sender, to_addrs=[recipient])


DSN = """From: MAILER-DAEMON@mx.members.example
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{note}@mx.members.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail to {failed} could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.members.example

Final-Recipient: rfc822; {failed}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: user unknown

--B--
"""


def send_dsn(stack, bounce_address, failed, note):
    """A delivery status notification for `failed`, to its bounce address, with the null sender as MTAs send them."""
    with smtplib.SMTP("127.0.0.1", stack.settings["ports"]["smtp"], timeout=60) as smtp:
        smtp.ehlo("mx.members.example")
        smtp.sendmail("<>", [bounce_address], DSN.format(to=bounce_address, failed=failed, note=note).encode())


def test_the_compose_file_takes_a_password_manager_password(stack):
    password = stack.settings["env"]["MYSQL_PASSWORD"]
    assert {"@", "/", "#", "%", ":"} <= set(password)
    # The api container reached MariaDB with it: the schema was migrated there.
    assert stack.sql("SELECT COUNT(*) FROM alembic_version") == [["1"]]


def test_health_and_sign_in_page_over_https_through_nginx(stack):
    health = https(stack, "/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    login = https(stack, "/login")
    assert login.status_code == 200 and 'name="password"' in login.text and "Secure" in login.headers["Set-Cookie"]
    assert login.headers["Strict-Transport-Security"].startswith("max-age=")
    served = ssl.get_server_certificate(("127.0.0.1", stack.settings["ports"]["https"]))
    assert served.strip() == (stack.folder / "nginx" / "certs" / "fullchain.pem").read_text().strip()
    plain = requests.get(f"http://127.0.0.1:{stack.settings['ports']['http']}/login", headers={"Host": SERVER_NAME},
                         allow_redirects=False, timeout=30)
    assert plain.status_code == 301 and plain.headers["Location"] == f"https://{SERVER_NAME}/login"


def test_the_acme_webroot_is_served_over_http(stack):
    challenge = stack.folder / "nginx" / "acme" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True)
    (challenge / "token-123").write_text("token-123.thumbprint")
    answer = requests.get(f"http://127.0.0.1:{stack.settings['ports']['http']}/.well-known/acme-challenge/token-123",
                          headers={"Host": SERVER_NAME}, timeout=30)
    assert answer.status_code == 200 and answer.text == "token-123.thumbprint"


def test_nginx_starts_without_warnings(stack):
    logs = stack.logs("nginx")
    assert "[warn]" not in logs and "[emerg]" not in logs, logs[-2000:]


def test_staff_account_created_as_the_readme_says(stack):
    email, password = STAFF
    # The README's command as it stands (-T: no terminal here, so the prompt reads the password twice from stdin).
    stack.exec("api", "flask", "users", "create", email, "--role", "admin", input=f"{password}\n{password}\n")
    session = sign_in(stack, email, password)
    assert https(stack, "/members/", session=session).status_code == 200


def test_a_signed_sns_bounce_through_nginx_is_stored_once_and_shows_on_the_member(stack):
    stack.exec("api", "flask", "lists", "add", LIST, "--name", "Club")
    stack.exec("api", "flask", "members", "add", "bounce@simulator.amazonses.com", "--list", LIST)
    body = VECTOR.read_bytes()
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}
    for _ in range(2):  # SNS delivers at least once: the repeat must not count twice
        answer = https(stack, "/webhooks/sns", "POST", data=body, headers=headers)
        assert answer.status_code == 200, answer.text
    message_id = json.loads(body)["MessageId"]
    assert stack.sql(f"SELECT COUNT(*) FROM processed_report WHERE report_key = '{message_id}'") == [["1"]]
    member_id, active, status, count = member_row(stack, "bounce@simulator.amazonses.com")
    assert (active, status, count) == ("0", "hard", "1")
    assert stack.sql(f"SELECT bounce_type, status FROM bounce_log WHERE member_id = {member_id}") == [["Permanent", "5.1.1"]]
    session = sign_in(stack, *STAFF)
    history = https(stack, f"/members/{member_id}/bounces", session=session)
    assert history.status_code == 200 and "5.1.1" in history.text and "Permanent" in history.text


def test_a_post_reaches_each_member_through_the_relay_with_their_own_bounce_address(stack):
    for email in MEMBERS:
        stack.exec("api", "flask", "members", "add", email, "--list", LIST)
    post = EmailMessage()
    post["From"] = f"Ann <{AUTHOR}>"
    post["To"] = LIST
    post["Subject"] = "Training moves to Thursday"
    post["Message-ID"] = "<post-1@members.example>"
    post.set_content("See you there.\n")
    send(stack, AUTHOR, LIST, post)
    copies = wait_for(lambda: len(relayed(stack)) >= len(MEMBERS) and relayed(stack), what="the list's copies")
    time.sleep(2)  # anything more would be a duplicate
    copies = relayed(stack)
    assert sorted(r for _, recipients, _ in copies for r in recipients) == sorted(MEMBERS)
    senders = {recipients[0]: sender for sender, recipients, _ in copies}
    for email in MEMBERS:
        expected = stack.exec("api", "flask", "members", "bounce-address", email, "--list", LIST).stdout.strip()
        assert senders[email] == expected and expected.startswith("club-bounces+")
    for _, _, message in copies:
        # ann's domain is not verified in SES: the copies leave From the list, Reply-To her.
        assert message["Subject"] == "Training moves to Thursday"
        assert str(message["From"]) == f"Ann via Club <{LIST}>" and str(message["Reply-To"]) == f"Ann <{AUTHOR}>"
    stack.settings["bounce_addresses"] = senders


def test_an_author_on_a_verified_domain_keeps_from(stack):
    stack.exec("api", "flask", "lists", "add", "board@lists.example.org", "--name", "Board")
    stack.exec("api", "flask", "members", "add", "chair@club.example", "--list", "board@lists.example.org")
    already = len(relayed(stack))
    post = EmailMessage()
    post["From"] = "Chair <chair@club.example>"
    post["To"] = "board@lists.example.org"
    post["Subject"] = "Agenda"
    post.set_content("Attached.\n")
    send(stack, "chair@club.example", "board@lists.example.org", post)
    copy = wait_for(lambda: relayed(stack)[already:], what="the board's copy")[0][2]
    assert str(copy["From"]) == "Chair <chair@club.example>" and copy["Reply-To"] is None


def test_a_dsn_to_a_members_bounce_address_updates_that_member(stack):
    bob = "bob@members.example"
    send_dsn(stack, stack.settings["bounce_addresses"][bob], bob, "bob")
    wait_for(lambda: member_row(stack, bob)[2] == "hard", what="bob's bounce")
    assert member_row(stack, bob)[1:] == ["0", "hard", "1"]
    assert member_row(stack, "ann@members.example")[1:] == ["1", "clean", "0"]


def test_the_readmes_day_to_day_commands(stack):
    assert "Booting worker" in stack.logs("api")
    assert "postfix/master" in stack.logs("postfix")
    stats = stack.exec("api", "flask", "bounces", "stats")
    assert stats.returncode == 0 and stats.stdout.strip()
    assert stack.sql("SELECT COUNT(*) FROM mailing_list") == [["2"]]
    # Owners' digests leave through the postfix container's loopback port and the relay.
    notify = stack.exec("postfix", "flask", "bounces", "notify")
    assert notify.returncode == 0, notify.stdout + notify.stderr
    digest = wait_for(lambda: [m for _, rcpts, m in relayed(stack) if rcpts == ["office@club.example"]], what="the digest")[0]
    assert "deactivated" in str(digest["Subject"]) and "bob@members.example" in digest.get_content()


def subscribed(stack, email, list_address=LIST):
    return stack.sql(f"SELECT COUNT(*) FROM subscription s JOIN member m ON m.id = s.member_id JOIN mailing_list l "
                     f"ON l.id = s.list_id WHERE m.email = '{email}' AND l.address = '{list_address}'") == [["1"]]


def test_one_click_unsubscribe_through_nginx_and_by_mail(stack):
    copies = {recipients[0]: message for _, recipients, message in relayed(stack) if str(message["To"]) == LIST}
    targets = {}
    for email in ("ann@members.example", "cat@members.example"):
        assert str(copies[email]["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        https_url, mailto = [part.strip(" <>") for part in str(copies[email]["List-Unsubscribe"]).split(",")]
        assert https_url.startswith(f"https://{SERVER_NAME}/unsubscribe/") and mailto.startswith("mailto:club-unsubscribe+")
        targets[email] = (https_url.removeprefix(f"https://{SERVER_NAME}"), mailto.removeprefix("mailto:"))
    ann_path, _ = targets["ann@members.example"]
    assert https(stack, ann_path).status_code == 200 and subscribed(stack, "ann@members.example")
    tampered = ann_path[:-1] + ("a" if ann_path[-1] != "a" else "b")
    assert https(stack, tampered, "POST", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    answer = https(stack, ann_path, "POST", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and not subscribed(stack, "ann@members.example")
    _, cat_mailto = targets["cat@members.example"]
    note = EmailMessage()
    note["From"] = "cat@members.example"
    note["To"] = cat_mailto
    note["Subject"] = "unsubscribe"
    note.set_content("")
    send(stack, "cat@members.example", cat_mailto, note)
    wait_for(lambda: not subscribed(stack, "cat@members.example"), what="cat's unsubscribe by mail")


def test_every_container_is_healthy_and_none_restarts(stack):
    containers = stack.containers()
    assert len(containers) == 6, containers  # mysql, api, postfix, nginx, and the test's relay and moto
    for container in containers:
        if stack.has_health_check(container):
            assert compose_stack.podman("healthcheck", "run", container, check=False).returncode == 0, container
    checked = [c for c in containers if stack.has_health_check(c)]
    assert {c.split("_")[1] for c in checked} == {"mysql", "api", "postfix"}
    assert set(stack.restart_counts().values()) == {0}, stack.restart_counts()
    assert "Running detector" not in stack.logs("postfix")
    assert "Permission denied" not in stack.logs("api")


def test_a_restart_of_every_container_loses_nothing(stack):
    before = {table: stack.sql(f"SELECT COUNT(*) FROM {table}") for table in ("member", "bounce_log", "`user`", "processed_report")}
    cat = "cat@members.example"
    cat_address = stack.settings["bounce_addresses"][cat]
    with stack.health_checks():
        stack.compose("restart", timeout=600)
        stack.wait_healthy()
    after = {table: stack.sql(f"SELECT COUNT(*) FROM {table}") for table in before}
    assert after == before
    # nginx finds the restarted app again (it may have a new address on the compose network).
    wait_for(lambda: https(stack, "/health").status_code == 200, what="the app through nginx after the restart")
    sign_in(stack, *STAFF)
    # Handed out before the restart, the bounce address still verifies: the key outlived it.
    send_dsn(stack, cat_address, cat, "cat")
    wait_for(lambda: member_row(stack, cat)[2] == "hard", what="cat's bounce after the restart")
    assert stack.exec("api", "flask", "members", "bounce-address", cat, "--list", LIST).stdout.strip() == cat_address


def test_the_poller_profile_starts_stays_up_and_applies_what_sqs_holds(stack):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{stack.settings['moto_port']}",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    queue_url = sqs.create_queue(QueueName="maillist-bounces")["QueueUrl"]
    in_network = "http://moto:5000/" + queue_url.split("/", 3)[3]
    env = (stack.folder / ".env").read_text().replace("\nSQS_QUEUE_URL=\n", f"\nSQS_QUEUE_URL={in_network}\n")
    (stack.folder / ".env").write_text(env)
    with stack.health_checks():
        # Only the poller: with the .env changed, compose would recreate the running services too,
        # and a command run in the api container meanwhile would be killed with it.
        stack.compose("--profile", "poller", "up", "-d", "--no-deps", "poller", timeout=600)
    poller = wait_for(lambda: [c for c in stack.containers() if "_poller_" in c], what="the poller container")[0]
    stack.exec("api", "flask", "members", "add", "complaint@simulator.amazonses.com", "--list", LIST)
    sqs.send_message(QueueUrl=queue_url, MessageBody=COMPLAINT.read_text())
    wait_for(lambda: member_row(stack, "complaint@simulator.amazonses.com")[1] == "0", what="the complaint through SQS")
    time.sleep(5)
    state = stack.inspect(poller)["State"]
    assert state["Status"] == "running" and stack.inspect(poller).get("RestartCount", 0) == 0, stack.logs("poller")[-3000:]
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
