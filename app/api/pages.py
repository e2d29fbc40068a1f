"""The headers every file we serve carries, and the stricter ones every HTML page carries."""

# Our pages have no scripts and no external assets; nothing else may load.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def security_headers(media_type: str) -> list[tuple[str, str]]:
    """No sniffing a file into something else; a page also gets the CSP and no referrer."""
    headers = [("x-content-type-options", "nosniff")]
    if media_type.startswith("text/html"):
        headers.append(("content-security-policy", PAGE_POLICY))
        headers.append(("referrer-policy", "no-referrer"))
    return headers
