from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from discussions import services as discussion_services
from discussions.context import passage_discussion
from discussions.selectors import (
    highlighted_body,
    new_comment_counts,
    passage_anchors,
    passage_last_seen,
    passage_thread,
)
from groups import selectors as group_selectors
from pages import glance
from pages import selectors as page_selectors
from pages.forms import GroupChoiceForm
from reading import selectors, services
from reading.forms import ProgressForm
from reading.models import Passage, Text
from sectstudy.http import HtmxHttpRequest, safe_next, slug_or_none


@require_safe
def home(request: HtmxHttpRequest):
    texts = selectors.texts_with_progress(user=request.user)
    groups = group_selectors.groups_for_user(user=request.user)
    return render(request, "pages/home.html", {"texts": texts, "groups": groups})


@require_safe
def text_detail(request: HtmxHttpRequest, text_slug: str):
    text = get_object_or_404(Text, slug=text_slug)
    progress = selectors.text_progress(user=request.user, text=text)
    choices = page_selectors.group_choices(user=request.user, text=text)
    membership = page_selectors.selected_membership(
        choices=choices, wanted_slug=_wanted_group(request, text)
    )
    new_counts = (
        new_comment_counts(user=request.user, group_id=membership.group_id, text_id=text.pk)
        if membership is not None
        else None
    )
    contents = selectors.contents_page(
        user=request.user, text=text, page_number=request.GET.get("page"), new_counts=new_counts
    )
    return render(
        request,
        "pages/text_detail.html",
        {
            "text": text,
            "contents": contents,
            "passages": contents.rows,
            # One query: each listed passage's comments and open questions in the group.
            "activity": glance.contents_activity(
                membership=membership,
                text_id=text.pk,
                positions=[row.passage.position for row in contents.rows],
            ),
            "membership": membership,
            "group_choices": choices,
            "progress": progress,
            "first_unread": selectors.first_unread_passage(user=request.user, text=text),
            "removed_passages": selectors.removed_passages(text=text),
            "revisions": selectors.text_revisions(text=text),
            "groups": group_selectors.groups_for_user(user=request.user, text=text),
        },
    )


def _passage_or_404(text_slug: str, position: int) -> Passage:
    return get_object_or_404(
        Passage.objects.select_related("text"), text__slug=text_slug, position=position
    )


@login_required
@require_POST
def group_choose(request: HtmxHttpRequest, text_slug: str):
    """The group switcher: remember which group's discussion to show beside a text."""
    text = get_object_or_404(Text, slug=text_slug)
    choices = page_selectors.group_choices(user=request.user, text=text)
    form = GroupChoiceForm(request.POST, choices=choices)
    if form.is_valid():
        request.session[_group_session_key(text)] = form.cleaned_data["group"]
    else:
        messages.error(request, "Choose one of your groups reading this text.")
    return redirect(safe_next(request, text.get_absolute_url()))


def _group_session_key(text: Text) -> str:
    return f"group-for-text-{text.pk}"


def _wanted_group(request, text: Text) -> str | None:
    """?group=<slug> for this page, else the group chosen with the switcher for this text."""
    return slug_or_none(request.GET.get("group")) or request.session.get(_group_session_key(text))


@require_safe
def passage_detail(request: HtmxHttpRequest, text_slug: str, position: int):
    passage = _passage_or_404(text_slug, position)
    choices = page_selectors.group_choices(user=request.user, text=passage.text)
    membership = page_selectors.selected_membership(
        choices=choices, wanted_slug=_wanted_group(request, passage.text)
    )
    if request.htmx and membership is not None and request.GET.get("part") == "passage-text":
        # The highlights alone, after others' quotes arrived live: no visit is recorded.
        anchors = passage_anchors(membership=membership, passage=passage)
        return render(
            request,
            "pages/passage_detail.html#passage-text",
            {"passage": passage, "passage_html": highlighted_body(passage, anchors)},
        )
    page = page_selectors.passage_page(
        user=request.user,
        passage=passage,
        choices=choices,
        membership=membership,
        group_from_link=bool(membership) and request.GET.get("group") == membership.group.slug,
    )
    context = {**vars(page), "return_to": request.get_full_path()}
    if membership is not None:
        # The one thing a passage page records: when this reader last saw this
        # discussion, so that what others wrote since is marked new next time. Not for a
        # HEAD (a link checker's, say): nobody reads it, and the marks must stay. A
        # browser's prefetch counts: it is made to be shown, without asking again.
        if request.method == "GET":
            last_seen = discussion_services.passage_visit_record(
                user=request.user, group=membership.group, passage=passage
            )
        else:
            last_seen = passage_last_seen(
                user=request.user, group_id=membership.group_id, passage_id=passage.pk
            )
        discussion = passage_discussion(
            membership=membership,
            passage=passage,
            last_seen=last_seen,
            shown=request.GET.get("shown"),
        )
        context.update(vars(discussion))
    return render(request, "pages/passage_detail.html", context)


@login_required
@require_safe
def notebook_notes(request: HtmxHttpRequest, text_slug: str):
    """All my notes on a text, in reading order, each with its quote and passage."""
    text = get_object_or_404(Text, slug=text_slug)
    notebook, notes = page_selectors.notebook_notes(user=request.user, text=text)
    return render(
        request, "pages/notebook.html", {"text": text, "notebook": notebook, "notes": notes}
    )


@require_POST
def progress_update(request: HtmxHttpRequest, text_slug: str, position: int):
    passage = _passage_or_404(text_slug, position)
    if not request.user.is_authenticated:
        # Back to the passage after logging in: the progress URL itself only takes POST.
        return redirect_to_login(passage.get_absolute_url())
    form = ProgressForm(request.POST)
    if form.is_valid():
        services.progress_set(reader=request.user, passage=passage, read=form.cleaned_data["read"])
    elif not request.htmx:
        messages.error(request, "That progress update was not understood; nothing changed.")
    if request.htmx:
        reading = selectors.passage_reading(user=request.user, passage=passage)
        context = {
            "text": passage.text,
            "passage": passage,
            "is_read": reading.is_read,
            "progress": reading.progress,
            "return_to": safe_next(request, passage.get_absolute_url()).partition("#")[0],
        }
        return render(request, "pages/passage_detail.html#progress-panel", context)
    return redirect(safe_next(request, passage.get_absolute_url()))


@require_safe
def removed_passage_detail(request: HtmxHttpRequest, text_slug: str, passage_pk: int):
    """A passage a revision took out of the text, with its wording and the selected
    group's threads: its discussion is kept, never deleted."""
    passage = get_object_or_404(
        Passage.everything.select_related("text"),
        pk=passage_pk,
        text__slug=text_slug,
        position__isnull=True,
    )
    text = passage.text
    choices = page_selectors.group_choices(user=request.user, text=text)
    membership = page_selectors.selected_membership(
        choices=choices, wanted_slug=_wanted_group(request, text)
    )
    thread = (
        passage_thread(membership=membership, passage=passage) if membership is not None else None
    )
    return render(
        request,
        "pages/removed_passage.html",
        {
            "text": text,
            "passage": passage,
            "membership": membership,
            "group": membership.group if membership else None,
            "thread": thread,
            "passage_html": highlighted_body(passage, thread.anchors if thread else []),
            "corrections": selectors.passage_corrections(passage=passage),
        },
    )
