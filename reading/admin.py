"""The admin for texts: staff import and revise texts by uploading a plain-text file,
with the same preview (`--dry-run`) as `import_text` before anything changes.
Passages are read-only here: their words change only through a revision, which
keeps every discussion on its words and records the previous wording."""

import hashlib
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from reading.forms import ConfirmTextFileForm, NewTextFileForm, TextFileForm
from reading.importing import TextParseError
from reading.models import ReadingProgress, Revision, Text
from reading.services import text_import, text_revise

# An import's preview lists this many passages, then says how many more there are.
PREVIEW_PASSAGES = 20


@dataclass(frozen=True)
class UploadPlan:
    """What confirming an upload would do, as the preview shows it."""

    title: str
    slug: str
    summary: str
    steps: list[str]
    passages: list[str]  # for a new text, its first passages
    more_passages: int
    changes: bool

    @property
    def digest(self) -> str:
        seen = "\n".join([self.title, self.slug, self.summary, *self.steps, *self.passages])
        return hashlib.sha256(seen.encode()).hexdigest()


def upload_plan(*, text: Text | None, details: dict, dry_run: bool) -> UploadPlan:
    """Import (text is None) or revise from the checked upload; with dry_run, only plan.
    Every problem with the file is a ValidationError."""
    try:
        return _upload_plan(text=text, details=details, dry_run=dry_run)
    except TextParseError as error:
        raise ValidationError(str(error)) from error


def _upload_plan(*, text: Text | None, details: dict, dry_run: bool) -> UploadPlan:
    if text is None:
        result = text_import(
            source=details["source"],
            title=details.get("title", ""),
            author=details.get("author", ""),
            slug=details.get("slug", ""),
            dry_run=dry_run,
        )
        count = len(result.passages)
        return UploadPlan(
            title=result.text.title,
            slug=result.text.slug,
            summary=(
                f"A new text with {count} passages."
                if result.created
                else f"Already imported with these {count} passages: nothing to change."
            ),
            steps=[],
            passages=list(result.passages[:PREVIEW_PASSAGES]),
            more_passages=max(0, count - PREVIEW_PASSAGES),
            changes=bool(result.created),
        )
    result = text_revise(
        text=text,
        source=details["source"],
        title=details.get("title", ""),
        author=details.get("author", ""),
        dry_run=dry_run,
    )
    return UploadPlan(
        title=result.text.title,
        slug=result.text.slug,
        summary=result.summary,
        steps=result.plan,
        passages=[],
        more_passages=0,
        changes=result.summary != "No changes.",
    )


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ("created_at", "summary")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Text)
class TextAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "slug")
    search_fields = ("title", "author", "slug")
    fields = ("title", "author", "slug", "contents")
    readonly_fields = ("slug", "contents")
    inlines = [RevisionInline]
    change_form_template = "admin/reading/text/change_form.html"

    @admin.display(description="Passages")
    def contents(self, text: Text):
        return format_html(
            '{} passages: <a href="{}">read them on the site</a>. Their words change only '
            "through “Revise from a file”.",
            text.passages.count(),
            text.get_absolute_url(),
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "<int:object_id>/revise/",
                self.admin_site.admin_view(self.revise_view),
                name="{}_{}_revise".format(*info),
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        # A new text comes from a file, through the preview.
        return redirect("admin:reading_text_import")

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._upload(request, text=None)

    def revise_view(self, request, object_id):
        text = get_object_or_404(Text, pk=object_id)
        if not self.has_change_permission(request, text):
            raise PermissionDenied
        return self._upload(request, text=text)

    def _upload(self, request, *, text: Text | None):
        form_class = NewTextFileForm if text is None else TextFileForm
        form = form_class()
        if request.method == "POST" and "confirm" in request.POST:
            confirm = ConfirmTextFileForm(request.POST)
            if confirm.is_valid():
                return self._confirm(request, text, confirm.cleaned_data)
            messages.error(request, "The file was not sent back intact: upload it again.")
        elif request.method == "POST":
            form = form_class(request.POST, request.FILES)
            if form.is_valid():
                details = form.cleaned_data
                try:
                    plan = upload_plan(text=text, details=details, dry_run=True)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    return self._preview(request, text, plan, details)
        return TemplateResponse(
            request,
            "admin/reading/text/upload.html",
            {**self._context(request, text), "form": form},
        )

    def _confirm(self, request, text: Text | None, details: dict):
        try:
            with transaction.atomic():
                # Planned again under the text's lock: what is written is what was shown.
                plan = upload_plan(text=text, details=details, dry_run=True)
                if plan.digest != details["plan_digest"]:
                    messages.warning(
                        request, "The text changed since the preview: check this plan again."
                    )
                    return self._preview(request, text, plan, details)
                if plan.changes:
                    upload_plan(text=text, details=details, dry_run=False)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)
        except IntegrityError:
            messages.error(request, "Another text took this address meanwhile; nothing changed.")
            return redirect(request.path)
        done = Text.objects.get(slug=plan.slug)
        if not plan.changes:
            messages.info(request, f"“{done.title}”: nothing changed.")
        elif text is None:
            messages.success(request, f"“{done.title}” imported: {plan.summary}")
        else:
            messages.success(request, f"“{done.title}” revised: {plan.summary}")
        return redirect("admin:reading_text_change", done.pk)

    def _preview(self, request, text: Text | None, plan: UploadPlan, details: dict):
        confirm = ConfirmTextFileForm(
            initial={
                "data": details["data"],
                "encoding": details["encoding"],
                "title": details.get("title", ""),
                "author": details.get("author", ""),
                "slug": details.get("slug", ""),
                "plan_digest": plan.digest,
            }
        )
        return TemplateResponse(
            request,
            "admin/reading/text/upload_preview.html",
            {**self._context(request, text), "plan": plan, "confirm": confirm},
        )

    def _context(self, request, text: Text | None) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": text,
            "title": f"Revise “{text.title}” from a file" if text else "Import a text from a file",
            "changelist_url": reverse("admin:reading_text_changelist"),
        }


@admin.register(ReadingProgress)
class ReadingProgressAdmin(admin.ModelAdmin):
    list_display = ("reader", "passage", "read_at")
    raw_id_fields = ("reader", "passage")
