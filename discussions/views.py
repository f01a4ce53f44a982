from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discussions import selectors, services
from discussions.context import parse_shown
from discussions.forms import (
    AnswerForm,
    CommentEditForm,
    CommentForm,
    HideForm,
    MoveForm,
    NotificationPreferenceForm,
    QuestionDeleteForm,
    QuestionForm,
    ToggleForm,
)
from discussions.models import Comment, Notification, NotificationPreference, Question
from groups.access import membership_or_404
from reading.models import Passage
from pages.views import render_passage_page
from sectstudy.http import HtmxHttpRequest


def _group_passage_or_404(membership, position: int) -> Passage:
    return get_object_or_404(
        Passage.objects.select_related("text"), text_id=membership.group.text_id, position=position
    )


def _comment_or_404(membership, comment_pk: int) -> Comment:
    """A comment of the member's group; hidden ones only for facilitators and their author."""
    comment = get_object_or_404(
        Comment.objects.select_related(
            "author", "passage__text", "group", "parent__author", "question"
        ),
        pk=comment_pk,
        group_id=membership.group_id,
    )
    if (
        comment.is_hidden
        and not membership.is_facilitator
        and comment.author_id != membership.user_id
    ):
        raise_not_found()
    if comment.question_id and not _may_see_answers(membership, comment.question):
        raise_not_found()
    return comment


def _may_see_answers(membership, question: Question) -> bool:
    """ "Answer first": others' answers stay out of reach until the member has answered."""
    if not question.answer_first or membership.is_facilitator:
        return True
    return Comment.objects.filter(
        question=question,
        author_id=membership.user_id,
        parent__isnull=True,
        deleted_at__isnull=True,
    ).exists()


def raise_not_found():
    from django.http import Http404

    raise Http404("No such comment.")


def _discussion_url(comment_or_passage, group, anchor: str = "") -> str:
    passage = (
        comment_or_passage
        if isinstance(comment_or_passage, Passage)
        else comment_or_passage.passage
    )
    url = f"{passage.get_absolute_url()}?group={group.slug}"
    return f"{url}#{anchor}" if anchor else url


def _node_for(membership, comment: Comment):
    """The comment as it appears in its thread for this member (with replies, marks, state)."""
    if comment.question_id:
        thread = selectors.question_thread(
            membership=membership, question=comment.question, passage=comment.passage
        )
    else:
        thread = selectors.passage_thread(
            membership=membership, passage=comment.passage, last_seen=None
        )
    node = thread.by_id.get(comment.pk)
    if node is not None:
        node.is_new = False
    return node, thread


def _render_node(request, membership, comment: Comment, template="discussions/_comment.html"):
    node, thread = _node_for(membership, comment)
    if node is None:
        return HttpResponse("")  # deleted outright: htmx removes the element
    return render(
        request,
        template,
        {
            "node": node,
            "membership": membership,
            "group": membership.group,
            "can_moderate": membership.is_facilitator,
            # The discussion's heading count, refreshed out of band (not for answer threads).
            "comment_count": None if comment.question_id else thread.visible_count,
        },
    )


@login_required
@require_POST
def comment_create(request: HtmxHttpRequest, group_slug: str, position: int):
    membership = membership_or_404(request, group_slug)
    passage = _group_passage_or_404(membership, position)
    form = CommentForm(request.POST)
    parent = None
    if form.is_valid():
        if form.cleaned_data["parent"]:
            parent = _comment_or_404(membership, form.cleaned_data["parent"])
        try:
            comment = services.comment_create(
                author=request.user,
                group=membership.group,
                passage=passage,
                body=form.cleaned_data["body"],
                parent=parent,
                quote=form.cleaned_data["quote"],
                quote_start=form.cleaned_data["quote_start"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if request.htmx:
                response = _render_node(request, membership, comment, "discussions/_posted.html")
                response["HX-Trigger"] = "comment-posted"
                return response
            messages.success(request, "Your comment is posted.")
            return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))
    if form.data.get("parent"):
        return _render_reply_page(
            request, membership, form.data.get("parent"), form, status=200 if request.htmx else 422
        )
    if request.htmx:
        response = render(
            request,
            "discussions/_comment_form.html",
            {"comment_form": form, "group": membership.group, "passage": passage},
        )
        return _retarget(response, "#comment-form")
    return render_passage_page(
        request, passage, membership=membership, discussion={"comment_form": form}, status=422
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _retarget(response, selector: str):
    """An htmx form with errors replaces itself rather than its success target."""
    response["HX-Retarget"] = selector
    response["HX-Reswap"] = "outerHTML"
    return response


def _render_reply_page(request, membership, parent_pk, form, status=200):
    try:
        parent_pk = int(parent_pk)
    except (TypeError, ValueError):
        raise_not_found()
    parent = _comment_or_404(membership, parent_pk)
    template = "discussions/_reply_form.html" if request.htmx else "discussions/reply.html"
    response = render(
        request,
        template,
        {"form": form, "parent": parent, "group": membership.group, "membership": membership},
        status=status,
    )
    if request.htmx and form.is_bound:
        _retarget(response, f"#reply-form-{parent.pk}")
    return response


@login_required
@require_GET
def comment_reply(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    if comment.is_deleted:
        messages.error(request, "That comment was deleted; it can no longer be answered.")
        return redirect(_discussion_url(comment, membership.group))
    return _render_reply_page(
        request, membership, comment.pk, CommentForm(initial={"parent": comment.pk})
    )


@login_required
@require_GET
def comment_thread(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    """One comment with all its replies: "show more replies" and "continue this thread"."""
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    node, _thread = _node_for(membership, comment)
    if node is None:
        raise_not_found()
    context = {
        "node": node,
        "membership": membership,
        "group": membership.group,
        "can_moderate": membership.is_facilitator,
        "expanded": True,
    }
    if request.htmx and request.GET.get("part") == "replies":
        return render(
            request,
            "discussions/_replies.html",
            {**context, "children": node.children[selectors.REPLIES_SHOWN :], "parent_node": node},
        )
    if request.htmx:
        return render(request, "discussions/_comment.html", context)
    return render(request, "discussions/thread.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("Only the author can edit this comment.")
    if comment.is_deleted:
        raise_not_found()
    form = CommentEditForm(request.POST or None, instance=comment)
    if request.method == "POST" and form.is_valid():
        try:
            comment = services.comment_edit(
                editor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if request.htmx:
                return _render_node(request, membership, comment)
            messages.success(request, "Your comment is updated.")
            return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))
    template = "discussions/_edit_form.html" if request.htmx else "discussions/edit.html"
    return render(request, template, {"form": form, "comment": comment, "group": membership.group})


@login_required
@require_http_methods(["GET", "POST"])
def comment_delete(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("Only the author can delete this comment.")
    if comment.is_deleted:
        raise_not_found()
    if request.method == "GET":
        return render(
            request, "discussions/delete.html", {"comment": comment, "group": membership.group}
        )
    tombstone = services.comment_delete(user=request.user, comment=comment)
    if request.htmx:
        return _render_node(request, membership, tombstone) if tombstone else HttpResponse("")
    messages.success(request, "Your comment is deleted.")
    return redirect(
        _discussion_url(
            comment, membership.group, f"comment-{comment.pk}" if tombstone else "discussion"
        )
    )


@login_required
@require_POST
def comment_helpful(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    form = ToggleForm(request.POST)
    if form.is_valid():
        try:
            services.helpful_set(
                user=request.user, comment=comment, helpful=form.cleaned_data["on"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    if request.htmx:
        return _render_node(request, membership, comment)
    return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))


def _facilitator_comment(request, group_slug, comment_pk):
    membership = membership_or_404(request, group_slug)
    comment = _comment_or_404(membership, comment_pk)
    if not membership.is_facilitator:
        raise PermissionDenied("Only the group's facilitators can moderate comments.")
    return membership, comment


@login_required
@require_http_methods(["GET", "POST"])
def comment_hide(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _facilitator_comment(request, group_slug, comment_pk)
    form = HideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.comment_hide(
            moderator=request.user, comment=comment, reason=form.cleaned_data["reason"]
        )
        if request.htmx:
            return _render_node(request, membership, comment)
        messages.success(
            request, "The comment is hidden from members; its author sees your reason."
        )
        return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))
    template = "discussions/_hide_form.html" if request.htmx else "discussions/hide.html"
    return render(request, template, {"form": form, "comment": comment, "group": membership.group})


@login_required
@require_POST
def comment_unhide(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _facilitator_comment(request, group_slug, comment_pk)
    services.comment_unhide(moderator=request.user, comment=comment)
    if request.htmx:
        return _render_node(request, membership, comment)
    messages.success(request, "The comment is visible again.")
    return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))


@login_required
@require_POST
def comment_pin(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _facilitator_comment(request, group_slug, comment_pk)
    form = ToggleForm(request.POST)
    if form.is_valid():
        try:
            services.comment_pin(
                moderator=request.user, comment=comment, pinned=form.cleaned_data["on"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    # Pinning reorders the thread, so both paths reload the discussion.
    url = _discussion_url(comment, membership.group, f"comment-{comment.pk}")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_GET
def thread_more(request: HtmxHttpRequest, group_slug: str, position: int):
    """More top-level threads: an htmx fragment, or the passage page showing more."""
    membership = membership_or_404(request, group_slug)
    passage = _group_passage_or_404(membership, position)
    shown = parse_shown(request.GET.get("shown"))
    if not request.htmx:
        return redirect(f"{_discussion_url(passage, membership.group)}&shown={shown}#threads")
    thread = selectors.passage_thread(membership=membership, passage=passage, last_seen=None)
    start = max(0, shown - selectors.THREADS_PER_PAGE)
    return render(
        request,
        "discussions/_more_threads.html",
        {
            "threads": thread.roots[start:shown],
            "more_threads": max(0, len(thread.roots) - shown),
            "next_shown": shown + selectors.THREADS_PER_PAGE,
            "membership": membership,
            "group": membership.group,
            "passage": passage,
            "can_moderate": membership.is_facilitator,
        },
    )


@login_required
@require_GET
def comment_updates(request: HtmxHttpRequest, group_slug: str, position: int):
    """Polled every 15 s: others' new comments since `after`, as out-of-band swaps.

    Unchanged threads cost one aggregate query and answer 304 (ETag) or 204.
    """
    membership = membership_or_404(request, group_slug)
    passage = _group_passage_or_404(membership, position)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    version = selectors.thread_version(group_id=membership.group_id, passage_id=passage.pk)
    # What the answer contains depends on the reader and on `after`, so they are in the tag.
    etag = f'"{version.tag}/{request.user.pk}/{after}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    if version.last_id <= after:
        # Nothing newer than what the page has: answer without building the thread.
        response = HttpResponse(status=204)
        response["ETag"] = etag
        patch_cache_control(response, no_cache=True, private=True)
        return response
    thread = selectors.passage_thread(membership=membership, passage=passage, last_seen=None)
    new_nodes = [
        node
        for pk, node in sorted(thread.by_id.items())
        if pk > after
        and node.comment.author_id != request.user.pk
        and node.show_body
        and (node.comment.parent_id is None or node.comment.parent_id in thread.by_id)
    ]
    if not new_nodes:
        response = HttpResponse(status=204)
    else:
        for node in new_nodes:
            node.is_new = True
            node.children = []
        response = render(
            request,
            "discussions/_updates.html",
            {
                "new_nodes": new_nodes,
                "after": thread.last_comment_id,
                "comment_count": thread.visible_count,
                "poll_seconds": settings.DISCUSSION_POLL_SECONDS,
                "membership": membership,
                "group": membership.group,
                "passage": passage,
                "can_moderate": membership.is_facilitator,
            },
        )
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response


@login_required
@require_GET
def notification_list(request: HtmxHttpRequest):
    notifications = Notification.objects.for_reader(request.user).select_related(
        "actor",
        "comment__passage__text",
        "comment__group",
        "question__group",
        "question__meeting",
    )[:100]
    return render(request, "discussions/notifications.html", {"notifications": notifications})


@login_required
@require_POST
def notifications_read(request: HtmxHttpRequest):
    services.notifications_mark_read(user=request.user)
    messages.success(request, "All notifications are marked as read.")
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HtmxHttpRequest):
    preference = NotificationPreference.for_user(request.user)
    # Unticked boxes alone post no fields: bind on the method, not on request.POST's truth.
    form = NotificationPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={
            "email_replies": preference.email_replies,
            "email_questions": preference.email_questions,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.preference_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notification_settings")
    return render(request, "discussions/notification_settings.html", {"form": form})


# Questions ------------------------------------------------------------------


def _question_or_404(membership, question_pk: int) -> Question:
    return get_object_or_404(
        Question.objects.select_related("group__text", "meeting"),
        pk=question_pk,
        group_id=membership.group_id,
    )


def _facilitator_or_403(membership) -> None:
    if not membership.is_facilitator:
        raise PermissionDenied("Only the group's facilitators can manage questions.")


def _question_passage(question: Question) -> Passage:
    return Passage.objects.select_related("text").get(
        text_id=question.group.text_id, position=question.first_position
    )


@login_required
@require_GET
def question_list(request: HtmxHttpRequest, group_slug: str):
    """The group's questions; facilitators also see each member's outstanding ones."""
    membership = membership_or_404(request, group_slug)
    rows, questions = selectors.member_outstanding(group=membership.group)
    answered_counts = {
        # Not "not outstanding": a closed question is outstanding for nobody.
        question.pk: sum(1 for row in rows if question.pk in row["answered"])
        for question in questions
    }
    for question in questions:
        question.answered_by = answered_counts[question.pk]
    return render(
        request,
        "discussions/question_list.html",
        {
            "membership": membership,
            "group": membership.group,
            "questions": questions,
            "member_rows": rows if membership.is_facilitator else [],
            "member_count": len(rows),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HtmxHttpRequest, group_slug: str, question_pk: int | None = None):
    membership = membership_or_404(request, group_slug)
    _facilitator_or_403(membership)
    question = _question_or_404(membership, question_pk) if question_pk else None
    initial = {}
    if question is None:
        try:
            position = int(request.GET.get("passage", ""))
        except ValueError:
            position = None
        if position:
            initial = {"first_position": position, "last_position": position}
    form = QuestionForm(
        request.POST or None, instance=question, group=membership.group, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if question is None:
                question = services.question_create(
                    facilitator=request.user, group=membership.group, **fields
                )
                messages.success(request, f"Question assigned to {question.passage_range_label}.")
            else:
                question = services.question_update(
                    facilitator=request.user, question=form.instance
                )
                messages.success(request, "Question updated.")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect(question)
    return render(
        request,
        "discussions/question_form.html",
        {"form": form, "group": membership.group, "question": question},
    )


def _question_context(request, membership, question: Question, answer_form=None) -> dict:
    """What the question block and page show this member (answers only where allowed)."""
    passage = _question_passage(question)
    view = selectors.question_view(membership=membership, question=question, passage=passage)
    return {
        "membership": membership,
        "group": membership.group,
        "passage": passage,
        "qv": view,
        "can_moderate": membership.is_facilitator,
        "overview": (
            selectors.question_answer_overview(question=question)
            if membership.is_facilitator
            else None
        ),
        "answer_form": answer_form,
    }


@login_required
@require_GET
def question_detail(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    question = _question_or_404(membership, question_pk)
    context = _question_context(request, membership, question)
    return render(request, "discussions/question_detail.html", context)


@login_required
@require_POST
def answer_save(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    question = _question_or_404(membership, question_pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_save(
                author=request.user, question=question, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if request.htmx:
                context = _question_context(request, membership, question)
                return render(request, "discussions/_question.html", context)
            messages.success(request, "Your answer is saved.")
            return redirect(f"{question.get_absolute_url()}#answers")
    context = _question_context(request, membership, question, answer_form=form)
    if request.htmx:
        return render(request, "discussions/_question.html", context)
    return render(request, "discussions/question_detail.html", context, status=422)


@login_required
@require_POST
def question_close(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    _facilitator_or_403(membership)
    question = _question_or_404(membership, question_pk)
    form = ToggleForm(request.POST)
    if form.is_valid():
        services.question_set_closed(
            facilitator=request.user, question=question, closed=form.cleaned_data["on"]
        )
        messages.success(
            request,
            "The question is closed: no more answers."
            if form.cleaned_data["on"]
            else "The question is open again.",
        )
    return redirect(question)


@login_required
@require_POST
def question_move(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    _facilitator_or_403(membership)
    question = _question_or_404(membership, question_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.question_move(
            facilitator=request.user, question=question, direction=form.cleaned_data["direction"]
        )
    return redirect(
        reverse("question_list", kwargs={"group_slug": group_slug}) + f"#question-{question.pk}"
    )


@login_required
@require_http_methods(["GET", "POST"])
def question_delete(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    _facilitator_or_403(membership)
    question = _question_or_404(membership, question_pk)
    answer_count = question.comments.filter(parent__isnull=True, deleted_at__isnull=True).count()
    form = QuestionDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if answer_count == 0 or form.cleaned_data["confirm"]:
            services.question_delete(facilitator=request.user, question=question)
            messages.success(request, "The question is deleted.")
            return redirect("question_list", group_slug=group_slug)
        form.add_error(
            "confirm",
            f"This question has {answer_count} answer{'s' if answer_count != 1 else ''}: tick the box to delete them too.",
        )
    return render(
        request,
        "discussions/question_delete.html",
        {
            "form": form,
            "question": question,
            "group": membership.group,
            "answer_count": answer_count,
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def answer_highlight(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _facilitator_comment(request, group_slug, comment_pk)
    form = ToggleForm(request.POST)
    if form.is_valid():
        try:
            services.answer_set_highlighted(
                facilitator=request.user, answer=comment, highlighted=form.cleaned_data["on"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    if request.htmx:
        return _render_node(request, membership, comment)
    if comment.question_id:
        return redirect(f"{comment.question.get_absolute_url()}#comment-{comment.pk}")
    return redirect(_discussion_url(comment, membership.group, f"comment-{comment.pk}"))


@login_required
@require_GET
def my_questions(request: HtmxHttpRequest):
    return render(
        request,
        "discussions/my_questions.html",
        {"sections": selectors.questions_for_user(user=request.user)},
    )
