"""The Jinja2 templates, shipped inside the package so a built wheel carries them (bot.render)."""
