from django.shortcuts import render
from django.views.decorators.http import require_safe

from groups.models import Membership
from search import selectors
from search.forms import QUERY_MAX_LENGTH, SearchForm
from sectstudy.http import HtmxHttpRequest


@require_safe
def search(request: HtmxHttpRequest):
    """/search/?q=…: passages of the texts and, for a signed-in reader, their groups'
    discussions. htmx asks for the results region only, as the reader types."""
    group_choices = []
    if request.user.is_authenticated:
        group_choices = [
            (slug, name)
            for slug, name in Membership.objects.filter(user=request.user)
            .order_by("group__name")
            .values_list("group__slug", "group__name")
        ]
    form = SearchForm(request.GET, group_choices=group_choices)
    form.is_valid()  # every field is optional and cleaned leniently
    data = form.cleaned_data
    query = data.get("q", "")
    results = None
    if "q" in request.GET:
        results = selectors.search(
            user=request.user,
            query=query,
            filters=selectors.Filters(
                kind=data.get("kind") or "",
                group_slug=data.get("group", ""),
                author=data.get("author", ""),
                questions_only=bool(data.get("questions")),
            ),
            page_number=request.GET.get("page"),
        )
    context = {
        "form": form,
        "query": query,
        "results": results,
        "truncated": form.truncated,
        "max_length": QUERY_MAX_LENGTH,
        "page_query": _page_query(request, data),
    }
    template = "search/search.html"
    if request.htmx and not (request.htmx.boosted or request.htmx.history_restore_request):
        template += "#results"
    return render(request, template, context)


def _page_query(request, data) -> str:
    """The query string of the search without its page, for the paging links."""
    params = request.GET.copy()
    params.pop("page", None)
    if "q" in params:
        params["q"] = data.get("q", "")
    return params.urlencode()
