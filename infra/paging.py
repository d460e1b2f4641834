"""What list endpoints share about pages: 1-based and bounded, so `(page - 1) * size` never overflows a store's
OFFSET; a caller past the last page gets an empty page, one past the bound a 422."""

from __future__ import annotations

MAX_PAGE = 10_000
