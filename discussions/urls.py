from django.urls import path

from discussions import views

group = "groups/<slug:group_slug>"

urlpatterns = [
    path(f"{group}/passages/<int:position>/comments/", views.comment_create, name="comment_create"),
    path(f"{group}/passages/<int:position>/comments/more/", views.thread_more, name="thread_more"),
    path(
        f"{group}/passages/<int:position>/comments/updates/",
        views.comment_updates,
        name="comment_updates",
    ),
    path(f"{group}/comments/<int:comment_pk>/", views.comment_thread, name="comment_thread"),
    path(f"{group}/comments/<int:comment_pk>/reply/", views.comment_reply, name="comment_reply"),
    path(f"{group}/comments/<int:comment_pk>/edit/", views.comment_edit, name="comment_edit"),
    path(f"{group}/comments/<int:comment_pk>/delete/", views.comment_delete, name="comment_delete"),
    path(
        f"{group}/comments/<int:comment_pk>/helpful/", views.comment_helpful, name="comment_helpful"
    ),
    path(f"{group}/comments/<int:comment_pk>/hide/", views.comment_hide, name="comment_hide"),
    path(f"{group}/comments/<int:comment_pk>/unhide/", views.comment_unhide, name="comment_unhide"),
    path(f"{group}/comments/<int:comment_pk>/pin/", views.comment_pin, name="comment_pin"),
    path(
        f"{group}/comments/<int:comment_pk>/highlight/",
        views.answer_highlight,
        name="answer_highlight",
    ),
    path(f"{group}/questions/", views.question_list, name="question_list"),
    path(f"{group}/questions/new/", views.question_edit, name="question_create"),
    path(f"{group}/questions/<int:question_pk>/", views.question_detail, name="question_detail"),
    path(f"{group}/questions/<int:question_pk>/edit/", views.question_edit, name="question_edit"),
    path(f"{group}/questions/<int:question_pk>/answer/", views.answer_save, name="answer_save"),
    path(
        f"{group}/questions/<int:question_pk>/close/", views.question_close, name="question_close"
    ),
    path(f"{group}/questions/<int:question_pk>/move/", views.question_move, name="question_move"),
    path(
        f"{group}/questions/<int:question_pk>/delete/",
        views.question_delete,
        name="question_delete",
    ),
    path("questions/", views.my_questions, name="my_questions"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
]
