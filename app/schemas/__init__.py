"""Request and response bodies, one module per resource; the OpenAPI spec is generated from them."""
