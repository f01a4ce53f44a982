"""`{% comment_url "comment_helpful" group comment %}`: a comment's URLs, without a
`reverse` for each of the dozen links of every comment on a page.

Each URL name is reversed once per group (and script prefix) with a marker for the
comment's id; a comment's URL is then the pattern around its id. The same URLconf
answers it as `{% url name group.slug comment.pk %}` would."""

import functools

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_MARKER = 918273645  # the id comes after the slug: split at its last occurrence


@functools.lru_cache(maxsize=2048)
def _around_id(name: str, group_slug: str, _prefix: str, _urlconf) -> tuple[str, str]:
    url = reverse(name, kwargs={"group_slug": group_slug, "comment_pk": _MARKER})
    before, after = url.rsplit(str(_MARKER), 1)
    return before, after


@register.simple_tag
def comment_url(name: str, group, comment) -> str:
    before, after = _around_id(name, group.slug, get_script_prefix(), get_urlconf())
    return f"{before}{comment.pk}{after}"
