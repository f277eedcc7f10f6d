"""What the status page (/bounces/status) says: the settings in force, each topic's subscription and
last messages, counts by outcome and refusals by reason, malformed messages, and plain-language
diagnoses of the common set-up mistakes, each with what to do."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from config import ANY_TOPIC
from maillist import vocabulary
from maillist.extensions import db
from maillist.intake import door_counts
from maillist.intake.door import APPLIED, IGNORED
from maillist.transports.sns.reprocess import count_kept_while_off
from maillist.models import DeliveryStat, ProcessedReport
from maillist.models.types import utcnow
from maillist.vocabulary import SOURCE_EMAIL, SOURCE_SNS, SOURCE_SQS

QUIET_DAYS = 7  # "webhook on but no message in N days"
MALFORMED_SHOWN = 20
SNS_KINDS = ("SubscriptionConfirmation", "Notification", "UnsubscribeConfirmation")


@dataclass(frozen=True)
class SettingCheck:
    name: str
    value: str
    ok: bool
    advice: str = ""


@dataclass(frozen=True)
class Diagnosis:
    title: str
    fix: str


def settings_in_force(config):
    """Each bounce-handling setting, and whether it is what production needs."""
    topics = config["SNS_TOPIC_ARNS"]
    return [
        SettingCheck("ENABLE_SNS_WEBHOOKS", str(config["ENABLE_SNS_WEBHOOKS"]).lower(), config["ENABLE_SNS_WEBHOOKS"],
                "off: /webhooks/sns answers 404 (fine when an SQS poller takes the messages instead)"),
        SettingCheck("ENABLE_BOUNCE_HANDLING", str(config["ENABLE_BOUNCE_HANDLING"]).lower(), config["ENABLE_BOUNCE_HANDLING"],
                "off: messages are verified and kept, not applied; no member changes until it is on"),
        SettingCheck("SNS_TOPIC_ARNS", ", ".join(topics) or "(none)", bool(topics) and ANY_TOPIC not in topics,
                "name your topic's ARN: empty refuses every message, * accepts any AWS account's topic"),
        SettingCheck("SNS_MAX_MESSAGE_AGE", f"{config['SNS_MAX_MESSAGE_AGE']} s", config["SNS_MAX_MESSAGE_AGE"] > 0,
                "0 accepts a captured message replayed at any later time"),
        SettingCheck("SOFT_BOUNCE_THRESHOLD", str(config["SOFT_BOUNCE_THRESHOLD"]), True),
        SettingCheck("SOFT_BOUNCE_WINDOW_DAYS", str(config["SOFT_BOUNCE_WINDOW_DAYS"]), True),
        SettingCheck("SOFT_BOUNCE_ACTION", config["SOFT_BOUNCE_ACTION"], True),
        SettingCheck("HARD_BOUNCE_POLICY", config["HARD_BOUNCE_POLICY"], config["HARD_BOUNCE_POLICY"] == "reason",
                "type deactivates on any Permanent bounce, blocklists and policy refusals included"),
        SettingCheck("COMPLAINT_ACTION", config["COMPLAINT_ACTION"], config["COMPLAINT_ACTION"] == "deactivate",
                "log keeps mailing people who complained; SES reviews accounts above 0.1% complaints"),
        SettingCheck("ENABLE_EMAIL_BOUNCE_PROCESSING", str(config["ENABLE_EMAIL_BOUNCE_PROCESSING"]).lower(), True),
    ]


def topics(config):
    """Per topic (allowed or seen): when its subscription was confirmed, by which message, and its last message of each type."""
    seen = set(db.session.scalars(select(ProcessedReport.topic_arn).where(ProcessedReport.topic_arn.is_not(None)).distinct()))
    names = sorted((set(config["SNS_TOPIC_ARNS"]) - {ANY_TOPIC}) | seen)
    found = []
    for arn in names:
        confirmed = db.session.execute(
            select(ProcessedReport.received_at, ProcessedReport.report_key)
            .where(ProcessedReport.topic_arn == arn, ProcessedReport.outcome == "confirmed")
            .order_by(ProcessedReport.received_at.desc()).limit(1)
        ).first()
        last = {}
        for kind in SNS_KINDS:
            row = db.session.execute(
                select(ProcessedReport.received_at, ProcessedReport.outcome, ProcessedReport.source)
                .where(ProcessedReport.topic_arn == arn, ProcessedReport.kind == kind)
                .order_by(ProcessedReport.received_at.desc()).limit(1)
            ).first()
            if row:
                last[kind] = row
        found.append({"arn": arn, "allowed": arn in config["SNS_TOPIC_ARNS"] or ANY_TOPIC in config["SNS_TOPIC_ARNS"],
                      "confirmed": confirmed, "last": last})
    return found


def counts(days):
    """Messages by outcome and refusals by reason over the last `days`, with the door they came in by."""
    rows = door_counts.totals_since(utcnow() - timedelta(days=days))
    outcomes, refusals, doors = {}, {}, {}
    for source, outcome, reason, total in rows:
        outcomes[outcome] = outcomes.get(outcome, 0) + total
        doors[source] = doors.get(source, 0) + total
        if reason:
            refusals[reason] = refusals.get(reason, 0) + total
    return {"outcomes": outcomes, "refusals": refusals, "doors": doors, "total": sum(doors.values())}


def malformed(limit=MALFORMED_SHOWN):
    """The newest messages whose content could not be understood, with their stored bodies."""
    return db.session.scalars(
        select(ProcessedReport).where(ProcessedReport.outcome == "malformed")
        .order_by(ProcessedReport.received_at.desc()).limit(limit)
    ).all()


def diagnoses(config, week, kept=0):
    """The common set-up mistakes the data shows, each with what to do."""
    found, refusals, outcomes = [], week["refusals"], week["outcomes"]
    if refusals.get(vocabulary.REFUSED_RAW_DELIVERY):
        found.append(Diagnosis(
            f"Raw message delivery is on: {refusals[vocabulary.REFUSED_RAW_DELIVERY]} bare SES events refused this week",
            "Turn raw message delivery off on the subscription (`flask sns setup` does): maillist needs SNS's signed envelope."))
    skewed = refusals.get(vocabulary.REFUSED_STALE, 0) + refusals.get(vocabulary.REFUSED_FUTURE, 0)
    if skewed:
        found.append(Diagnosis(
            f"Clock skew or replays: {skewed} messages refused as too old or from the future this week",
            "Check this server's clock (timedatectl; run NTP). Old messages can also be SNS retrying after a long outage: "
            "raise SNS_MAX_MESSAGE_AGE for a while, or read them back from the dead-letter queue."))
    if refusals.get(vocabulary.REFUSED_TOPIC):
        found.append(Diagnosis(
            f"A topic not in SNS_TOPIC_ARNS sent {refusals[vocabulary.REFUSED_TOPIC]} messages this week (or tried to subscribe)",
            "If it is yours, add its ARN to SNS_TOPIC_ARNS and restart; if not, someone is probing the endpoint and was refused."))
    if refusals.get(vocabulary.REFUSED_SIGNATURE) or refusals.get(vocabulary.REFUSED_CERTIFICATE) or refusals.get(vocabulary.REFUSED_CERTIFICATE_URL):
        forged = sum(refusals.get(r, 0) for r in (vocabulary.REFUSED_SIGNATURE, vocabulary.REFUSED_CERTIFICATE, vocabulary.REFUSED_CERTIFICATE_URL))
        found.append(Diagnosis(f"{forged} messages failed signature or certificate checks this week",
                               "SNS's own messages always pass: these were forged or altered on the way. Nothing was changed."))
    if refusals.get(vocabulary.REFUSED_STORAGE):
        found.append(Diagnosis(f"The database could not store {refusals[vocabulary.REFUSED_STORAGE]} messages this week",
                               "Each was answered 503 (or left in the queue) so SNS retries; check the database and GET /health."))
    recent = utcnow() - timedelta(days=QUIET_DAYS)
    bounces_seen = outcomes.get(APPLIED, 0) or outcomes.get(IGNORED, 0)
    if bounces_seen and not db.session.scalar(select(func.count()).select_from(DeliveryStat).where(DeliveryStat.day >= recent.date())):
        found.append(Diagnosis("No Delivery events: bounce and complaint rates are unknown",
                               "Publish SES Delivery notifications to the topic too (`flask sns setup` does unless --no-deliveries)."))
    if kept and not config["ENABLE_BOUNCE_HANDLING"]:
        found.append(Diagnosis(f"Bounce handling is off: {kept} notifications are kept, not applied",
                               "Set ENABLE_BOUNCE_HANDLING=true (in .env, or the api service's environment in "
                               "docker-compose.yml) and restart, then run `flask bounces apply-ignored` (or the button "
                               "below): they are applied oldest first. Until then no member is changed."))
    elif kept:
        found.append(Diagnosis(f"{kept} notifications kept while bounce handling was off are not applied yet",
                               "Run `flask bounces apply-ignored`, or use the button below: they are applied oldest "
                               "first, each once."))
    sns_recent = db.session.scalar(select(func.count()).select_from(ProcessedReport).where(
        ProcessedReport.source.in_((SOURCE_SNS, SOURCE_SQS)), ProcessedReport.received_at >= recent))
    if config["ENABLE_SNS_WEBHOOKS"] and not sns_recent and not week["doors"].get(SOURCE_SNS):
        found.append(Diagnosis(f"The webhook is on but no SNS message arrived in {QUIET_DAYS} days",
                               "Check the subscription with `flask sns setup ... --check`, that nginx passes /webhooks/sns, "
                               "and send a test to bounce@simulator.amazonses.com."))
    if config["ENABLE_EMAIL_BOUNCE_PROCESSING"] and not db.session.scalar(
            select(func.count()).select_from(ProcessedReport).where(ProcessedReport.source == SOURCE_EMAIL)):
        found.append(Diagnosis("Email bounce processing is on but no bounce email was ever received",
                               "Check Postfix's pipes (`postfix check`, the mail log) and that list mail goes out with the "
                               "members' bounce addresses (`flask lists deliver`)."))
    return found


def status():
    """Everything the page shows."""
    config = current_app.config
    day, week = counts(1), counts(7)
    settings, kept = settings_in_force(config), count_kept_while_off()
    return {"settings": settings, "topics": topics(config), "day": day, "week": week, "malformed": malformed(),
            "waiting": kept, "diagnoses": settings_to_fix(settings) + diagnoses(config, week, kept),
            "reasons": vocabulary.REFUSAL_REASONS}


def settings_to_fix(settings):
    """A diagnosis for each setting the table marks `check`: the verdict comes from the same checks it lists."""
    return [Diagnosis(f"{s.name} is {s.value}: {s.advice}",
                      f"Set {s.name} in .env (with docker-compose: the api and poller services read .env too), restart, "
                      "and reload this page; `flask sns setup --topic NAME --endpoint URL --check` checks the AWS side.")
            for s in settings if not s.ok]
