"""The database models, one module per concept."""

from maillist.models.audit import AuditLog
from maillist.models.bounce import BounceLog, DeliveryStat, StormHold
from maillist.models.login_attempt import LoginAttempt
from maillist.models.mailing_list import MailingList, Subscription
from maillist.models.member import Member
from maillist.models.processed_report import IntakeCount, ProcessedReport
from maillist.models.user import User

__all__ = [
    "AuditLog",
    "BounceLog",
    "DeliveryStat",
    "IntakeCount",
    "LoginAttempt",
    "MailingList",
    "Member",
    "ProcessedReport",
    "StormHold",
    "Subscription",
    "User",
]
