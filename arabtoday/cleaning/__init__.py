"""Raw record -> clean record: boilerplate out, dateline, author and source split off; dates; text.

``record`` (``clean()``: the rules that work on text, for every parser),
``dates`` (the site's date lines in every month system, ISO 8601, RSS dates),
``text`` (NFC and whitespace folding; the folded keys used for matching, never
for output; the content hash). Pure.

May import: items, schema, and the declared-once modules.
"""
