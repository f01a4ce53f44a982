"""Who may see or do what: every access rule of sectstudy, each one named predicate.

Rules are about a reader's membership of a study group, so they live in the app
that owns memberships. Each predicate takes the acting member's Membership
(None for someone outside the group) and, where the rule is about a thing, that
thing. Views, selectors, services, templates (``{% permitted %}``) and emails all
ask these functions; nothing else decides. The rules about discussion objects
read only their fields (``author_id``, ``hidden_at``, ``answer_first``...), so this
module needs nothing from the apps above groups.

Where a rule must also run inside a query (a thread, a count, a search), its SQL
twin sits right beside it and a test checks that the two agree.

Outsiders never reach these rules for group content: lookups go through the
membership and answer 404 first, so existence does not leak (``groups.access``).
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from groups.models import Membership

RULES: dict[str, Callable[..., bool]] = {}


def rule(predicate: Callable[..., bool]) -> Callable[..., bool]:
    """Register a predicate under its name, for templates and `require`."""
    RULES[predicate.__name__] = predicate
    return predicate


def permitted(name: str, membership, *args, **kwargs) -> bool:
    return RULES[name](membership, *args, **kwargs)


def require(predicate: Callable[..., bool], membership, *args, message: str = "", **kwargs):
    """Raise PermissionDenied (403) unless the rule allows it; services call this too."""
    if not predicate(membership, *args, **kwargs):
        raise PermissionDenied(message or "You may not do this in this group.")


# Groups -----------------------------------------------------------------------


@rule
def may_view_group(membership) -> bool:
    """Everything in a group is for its members only."""
    return membership is not None


@rule
def is_facilitator(membership) -> bool:
    return membership is not None and membership.role == Membership.Role.FACILITATOR


@rule
def may_manage_group(membership) -> bool:
    """Edit the name, manage the invitation link, members' roles and meetings.

    A private notebook has one reader and none of these."""
    return is_facilitator(membership) and not membership.group.is_notebook


@rule
def may_leave_group(membership) -> bool:
    """Any member may leave a shared group (if another facilitator stays); nobody
    leaves their own notebook."""
    return membership is not None and not membership.group.is_notebook


@rule
def may_remove_member(membership, target) -> bool:
    """Facilitators remove members; a member removes only themselves (leaving)."""
    if membership is None or target.group_id != membership.group_id:
        return False
    if target.pk == membership.pk:
        return may_leave_group(membership)
    return may_manage_group(membership)


@rule
def may_see_progress_of_members(membership) -> bool:
    """Who has read and answered what: for facilitators."""
    return is_facilitator(membership)


@rule
def may_export_discussion(membership) -> bool:
    """Download the group's discussion (Markdown, CSV): what the member sees on the
    pages, under the same rules (hidden comments, answer first). A notebook's owner
    exports their notes the same way."""
    return may_view_group(membership)


@rule
def may_export_group(membership) -> bool:
    """Download the whole group as a JSON backup (everyone's writing, hidden comments,
    answers under "answer first", members' progress): for facilitators of a shared
    group, who see all of it on the pages already."""
    return may_manage_group(membership)


# Discussions -----------------------------------------------------------------


@rule
def may_comment(membership) -> bool:
    return membership is not None


@rule
def may_moderate(membership) -> bool:
    """Hide, unhide and pin comments; highlight answers."""
    return is_facilitator(membership)


@rule
def may_see_hidden_comment(membership, comment) -> bool:
    """A comment hidden by a facilitator stays visible to facilitators and its author."""
    return is_facilitator(membership) or (
        membership is not None and comment.author_id == membership.user_id
    )


def hidden_comment_filter(membership) -> Q:
    """SQL twin of may_see_hidden_comment: the comments whose body this member sees."""
    if is_facilitator(membership):
        return Q()
    return Q(hidden_at__isnull=True) | Q(author_id=membership.user_id)


def _on(prefix: str, **lookups) -> Q:
    return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})


def hidden_comment_filter_across_groups(user_id, facilitated_group_ids, *, prefix="") -> Q:
    """SQL twin of may_see_hidden_comment for comments of all a reader's groups at once
    (their notifications): `facilitated_group_ids` is a subquery of the groups they
    facilitate; `prefix` reaches the comment from another model (``"comment__"``)."""
    return (
        _on(prefix, hidden_at__isnull=True)
        | _on(prefix, author_id=user_id)
        | _on(prefix, group_id__in=facilitated_group_ids)
    )


@rule
def may_edit_comment(membership, comment) -> bool:
    """Authors edit and delete their own writing (comments and answers) until deleted."""
    return (
        membership is not None
        and comment.author_id == membership.user_id
        and comment.deleted_at is None
    )


@rule
def may_reattach_quote(membership, comment) -> bool:
    """A quote a revision detached (nothing close to its words remained) is re-attached
    to new words by the comment's author or a facilitator."""
    return (
        membership is not None
        and comment.quote_detached_at is not None
        and comment.deleted_at is None
        and (comment.author_id == membership.user_id or is_facilitator(membership))
    )


@rule
def may_reply(membership, comment) -> bool:
    """Replies go to comments that still stand, on passages still in the text (a passage
    a revision removed keeps its discussion, read-only), and not below the deepest
    depth a thread can have."""
    return (
        may_comment(membership)
        and comment.deleted_at is None
        and comment.passage.removed_at is None
        and not comment.at_deepest
    )


@rule
def may_mark_helpful(membership, comment) -> bool:
    """Others' comments, not one's own, and not deleted ones."""
    return (
        membership is not None
        and comment.author_id != membership.user_id
        and comment.deleted_at is None
    )


# Questions and answers ---------------------------------------------------------


@rule
def may_manage_questions(membership) -> bool:
    """Add, edit, order, close and delete reading questions. A notebook has none."""
    return is_facilitator(membership) and not membership.group.is_notebook


@rule
def may_answer(membership, question) -> bool:
    """Members answer their group's questions while they are open."""
    return (
        membership is not None
        and question.group_id == membership.group_id
        and question.closed_at is None
    )


@rule
def may_see_answers(membership, question, *, answered: bool) -> bool:
    """ "Answer first": a member sees the others' answers (and the threads under
    them) only after answering; facilitators always see them all.

    `answered`: whether this member has a (not deleted) answer to the question."""
    if membership is None:
        return False
    return not question.answer_first or is_facilitator(membership) or answered


def answers_filter(membership, answered_question_ids) -> Q:
    """SQL twin of may_see_answers for comments: discussion comments, and answer
    threads of questions this member may see. `answered_question_ids` is a
    subquery or list of the questions the member has answered."""
    if is_facilitator(membership):
        return Q()
    return (
        Q(question__isnull=True)
        | Q(question__answer_first=False)
        | Q(question_id__in=answered_question_ids)
    )


def answers_filter_across_groups(
    facilitated_group_ids, answered_question_ids, *, prefix: str = ""
) -> Q:
    """SQL twin of may_see_answers for comments of all a reader's groups at once, as
    hidden_comment_filter_across_groups."""
    return (
        _on(prefix, question__isnull=True)
        | _on(prefix, question__answer_first=False)
        | _on(prefix, group_id__in=facilitated_group_ids)
        | _on(prefix, question_id__in=answered_question_ids)
    )
