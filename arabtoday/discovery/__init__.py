"""Where article addresses come from, read within bounds, and the frontier that paces them.

``xml`` (safe streaming XML), ``sitemaps`` (index and URL sets, read as streams;
``StreamCap``, the extension that reads a sitemap only up to its byte bound),
``feeds`` (RSS, Atom), ``listings`` (home and section pages, an article's own
links), ``frontier`` (the extension that holds a callback's output while the
scheduler is full; its spider middleware is ``arabtoday.middlewares.FrontierMiddleware``).
Page objects here take a body and return addresses; what to request is the spider's decision.

May import: site, cleaning, extraction, run, and the declared-once modules.
"""
