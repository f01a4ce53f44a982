"""The discussion beside a passage, as template context for the passage page."""

from dataclasses import dataclass

from django.conf import settings

from discussions import selectors, services
from discussions.forms import AnswerForm, CommentForm


@dataclass(frozen=True)
class QuestionBlock:
    """A question beside the passage with the member's answer form."""

    view: selectors.QuestionView
    answer_form: AnswerForm


def parse_shown(value) -> int:
    try:
        shown = int(value)
    except (TypeError, ValueError):
        return selectors.THREADS_PER_PAGE
    return max(selectors.THREADS_PER_PAGE, min(shown, 100_000))


def discussion_context(request, membership, passage, *, comment_form=None, shown=None) -> dict:
    last_seen = services.passage_visit_record(
        user=request.user, group=membership.group, passage=passage
    )
    thread = selectors.passage_thread(membership=membership, passage=passage, last_seen=last_seen)
    shown = parse_shown(shown if shown is not None else request.GET.get("shown"))
    return {
        "thread": thread,
        "threads": thread.page(shown),
        "more_threads": max(0, len(thread.roots) - shown),
        "next_shown": shown + selectors.THREADS_PER_PAGE,
        "shown": shown,
        "comment_form": comment_form or CommentForm(),
        "passage_html": selectors.highlighted_body(passage, thread),
        "poll_seconds": settings.DISCUSSION_POLL_SECONDS,
        "question_blocks": [
            QuestionBlock(
                view=view,
                answer_form=AnswerForm(question_id=view.question.pk, my_answer=view.my_answer),
            )
            for view in selectors.passage_questions(membership=membership, passage=passage)
        ],
        "comment_count": thread.visible_count,
    }
