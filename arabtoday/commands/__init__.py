"""The project's Scrapy commands (``COMMANDS_MODULE``): ``crawl`` with validated arguments and exit statuses.

May import: every package (an entry point).
"""
