from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from discussions.context import discussion_context
from discussions.selectors import new_comment_counts
from groups import selectors as group_selectors
from groups.models import Membership
from pages.forms import GroupChoiceForm
from reading import selectors, services
from reading.forms import ProgressForm
from reading.models import Passage, Text
from sectstudy.http import HtmxHttpRequest, safe_next, slug_or_none


@require_GET
def home(request: HtmxHttpRequest):
    texts = selectors.texts_with_progress(user=request.user)
    groups = group_selectors.groups_for_user(user=request.user)
    return render(request, "pages/home.html", {"texts": texts, "groups": groups})


@require_GET
def text_detail(request: HtmxHttpRequest, text_slug: str):
    text = get_object_or_404(Text, slug=text_slug)
    progress = selectors.text_progress(user=request.user, text=text)
    choices = group_choices(request, text)
    membership = selected_group(request, text, choices)
    new_counts = (
        new_comment_counts(user=request.user, group_id=membership.group_id, text_id=text.pk)
        if membership is not None
        else None
    )
    passages = selectors.contents_rows(user=request.user, text=text, new_counts=new_counts)
    return render(
        request,
        "pages/text_detail.html",
        {
            "text": text,
            "passages": passages,
            "membership": membership,
            "group_choices": choices,
            "progress": progress,
            "first_unread": selectors.first_unread_passage(user=request.user, text=text),
            "groups": group_selectors.groups_for_user(user=request.user, text=text),
        },
    )


def _passage_or_404(text_slug: str, position: int) -> Passage:
    return get_object_or_404(
        Passage.objects.select_related("text"), text__slug=text_slug, position=position
    )


def group_choices(request, text: Text) -> list[Membership]:
    """The reader's memberships in groups reading this text: shared groups, then the notebook."""
    if not request.user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=request.user, group__text=text)
        .select_related("group__text", "user")
        .order_by("group__notebook_owner", "group__name")
    )


def _group_session_key(text: Text) -> str:
    return f"group-for-text-{text.pk}"


def selected_group(request, text: Text, choices: list[Membership]) -> Membership | None:
    """The membership whose group's content this reader sees beside the text.

    ?group=<slug> shows that group for this page; otherwise the group the reader
    chose with the switcher (remembered per text by `group_choose`); otherwise their
    first shared group, else their private notebook. Reads only: showing a page
    changes nothing. `choices` is group_choices().
    """
    if not request.user.is_authenticated:
        return None
    wanted = slug_or_none(request.GET.get("group")) or request.session.get(_group_session_key(text))
    membership = next((m for m in choices if m.group.slug == wanted), None) if wanted else None
    if membership is None:
        shared = [m for m in choices if not m.group.is_notebook]
        notebooks = [m for m in choices if m.group.is_notebook]
        membership = min(shared, key=lambda m: (m.joined_at, m.pk), default=None) or next(
            iter(notebooks), None
        )
    return membership


@login_required
@require_POST
def group_choose(request: HtmxHttpRequest, text_slug: str):
    """The group switcher: remember which group's discussion to show beside a text."""
    text = get_object_or_404(Text, slug=text_slug)
    choices = group_choices(request, text)
    form = GroupChoiceForm(request.POST, choices=choices)
    if form.is_valid():
        request.session[_group_session_key(text)] = form.cleaned_data["group"]
    else:
        messages.error(request, "Choose one of your groups reading this text.")
    return redirect(safe_next(request, text.get_absolute_url()))


@require_GET
def passage_detail(request: HtmxHttpRequest, text_slug: str, position: int):
    return render_passage_page(request, _passage_or_404(text_slug, position))


def render_passage_page(request, passage: Passage, *, membership=None, discussion=None, status=200):
    """The passage page; `discussion` passes e.g. a comment form with errors back in."""
    text = passage.text
    position = passage.position
    neighbours = {
        p.position: p for p in text.passages.filter(position__in=[position - 1, position + 1])
    }
    choices = group_choices(request, text)
    membership = membership or selected_group(request, text, choices)
    context = {
        "text": text,
        "passage": passage,
        "previous": neighbours.get(position - 1),
        "next": neighbours.get(position + 1),
        "membership": membership,
        "group": membership.group if membership else None,
        "next_meeting": (
            membership.group.meetings.upcoming(timezone.now()).first() if membership else None
        ),
        "group_choices": choices,
        # A group opened by its link stays beside the text from passage to passage.
        "group_query": (
            f"?group={membership.group.slug}"
            if membership and request.GET.get("group") == membership.group.slug
            else ""
        ),
    }
    context.update(_progress_context(request, passage))
    if membership is not None:
        context.update(discussion_context(request, membership, passage, **(discussion or {})))
    return render(request, "pages/passage_detail.html", context, status=status)


def _progress_context(request, passage: Passage) -> dict:
    if not request.user.is_authenticated:
        return {"is_read": False, "progress": None}
    return {
        "is_read": passage.progress.filter(reader=request.user).exists(),
        "progress": selectors.text_progress(user=request.user, text=passage.text),
    }


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
        context = {"text": passage.text, "passage": passage, **_progress_context(request, passage)}
        return render(request, "pages/passage_detail.html#progress-panel", context)
    return redirect(safe_next(request, passage.get_absolute_url()))
