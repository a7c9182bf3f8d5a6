"""Views: ipywidgets over the core results and the Voila monitoring dashboard (core never imports them)."""
