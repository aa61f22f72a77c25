from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, which escapes text that UTF-8 cannot carry instead of failing with a 500."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # A lone surrogate (from a stored value, say) has a valid JSON escape but no UTF-8 form.
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
