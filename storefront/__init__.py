"""The storefront and seller pages: server-rendered HTML on the public API, the project's reference client."""
