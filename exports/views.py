"""Downloads: a group's discussion (Markdown, CSV) for its members, the whole group
(JSON) for its facilitators. Each streams, so a long discussion costs no more memory
than a short one, and none is cached."""

from collections.abc import Iterator
from contextlib import closing

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from exports import formats, selectors
from groups import permissions
from groups.access import membership_permitted
from sectstudy.http import HtmxHttpRequest


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    # Closing this (the response does, when the download ends or is broken off) closes
    # `chunks` too, and with it the backup's snapshot transaction.
    with closing(chunks):
        for chunk in chunks:
            yield chunk.encode("utf-8")


def _download(chunks: Iterator[str], *, filename: str, content_type: str):
    response = StreamingHttpResponse(_encoded(chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    add_never_cache_headers(response)
    return response


def _filename(group, what: str, extension: str) -> str:
    # Slugs are ASCII letters, digits and hyphens: safe in a header as they are.
    return f"{group.slug}-{what}-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
@require_safe
def export_discussion_markdown(request: HtmxHttpRequest, group_slug: str):
    membership = membership_permitted(request, group_slug, permissions.may_export_discussion)
    export = selectors.discussion_export(membership=membership)
    what = "notebook" if export.is_notebook else "discussion"
    return _download(
        formats.discussion_markdown(export),
        filename=_filename(membership.group, what, "md"),
        content_type="text/markdown; charset=utf-8",
    )


@login_required
@require_safe
def export_discussion_csv(request: HtmxHttpRequest, group_slug: str):
    membership = membership_permitted(request, group_slug, permissions.may_export_discussion)
    export = selectors.discussion_export(membership=membership)
    what = "notebook" if export.is_notebook else "discussion"
    return _download(
        formats.csv_text(formats.discussion_csv_rows(export)),
        filename=_filename(membership.group, what, "csv"),
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_safe
def export_group_json(request: HtmxHttpRequest, group_slug: str):
    membership = membership_permitted(request, group_slug, permissions.may_export_group)

    def backup_json():
        with selectors.one_snapshot():
            yield from formats.backup_json(selectors.group_backup(membership=membership))

    return _download(
        backup_json(),
        filename=_filename(membership.group, f"backup-v{selectors.BACKUP_VERSION}", "json"),
        content_type="application/json",
    )
