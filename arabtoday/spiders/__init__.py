"""The spider (``arabtoday``) and its ``scrapy check`` contracts.

May import: every package but distributed and offline (an entry point).
"""
