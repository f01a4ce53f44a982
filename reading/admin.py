from django.contrib import admin

from reading.models import Passage, ReadingProgress, Text


class PassageInline(admin.TabularInline):
    model = Passage
    extra = 0
    fields = ("position", "word_count", "body")
    readonly_fields = ("word_count",)


@admin.register(Text)
class TextAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [PassageInline]


@admin.register(ReadingProgress)
class ReadingProgressAdmin(admin.ModelAdmin):
    list_display = ("reader", "passage", "read_at")
    raw_id_fields = ("reader", "passage")
