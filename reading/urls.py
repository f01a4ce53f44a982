from django.urls import path

from reading import views

urlpatterns = [
    path("texts/<slug:text_slug>/continue/", views.continue_reading, name="continue_reading"),
]
