"""The words maillist's data is made of, defined once for models, services, templates and commands."""

# Staff roles, most powerful first (what each may do: maillist.permissions).
ADMIN = "admin"
OPERATOR = "operator"
VIEWER = "viewer"
ROLES = (ADMIN, OPERATOR, VIEWER)

# A member's bounce record: clean, soft (repeated transient bounces) or hard (address is dead).
CLEAN = "clean"
SOFT = "soft"
HARD = "hard"
BOUNCE_STATUSES = (CLEAN, SOFT, HARD)

# What stopped mail to a member (Member.deactivated_by), in words for the members table and history.
BY_HARD_BOUNCE = "hard-bounce"
BY_SOFT_BOUNCE = "soft-bounce"
BY_COMPLAINT = "complaint"
BY_STAFF = "staff"
DEACTIVATED_BY_LABELS = {BY_HARD_BOUNCE: "hard bounce", BY_SOFT_BOUNCE: "soft bounces", BY_COMPLAINT: "complaint",
                         BY_STAFF: "staff"}

# SES's bounce types, which bounce emails are classed into too.
PERMANENT = "Permanent"
TRANSIENT = "Transient"
UNDETERMINED = "Undetermined"
BOUNCE_TYPES = (PERMANENT, TRANSIENT, UNDETERMINED)

# What one row of a member's bounce history records.
BOUNCE = "bounce"
COMPLAINT = "complaint"
RESET = "reset"
STAFF_CHANGE = "staff"  # staff deactivated or reactivated the member
EVENT_KINDS = (BOUNCE, COMPLAINT, RESET, STAFF_CHANGE)

# Who may post to a list: anyone, its subscribed active members, or a list of allowed senders.
POST_OPEN = "open"
POST_MEMBERS = "members"
POST_SENDERS = "senders"
POST_POLICIES = (POST_OPEN, POST_MEMBERS, POST_SENDERS)
POST_POLICY_LABELS = {POST_OPEN: "Anyone", POST_MEMBERS: "Subscribed members", POST_SENDERS: "Only the senders listed"}

# The bounce-storm guard: a hold on one receiving domain is open until an administrator releases
# (applies) or dismisses its bounces. A bounce log row it holds is `held` (nothing applied yet) or
# `undone` (it deactivated its member before the storm was seen; that was reversed).
HOLD_OPEN = "open"
HOLD_RELEASED = "released"
HOLD_DISMISSED = "dismissed"
HELD = "held"
UNDONE = "undone"
HOLD_LABELS = {
    HELD: "held by the bounce-storm guard",
    UNDONE: "deactivation undone by the bounce-storm guard",
    HOLD_RELEASED: "held in a bounce storm, then released",
    HOLD_DISMISSED: "held in a bounce storm, then dismissed",
}

# Where a processed report came in: the SNS webhook, an SQS queue subscribed to the topic
# (`flask sns poll`), or a bounce email through Postfix.
SOURCE_SNS = "sns"
SOURCE_SQS = "sqs"
SOURCE_EMAIL = "email"
REPORT_SOURCES = (SOURCE_SNS, SOURCE_SQS, SOURCE_EMAIL)

# Why the intake refused a message (maillist.transports.sns.errors raises one class per code): the words the
# status page and /metrics count by.
REFUSED_SIGNATURE, REFUSED_CERTIFICATE, REFUSED_CERTIFICATE_URL = "signature", "certificate", "certificate-url"
REFUSED_STALE, REFUSED_FUTURE, REFUSED_TOPIC, REFUSED_MALFORMED = "stale", "future", "topic", "malformed"
REFUSED_RAW_DELIVERY, REFUSED_STORAGE, REFUSED_UPSTREAM = "raw-delivery", "storage", "upstream"
REFUSAL_REASONS = (REFUSED_SIGNATURE, REFUSED_CERTIFICATE, REFUSED_CERTIFICATE_URL, REFUSED_STALE, REFUSED_FUTURE,
                   REFUSED_TOPIC, REFUSED_MALFORMED, REFUSED_RAW_DELIVERY, REFUSED_STORAGE, REFUSED_UPSTREAM)


def template_globals():
    """The vocabulary as templates see it."""
    return {
        "ROLES": ROLES,
        "BOUNCE_STATUSES": BOUNCE_STATUSES,
        "BOUNCE_TYPES": BOUNCE_TYPES,
        "EVENT_KINDS": EVENT_KINDS,
        "POST_POLICY_LABELS": POST_POLICY_LABELS,
        "POST_SENDERS": POST_SENDERS,
    }

# Audit actions read back by figures (the dashboard counts one-click unsubscribes).
ONE_CLICK_UNSUBSCRIBE = "list.unsubscribe.one-click"
