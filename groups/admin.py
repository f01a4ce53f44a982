from django.contrib import admin

from groups.models import Meeting, Membership, StudyGroup


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
