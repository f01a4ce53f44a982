"""Reads for discussions: one query for a passage's comments, the tree built in Python."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from discussions.anchoring import highlight, locate
from discussions.models import Comment, HelpfulMark, Notification, PassageVisit
from reading.models import Membership, Passage

THREADS_PER_PAGE = 20
REPLIES_SHOWN = 5
MAX_NESTED_DEPTH = 8
INDENT_LEVELS = 4


@dataclass
class Node:
    comment: Comment
    depth: int = 0
    children: list["Node"] = field(default_factory=list)
    is_new: bool = False
    show_body: bool = True
    placeholder: str = ""
    detached: bool = False

    @property
    def indent(self) -> int:
        return min(self.depth, INDENT_LEVELS)

    @property
    def shown_children(self) -> list["Node"]:
        return self.children[:REPLIES_SHOWN]

    @property
    def hidden_children_count(self) -> int:
        return max(0, len(self.children) - REPLIES_SHOWN)

    @property
    def descendant_count(self) -> int:
        return sum(1 + child.descendant_count for child in self.children)

    @property
    def nested_too_deep(self) -> bool:
        return self.depth >= MAX_NESTED_DEPTH and bool(self.children)

    @property
    def parent_author(self):
        parent = getattr(self.comment, "parent_node", None)
        return parent.comment.author if parent else None


@dataclass
class Thread:
    roots: list[Node]
    by_id: dict[int, Node]
    anchors: list[tuple[int, int, int]]
    last_comment_id: int

    def page(self, shown: int) -> list[Node]:
        return self.roots[:shown]


def comments_for(*, membership: Membership, passage: Passage):
    user = membership.user
    return (
        Comment.objects.filter(group_id=membership.group_id, passage=passage)
        .select_related("author", "hidden_by")
        .annotate(
            helpful_count=Count("helpful_marks", distinct=True),
            marked_helpful=Exists(HelpfulMark.objects.filter(comment=OuterRef("pk"), user=user)),
        )
        .order_by("created_at", "pk")
    )


def build_thread(
    *, membership: Membership, passage: Passage, comments, last_seen: datetime | None
) -> Thread:
    """Arrange comments into a tree, applying what this member may see."""
    user_id = membership.user_id
    can_moderate = membership.is_facilitator
    nodes: dict[int, Node] = {}
    for comment in comments:
        node = Node(comment=comment)
        node.is_new = comment.author_id != user_id and (
            last_seen is None or comment.created_at > last_seen
        )
        if comment.is_hidden and not can_moderate and comment.author_id != user_id:
            # Hidden comments are never sent to members, only a placeholder if needed.
            node.show_body = False
            node.placeholder = "Hidden by a facilitator."
            node.is_new = False
        if comment.is_deleted:
            node.show_body = False
            node.placeholder = "This comment was deleted."
            node.is_new = False
        nodes[comment.pk] = node

    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            node.comment.parent_node = parent
            parent.children.append(node)

    def prune(children: list[Node]) -> list[Node]:
        # Placeholders without replies are dropped: nothing to keep the shape of.
        kept = []
        for child in children:
            child.children = prune(child.children)
            if child.show_body or child.children:
                kept.append(child)
        return kept

    roots = prune(roots)

    def set_depth(node_list: list[Node], depth: int) -> None:
        for node in node_list:
            node.depth = depth
            set_depth(node.children, depth + 1)

    set_depth(roots, 0)
    roots.sort(key=lambda n: (n.comment.pinned_at is None, n.comment.pinned_at or n.comment.created_at, n.comment.pk))

    anchors = []
    for node in roots:
        comment = node.comment
        if comment.has_quote and node.show_body:
            found = locate(
                passage.body,
                exact=comment.quote_exact,
                prefix=comment.quote_prefix,
                suffix=comment.quote_suffix,
                start=comment.quote_start,
            )
            if found is None:
                node.detached = True
            else:
                anchors.append((found[0], found[1], comment.pk))
    return Thread(
        roots=roots,
        by_id=nodes,
        anchors=anchors,
        last_comment_id=max(nodes, default=0),
    )


def passage_thread(*, membership: Membership, passage: Passage, last_seen=None) -> Thread:
    return build_thread(
        membership=membership,
        passage=passage,
        comments=comments_for(membership=membership, passage=passage),
        last_seen=last_seen,
    )


def highlighted_body(passage: Passage, thread: Thread | None):
    return highlight(passage.body, thread.anchors if thread else [])


def thread_version(*, group_id: int, passage_id: int) -> str:
    """A cheap fingerprint of a discussion: changes when anything in it changes."""
    stats = Comment.objects.filter(group_id=group_id, passage_id=passage_id).aggregate(
        count=Count("pk"),
        last_id=Coalesce(Max("pk"), Value(0)),
        last_change=Max(
            Coalesce("edited_at", "created_at")
        ),
        last_deleted=Max("deleted_at"),
        last_hidden=Max("hidden_at"),
        last_pinned=Max("pinned_at"),
    )
    parts = [str(stats["count"]), str(stats["last_id"])]
    for key in ("last_change", "last_deleted", "last_hidden", "last_pinned"):
        parts.append(stats[key].isoformat() if stats[key] else "-")
    return "/".join(parts)


def new_comment_counts(*, user, group_id: int, text_id: int) -> dict[int, int]:
    """Per passage of a text, how many comments in this group are new for this reader."""
    last_seen = PassageVisit.objects.filter(
        user=user, group_id=group_id, passage=OuterRef("passage")
    ).values("last_seen_at")[:1]
    rows = (
        Comment.objects.filter(
            group_id=group_id,
            passage__text_id=text_id,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
        )
        .exclude(author=user)
        .annotate(last_seen=Subquery(last_seen))
        .filter(Q(last_seen__isnull=True) | Q(created_at__gt=F("last_seen")))
        .values("passage__position")
        .annotate(n=Count("pk", output_field=IntegerField()))
    )
    return {row["passage__position"]: row["n"] for row in rows}


def unread_notification_count(user) -> int:
    return Notification.objects.filter(recipient=user).unread().count()
