from django.contrib import admin

from reading.models import Meeting, Membership, Passage, ReadingProgress, StudyGroup, Text


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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "text", "notebook_owner", "created_at")
    list_filter = ("text",)
    search_fields = ("name", "slug")
    raw_id_fields = ("notebook_owner",)
    inlines = [MembershipInline]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("group", "starts_at", "first_position", "last_position", "cancelled_at")


@admin.register(ReadingProgress)
class ReadingProgressAdmin(admin.ModelAdmin):
    list_display = ("reader", "passage", "read_at")
    raw_id_fields = ("reader", "passage")
