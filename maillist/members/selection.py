"""Which members a bulk action or a selection export acts on: the ticked rows, or all matching the filters."""

from dataclasses import dataclass

from sqlalchemy import func, select

from maillist.errors import InvalidInput
from maillist.extensions import db
from maillist.models import Member
from maillist.members.search import MemberQuery
from maillist.validation import MAX_ID

# The most rows one form may tick: eight pages of the largest page size. More is "all matching".
MAX_TICKED = 1600
ALL, TICKED = "all", "ticked"


@dataclass(frozen=True)
class Selection:
    """The ticked members (`ids`), or with `ids` None every member the query's filters match."""

    query: MemberQuery
    ids: tuple[int, ...] | None = None

    @classmethod
    def from_form(cls, form):
        """Read a selection from the members page's bulk form; refuses an empty or malformed one."""
        query = MemberQuery.from_args(form)
        if form.get("scope") == ALL:
            return cls(query)
        ids = form.getlist("ids")
        if not ids:
            raise InvalidInput("Tick the members to act on, or choose all members matching the filters.")
        if len(ids) > MAX_TICKED:
            raise InvalidInput(f"At most {MAX_TICKED:,} members can be ticked at once; choose all matching instead.")
        if not all(text.isascii() and text.isdigit() and 0 < len(text) <= len(str(MAX_ID)) for text in ids):
            raise InvalidInput("The ticked members were not sent as member numbers. Reload the page and try again.")
        return cls(query, tuple(sorted({int(text) for text in ids})))

    @property
    def ticked(self):
        return self.ids is not None

    def conditions(self):
        """The SQL conditions that pick the selected members."""
        return [Member.id.in_(self.ids)] if self.ticked else self.query.conditions()

    def count(self, *extra):
        """How many members the selection holds (that also meet `extra` conditions)."""
        return db.session.scalar(select(func.count()).select_from(Member).where(*self.conditions(), *extra))
