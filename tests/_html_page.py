"""A parsed HTML page for the report tests: its tags and its text."""

from html.parser import HTMLParser


class HtmlPage(HTMLParser):
    """Tags with their attributes, and text, as a browser would see them."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.starts, self.text = [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def tags(self, name):
        """The attributes of every ``<name>`` tag, in page order."""
        return [attrs for tag, attrs in self.starts if tag == name]
