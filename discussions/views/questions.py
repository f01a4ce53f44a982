"""Reading questions: the group's list, assigning and editing, answering, closing,
ordering, deleting, highlighting answers, and "my questions"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from discussions import selectors, services
from discussions.forms import AnswerForm, MoveForm, QuestionDeleteForm, QuestionForm, ToggleForm
from discussions.models import Comment, Question
from discussions.views.common import (
    add_form_errors,
    comment_permitted,
    discussion_url,
    refused,
    render_comment,
)
from groups import permissions
from groups.access import membership_or_404, membership_permitted
from groups.throttling import POSTING, POSTING_DAILY, limited
from reading.models import Passage
from sectstudy.http import NOT_UNDERSTOOD, HtmxHttpRequest


def _question_or_404(membership, question_pk: int) -> Question:
    return get_object_or_404(
        Question.objects.select_related("group__text", "meeting"),
        pk=question_pk,
        group_id=membership.group_id,
    )


def _question_passage(question: Question) -> Passage:
    return Passage.objects.select_related("text").get(
        text_id=question.group.text_id, position=question.first_position
    )


@login_required
@require_safe
def question_list(request: HtmxHttpRequest, group_slug: str):
    """The group's questions; facilitators also see each member's outstanding ones."""
    membership = membership_or_404(request, group_slug)
    rows, questions = selectors.member_outstanding(group=membership.group)
    question_rows = [
        # Not "not outstanding": a closed question is outstanding for nobody.
        selectors.QuestionRow(
            question=question,
            answered_by=sum(1 for row in rows if question.pk in row["answered"]),
        )
        for question in questions
    ]
    return render(
        request,
        "discussions/question_list.html",
        {
            "membership": membership,
            "group": membership.group,
            "question_rows": question_rows,
            "member_rows": rows if permissions.may_see_progress_of_members(membership) else [],
            "member_count": len(rows),
        },
    )


@login_required
@limited(POSTING, POSTING_DAILY)
@require_http_methods(["GET", "HEAD", "POST"])
def question_edit(request: HtmxHttpRequest, group_slug: str, question_pk: int | None = None):
    membership = membership_permitted(request, group_slug, permissions.may_manage_questions)
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
        request.POST if request.method == "POST" else None,
        instance=question,
        group=membership.group,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if question is None:
                question = services.question_create(
                    facilitator=request.user,
                    group=membership.group,
                    submission_id=form.cleaned_data["submission_id"],
                    **fields,
                )
                messages.success(request, f"Question assigned to {question.passage_range_label}.")
            else:
                question = services.question_update(
                    facilitator=request.user, question=form.instance
                )
                messages.success(request, "Question updated.")
        except ValidationError as error:
            add_form_errors(form, error)
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
        "overview": (
            selectors.question_answer_overview(question=question)
            if permissions.may_see_progress_of_members(membership)
            else None
        ),
        "answer_form": answer_form or AnswerForm(question_id=question.pk, my_answer=view.my_answer),
    }


@login_required
@require_safe
def question_detail(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    question = _question_or_404(membership, question_pk)
    context = _question_context(request, membership, question)
    # The words the question asks about, above it (a range shows each of its passages).
    context["asked_passages"] = list(
        Passage.objects.filter(
            text_id=membership.group.text_id,
            position__gte=question.first_position,
            position__lte=question.last_position,
        ).order_by("position")
    )
    return render(request, "discussions/question_detail.html", context)


@login_required
@limited(POSTING, POSTING_DAILY)
@require_POST
def answer_save(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_or_404(request, group_slug)
    question = _question_or_404(membership, question_pk)
    form = AnswerForm(request.POST, question_id=question.pk)
    if form.is_valid():
        try:
            services.answer_save(
                author=request.user, question=question, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if request.htmx:
                context = _question_context(request, membership, question)
                return render(request, "discussions/question_detail.html#question", context)
            messages.success(request, "Your answer is saved.")
            return redirect(f"{question.get_absolute_url()}#answers")
    context = _question_context(request, membership, question, answer_form=form)
    if request.htmx:
        return render(request, "discussions/question_detail.html#question", context)
    return render(request, "discussions/question_detail.html", context, status=422)


@login_required
@require_POST
def question_close(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_questions)
    question = _question_or_404(membership, question_pk)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, NOT_UNDERSTOOD)
    else:
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
    membership = membership_permitted(request, group_slug, permissions.may_manage_questions)
    question = _question_or_404(membership, question_pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, NOT_UNDERSTOOD)
    else:
        services.question_move(
            facilitator=request.user, question=question, direction=form.cleaned_data["direction"]
        )
    return redirect(
        reverse("question_list", kwargs={"group_slug": group_slug}) + f"#question-{question.pk}"
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def question_delete(request: HtmxHttpRequest, group_slug: str, question_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_questions)
    question = _question_or_404(membership, question_pk)
    answer_count = Comment.objects.answers().filter(question=question).count()
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
    membership, comment = comment_permitted(
        request,
        group_slug,
        comment_pk,
        lambda membership, _comment: permissions.may_moderate(membership),
        "Only the group's facilitators can highlight answers.",
    )
    form = ToggleForm(request.POST)
    alert = None
    if not form.is_valid():
        alert = refused(request, NOT_UNDERSTOOD)
    else:
        try:
            services.answer_set_highlighted(
                facilitator=request.user, answer=comment, highlighted=form.cleaned_data["on"]
            )
        except ValidationError as error:
            alert = refused(request, error.messages[0])
    if request.htmx:
        return render_comment(request, membership, comment, alert=alert)
    if comment.question_id:
        return redirect(f"{comment.question.get_absolute_url()}#comment-{comment.pk}")
    return redirect(discussion_url(comment, f"comment-{comment.pk}"))


@login_required
@require_safe
def my_questions(request: HtmxHttpRequest):
    return render(
        request,
        "discussions/my_questions.html",
        {"sections": selectors.questions_for_user(user=request.user)},
    )
