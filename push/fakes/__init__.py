"""Local stand-ins for the push providers and a partner's endpoint, speaking each real protocol, so tests and
`make run` exercise every path (invalid tokens, 429 with Retry-After, 5xx, slow answers) without the internet."""
