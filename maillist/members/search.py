"""Finding members: search text, filters, sorting and paging, shared by the page and the CSV export."""

from dataclasses import dataclass, replace

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from maillist.errors import InvalidInput
from maillist.extensions import db
from maillist.models import Member, Subscription
from maillist.validation import MAX_PAGE, whole_number
from maillist.vocabulary import BOUNCE_STATUSES, BY_COMPLAINT

PAGE_SIZES = (25, 50, 100, 200)
SORTS = {"name": Member.name, "email": Member.email, "last_bounce": Member.last_bounce_at}
# The narrow-screen sort control's words: (ascending, descending).
SORT_LABELS = {"name": ("Name, A to Z", "Name, Z to A"), "email": ("Email, A to Z", "Email, Z to A"),
               "last_bounce": ("Last bounce, oldest first", "Last bounce, newest first")}


@dataclass(frozen=True)
class MemberQuery:
    """What the person asked for: text, filters, order and page."""

    text: str = ""
    active: bool | None = None
    bounce_status: str | None = None
    list_id: int | None = None
    sort: str = "email"
    descending: bool = False
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    @classmethod
    def from_args(cls, args):
        """Read a query from request arguments, falling back to defaults for unusable values."""
        per_page = whole_number(args.get("per_page"), "Page size", PAGE_SIZES[0])
        status = args.get("status") or None
        if status is not None and status not in BOUNCE_STATUSES + (BY_COMPLAINT,):
            raise InvalidInput(f"Unknown bounce status {status!r}.")
        sort, direction = args.get("sort"), args.get("dir")
        order = args.get("order") or ""
        if order.lstrip("-") in SORTS:  # the sort control narrow screens show: "email", "-email", ...
            sort, direction = order.lstrip("-"), "desc" if order.startswith("-") else "asc"
        return cls(
            text=(args.get("q") or "").strip()[:200],
            active={"active": True, "inactive": False}.get(args.get("active", "")),
            bounce_status=status,
            list_id=whole_number(args.get("list"), "List"),
            sort=sort if sort in SORTS else "email",
            descending=direction == "desc",
            page=whole_number(args.get("page"), "Page", 1, maximum=MAX_PAGE),
            per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0],
        )

    def args(self, **changes):
        """The query-string arguments for this query with `changes`, for links."""
        query = replace(self, **changes)
        result = {"q": query.text, "active": {True: "active", False: "inactive"}.get(query.active, ""),
                  "status": query.bounce_status or "", "list": query.list_id or "", "sort": query.sort,
                  "dir": "desc" if query.descending else "asc", "page": query.page, "per_page": query.per_page}
        return {key: value for key, value in result.items() if value not in ("", None)}

    def conditions(self):
        """The SQL conditions for the text and filters."""
        conditions = []
        if self.text:
            # Both databases compare case-insensitively here (SQLite LIKE, MariaDB's _ci collation);
            # emails are stored lower-case, names as typed.
            pattern = "%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(or_(Member.email.like(pattern.lower(), escape="\\"), Member.name.like(pattern, escape="\\")))
        if self.active is not None:
            conditions.append(Member.active.is_(self.active))
        if self.bounce_status == BY_COMPLAINT:  # stopped by a complaint (the filter's "complained")
            conditions.append(and_(Member.active.is_(False), Member.deactivated_by == BY_COMPLAINT))
        elif self.bounce_status:
            conditions.append(Member.bounce_status == self.bounce_status)
        if self.list_id:
            conditions.append(Member.id.in_(select(Subscription.member_id).where(Subscription.list_id == self.list_id)))
        return conditions

    def order(self):
        """ORDER BY columns: the chosen one, then id so pages never overlap.

        Email is unique, so it needs no tie-breaker; adding one would stop MariaDB from reading
        the rows in index order (it extends only non-unique indexes with the primary key).
        """
        column = SORTS[self.sort]
        columns = [column] if self.sort == "email" else [column, Member.id]
        return [c.desc() if self.descending else c.asc() for c in columns]


# A text search counts matches exactly up to this many, then says "more than".
SEARCH_COUNT_CAP = 1000


@dataclass(frozen=True)
class MemberPage:
    """One page of results and where it sits in the whole."""

    members: list
    total: int
    query: MemberQuery
    more: bool = False  # True: more than `total` members match (a broad text search)

    @property
    def pages(self):
        return max((self.total - 1) // self.query.per_page + 1, 1)

    @property
    def position(self):
        """Where this page stands, as the pager says it: 'Page 2 of 7', or 'Page 2' when the count is capped."""
        return f"Page {self.query.page}" if self.more else f"Page {self.query.page} of {self.pages}"

    @property
    def has_next(self):
        return self.query.page < self.pages or (self.more and len(self.members) == self.query.per_page)


def search_members(query: MemberQuery):
    """One page of members matching `query`, with their lists loaded.

    A substring search cannot use an index, so it reads the table once: the ids of up to
    SEARCH_COUNT_CAP + 1 matches. Few matches: that is the exact count, and the page is read by
    id. Many matches: the count is "more than the cap", and the page is read in index order,
    which finds matches quickly because they are common.
    """
    conditions = query.conditions()
    if not query.text:
        return MemberPage(load_page(query, conditions), count_members(query, conditions), query)
    ids = db.session.scalars(select(Member.id).where(*conditions).limit(SEARCH_COUNT_CAP + 1)).all()
    if len(ids) <= SEARCH_COUNT_CAP:
        members = load_page(query, [Member.id.in_(ids)]) if ids else []
        return MemberPage(members, len(ids), query)
    return MemberPage(load_page(query, conditions), SEARCH_COUNT_CAP, query, more=True)


def count_members(query, conditions):
    """How many members match; a list filter alone is counted from its subscriptions."""
    if query.list_id and len(conditions) == 1:
        return db.session.scalar(select(func.count()).select_from(Subscription).where(Subscription.list_id == query.list_id))
    return db.session.scalar(select(func.count()).select_from(Member).where(*conditions))


def load_page(query, conditions):
    """The page's members, with their lists: ids first (the index alone can answer that, even
    far into the results), then the rows for just those ids."""
    ids = db.session.scalars(
        select(Member.id).where(*conditions).order_by(*query.order())
        .limit(query.per_page).offset((query.page - 1) * query.per_page)
    ).all()
    if not ids:
        return []
    rows = db.session.scalars(
        select(Member).where(Member.id.in_(ids))
        .options(selectinload(Member.subscriptions).selectinload(Subscription.mailing_list))
    ).all()
    position = {member_id: index for index, member_id in enumerate(ids)}
    return sorted(rows, key=lambda member: position[member.id])


def iter_members(query: MemberQuery, conditions=None, batch=2000):
    """Every member matching `query` (or `conditions`, in the query's order), loaded a batch at a
    time (for exports)."""
    statement = (
        select(Member)
        .where(*(query.conditions() if conditions is None else conditions))
        .options(selectinload(Member.subscriptions).selectinload(Subscription.mailing_list))
        .order_by(*query.order())
        .limit(batch)
    )
    offset = 0
    while True:
        rows = db.session.scalars(statement.offset(offset)).all()
        yield from rows
        if len(rows) < batch:
            return
        offset += batch
        db.session.expunge_all()  # keep memory flat on large exports
