"""How `_comment.html` renders comments: `{% comment_tree %}` gives the flat steps of a
thread, and `{% comment_variant node membership oob as variant %}` everything a
comment's own part (`_comment.html#self`) depends on, as the key of its `{% cache %}`
block.

Rendering was most of a discussion page's time (about 1 ms a comment); each variant of
a comment is now rendered once per worker and then read from the fragment cache. A
change to anything listed here is a new key, so nothing is ever cleared by hand:
services bump `updated_at` on every visible change of the comment itself (edit, hide,
pin, helpful mark, re-anchoring...), and the rest is the reader's side of it. The part
holds no per-request secret: its buttons submit the page's one form (`post-action`).
Anything the part starts to show must be added here; the tests that render
each kind of comment, for each kind of reader, with and without the cache guard it."""

from django import template
from django.utils import timezone

from discussions import selectors
from groups import permissions
from groups.templatetags.study_groups import ago_key

register = template.Library()

# The rules the part asks with `{% permitted %}`, about this reader and this comment.
FRAGMENT_RULES = ("may_mark_helpful", "may_edit_comment", "may_reply", "may_reattach_quote")


@register.simple_tag(takes_context=True)
def comment_variant(context, node, membership, oob=False) -> str:
    comment = node.comment
    user = context.get("user")
    group = context.get("group")
    allowed = "".join(
        "1" if permissions.permitted(rule, membership, comment) else "0" for rule in FRAGMENT_RULES
    )
    parts = (
        comment.pk,
        comment.updated_at.isoformat() if comment.updated_at else "",
        comment.author.username if comment.author_id else "",
        getattr(comment, "helpful_count", ""),
        getattr(comment, "marked_helpful", ""),
        node.depth,
        node.is_new,
        node.show_body,
        node.placeholder,
        node.detached,
        node.parent_author.username if node.parent_author else "",
        # The reader: whether it is their own comment, their role, what they may do.
        user is not None and comment.author_id == user.pk,
        membership.role if membership else "",
        allowed,
        group.slug if group else "",
        # Times: as words relative to now, and dates in the reader's time zone.
        ago_key(comment.created_at),
        ago_key(comment.edited_at),
        timezone.get_current_timezone_name(),
        bool(oob),
    )
    return ":".join(str(part) for part in parts)


@register.simple_tag
def comment_tree(node, expanded=False) -> list[selectors.TreeStep]:
    """`{% comment_tree node expanded as steps %}`: the flat steps `_comment.html` renders
    a comment and its replies from (see selectors.tree_steps)."""
    return selectors.tree_steps(node, expanded=bool(expanded))
