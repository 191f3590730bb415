"""The Slack layer: the app factory, the listeners grouped by feature, and what they share.

Nothing outside this package imports it but the entry points (bot.cli), through handlers.app.
"""
