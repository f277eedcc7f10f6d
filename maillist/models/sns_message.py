"""SNS messages already processed, so a redelivery changes nothing."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow


class SnsMessage(db.Model):
    """One SNS MessageId seen by the webhook, with what was done about it."""

    __tablename__ = "sns_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    message_type: Mapped[str] = mapped_column(String(40))
    topic_arn: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(40))
    # Kept only when the SES content could not be understood, for a person to inspect.
    raw_message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
