"""Classic cross-site scripting and injection payloads, for the escaping tests (each at most
60 characters, so it fits every free-text field, names and token labels included)."""

from __future__ import annotations

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "javascript:alert(document.cookie)",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "{% raw %}{{ config }}{% endraw %}",
    '" onmouseover="alert(1)" x="',
    "' autofocus onfocus='alert(1)",
    "</textarea><script>alert(1)</script>",
    "</title></style><iframe src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">klik</a>',
    "=cmd|' /C calc'!A0",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]
