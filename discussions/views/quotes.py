"""Re-attaching a quote a revision detached: its author or a facilitator chooses the
words of the passage the comment is about now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from discussions import services
from discussions.forms import QuoteReattachForm
from discussions.views.common import add_form_errors, comment_permitted, discussion_url
from groups import permissions
from sectstudy.http import HtmxHttpRequest


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def quote_reattach(request: HtmxHttpRequest, group_slug: str, comment_pk: int):
    membership, comment = comment_permitted(
        request,
        group_slug,
        comment_pk,
        permissions.may_reattach_quote,
        "Only the author or a facilitator can re-attach this quote, and only a detached one.",
    )
    form = QuoteReattachForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            comment = services.comment_quote_reattach(
                user=request.user,
                comment=comment,
                quote=form.cleaned_data["quote"],
                quote_start=form.cleaned_data["quote_start"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, "The quote is attached to its new words.")
            # The passage's highlights change too: show the whole page again.
            url = discussion_url(comment, f"comment-{comment.pk}")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = (
        "discussions/quote_reattach.html#reattach-form"
        if request.htmx
        else "discussions/quote_reattach.html"
    )
    return render(
        request,
        template,
        {"form": form, "comment": comment, "group": membership.group, "membership": membership},
    )
