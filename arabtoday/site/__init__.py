"""What the site is: the grammar of its addresses and the rule for "inside the site".

``addresses`` (address kinds, canonical form, article ids, the live site's
address), ``scope`` (the one rule every request passes), ``ids`` (per-run
article id maps in compressed bitmaps). Pure: no Scrapy component lives here.

May import: nothing of the project (every other part imports it).
"""
