"""The discussion beside a passage: posting, replying, editing, deleting, helpful marks,
moderation, more threads and the live poll."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from discussions import selectors, services
from discussions.context import parse_shown, poll_since
from discussions.forms import (
    CommentEditForm,
    CommentForm,
    HideForm,
    ToggleForm,
    prepare_reply_form,
)
from discussions.views.common import (
    add_form_errors,
    comment_or_404,
    comment_permitted,
    discussion_url,
    group_passage_or_404,
    refused,
    render_comment,
)
from groups import permissions
from groups.access import membership_or_404
from groups.throttling import POSTING, POSTING_DAILY, limited
from sectstudy.http import NOT_UNDERSTOOD, HtmxHttpRequest

POLL_OVERLAP = timedelta(seconds=10)


@login_required
@limited(POSTING, POSTING_DAILY)
@require_POST
def comment_create(request: HtmxHttpRequest, group_slug: str, position: int):
    membership = membership_or_404(request, group_slug)
    passage = group_passage_or_404(membership, position)
    form = CommentForm(request.POST)
    parent = None
    if form.is_valid():
        if form.cleaned_data["parent"]:
            parent = comment_or_404(membership, form.cleaned_data["parent"])
        try:
            # A retry of a post that was made (same submission_id) gets that comment back,
            # and is answered as the first post was: the page may never have received it.
            comment = services.comment_create(
                author=request.user,
                group=membership.group,
                passage=passage,
                body=form.cleaned_data["body"],
                parent=parent,
                quote=form.cleaned_data["quote"],
                quote_start=form.cleaned_data["quote_start"],
                submission_id=form.cleaned_data["submission_id"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if request.htmx:
                response = render_comment(
                    request,
                    membership,
                    comment,
                    "discussions/discussion.html#posted",
                    recount=True,
                    passage_html=_passage_html_with(comment, membership, passage),
                )
                # The page shows the new comment where it now stands, and focuses it.
                return trigger_client_event(response, "comment-posted", {"id": comment.pk})
            messages.success(request, "Your comment is posted.")
            return redirect(discussion_url(comment, f"comment-{comment.pk}"))
    if form.data.get("parent"):
        return _render_reply_page(
            request, membership, form.data.get("parent"), form, status=200 if request.htmx else 422
        )
    if request.htmx:
        response = render(
            request,
            "discussions/discussion.html#comment-form",
            {"comment_form": form, "group": membership.group, "passage": passage},
        )
        return reswap(retarget(response, "#comment-form"), "outerHTML")
    # Without JavaScript: the form with its errors and the typed text, beside the passage.
    return render(
        request,
        "discussions/comment_form.html",
        {"comment_form": form, "group": membership.group, "passage": passage},
        status=422,
    )


def _passage_html_with(comment, membership, passage):
    """The passage highlighted anew when the posted comment quotes it (else None), so the
    phrase is marked at once, without a reload."""
    if not comment.has_quote or comment.parent_id is not None:
        return None
    anchors = selectors.passage_anchors(membership=membership, passage=passage)
    return selectors.highlighted_body(passage, anchors)


def _own_comment(request, group_slug: str, comment_pk: int):
    """A comment the requester wrote and may still change (edit and delete); deleted: 404."""
    membership = membership_or_404(request, group_slug)
    comment = comment_or_404(membership, comment_pk)
    if comment.is_deleted:
        raise Http404("That comment was deleted.")
    if not permissions.may_edit_comment(membership, comment):
        raise PermissionDenied("Only the author can change this comment.")
    return membership, comment


def _moderated_comment(request, group_slug: str, comment_pk: int):
    return comment_permitted(
        request,
        group_slug,
        comment_pk,
        lambda membership, _comment: permissions.may_moderate(membership),
        "Only the group's facilitators can moderate comments.",
    )


def _render_reply_page(request, membership, parent_pk, form, status=200):
    try:
        parent_pk = int(parent_pk)
    except (TypeError, ValueError):
        raise Http404("No such comment.") from None
    parent = comment_or_404(membership, parent_pk)
    prepare_reply_form(form, parent)
    template = "discussions/reply.html#reply-form" if request.htmx else "discussions/reply.html"
    response = render(
        request,
        template,
        {"form": form, "parent": parent, "group": membership.group, "membership": membership},
        status=status,
    )
    return _errors_in_place(request, response, form, f"reply-form-{parent.pk}")


def _errors_in_place(request, response, form, form_id: str):
    """With htmx, a form sent back with its errors replaces itself where it is (not
    the element its submission would have replaced)."""
    if request.htmx and form.is_bound:
        reswap(retarget(response, f"#{form_id}"), "outerHTML")
    return response


@login_required
@require_safe
def comment_reply(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = comment_or_404(membership, comment_pk)
    if not permissions.may_reply(membership, comment):
        if comment.is_deleted:
            reason = services.REPLY_TO_DELETED
        elif comment.at_deepest:
            reason = services.AT_DEEPEST
        else:
            reason = "This passage is no longer in the text: its discussion is read-only."
        messages.error(request, reason)
        return redirect(discussion_url(comment))
    return _render_reply_page(
        request, membership, comment.pk, CommentForm(initial={"parent": comment.pk})
    )


@login_required
@require_safe
def comment_thread(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    """One comment with all its replies: "show more replies" and "continue this thread"."""
    membership = membership_or_404(request, group_slug)
    comment = comment_or_404(membership, comment_pk)
    node = selectors.comment_node(membership=membership, comment=comment)
    if node is None:
        raise Http404("No such comment.")
    context = {
        "node": node,
        "membership": membership,
        "group": membership.group,
        "expanded": True,
    }
    if request.htmx and request.GET.get("part") == "replies":
        # The replies after the last one the page shows ("show N more replies").
        try:
            after = int(request.GET.get("after", ""))
        except ValueError:
            children = node.children[selectors.REPLIES_SHOWN :]
        else:
            children = [child for child in node.children if child.comment.pk > after]
        # Each with its own first replies, deeper ones behind "continue this thread".
        return render(
            request,
            "discussions/discussion.html#replies",
            {**context, "expanded": False, "children": children, "parent_node": node},
        )
    if request.htmx:
        return render(request, "discussions/_comment.html", context)
    return render(request, "discussions/thread.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _own_comment(request, group_slug, comment_pk)
    form = CommentEditForm(request.POST if request.method == "POST" else None, instance=comment)
    if request.method == "POST" and form.is_valid():
        try:
            comment = services.comment_edit(
                editor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if request.htmx:
                return render_comment(request, membership, comment, clear_slot=True)
            messages.success(request, "Your comment is updated.")
            return redirect(discussion_url(comment, f"comment-{comment.pk}"))
    template = "discussions/edit.html#edit-form" if request.htmx else "discussions/edit.html"
    response = render(
        request, template, {"form": form, "comment": comment, "group": membership.group}
    )
    return _errors_in_place(request, response, form, f"edit-form-{comment.pk}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_delete(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _own_comment(request, group_slug, comment_pk)
    if request.method != "POST":  # GET or HEAD: the confirmation page, never a deletion
        return render(
            request, "discussions/delete.html", {"comment": comment, "group": membership.group}
        )
    tombstone = services.comment_delete(user=request.user, comment=comment)
    if request.htmx:
        return render_comment(request, membership, tombstone, recount=True, clear_slot=True)
    messages.success(request, "Your comment is deleted.")
    has_replies = selectors.comment_alone(membership=membership, comment=tombstone).replies_total
    return redirect(
        discussion_url(comment, f"comment-{comment.pk}" if has_replies else "discussion")
    )


@login_required
@require_POST
def comment_helpful(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership = membership_or_404(request, group_slug)
    comment = comment_or_404(membership, comment_pk)
    form = ToggleForm(request.POST)
    alert = None
    if not form.is_valid():
        alert = refused(request, NOT_UNDERSTOOD)
    else:
        try:
            services.helpful_set(
                user=request.user, comment=comment, helpful=form.cleaned_data["on"]
            )
        except ValidationError as error:
            alert = refused(request, error.messages[0])
    if request.htmx:
        return render_comment(request, membership, comment, alert=alert)
    return redirect(discussion_url(comment, f"comment-{comment.pk}"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_hide(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _moderated_comment(request, group_slug, comment_pk)
    form = HideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_hide(
                moderator=request.user, comment=comment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if request.htmx:
                return render_comment(request, membership, comment, clear_slot=True)
            messages.success(
                request, "The comment is hidden from members; its author sees your reason."
            )
            return redirect(discussion_url(comment, f"comment-{comment.pk}"))
    template = "discussions/hide.html#hide-form" if request.htmx else "discussions/hide.html"
    response = render(
        request, template, {"form": form, "comment": comment, "group": membership.group}
    )
    return _errors_in_place(request, response, form, f"hide-form-{comment.pk}")


@login_required
@require_POST
def comment_unhide(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _moderated_comment(request, group_slug, comment_pk)
    alert = None
    try:
        services.comment_unhide(moderator=request.user, comment=comment)
    except ValidationError as error:
        alert = refused(request, error.messages[0])
    if request.htmx:
        return render_comment(request, membership, comment, alert=alert)
    if alert is None:
        messages.success(request, "The comment is visible again.")
    return redirect(discussion_url(comment, f"comment-{comment.pk}"))


@login_required
@require_POST
def comment_pin(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = _moderated_comment(request, group_slug, comment_pk)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, NOT_UNDERSTOOD)
    else:
        try:
            services.comment_pin(
                moderator=request.user, comment=comment, pinned=form.cleaned_data["on"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    # Pinning reorders the thread, so both paths reload the discussion.
    url = discussion_url(comment, f"comment-{comment.pk}")
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
@require_safe
def thread_more(request: HtmxHttpRequest, group_slug: str, position: int):
    """More top-level threads: an htmx fragment, or the passage page showing more."""
    membership = membership_or_404(request, group_slug)
    passage = group_passage_or_404(membership, position)
    shown = parse_shown(request.GET.get("shown"))
    if not request.htmx:
        return redirect(f"{membership.group.passage_url(passage.position)}&shown={shown}#threads")
    start = max(0, shown - selectors.THREADS_PER_PAGE)
    page = selectors.thread_page(membership=membership, passage=passage, start=start, stop=shown)
    return render(
        request,
        "discussions/discussion.html#more-threads",
        {
            "threads": page.threads,
            "more_threads": max(0, page.thread_count - shown),
            "next_shown": shown + selectors.THREADS_PER_PAGE,
            "membership": membership,
            "group": membership.group,
            "passage": passage,
        },
    )


def _poll_number(request, name: str) -> int:
    try:
        return max(0, min(int(request.GET.get(name, "0")), 2**62))
    except ValueError:
        return 0


@login_required
@require_GET
def comment_updates(request: HtmxHttpRequest, group_slug: str, position: int):
    """Polled every 15 s: others' new comments since `after` and the comments changed
    since `since` (edited, deleted, hidden, pinned, marked helpful), as out-of-band swaps.

    An unchanged discussion costs one query (the passage and two index probes) after
    the membership, and answers 304 (ETag) or 204. When the only newer comments are the
    reader's own or hidden ones, the answer is the poller alone, asking after them from
    then on.
    """
    membership = membership_or_404(request, group_slug)
    version = selectors.passage_version(
        group_id=membership.group_id, text_id=membership.group.text_id, position=position
    )
    if version is None:
        raise Http404("No such passage.")
    after = _poll_number(request, "after")
    since = _poll_number(request, "since")
    # What the answer contains depends on the reader, `after` and `since`: all in the tag.
    etag = f'"{version.tag}/{request.user.pk}/{after}/{since}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    if version.last_id <= after and poll_since(version) <= since:
        # Nothing newer than what the page has: answer without reading any comment.
        response = HttpResponse(status=204)
        response["ETag"] = etag
        patch_cache_control(response, no_cache=True, private=True)
        return response
    # A change written just before `since` may commit just after the page read it: look
    # a little further back (re-sending a comment as it stands is harmless).
    passage = group_passage_or_404(membership, position)
    since_moment = datetime.fromtimestamp(min(since, 2**53) / 1_000_000, tz=UTC)
    if not request.GET.get("more"):  # `more`: the rest of a long list of changes, exactly
        since_moment -= POLL_OVERLAP
    diff = selectors.poll_diff(
        membership=membership,
        passage=passage,
        after=after,
        since=since_moment if poll_since(version) > since else None,  # None: none changed
    )
    response = render(
        request,
        "discussions/discussion.html#updates",
        {
            "new_nodes": diff.new_nodes,
            "changed_nodes": diff.changed_nodes,
            "after": diff.last_comment_id,
            # After more changes than one answer carries: from the last one sent.
            "since": poll_since(
                selectors.ThreadVersion(0, diff.changed_until) if diff.changed_until else version
            ),
            "more": diff.changed_until is not None,
            "comment_count": diff.comment_count,
            "poll_seconds": settings.DISCUSSION_POLL_SECONDS,
            "membership": membership,
            "group": membership.group,
            "passage": passage,
        },
    )
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response
