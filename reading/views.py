from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from reading import selectors
from reading.models import Text
from sectstudy.http import HtmxHttpRequest


@require_safe
def continue_reading(request: HtmxHttpRequest, text_slug: str):
    text = get_object_or_404(Text, slug=text_slug)
    passage = selectors.first_unread_passage(user=request.user, text=text)
    if passage is None:
        messages.success(request, f"You have read all of “{text.title}”.")
        return redirect(text)
    return redirect(passage)
