"""The discussion beside a passage, as one typed value for the passage page."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.safestring import SafeString

from discussions import selectors
from discussions.forms import AnswerForm, CommentForm
from groups.models import Membership
from reading.models import Passage


def parse_shown(value) -> int:
    try:
        shown = int(value)
    except (TypeError, ValueError):
        return selectors.THREADS_PER_PAGE
    return max(selectors.THREADS_PER_PAGE, min(shown, 100_000))


@dataclass(frozen=True)
class QuestionBlock:
    """A question beside the passage with the member's answer form."""

    view: selectors.QuestionView
    answer_form: AnswerForm


def poll_since(version: selectors.ThreadVersion) -> int:
    """The discussion's latest change as the poll carries it (microseconds since 1970)."""
    return int(version.changed_at.timestamp() * 1_000_000) if version.changed_at else 0


@dataclass(frozen=True)
class PassageDiscussion:
    """What the discussion region of a passage page shows one member."""

    threads: list[selectors.Node]  # the top-level threads shown, pinned first
    more_threads: int
    next_shown: int
    shown: int
    comment_form: CommentForm
    passage_html: SafeString  # the passage with quoted phrases highlighted
    poll_seconds: int
    poll_after: int  # the newest comment when the page was made
    poll_since: int  # and the latest change (see poll_since)
    question_blocks: list[QuestionBlock]
    comment_count: int


def passage_discussion(
    *,
    membership: Membership,
    passage: Passage,
    last_seen,
    shown=None,
    comment_form: CommentForm | None = None,
) -> PassageDiscussion:
    shown = parse_shown(shown)
    page = selectors.thread_page(
        membership=membership, passage=passage, stop=shown, last_seen=last_seen
    )
    # A discussion nobody has written in yet has no quotes and nothing to count.
    empty = page.version.is_empty
    anchors = [] if empty else selectors.passage_anchors(membership=membership, passage=passage)
    return PassageDiscussion(
        threads=page.threads,
        more_threads=max(0, page.thread_count - shown),
        next_shown=shown + selectors.THREADS_PER_PAGE,
        shown=shown,
        comment_form=comment_form or CommentForm(),
        passage_html=selectors.highlighted_body(passage, anchors),
        poll_seconds=settings.DISCUSSION_POLL_SECONDS,
        poll_after=page.version.last_id,
        poll_since=poll_since(page.version),
        question_blocks=[
            QuestionBlock(
                view=view,
                answer_form=AnswerForm(question_id=view.question.pk, my_answer=view.my_answer),
            )
            for view in selectors.passage_questions(membership=membership, passage=passage)
        ],
        comment_count=(
            0 if empty else selectors.discussion_count(membership=membership, passage=passage)
        ),
    )
