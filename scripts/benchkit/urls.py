"""The app's URLs, and two reference pages that only the benchmark serves. They measure
what every logged-in page pays before it does anything of its own, so the report can say
how much of a page's cost is the page:

- "Django alone": the request cycle with the project's middleware, the session and the
  user read, and a two-byte answer; no template.
- "empty page": the same, rendering base.html (the site's header with its unread count,
  messages, footer) around an empty main."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from sectstudy import urls as app_urls

EMPTY_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Empty{% endblock %}'
    "{% block content %}<h1>Empty</h1>{% endblock %}"
)


@login_required
def django_alone(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def empty_page(request):
    return HttpResponse(EMPTY_PAGE.render({}, request))


urlpatterns = [
    path("bench/django-alone", django_alone),
    path("bench/empty-page", empty_page),
    *app_urls.urlpatterns,
]
handler500 = app_urls.handler500
