"""URL normalisation: spellings of one page compare equal; hostile input is a UsageError, nothing else."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from vigil.errors import UsageError
from vigil.privacy.urls import host_in_domain, normalise_url


def test_spellings_of_one_page_are_equal() -> None:
    same = [
        "https://example.net/a/b",
        "HTTP://WWW.Example.NET:80/a/b/",
        "https://example.net:443/a/b#section",
        "example.net/a/b?utm_source=x&utm_medium=y",
        "https://example.net/a/%62",
    ]
    assert {normalise_url(u) for u in same} == {"https://example.net/a/b"}
    assert normalise_url("https://example.net/?b=2&a=1") == "https://example.net/?a=1&b=2"
    assert normalise_url("https://example.net/a?x=1") != normalise_url("https://example.net/a?x=2")
    assert normalise_url("https://bücher.example/x").startswith("https://xn--bcher-kva.example/")


def test_domains_cover_subdomains_only() -> None:
    assert host_in_domain("news.example.net", "example.net")
    assert host_in_domain("example.net", "EXAMPLE.net")
    assert not host_in_domain("badexample.net", "example.net")
    assert not host_in_domain("example.net.evil.org", "example.net")


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_hostile_input_is_a_usage_error_or_a_normal_url(text: str) -> None:
    try:
        url = normalise_url(text)
    except UsageError:
        return
    assert url.startswith("https://")
    assert normalise_url(url) == url  # normalising twice changes nothing


@given(
    st.sampled_from(["example.net", "WWW.Example.net", "sub.example.org:8080", "bücher.example"]),
    st.text(max_size=60),
    st.text(max_size=30),
)
@example("example.net", "/", "")  # a path of slashes alone once normalised to no path at all
@settings(max_examples=300, deadline=None)
def test_url_like_input_normalises_idempotently(host: str, path: str, query: str) -> None:
    try:
        url = normalise_url(f"http://{host}/{path}?{query}")
    except UsageError:
        return
    assert url.startswith("https://") and normalise_url(url) == url
