from django.urls import path

from pages import dashboards, group_page, meetings, views

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", dashboards.my_page, name="my_page"),
    path("groups/<slug:group_slug>/", group_page.group_detail, name="group_detail"),
    path("groups/<slug:group_slug>/progress/", dashboards.group_progress, name="group_progress"),
    path("texts/<slug:text_slug>/", views.text_detail, name="text_detail"),
    path("texts/<slug:text_slug>/group/", views.group_choose, name="group_choose"),
    path("texts/<slug:text_slug>/notes/", views.notebook_notes, name="notebook_notes"),
    path("texts/<slug:text_slug>/<int:position>/", views.passage_detail, name="passage_detail"),
    path(
        "texts/<slug:text_slug>/removed/<int:passage_pk>/",
        views.removed_passage_detail,
        name="removed_passage_detail",
    ),
    path(
        "texts/<slug:text_slug>/<int:position>/progress/",
        views.progress_update,
        name="progress_update",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/",
        meetings.meeting_detail,
        name="meeting_detail",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/notes/",
        meetings.meeting_notes,
        name="meeting_notes",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/handout/",
        meetings.meeting_handout,
        name="meeting_handout",
    ),
    path(
        "groups/<slug:group_slug>/meetings/<int:meeting_pk>/handout/threads/",
        meetings.handout_threads,
        name="handout_threads",
    ),
]
