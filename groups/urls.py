from django.urls import path

from groups import views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("texts/<slug:text_slug>/notebook/", views.notebook, name="notebook"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<slug:group_slug>/edit/", views.group_edit, name="group_edit"),
    path("groups/<slug:group_slug>/leave/", views.group_leave, name="group_leave"),
    path(
        "groups/<slug:group_slug>/invitation/",
        views.invitation_regenerate,
        name="invitation_regenerate",
    ),
    path(
        "groups/<slug:group_slug>/members/<int:membership_pk>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "groups/<slug:group_slug>/members/<int:membership_pk>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("groups/<slug:group_slug>/meetings/new/", views.meeting_edit, name="meeting_create"),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/edit/",
        views.meeting_edit,
        name="meeting_edit",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/cancel/",
        views.meeting_cancel,
        name="meeting_cancel",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/calendar.ics",
        views.meeting_calendar,
        name="meeting_calendar",
    ),
    path("settings/calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/restore/",
        views.meeting_restore,
        name="meeting_restore",
    ),
    path("join/<slug:invite_token>/", views.group_join, name="group_join"),
]
