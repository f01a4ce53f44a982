"""Reads for discussions: one query for a passage's comments, the tree built in Python."""

import functools
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.text import Truncator

from discussions.anchoring import highlight, locate
from discussions.models import (
    Comment,
    HandoutThread,
    HelpfulMark,
    Notification,
    NotificationPreference,
    PassageVisit,
    Question,
)
from groups import permissions
from groups.models import Meeting, Membership, ReaderSettings
from groups.timezones import reader_zone
from reading.models import Passage, ReadingProgress

THREADS_PER_PAGE = 20
REPLIES_PER_THREAD = 6  # of each thread on the passage page, the first in time
# A page of threads shows at most this many comments: in a busy discussion each thread
# shows fewer of its first replies (the same number for all), so the page costs what a
# quiet one does and a reader sees every thread's start before the depths of any.
COMMENTS_PER_PAGE = 60
REPLIES_SHOWN = 5  # under one comment, before "show N more replies"
MAX_NESTED_DEPTH = 8  # deeper: "continue this thread", on the thread's own page
# A thread's own page shows this many levels below its comment, then "continue this
# thread" again: browsers stop nesting elements past 512 levels (two a level here).
THREAD_PAGE_LEVELS = 100
INDENT_LEVELS = 4
# A thread's preview stops above MAX_NESTED_DEPTH, where counting what lies below needs
# the whole thread (read by "show more replies" and the thread page).
assert REPLIES_PER_THREAD < MAX_NESTED_DEPTH


@dataclass
class Node:
    """One comment as a member sees it in its thread."""

    comment: Comment
    depth: int = 0
    children: list["Node"] = field(default_factory=list)
    # All its replies (kept in the thread), when only the first ones were read (the
    # passage page's preview of each thread); None: the children are all of them.
    reply_count: int | None = None
    is_new: bool = False
    show_body: bool = True
    placeholder: str = ""
    detached: bool = False
    parent_author: object = None  # the author it replies to, unless hidden or deleted

    @property
    def indent(self) -> int:
        return min(self.depth, INDENT_LEVELS)

    @property
    def shown_children(self) -> list["Node"]:
        return self.children[:REPLIES_SHOWN]

    @property
    def replies_total(self) -> int:
        return len(self.children) if self.reply_count is None else self.reply_count

    @property
    def hidden_children_count(self) -> int:
        return max(0, self.replies_total - len(self.shown_children))

    @property
    def replies_after(self) -> int:
        """The last reply shown: "show more replies" asks for those after it."""
        shown = self.shown_children
        return shown[-1].comment.pk if shown else 0

    @property
    def descendant_count(self) -> int:
        # A loop, not recursion: replies nest to any depth.
        count, below = 0, list(self.children)
        while below:
            node = below.pop()
            count += 1
            below.extend(node.children)
        return count

    @property
    def nested_too_deep(self) -> bool:
        return self.depth >= MAX_NESTED_DEPTH and self.replies_total > 0


class TreeStep(NamedTuple):
    """One step of rendering a comment tree as a flat sequence: a comment opens (its
    own part, its reply slot, the start of its replies) or closes (after its replies)."""

    node: Node
    opens: bool
    continue_link: bool = False  # opens: its replies are on its thread's own page
    more_replies: bool = False  # closes: "show N more replies" after those shown


def tree_steps(node: Node, *, expanded: bool) -> list[TreeStep]:
    """The steps that render `node` with its replies: all of them down to
    THREAD_PAGE_LEVELS below it (`expanded`, a thread's own page), or each comment's
    first REPLIES_SHOWN down to MAX_NESTED_DEPTH; deeper ones behind "continue this
    thread". A loop, not a recursive template include: a thread is as deep as its
    readers make it, and each include costs a context and about a dozen stack frames."""

    def continues_elsewhere(current: Node) -> bool:
        if expanded:
            too_deep = current.depth - node.depth >= THREAD_PAGE_LEVELS
            return too_deep and current.replies_total > 0
        return current.nested_too_deep

    steps: list[TreeStep] = []
    pending: list[tuple[Node, bool]] = [(node, True)]  # a stack: the next step is last
    while pending:
        current, opening = pending.pop()
        elsewhere = continues_elsewhere(current)
        if not opening:
            more = not expanded and not elsewhere and current.hidden_children_count > 0
            steps.append(TreeStep(current, opens=False, more_replies=more))
            continue
        steps.append(TreeStep(current, opens=True, continue_link=elsewhere))
        pending.append((current, False))
        if not elsewhere:
            children = current.children if expanded else current.shown_children
            pending.extend((child, True) for child in reversed(children))
    return steps


@dataclass
class Thread:
    roots: list[Node]
    by_id: dict[int, Node]
    anchors: list[tuple[int, int, int]]
    last_comment_id: int

    @property
    def visible_count(self) -> int:
        return sum(1 for node in self.by_id.values() if node.show_body)


def comments_for(
    *,
    membership: Membership,
    passage: Passage | None = None,
    question_ids=None,
    root_id: int | None = None,
):
    """A passage's discussion, the answer threads of questions (question_ids), or one
    thread (root_id)."""
    user = membership.user
    if root_id is not None:
        comments = Comment.objects.filter(group_id=membership.group_id).thread(root_id)
    elif question_ids is not None:
        comments = Comment.objects.filter(
            group_id=membership.group_id, question_id__in=question_ids
        )
    else:
        # Read from the passage's side, each comment comes with this very passage (no
        # join, no copy of it per comment).
        comments = passage.comments.filter(group_id=membership.group_id).discussion()
    comments = comments.select_related("author", "hidden_by")
    if root_id is not None or question_ids is not None:
        comments = comments.select_related("passage").defer("passage__search_vector")
    marks = HelpfulMark.objects.filter(comment=OuterRef("pk"))
    return comments.annotate(
        # Counted per comment from the marks' (comment, user) index: no join over all
        # the marks, no grouping of the comments.
        helpful_count=Coalesce(
            Subquery(
                marks.order_by().values("comment").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        marked_helpful=Exists(marks.filter(user=user)),
    ).order_by("created_at", "pk")


def _visible(membership: Membership) -> Q:
    """The comments whose words this member sees (not deleted; hidden ones only for
    facilitators and their authors)."""
    return Q(deleted_at__isnull=True) & permissions.hidden_comment_filter(membership)


def _shows_words(membership: Membership, comment: Comment) -> bool:
    """Python twin of _visible: not deleted, and not hidden from this member."""
    return not comment.is_deleted and (
        not comment.is_hidden or permissions.may_see_hidden_comment(membership, comment)
    )


def _node(membership: Membership, comment: Comment, last_seen: datetime | None) -> Node:
    """A comment with what this member may see of it; its place in the thread is set by
    the caller."""
    node = Node(comment=comment, depth=comment.depth)
    node.is_new = comment.author_id != membership.user_id and (
        last_seen is None or comment.created_at > last_seen
    )
    if not _shows_words(membership, comment):
        # Hidden or deleted words are never sent, only a placeholder if needed.
        node.show_body = False
        node.is_new = False
        node.placeholder = (
            "This comment was deleted." if comment.is_deleted else "Hidden by a facilitator."
        )
    return node


def _arrange(nodes: dict[int, Node]) -> list[Node]:
    """Replies under their parents (in the order given), placeholders with nothing under
    them dropped; the tops of the threads, in the order given."""
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            node.parent_author = parent.comment.author if parent.show_body else None
            parent.children.append(node)

    # Placeholders without replies are dropped: nothing to keep the shape of. Deepest
    # first (a loop, not recursion: replies nest to any depth), so a placeholder whose
    # replies were all dropped is dropped too.
    for node in sorted(nodes.values(), key=lambda node: -node.depth):
        node.children = [child for child in node.children if _kept(child)]
    return [root for root in roots if _kept(root)]


def _kept(node: Node) -> bool:
    return node.show_body or bool(node.children) or bool(node.reply_count)


def _anchor(passage: Passage, comment: Comment) -> tuple[int, int] | None:
    """Where a top-level comment's quote stands in the passage now; None if detached."""
    if comment.quote_detached_at:
        return None
    return locate(
        passage.body,
        exact=comment.quote_exact,
        prefix=comment.quote_prefix,
        suffix=comment.quote_suffix,
        start=comment.quote_start,
    )


def build_thread(
    *, membership: Membership, passage: Passage, comments, last_seen: datetime | None
) -> Thread:
    """Arrange comments into whole threads, applying what this member may see."""
    nodes = {comment.pk: _node(membership, comment, last_seen) for comment in comments}
    roots = _arrange(nodes)
    roots.sort(
        key=lambda n: (
            n.comment.pinned_at is None,
            n.comment.pinned_at or n.comment.created_at,
            n.comment.pk,
        )
    )
    anchors = []
    for node in roots:
        if node.comment.has_quote and node.show_body:
            found = _anchor(passage, node.comment)
            if found is None:
                node.detached = True
            else:
                anchors.append((found[0], found[1], node.comment.pk))
    return Thread(
        roots=roots,
        by_id=nodes,
        anchors=anchors,
        last_comment_id=max(nodes, default=0),
    )


def passage_thread(*, membership: Membership, passage: Passage, last_seen=None) -> Thread:
    """A passage's whole discussion (a passage removed from the text shows it as a list)."""
    return build_thread(
        membership=membership,
        passage=passage,
        comments=comments_for(membership=membership, passage=passage),
        last_seen=last_seen,
    )


class ThreadVersion(NamedTuple):
    last_id: int  # the newest comment's id
    changed_at: datetime | None  # the latest change to any comment (a new one included)

    @property
    def is_empty(self) -> bool:
        """The discussion holds no comment now, not even a deleted one: nothing to read."""
        return self.last_id == 0

    @property
    def tag(self) -> str:
        return f"{self.last_id}/{self.changed_at.timestamp() if self.changed_at else '-'}"


def thread_version(*, group_id: int, passage_id: int) -> ThreadVersion:
    """A discussion's fingerprint: two index probes (discussion_newest and
    discussion_last_change), whatever the size of the discussion."""
    version = _version_of(group_id, Passage.everything.filter(pk=passage_id))
    return version or ThreadVersion(last_id=0, changed_at=None)


def passage_version(*, group_id: int, text_id: int, position: int) -> ThreadVersion | None:
    """thread_version of a text's passage by position, in one query with finding the
    passage (all the poll reads of a discussion that has not changed); None without
    that passage."""
    return _version_of(group_id, Passage.objects.filter(text_id=text_id, position=position))


def _version_of(group_id: int, passages) -> ThreadVersion | None:
    # The newest comment and the latest change of the passage in the group's discussion,
    # each the end of a partial index; None when `passages` finds no passage.
    discussion = Comment.objects.discussion().filter(group_id=group_id, passage=OuterRef("pk"))
    row = (
        passages.annotate(
            last_id=Subquery(discussion.order_by("-pk").values("pk")[:1]),
            changed_at=Subquery(discussion.order_by("-updated_at").values("updated_at")[:1]),
        )
        .values_list("last_id", "changed_at")
        .first()
    )
    if row is None:
        return None
    last_id, changed_at = row
    return ThreadVersion(last_id=last_id or 0, changed_at=changed_at)


def _threads_in_order(membership: Membership, passage: Passage):
    """The passage's threads this member sees something of, pinned first, then in the
    order they were started. A deleted or hidden top with replies still counts."""
    visible = _visible(membership)
    tops = Comment.objects.discussion().filter(
        group_id=membership.group_id, passage=passage, parent__isnull=True
    )
    seen_reply = Comment.objects.filter(visible, root_id=OuterRef("pk"))
    return tops.filter(visible | Q(Exists(seen_reply))).order_by(
        Case(When(pinned_at__isnull=False, then=Value(0)), default=Value(1)),
        Coalesce("pinned_at", "created_at"),
        "pk",
    )


def _threads_with_first_replies_sql(root_ids: list[int], per_thread: int) -> RawSQL:
    """The ids of threads' tops and of each one's first replies in time, read from the
    comment_thread_in_time index without reading the rest of the thread. A time prefix
    of a thread holds every reply's parent, so it is a tree of its own."""
    table = Comment._meta.db_table
    # Only the table name is formatted in; the ids and the limit are parameters.
    return RawSQL(  # noqa: S611
        f"SELECT thread.id FROM unnest(%s::bigint[]) AS thread(id) UNION ALL "  # noqa: S608
        f"SELECT reply.id FROM unnest(%s::bigint[]) AS thread(id) "
        f"CROSS JOIN LATERAL (SELECT id FROM {table} WHERE root_id = thread.id "
        f"ORDER BY created_at, id LIMIT %s) AS reply",
        (root_ids, root_ids, per_thread),
    )


def _reply_count(membership: Membership):
    """How many replies a comment has that its thread keeps for this member: those it
    may read, and the placeholders of others with a reply it may read (deeper chains of
    placeholders are counted as gone)."""
    visible = _visible(membership)
    replies = Comment.objects.filter(parent_id=OuterRef("pk"))
    seen_reply = Comment.objects.filter(visible, parent_id=OuterRef("pk"))
    kept = replies.filter(visible | Q(Exists(seen_reply)))
    counted = kept.order_by().values("parent_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class ThreadPage:
    """Some of a passage's threads as its page shows them: each with its first replies."""

    threads: list[Node]
    thread_count: int  # all the threads this member sees something of
    version: ThreadVersion


def thread_page(
    *,
    membership: Membership,
    passage: Passage,
    start: int = 0,
    stop: int = THREADS_PER_PAGE,
    last_seen: datetime | None = None,
) -> ThreadPage:
    """Threads start..stop of a passage, each with its first replies in time (up to
    REPLIES_PER_THREAD, fewer when the page would hold more than COMMENTS_PER_PAGE); a
    comment with more under it says how many. Reads and renders about the same number
    of comments on a passage with 50 comments or 5,000."""
    version = thread_version(group_id=membership.group_id, passage_id=passage.pk)
    if version.is_empty:
        return ThreadPage(threads=[], thread_count=start, version=version)
    # The ids of the threads shown, each row with the count of them all (a window).
    rows = list(
        _threads_in_order(membership, passage)
        .annotate(thread_count=Window(Count("pk")))
        .values_list("pk", "thread_count")[start:stop]
    )
    if not rows:  # none, or none this far: nothing more to show either
        return ThreadPage(threads=[], thread_count=start, version=version)
    root_ids = [pk for pk, _count in rows]
    thread_count = rows[0][1]
    comments = (
        comments_for(membership=membership, passage=passage)
        .filter(pk__in=_threads_with_first_replies_sql(root_ids, REPLIES_PER_THREAD))
        .annotate(reply_count=_reply_count(membership))
    )
    nodes = {}
    # Without JavaScript, "show more threads" asks for pages 1..n at once: each of them
    # keeps its own budget.
    pages = max(1, -(-(stop - start) // THREADS_PER_PAGE))
    for comment in _first_replies_within(list(comments), COMMENTS_PER_PAGE * pages):
        node = _node(membership, comment, last_seen)
        node.reply_count = comment.reply_count
        nodes[comment.pk] = node
    tops = {node.comment.pk: node for node in _arrange(nodes)}
    threads = [tops[pk] for pk in root_ids if pk in tops]
    for node in threads:
        if node.comment.has_quote and node.show_body:
            node.detached = _anchor(passage, node.comment) is None
    return ThreadPage(threads=threads, thread_count=thread_count, version=version)


def _first_replies_within(comments: list[Comment], budget: int) -> list[Comment]:
    """Threads' tops and, of each thread, as many of its first replies (in time) as
    `budget` comments in all allow, the same number for every thread. A time prefix of
    a thread is a tree (each reply comes after its parent), so nothing kept loses its
    parent; what is left out is counted by reply_count ("show N more replies")."""
    replies: dict[int, list[Comment]] = defaultdict(list)
    tops = 0
    for comment in comments:  # in time
        if comment.root_id is None:
            tops += 1
        else:
            replies[comment.root_id].append(comment)
    per_thread = REPLIES_PER_THREAD
    while per_thread and sum(min(per_thread, len(r)) for r in replies.values()) > budget - tops:
        per_thread -= 1
    left_out = {c.pk for thread in replies.values() for c in thread[per_thread:]}
    return [comment for comment in comments if comment.pk not in left_out]


def passage_anchors(*, membership: Membership, passage: Passage) -> list[tuple[int, int, int]]:
    """Where the quotes of the passage's threads stand, for highlighting it: one small
    query over the quoting comments (their words only)."""
    quoting = (
        Comment.objects.discussion()
        .filter(_visible(membership), group_id=membership.group_id, passage=passage)
        .filter(parent__isnull=True, quote_detached_at__isnull=True)
        .exclude(quote_exact="")
        .only("quote_exact", "quote_prefix", "quote_suffix", "quote_start", "quote_detached_at")
        .order_by("created_at", "pk")
    )
    anchors = []
    for comment in quoting:
        found = _anchor(passage, comment)
        if found is not None:
            anchors.append((found[0], found[1], comment.pk))
    return anchors


def highlighted_body(passage: Passage, anchors: list[tuple[int, int, int]]):
    return highlight(passage.body, anchors)


@dataclass(frozen=True)
class PollDiff:
    """What an open passage page lacks: others' comments newer than `after`, each
    alone (its replies arrive as their own nodes), the comments changed since
    `since` (edited, deleted, hidden, pinned, marked helpful), with the discussion's
    new state. `last_comment_id` moves past every newer comment, shown or not (the
    reader's own, hidden ones), so the next poll starts after them."""

    new_nodes: list[Node]
    changed_nodes: list[Node]  # show_body False and no replies: gone from the page
    # More changes than one answer carries: the next poll asks from this one on.
    changed_until: datetime | None
    last_comment_id: int
    comment_count: int | None  # None when nothing is shown: the page's count stands


CHANGES_PER_POLL = 50


def _alone(membership: Membership, comments):
    """Comments as single-comment renderings need them: with their parent's author and
    how many replies they keep."""
    return comments.select_related("parent__author").annotate(reply_count=_reply_count(membership))


def poll_diff(
    *, membership: Membership, passage: Passage, after: int, since: datetime | None = None
) -> PollDiff:
    """Reads only the comments newer than `after` and those changed since `since` (each
    with its parent, for the rules about it; depth is stored), never a whole thread."""
    discussion = comments_for(membership=membership, passage=passage)
    newer = list(_alone(membership, discussion).filter(pk__gt=after))
    new_nodes = [
        replace(node, is_new=True)
        for node in (_single_node(membership, comment) for comment in newer)
        if node.comment.author_id != membership.user_id and node.show_body
    ]
    changed_nodes, changed_until = [], None
    if since is not None:
        changed = list(
            _alone(membership, discussion)
            .filter(pk__lte=after, updated_at__gt=since)
            # Changed after it was written: a new comment reaches the page by its id.
            .filter(updated_at__gt=F("created_at"))
            .order_by("updated_at", "pk")[:CHANGES_PER_POLL]
        )
        changed_nodes = [_single_node(membership, comment) for comment in changed]
        if len(changed) == CHANGES_PER_POLL:
            changed_until = changed[-1].updated_at
    return PollDiff(
        new_nodes=new_nodes,
        changed_nodes=changed_nodes,
        changed_until=changed_until,
        last_comment_id=max([after, *(comment.pk for comment in newer)]),
        comment_count=(
            discussion_count(membership=membership, passage=passage)
            if new_nodes or changed_nodes
            else None
        ),
    )


def submitted_comment(
    user, submission_id, *, group_id: int, passage_id: int, parent_id: int | None, body: str
) -> Comment | None:
    """The comment this user already posted with this very form, if any: the same words
    in the same place, and still there. The same form sent again with other words (say
    a page restored by Back) is a new post, not a retry."""
    if submission_id is None:
        return None
    return Comment.objects.filter(
        author=user,
        submission_id=submission_id,
        group_id=group_id,
        passage_id=passage_id,
        parent_id=parent_id,
        body=body,
        deleted_at__isnull=True,
    ).first()


def _single_node(membership: Membership, comment: Comment) -> Node:
    node = _node(membership, comment, last_seen=None)
    node.is_new = False
    node.reply_count = comment.reply_count
    parent = comment.parent
    if parent is not None and _shows_words(membership, parent):
        node.parent_author = parent.author
    if comment.parent_id is None and comment.has_quote and node.show_body:
        node.detached = _anchor(comment.passage, comment) is None
    return node


def comment_alone(*, membership: Membership, comment: Comment) -> Node:
    """One comment as it now stands for this member (its marks, its state, whether
    anything is under it), without its replies: what single-comment actions re-render.
    One query, whatever the size of its thread."""
    thread = comments_for(membership=membership, root_id=comment.thread_root_id)
    fresh = _alone(membership, thread).get(pk=comment.pk)
    return _single_node(membership, fresh)


def comment_node(*, membership: Membership, comment: Comment) -> Node | None:
    """One comment with all its replies as they stand for this member, built from its
    thread alone (the thread page, "show more replies"); None when it is gone."""
    thread = build_thread(
        membership=membership,
        passage=comment.passage,
        comments=comments_for(membership=membership, root_id=comment.thread_root_id),
        last_seen=None,
    )
    node = thread.by_id.get(comment.pk)
    if node is None or (not node.show_body and not node.children):
        return None  # gone, or a placeholder with nothing under it: nothing to show
    node.is_new = False
    return node


def _counted_comments(membership: Membership, passage):
    """The comments of a passage's discussion (a Passage, or OuterRef) that this member
    sees, as counts count them: read from the discussion_standing index alone (a
    discussion holds no answers, so only the hidden rule applies)."""
    return Comment.objects.discussion().filter(
        _visible(membership), group_id=membership.group_id, passage=passage
    )


def discussion_count(*, membership: Membership, passage: Passage) -> int:
    """How many comments of a passage's discussion this member sees (the heading count)."""
    return _counted_comments(membership, passage).count()


def passage_last_seen(*, user, group_id: int, passage_id: int) -> datetime | None:
    """When the reader last saw a passage's discussion (None: never), without recording
    a visit (services.passage_visit_record records and returns it)."""
    return (
        PassageVisit.objects.filter(user=user, group_id=group_id, passage_id=passage_id)
        .values_list("last_seen_at", flat=True)
        .first()
    )


def new_comment_counts(*, user, group_id: int, text_id: int) -> dict[int, int]:
    """Per passage of a text, how many comments in this group are new for this reader:
    per passage, a range of the (group, passage, created_at) index from the reader's
    last visit on, not a look-up of the visit for every comment of the group."""
    last_seen = PassageVisit.objects.filter(
        user=user, group_id=group_id, passage=OuterRef("pk")
    ).values("last_seen_at")[:1]
    since_visit = (
        Comment.objects.filter(
            group_id=group_id,
            passage=OuterRef("pk"),
            question__isnull=True,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
            created_at__gt=Coalesce(OuterRef("last_seen"), Value(datetime.min.replace(tzinfo=UTC))),
        )
        .exclude(author=user)
        .order_by()
        .values("passage")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Passage.objects.filter(text_id=text_id)
        .annotate(last_seen=Subquery(last_seen))
        .annotate(n=Subquery(since_visit, output_field=IntegerField()))
        .filter(n__gt=0)
        .values_list("position", "n")
    )
    return dict(rows)


def readable_notifications(user):
    """The notifications a reader may read: the one source of the notifications list
    and the header's unread count, so the two always agree."""
    return Notification.objects.readable_by(user)


def unread_notification_count(user) -> int:
    """The header's count on every page: its SQL is built once per worker and run with
    the reader's id. Django's building of the query (the permission rules of
    readable_notifications) cost 3 ms of every page, several times PostgreSQL's work."""
    sql, params = _unread_count_sql()
    params = tuple(user.pk if _is_reader_marker(value) else value for value in params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else 0


# Stands for the reader's id while the query is built; no id, role or flag equals it.
_READER_MARKER = -7_301_947_113


def _is_reader_marker(value) -> bool:
    return type(value) is int and value == _READER_MARKER


@functools.cache
def _unread_count_sql() -> tuple[str, tuple]:
    # The query must hold nothing that changes between requests but the reader (no
    # time, no setting): everything else is fixed at the first page a worker serves.
    # One row (the count) or none, grouped by the one recipient.
    reader = get_user_model()(pk=_READER_MARKER)
    counted = (
        readable_notifications(reader)
        .unread()
        .order_by()
        .values("recipient")
        .annotate(unread=Count("pk"))
        .values_list("unread")
    )
    sql, params = counted.query.sql_with_params()
    if str(_READER_MARKER) in sql or not any(map(_is_reader_marker, params)):
        raise ImproperlyConfigured("The unread count's reader must be a query parameter.")
    return sql, params


# Questions ------------------------------------------------------------------

DUE_SOON = timedelta(days=3)


@dataclass
class QuestionView:
    """A question as one member sees it on a passage page."""

    question: Question
    answered: bool
    answer_count: int
    can_see_answers: bool
    answers: list[Node]
    my_answer: Comment | None
    state: str  # "answered", "overdue", "closed", "unanswered" or "facilitating"


@dataclass(frozen=True)
class QuestionRow:
    """A question in the group's list, with how many members have answered it."""

    question: Question
    answered_by: int


def question_state(question: Question, answered: bool, now: datetime) -> str:
    if answered:
        return "answered"
    if question.is_closed:
        return "closed"
    due = question.due
    if due is not None and due < now:
        return "overdue"
    return "unanswered"


def _questions_with_answer_state(queryset, user):
    mine = Comment.objects.answers().filter(question=OuterRef("pk"), author=user)
    return queryset.select_related("meeting", "group").annotate(
        answered=Exists(mine),
        answer_count=Count(
            "comments",
            filter=Q(comments__parent__isnull=True, comments__deleted_at__isnull=True),
            distinct=True,
        ),
    )


def question_view(*, membership: Membership, question: Question, passage: Passage) -> QuestionView:
    """One question as `passage_questions` shows it, for its own page and htmx block."""
    return passage_questions(membership=membership, passage=passage, question_pk=question.pk)[0]


def passage_questions(
    *, membership: Membership, passage: Passage, now=None, question_pk: int | None = None
) -> list[QuestionView]:
    """The group's questions on a passage with the answers this member may see.

    Where a question says "answer first", other members' answers are not even
    fetched until the member has answered; facilitators always see them all.
    """
    now = now or timezone.now()
    questions = list(
        _questions_with_answer_state(
            Question.objects.filter(group_id=membership.group_id)
            .for_passage(passage)
            .filter(**({"pk": question_pk} if question_pk else {})),
            membership.user,
        ).order_by("first_position", "order", "pk")
    )
    visible_ids = [
        q.pk for q in questions if permissions.may_see_answers(membership, q, answered=q.answered)
    ]
    comments_by_question: dict[int, list[Comment]] = {q.pk: [] for q in questions}
    if visible_ids:
        for comment in comments_for(membership=membership, question_ids=visible_ids):
            comments_by_question[comment.question_id].append(comment)
    views = []
    for question in questions:
        visible = question.pk in visible_ids
        thread = (
            build_thread(
                membership=membership,
                passage=passage,
                comments=comments_by_question[question.pk],
                last_seen=now,
            )
            if visible
            else None
        )
        if thread is not None:
            # Highlighted answers first, then in the order they came.
            thread.roots.sort(
                key=lambda n: (n.comment.highlighted_at is None, n.comment.created_at)
            )
        my_answer = next(
            (
                c
                for c in comments_by_question[question.pk]
                if c.author_id == membership.user_id and c.parent_id is None and not c.is_deleted
            ),
            None,
        )
        views.append(
            QuestionView(
                question=question,
                answered=question.answered,
                answer_count=question.answer_count,
                can_see_answers=visible,
                answers=thread.roots if thread else [],
                my_answer=my_answer,
                state=(
                    "facilitating"
                    if permissions.is_facilitator(membership) and not question.answered
                    else question_state(question, question.answered, now)
                ),
            )
        )
    return views


def questions_for_user(*, user, now=None) -> dict[str, list[Question]]:
    """The "my questions" list across all the user's groups, by state."""
    now = now or timezone.now()
    questions = (
        _questions_with_answer_state(
            # Only where the user is a member: facilitators assign questions, not answer them.
            Question.objects.filter(
                group__memberships__user=user, group__memberships__role=Membership.Role.MEMBER
            ),
            user,
        )
        .select_related("group__text")
        .order_by("group__name", "first_position", "order")
    )
    groups: dict[str, list[Question]] = {
        "overdue": [],
        "due_soon": [],
        "open": [],
        "answered": [],
        "closed": [],
    }
    for question in questions:
        state = question_state(question, question.answered, now)
        if state == "unanswered":
            due = question.due
            state = "due_soon" if due is not None and due - now <= DUE_SOON else "open"
        groups[state].append(question)
    return groups


def question_answer_overview(*, question: Question):
    """Per member of the group: their answer to this question, or None."""
    answers = {c.author_id: c for c in Comment.objects.answers().filter(question=question)}
    # Questions are assigned to members; facilitators ask them and are not listed.
    members = (
        Membership.objects.filter(group_id=question.group_id, role=Membership.Role.MEMBER)
        .select_related("user")
        .order_by("user__username")
    )
    return [(m, answers.get(m.user_id)) for m in members]


def member_outstanding(*, group, now=None):
    """Per member: assigned open questions not yet answered, and how many are overdue."""
    now = now or timezone.now()
    questions = list(Question.objects.filter(group=group).select_related("meeting", "group"))
    answered = set(
        Comment.objects.answers()
        .filter(question__group=group)
        .values_list("question_id", "author_id")
    )
    rows = []
    members = Membership.objects.filter(group=group, role=Membership.Role.MEMBER)
    for membership in members.select_related("user").order_by("user__username"):
        outstanding = [
            q for q in questions if not q.is_closed and (q.pk, membership.user_id) not in answered
        ]
        overdue = [q for q in outstanding if q.due is not None and q.due < now]
        rows.append(
            {
                "membership": membership,
                "outstanding": outstanding,
                "overdue": overdue,
                "answered": {q.pk for q in questions if (q.pk, membership.user_id) in answered},
            }
        )
    return rows, questions


# Who may read what, for single objects and emails ------------------------------


def has_answered(membership: Membership, question_id: int) -> bool:
    return (
        Comment.objects.answers()
        .filter(question_id=question_id, author_id=membership.user_id)
        .exists()
    )


def may_read(
    membership: Membership | None, comment: Comment, *, answered: bool | None = None
) -> bool:
    """Whether this member may read a comment or answer (and be told about it): the
    group, hidden-comment and answer-first rules of groups.permissions together.

    `answered` (has the member answered the comment's question) is looked up unless
    the caller already knows it."""
    if not permissions.may_view_group(membership) or comment.group_id != membership.group_id:
        return False
    if comment.is_hidden and not permissions.may_see_hidden_comment(membership, comment):
        return False
    if comment.question_id is None:
        return True
    question = comment.question
    if answered is None:
        answered = question.answer_first and has_answered(membership, question.pk)
    return permissions.may_see_answers(membership, question, answered=answered)


def notifications_for(*, user, limit: int = 100) -> list[Notification]:
    """The reader's latest notifications, leaving out any about writing they may no
    longer read (hidden since, or an answer under "answer first"); one query."""
    return list(
        readable_notifications(user).select_related(
            "actor",
            "comment__passage__text",
            "comment__group__text",
            "comment__question",
            "question__group",
            "question__meeting",
        )[:limit]
    )


def comment_notification_id(*, kind: str, comment_id: int, recipient_id: int) -> int | None:
    """The reply or mention notification an email is about (None if there is none)."""
    return (
        Notification.objects.filter(recipient_id=recipient_id, kind=kind, comment_id=comment_id)
        .values_list("pk", flat=True)
        .first()
    )


def question_notification_ids(*, question_id: int, kind: str, recipient_ids) -> dict[int, int]:
    """Per recipient, the question notification their email is about."""
    return dict(
        Notification.objects.filter(
            question_id=question_id,
            kind=kind,
            comment__isnull=True,
            recipient_id__in=recipient_ids,
        ).values_list("recipient_id", "pk")
    )


def notification_preference(user) -> NotificationPreference:
    """The reader's email settings: the saved ones, or the defaults, unsaved (they are
    stored when the reader changes them, services.preference_update)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def _time_zone_of(user_field: str) -> Subquery:
    """The reader's time zone name ("" or None: the site's), for annotating rows."""
    return Subquery(
        ReaderSettings.objects.filter(user=OuterRef(user_field)).values("time_zone")[:1]
    )


@dataclass(frozen=True)
class EmailRecipient:
    """A reader to email about a notification now."""

    user: object
    time_zone: str  # the reader's, "" for the site's: the email's times are in it


def email_recipients(*, kind: str, user_ids, group_id: int) -> list[EmailRecipient]:
    """Those of `user_ids` still in the group, with an email address, who allow emails
    about this kind of notification (NotificationPreference.SETTING_FOR_KIND; no saved
    settings: all allowed) one by one; readers of the daily digest get it there
    instead. One query however many."""
    declined = NotificationPreference.objects.filter(
        Q(**{NotificationPreference.SETTING_FOR_KIND[kind]: False})
        | Q(email_delivery=NotificationPreference.Delivery.DAILY),
        user=OuterRef("pk"),
    )
    users = (
        get_user_model()
        .objects.filter(pk__in=user_ids, memberships__group_id=group_id)
        .exclude(email="")
        .exclude(Exists(declined))
        .annotate(time_zone=_time_zone_of("pk"))
        .order_by("pk")
    )
    return [EmailRecipient(user=user, time_zone=user.time_zone or "") for user in users]


# The daily digest -------------------------------------------------------------------

# The digest goes out with the first run of `send_due_reminders` (hourly) at or after
# this hour of the reader's own day.
DIGEST_HOUR = 7
# A digest also lists what came in the hour before its window, unemailed: a reply
# whose email was still waiting in the queue when the reader chose the digest, say.
# Nothing is listed twice: what an email or digest listed is marked (emailed_at).
DIGEST_OVERLAP = timedelta(hours=1)
# The window of a first digest when there is no mark to start from.
FIRST_DIGEST_COVERS = timedelta(days=1)


def digest_due(*, sent_at: datetime | None, time_zone: str, now: datetime) -> bool:
    """Whether a reader's daily digest is due: it is DIGEST_HOUR or later in their time
    zone and none went out (nor did they choose the digest) earlier that local day."""
    zone = reader_zone(time_zone) or timezone.get_default_timezone()
    local_now = timezone.localtime(now, zone)
    if local_now.hour < DIGEST_HOUR:
        return False
    return sent_at is None or timezone.localtime(sent_at, zone).date() < local_now.date()


@dataclass(frozen=True)
class DigestReader:
    user_id: int
    sent_at: datetime | None  # the last digest (or when they chose it); None: never


def digest_readers_due(*, now: datetime) -> list[DigestReader]:
    """The readers of the daily digest, with an email address, whose digest is due;
    one query."""
    rows = (
        NotificationPreference.objects.filter(email_delivery=NotificationPreference.Delivery.DAILY)
        .exclude(user__email="")
        .annotate(time_zone=_time_zone_of("user"))
        .order_by("user_id")
        .values_list("user_id", "digest_sent_at", "time_zone")
    )
    return [
        DigestReader(user_id=user_id, sent_at=sent_at)
        for user_id, sent_at, time_zone in rows
        if digest_due(sent_at=sent_at, time_zone=time_zone or "", now=now)
    ]


@dataclass(frozen=True)
class DigestItem:
    notification: Notification
    excerpt: str  # the comment's or the question's first words, on one line


@dataclass(frozen=True)
class DigestGroup:
    group: object
    items: list[DigestItem]


@dataclass(frozen=True)
class Digest:
    """What a reader's daily digest lists, by group (by name), oldest first in each."""

    user: object
    time_zone: str  # the reader's, "" for the site's
    since: datetime
    groups: list[DigestGroup]

    @property
    def notification_ids(self) -> list[int]:
        return [item.notification.pk for row in self.groups for item in row.items]

    def only(self, notification_ids) -> "Digest":
        """The digest without the notifications not in `notification_ids` (another
        run is emailing them), nor the groups left empty."""
        keep = set(notification_ids)
        groups = [
            DigestGroup(group=row.group, items=items)
            for row in self.groups
            if (items := [i for i in row.items if i.notification.pk in keep])
        ]
        return replace(self, groups=groups)


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(100)


def daily_digest(*, user_id: int, since: datetime, until: datetime) -> Digest | None:
    """A reader's notifications from `since` (less DIGEST_OVERLAP) to `until` that no
    email listed yet, that they have not opened, of the kinds they want emailed, and
    that they may still read: in groups they still belong to, about comments not
    deleted nor hidden since, nor answers under "answer first" they may not see
    (Notification.objects.readable_by), nor questions they have answered since. None
    when the reader has no email address. Three queries however many notifications."""
    preference = (
        NotificationPreference.objects.select_related("user")
        .exclude(user__email="")
        .annotate(time_zone=_time_zone_of("user"))
        .filter(user_id=user_id)
        .first()
    )
    if preference is None:
        return None
    user = preference.user
    kinds = [
        kind for kind in NotificationPreference.SETTING_FOR_KIND if preference.wants_email(kind)
    ]
    answered = Comment.objects.answers().filter(author=user).values("question_id")
    notifications = (
        readable_notifications(user)
        .unread()
        .filter(
            kind__in=kinds,
            emailed_at__isnull=True,
            created_at__gt=since - DIGEST_OVERLAP,
            created_at__lte=until,
            comment__deleted_at__isnull=True,
        )
        .exclude(question_id__in=answered)
        .select_related(
            "actor",
            "comment__group",
            "comment__passage__text",
            "question__group",
            "question__meeting",
        )
        .order_by("created_at", "pk")
    )
    by_group: dict[int, DigestGroup] = {}
    for notification in notifications:
        about = notification.comment or notification.question
        row = by_group.setdefault(about.group_id, DigestGroup(group=about.group, items=[]))
        text = notification.comment.plain_body if notification.comment else about.body
        row.items.append(DigestItem(notification=notification, excerpt=_excerpt(text)))
    return Digest(
        user=user,
        time_zone=preference.time_zone or "",
        since=since,
        groups=sorted(by_group.values(), key=lambda row: (row.group.name, row.group.pk)),
    )


# Meetings -------------------------------------------------------------------------

# How many threads the meeting page lists as most active, and as waiting for a reply.
MEETING_THREADS = 5


@dataclass(frozen=True)
class MeetingQuestion:
    """A question set for a meeting or on its passages, with the answers a facilitator
    highlighted (only when this member may see the answers)."""

    question: Question
    answered: bool
    answer_count: int
    highlighted: list[Comment]


@dataclass(frozen=True)
class MeetingThreadRow:
    """A top-level comment on the meeting's passages, with its visible replies."""

    comment: Comment
    reply_count: int
    on_handout: bool


def _meeting_questions_queryset(meeting: Meeting):
    return Question.objects.filter(group_id=meeting.group_id).filter(
        Q(meeting=meeting)
        | Q(first_position__lte=meeting.last_position, last_position__gte=meeting.first_position)
    )


def meeting_questions(
    *, membership: Membership, meeting: Meeting, printable: bool = False
) -> list[MeetingQuestion]:
    """Questions set for the meeting or on its passages, each with its highlighted answers
    (for the printed handout, `printable`, never hidden ones: as its threads)."""
    questions = list(
        _questions_with_answer_state(
            _meeting_questions_queryset(meeting), membership.user
        ).order_by("first_position", "order", "pk")
    )
    visible = [
        q.pk for q in questions if permissions.may_see_answers(membership, q, answered=q.answered)
    ]
    highlighted: dict[int, list[Comment]] = {q.pk: [] for q in questions}
    if visible:
        answers = (
            Comment.objects.answers()
            .filter(question_id__in=visible, highlighted_at__isnull=False)
            .visible_to(membership)
            .select_related("author")
            .order_by("highlighted_at", "pk")
        )
        if printable:
            answers = answers.filter(hidden_at__isnull=True)
        for answer in answers:
            highlighted[answer.question_id].append(answer)
    return [
        MeetingQuestion(
            question=q,
            answered=q.answered,
            answer_count=q.answer_count,
            highlighted=highlighted[q.pk],
        )
        for q in questions
    ]


@dataclass(frozen=True)
class MeetingAnswers:
    """The open questions due for a meeting (those the meeting's page lists, closed ones
    left out: they take no answers) and how many of them each author has answered."""

    questions_due: int
    answered_by: dict[int, int]  # author id -> answers to those questions (not deleted)


def meeting_answers(*, meeting: Meeting) -> MeetingAnswers:
    """Two queries, however many members and answers."""
    due = _meeting_questions_queryset(meeting).open()
    answered = (
        Comment.objects.answers()
        .filter(question__in=due)
        .order_by()
        .values("author_id")
        .annotate(answered=Count("question_id", distinct=True))
        .values_list("author_id", "answered")
    )
    return MeetingAnswers(questions_due=due.count(), answered_by=dict(answered))


def _meeting_roots(membership: Membership, meeting: Meeting):
    """Top-level comments on the meeting's passages that this member may see, with the
    number of replies they may see."""
    replies = (
        Comment.objects.filter(root_id=OuterRef("pk"), deleted_at__isnull=True)
        .visible_to(membership)
        .order_by()
        .values("root_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    on_handout = HandoutThread.objects.filter(meeting=meeting, comment=OuterRef("pk"))
    return (
        Comment.objects.discussion()
        .filter(
            group_id=membership.group_id,
            parent__isnull=True,
            deleted_at__isnull=True,
            passage__position__gte=meeting.first_position,
            passage__position__lte=meeting.last_position,
        )
        .visible_to(membership)
        .select_related("author", "passage")
        .annotate(
            reply_count=Coalesce(Subquery(replies, output_field=IntegerField()), 0),
            on_handout=Exists(on_handout),
        )
    )


def _thread_rows(comments) -> list[MeetingThreadRow]:
    return [
        MeetingThreadRow(comment=c, reply_count=c.reply_count, on_handout=c.on_handout)
        for c in comments
    ]


def meeting_threads(
    *, membership: Membership, meeting: Meeting
) -> tuple[list[MeetingThreadRow], list[MeetingThreadRow]]:
    """The most active threads on the meeting's passages, and those nobody answered yet."""
    roots = _meeting_roots(membership, meeting)
    active = roots.filter(reply_count__gt=0).order_by("-reply_count", "-created_at", "-pk")
    waiting = roots.filter(reply_count=0).order_by("-created_at", "-pk")
    return (
        _thread_rows(active[:MEETING_THREADS]),
        _thread_rows(waiting[:MEETING_THREADS]),
    )


def handout_candidates(*, membership: Membership, meeting: Meeting) -> list[MeetingThreadRow]:
    """Every thread on the meeting's passages a facilitator may put on the handout,
    most active first."""
    roots = _meeting_roots(membership, meeting).filter(hidden_at__isnull=True)
    return _thread_rows(roots.order_by("passage__position", "-reply_count", "created_at", "pk"))


@dataclass(frozen=True)
class HandoutReply:
    comment: Comment
    depth: int  # 1 under the thread's first comment


@dataclass(frozen=True)
class HandoutThreadView:
    root: Comment
    replies: list[HandoutReply]  # in thread order


def handout_threads(*, membership: Membership, meeting: Meeting) -> list[HandoutThreadView]:
    """The threads chosen for the handout, whole, as this member may read them; hidden
    comments are never printed, nor threads on passages the meeting no longer covers."""
    root_ids = list(
        HandoutThread.objects.filter(
            meeting=meeting,
            comment__passage__position__gte=meeting.first_position,
            comment__passage__position__lte=meeting.last_position,
        ).values_list("comment_id", flat=True)
    )
    if not root_ids:
        return []
    comments = list(
        Comment.objects.filter(
            Q(pk__in=root_ids) | Q(root_id__in=root_ids),
            group_id=membership.group_id,
            hidden_at__isnull=True,
        )
        .visible_to(membership)
        .select_related("author", "passage")
        .order_by("created_at", "pk")
    )
    by_parent: dict[int | None, list[Comment]] = {}
    for comment in comments:
        by_parent.setdefault(comment.parent_id, []).append(comment)
    # A deleted reply is printed only to keep the shape of replies under it.
    kept: set[int] = set()
    for comment in reversed(comments):  # replies come after their parents
        if comment.deleted_at is None or any(c.pk in kept for c in by_parent.get(comment.pk, [])):
            kept.add(comment.pk)
    views = []
    for root in sorted(
        (c for c in comments if c.pk in root_ids and c.deleted_at is None),
        key=lambda c: (c.passage.position or 0, c.created_at, c.pk),
    ):
        replies: list[HandoutReply] = []
        stack = [(child, 1) for child in reversed(by_parent.get(root.pk, [])) if child.pk in kept]
        while stack:
            comment, depth = stack.pop()
            replies.append(HandoutReply(comment=comment, depth=depth))
            stack.extend(
                (child, depth + 1)
                for child in reversed(by_parent.get(comment.pk, []))
                if child.pk in kept
            )
        views.append(HandoutThreadView(root=root, replies=replies))
    return views


# At a glance: aggregates for the facilitator's grid, the group's chart, the contents
# page and a reader's own page ----------------------------------------------------------


def commented_cells(*, membership: Membership, passage_ids) -> set[tuple[int, int]]:
    """(author id, passage id) where the author has a comment (not deleted) in this
    group's discussion of the passage, as far as this member may see; one query."""
    return set(
        Comment.objects.discussion()
        .filter(group_id=membership.group_id, passage_id__in=passage_ids, deleted_at__isnull=True)
        .visible_to(membership)
        .values_list("author_id", "passage_id")
        .distinct()
    )


def answered_ranges(
    *, membership: Membership, first_position: int, last_position: int
) -> set[tuple[int, int, int]]:
    """(author id, first position, last position) of each question overlapping the
    positions that the author has answered (an answer not deleted); one query."""
    return set(
        Comment.objects.answers()
        .filter(
            group_id=membership.group_id,
            question__first_position__lte=last_position,
            question__last_position__gte=first_position,
        )
        .visible_to(membership)
        .values_list("author_id", "question__first_position", "question__last_position")
        .distinct()
    )


def comments_per_week(*, group_id: int, since: datetime) -> dict:
    """Comments, answers and replies written in the group per week (date_trunc('week'),
    current time zone) from `since`, deleted ones left out."""
    rows = (
        Comment.objects.filter(group_id=group_id, created_at__gte=since, deleted_at__isnull=True)
        .annotate(week=TruncWeek("created_at", output_field=DateField()))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["week"]: row["n"] for row in rows}


@dataclass(frozen=True)
class PassageActivity:
    comments: int
    open_questions: int


def passage_activity(
    *, membership: Membership, text_id: int, positions: list[int]
) -> dict[int, PassageActivity]:
    """Per passage position: the comments of the group's discussion this member sees
    (not deleted) and the group's open questions on it; one query."""
    comments = (
        _counted_comments(membership, OuterRef("pk"))
        .order_by()
        .values("passage")
        .annotate(n=Count("*"))
        .values("n")
    )
    questions = (
        Question.objects.open()
        .filter(
            group_id=membership.group_id,
            first_position__lte=OuterRef("position"),
            last_position__gte=OuterRef("position"),
        )
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Passage.objects.filter(text_id=text_id, position__in=positions)
        .annotate(
            comment_count=Coalesce(Subquery(comments, output_field=IntegerField()), 0),
            question_count=Coalesce(Subquery(questions, output_field=IntegerField()), 0),
        )
        .values_list("position", "comment_count", "question_count")
    )
    return {position: PassageActivity(c, q) for position, c, q in rows}


@dataclass(frozen=True)
class MyComment:
    comment: Comment
    replies: list[Comment]


def my_recent_comments(*, user, limit: int = 10) -> list[MyComment]:
    """The reader's latest comments and answers (not deleted) in groups they belong to,
    each with the replies to it they may read (hidden and "answer first" rules of
    groups.permissions, across groups); two queries."""
    facilitated = Membership.objects.filter(user=user, role=Membership.Role.FACILITATOR).values(
        "group_id"
    )
    answered = Comment.objects.answers().filter(author=user).values("question_id")
    readable = permissions.hidden_comment_filter_across_groups(
        user.pk, facilitated
    ) & permissions.answers_filter_across_groups(facilitated, answered)
    mine = list(
        Comment.objects.filter(
            author=user,
            deleted_at__isnull=True,
            group_id__in=Membership.objects.filter(user=user).values("group_id"),
        )
        .filter(readable)
        .select_related("group__text", "passage", "question")
        .order_by("-created_at", "-pk")[:limit]
    )
    replies: dict[int, list[Comment]] = {c.pk: [] for c in mine}
    if mine:
        for reply in (
            Comment.objects.filter(parent_id__in=list(replies), deleted_at__isnull=True)
            .exclude(author=user)
            .filter(readable)
            .select_related("author", "group")
            .order_by("created_at", "pk")
        ):
            replies[reply.parent_id].append(reply)
    return [MyComment(comment=c, replies=replies[c.pk]) for c in mine]


@dataclass(frozen=True)
class ReminderRecipient:
    """A member to remind of a meeting, with the meeting's passages they have not read."""

    user: object
    unread: list[Passage]
    time_zone: str  # the reader's, "" for the site's


def meeting_reminder_recipients(
    *, meeting: Meeting, user_ids: list[int]
) -> list[ReminderRecipient]:
    """Those of `user_ids` still in the meeting's group, with an email address, who want
    meeting reminders; two queries however many members."""
    opted_out = NotificationPreference.objects.filter(user=OuterRef("user"), email_meetings=False)
    members = list(
        Membership.objects.filter(group_id=meeting.group_id, user_id__in=user_ids)
        .exclude(user__email="")
        .exclude(Exists(opted_out))
        .select_related("user")
        .annotate(time_zone=_time_zone_of("user"))
        .order_by("user_id")
    )
    passages = list(
        Passage.objects.filter(
            text_id=meeting.group.text_id,
            position__gte=meeting.first_position,
            position__lte=meeting.last_position,
        ).order_by("position")
    )
    read = set(
        ReadingProgress.objects.filter(
            reader_id__in=[m.user_id for m in members], passage__in=passages
        ).values_list("reader_id", "passage_id")
    )
    return [
        ReminderRecipient(
            user=member.user,
            unread=[p for p in passages if (member.user_id, p.pk) not in read],
            time_zone=member.time_zone or "",
        )
        for member in members
    ]
