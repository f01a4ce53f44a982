from django.utils.cache import patch_vary_headers


class VaryOnHtmxMiddleware:
    """Views answer htmx requests with a fragment and others with the whole page at the
    same URL, so caches and browser history must keep the two apart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response
