"""Telegram Desktop exports and X/Twitter (API v2 and v1.1): fields mapped, bad records quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.model import Item, Quarantined
from vigil.sources import samples
from vigil.sources.base import SourceContext
from vigil.sources.discover import choose, discover, sources
from vigil.sources.telegram import TelegramSource, flatten_text
from vigil.sources.twitter import TwitterSource
from vigil.store.media import MediaSink

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ctx(tmp_path: Path, **kw: int) -> SourceContext:
    return SourceContext(media=MediaSink(tmp_path / "media"), **kw)


def _split(records: list[Item | Quarantined]) -> tuple[list[Item], list[Quarantined]]:
    return [r for r in records if isinstance(r, Item)], [r for r in records if isinstance(r, Quarantined)]


def _export(folder: Path) -> Path:
    photo = samples.png()
    msgs = [
        samples.telegram_message(1, "Plain placeholder message one."),
        samples.telegram_message(
            2,
            ["See ", {"type": "text_link", "text": "the notice", "href": "https://example.org/n"}, " today."],
            photo="photos/photo_1@01-11-2026_10-00-00.jpg",
            reply_to_message_id=1,
        ),
        samples.telegram_message(3, "Forwarded placeholder.", forwarded_from="Other Example Channel"),
        {"id": 4, "type": "service", "action": "pin_message", "text": ""},
        {"type": "message", "text": "no id here"},
        samples.telegram_message(5, "A file.", file="files/doc.pdf", mime_type="application/pdf"),
        samples.telegram_message(6, "Escape attempt.", photo="../../etc/passwd"),
        samples.telegram_message(7, 42),  # type: ignore[arg-type]
    ]
    return samples.write_telegram_export(
        folder,
        [samples.telegram_chat("Example Channel", 1000000001, msgs)],
        {"photos/photo_1@01-11-2026_10-00-00.jpg": photo, "files/doc.pdf": b"%PDF-1.4 placeholder"},
    )


def test_telegram_single_chat(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    _export(folder)
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path))))
    by_id = {i.native_id: i for i in items}
    assert sorted(by_id) == [
        "1000000001:1",
        "1000000001:2",
        "1000000001:3",
        "1000000001:4",
        "1000000001:5",
        "1000000001:6",
    ]
    two = by_id["1000000001:2"]
    assert two.text == "See the notice today." and two.links == ["https://example.org/n"]
    assert two.reply_to == "1000000001:1" and two.media[0].kind == "image"
    assert two.media[0].name == "photos/photo_1@01-11-2026_10-00-00.jpg"
    assert (tmp_path / "media").exists() and two.published is not None and two.published.day == 1
    assert two.account is None  # "from_id": "channel1000000001" in that channel: the channel posts
    assert (
        two.channel is not None and two.channel.is_channel and two.channel.display_name == "Example Channel"
    )
    assert by_id["1000000001:3"].forwarded_from == "Other Example Channel"
    assert by_id["1000000001:5"].media[0].mime == "application/pdf"
    assert (
        by_id["1000000001:6"].media == []
        and "leaves the export folder" in by_id["1000000001:6"].meta["media_notes"][0]
    )
    assert [(q.location, q.reason) for q in bad] == [
        ("chat 1000000001 message #5", "message has no id"),
        ("chat 1000000001 message 7", "text must be a string or a list, found int"),
    ]


def test_telegram_full_account_export_and_claimed_media(tmp_path: Path) -> None:
    root = tmp_path / "scan"
    folder = root / "export"
    chats = [
        samples.telegram_chat(
            "Chat A", 11, [samples.telegram_message(1, "a one"), samples.telegram_message(2, "a two")]
        ),
        samples.telegram_chat(
            "Chat B",
            22,
            [samples.telegram_message(1, "b one", photo="chats/chat_02/photos/p.jpg")],
            "private_group",
        ),
    ]
    samples.write_telegram_export(folder, chats, {"chats/chat_02/photos/p.jpg": samples.png()})
    (folder / "stray.jsonl").write_text('{"text": "not part of the export"}\n', "utf-8")
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path))))
    assert bad == [] and sorted(i.native_id or "" for i in items) == ["11:1", "11:2", "22:1"]
    group = next(i for i in items if i.native_id == "22:1")
    assert group.channel is not None and group.channel.is_channel and group.channel.native_id == "22"
    assert group.account is not None and group.account.native_id == "user100000001"
    assert group.meta["chat_type"] == "private_group"
    tasks = [
        (t.path.relative_to(root).as_posix(), t.source.name if t.source else None) for t in discover(root)
    ]
    assert tasks == [("export", "telegram"), ("export/stray.jsonl", "jsonl")]
    direct = list(discover(folder / "result.json"))
    assert [(t.path.name, getattr(t.source, "name", None)) for t in direct] == [("result.json", "telegram")]
    other = tmp_path / "other"
    other.mkdir()
    (other / "result.json").write_text('{"status": "ok"}', "utf-8")  # not an export: not claimed
    found = [(t.path.name, getattr(t.source, "name", None)) for t in discover(other)]
    assert found == [("result.json", "jsonl")]


def test_telegram_truncated_keeps_what_came_before(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    path = _export(folder)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b'"id": 5')])
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path))))
    assert len(items) == 4 and len(bad) == 2
    assert bad[-1].reason.startswith("truncated Telegram export: 5 complete messages before the break")
    assert bad[-1].location.startswith("byte ")


def test_telegram_oversized_message(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    msgs = [samples.telegram_message(1, "x" * 5000), samples.telegram_message(2, "short")]
    samples.write_telegram_export(folder, [samples.telegram_chat("C", 1, msgs)])
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path, max_record_bytes=1000))))
    assert [i.native_id for i in items] == ["1:2"] and "longer than 1000" in bad[0].reason


def test_forced_format_on_a_folder_without_export(tmp_path: Path) -> None:
    import pytest

    from vigil.errors import SourceError

    with pytest.raises(SourceError, match=r"no result\.json"):
        list(TelegramSource().read(tmp_path, _ctx(tmp_path)))


def test_flatten_text_entities() -> None:
    text, links = flatten_text(
        ["a ", {"type": "link", "text": "https://example.org"}, {"type": "bold", "text": "b"}]
    )
    assert text == "a https://example.orgb" and links == ["https://example.org"]


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.one_of(st.integers(1, 10**6), st.none(), st.text(max_size=3))},
            optional={
                "text": st.one_of(
                    st.text(max_size=30),
                    st.integers(),
                    st.lists(
                        st.one_of(
                            st.text(max_size=5),
                            st.dictionaries(st.sampled_from(["type", "text", "href"]), st.text(max_size=5)),
                        ),
                        max_size=3,
                    ),
                ),
                "from": st.text(max_size=5),
                "reply_to_message_id": st.integers(),
                "photo": st.text(max_size=10),
                "date": st.text(max_size=12),
            },
        ),
        max_size=8,
    ),
    st.integers(0, 400),
)
def test_telegram_fuzz_every_message_accounted(
    tmp_path: Path, msgs: list[dict[str, object]], cut: int
) -> None:
    folder = tmp_path / "fz"
    path = samples.write_telegram_export(folder, [samples.telegram_chat("F", 9, msgs)])
    full = path.read_bytes()
    records = list(TelegramSource().read(folder, _ctx(tmp_path)))
    assert all(isinstance(r, Item | Quarantined) for r in records)
    assert len(records) == len(msgs)
    if cut and cut < len(full):
        path.write_bytes(full[:cut])
        truncated = list(TelegramSource().read(folder, _ctx(tmp_path)))
        assert isinstance(truncated[-1], Quarantined) and len(truncated) <= len(msgs) + 1


# ---- X/Twitter --------------------------------------------------------------------------------------


def _v2() -> dict[str, object]:
    return samples.v2_response(
        [
            {
                "id": "101",
                "text": "Placeholder v2 post https://t.co/x",
                "author_id": "7",
                "created_at": "2026-11-01T10:00:00.000Z",
                "lang": "en",
                "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": "https://example.org/a"}]},
                "attachments": {"media_keys": ["3_1"]},
                "edit_history_tweet_ids": ["101"],
            },
            {
                "id": "102",
                "text": "RT placeholder",
                "author_id": "8",
                "referenced_tweets": [{"type": "retweeted", "id": "101"}],
            },
            {
                "id": "103",
                "text": "reply",
                "author_id": "8",
                "referenced_tweets": [{"type": "replied_to", "id": "101"}],
            },
            {"author_id": "8", "text": "no id"},
            {"id": "104", "author_id": "8"},
        ],
        [
            {"id": "7", "username": "example_one", "name": "Example One"},
            {"id": "8", "username": "example_two", "name": "Two"},
        ],
        [{"media_key": "3_1", "type": "photo", "url": "https://pbs.example.org/1.jpg"}],
    ) | {
        "includes": {
            "users": [
                {"id": "7", "username": "example_one", "name": "Example One"},
                {"id": "8", "username": "example_two", "name": "Two"},
            ],
            "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.example.org/1.jpg"}],
            "tweets": [{"id": "101", "text": "Placeholder v2 post https://t.co/x", "author_id": "7"}],
        }
    }


def test_twitter_v2_response(tmp_path: Path) -> None:
    path = tmp_path / "resp.json"
    path.write_text(json.dumps(_v2(), indent=2), "utf-8")
    assert getattr(choose(path, sources()), "name", None) == "twitter"
    items, bad = _split(list(TwitterSource().read(path, _ctx(tmp_path))))
    first, rt, reply = items
    assert first.account is not None and first.account.handle == "example_one"
    assert first.links == ["https://example.org/a"] and first.lang == "en" and first.published is not None
    assert first.meta["media"][0]["url"] == "https://pbs.example.org/1.jpg"
    assert first.url == "https://twitter.com/example_one/status/101"
    assert (
        rt.meta["retweet_of"] == "101"
        and rt.forwarded_from == "example_one"
        and rt.text.startswith("Placeholder")
    )
    assert reply.reply_to == "101"
    assert [(q.location, q.reason) for q in bad] == [
        ("data[3]", "tweet has no id"),
        ("data[4]", "tweet has no text"),
    ]
    # The same response as one JSON line gives the same items.
    lines = tmp_path / "resp.jsonl"
    lines.write_text(json.dumps(_v2()) + "\n{broken\n", "utf-8")
    assert getattr(choose(lines, sources()), "name", None) == "twitter"
    items2, bad2 = _split(list(TwitterSource().read(lines, _ctx(tmp_path))))
    assert [i.id for i in items2] == [i.id for i in items] and len(bad2) == 3


def test_twitter_v1_array_and_lines(tmp_path: Path) -> None:
    original = samples.tweet_v1(
        201,
        "Original placeholder",
        "example_src",
        entities={"urls": [{"expanded_url": "https://example.org/b"}]},
        extended_entities={"media": [{"type": "photo", "media_url_https": "https://pbs.example.org/2.jpg"}]},
    )
    tweets = [
        original,
        samples.tweet_v1(202, "RT @example_src: Original plac…", "example_rt", retweeted_status=original),
        samples.tweet_v1(
            203, "A reply", "example_rt", in_reply_to_status_id_str="201", quoted_status_id_str="201"
        ),
        {"id_str": "", "full_text": "no id"},
    ]
    arr = tmp_path / "tweets.json"
    arr.write_text(json.dumps(tweets, indent=1), "utf-8")
    assert getattr(choose(arr, sources()), "name", None) == "twitter"
    items, bad = _split(list(TwitterSource().read(arr, _ctx(tmp_path))))
    assert [i.native_id for i in items] == ["201", "202", "203"]
    assert items[0].links == ["https://example.org/b"] and items[0].meta["media"][0]["url"].endswith("2.jpg")
    assert items[1].forwarded_from == "example_src" and items[1].text == "Original placeholder"
    assert (
        items[1].meta["retweet_of"] == "201"
        and items[2].reply_to == "201"
        and items[2].meta["quote_of"] == "201"
    )
    assert items[0].published is not None and items[0].published.year == 2026
    assert [q.location for q in bad] == ["item[3]"]
    jl = tmp_path / "tweets.jsonl"
    jl.write_text("\n".join(json.dumps(t) for t in tweets) + "\n", "utf-8")
    items2, bad2 = _split(list(TwitterSource().read(jl, _ctx(tmp_path))))
    assert [i.id for i in items2] == [i.id for i in items] and [q.location for q in bad2] == ["line 4"]


def test_twitter_truncated_array(tmp_path: Path) -> None:
    arr = tmp_path / "t.json"
    body = json.dumps([samples.tweet_v1(i, f"post {i}", "ex") for i in range(1, 6)])
    arr.write_text(body[: body.index('"id": 4')], "utf-8")
    items, bad = _split(list(TwitterSource().read(arr, _ctx(tmp_path))))
    assert [i.native_id for i in items] == ["1", "2", "3"] and "truncated" in bad[0].reason


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "id_str",
                    "text",
                    "full_text",
                    "user",
                    "author_id",
                    "entities",
                    "retweeted_status",
                    "referenced_tweets",
                ]
            ),
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=8),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
            ),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_twitter_fuzz(tmp_path: Path, tweets: list[dict[str, object]], as_lines: bool) -> None:
    path = tmp_path / ("f.jsonl" if as_lines else "f.json")
    if as_lines:
        path.write_text("".join(json.dumps({"id_str": "0", **t}) + "\n" for t in tweets), "utf-8")
    else:
        path.write_text(json.dumps([{"id_str": "0", **t} for t in tweets], indent=1), "utf-8")
    records = list(TwitterSource().read(path, _ctx(tmp_path)))
    assert all(isinstance(r, Item | Quarantined) for r in records)
    assert len(records) == len(tweets)


def test_every_field_the_desktop_exporter_writes(tmp_path: Path) -> None:
    """Messages with the fields Telegram Desktop's JSON exporter writes (export_output_json.cpp), in its
    order: peers as ``user<id>``/``channel<id>``, display names beside them, service messages with
    ``actor``/``actor_id``, skipped files, reactions. Each is read, none breaks the reader."""
    full = {
        "id": 10,
        "type": "message",
        "date": "2026-11-01T10:00:00",
        "date_unixtime": "1793527200",
        "edited": "2026-11-01T10:05:00",
        "edited_unixtime": "1793527500",
        "from": "Member One",
        "from_id": "user200000001",
        "author": "Signature",
        "forwarded_from": "Example Source",
        "forwarded_from_id": "channel1700000001",
        "forwarded_from_message_id": 77,
        "saved_from": "Example Source",
        "reply_to_message_id": 9,
        "reply_to_peer_id": "channel1700000001",
        "via_bot": "@example_bot",
        "photo": "(File not included. Change data exporting settings to download.)",
        "width": 640,
        "height": 480,
        "file": "(File exceeds maximum size. Change data exporting settings to download.)",
        "file_name": "clip.mp4",
        "file_size": 123456,
        "thumbnail": "(File unavailable, please try again later)",
        "media_type": "video_file",
        "mime_type": "video/mp4",
        "duration_seconds": 30,
        "self_destruct_period_seconds": 0,
        "reactions": [
            {
                "type": "emoji",
                "count": 2,
                "emoji": "👍",
                "recent": [{"from": "Member Two", "from_id": "user200000002", "date": "2026-11-01T10:06:00"}],
            }
        ],
        "text": [
            "See ",
            {"type": "text_link", "text": "this", "href": "https://example.org/x"},
            {"type": "mention_name", "text": "Member Two", "user_id": 200000002},
            {"type": "custom_emoji", "text": "*", "document_id": "stickers/e.webp"},
        ],
        "text_entities": [
            {"type": "plain", "text": "See "},
            {"type": "text_link", "text": "this", "href": "https://example.org/x"},
        ],
    }
    service = {
        "id": 11,
        "type": "service",
        "date": "2026-11-01T10:10:00",
        "date_unixtime": "1793527800",
        "actor": "Member One",
        "actor_id": "user200000001",
        "action": "invite_members",
        "members": ["Member Two", None],
        "text": "",
        "text_entities": [],
    }
    unsupported = {"id": 12, "type": "unsupported"}
    poll = samples.telegram_message(
        13,
        "",
        sender="Member One",
        sender_id="user200000001",
        poll={
            "question": "Placeholder question",
            "closed": False,
            "total_voters": 2,
            "answers": [
                {"text": "Yes", "voters": 1, "chosen": False},
                {"text": "No", "voters": 1, "chosen": True},
            ],
        },
    )
    folder = tmp_path / "group"
    chat = samples.telegram_chat(
        "Example Group", 1800000002, [full, service, unsupported, poll], "public_supergroup"
    )
    samples.write_telegram_export(folder, [chat])
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path))))
    assert bad == [] and [i.native_id for i in items] == [f"1800000002:{n}" for n in (10, 11, 12, 13)]
    first, joined, _, question = items
    assert first.account is not None and first.account.native_id == "user200000001"
    assert first.account.display_name == "Member One" and not first.account.is_channel
    assert first.channel is not None and first.channel.native_id == "1800000002" and first.channel.is_channel
    assert first.forwarded_from == "telegram:1700000001" and first.meta["forwarded_from_kind"] == "channel"
    assert first.reply_to == "1700000001:9" and first.links == ["https://example.org/x"]
    assert first.text == "See thisMember Two*" and first.meta["author"] == "Signature"
    assert first.meta["file_name"] == "clip.mp4" and first.meta["edited"] == "2026-11-01T10:05:00"
    assert first.media == [] and len(first.meta["media_notes"]) == 3  # three kinds of skipped file
    assert joined.account is not None and joined.account.native_id == "user200000001"
    assert joined.meta["action"] == "invite_members"
    assert question.text == "Placeholder question\nYes\nNo"


def test_twitter_text_arrives_unescaped(tmp_path: Path) -> None:
    """The X API escapes ``&``, ``<`` and ``>`` in tweet text: stored as the API sent it, ``&amp;`` became
    the classifier's top reason "term 'amp'" on a case. Both API versions are decoded once."""
    v1 = samples.tweet_v1(301, "Tea &amp; cake at 5 &lt;3 &gt;&gt; &amp;amp; done", "example_one")
    v2 = {"data": [{"id": "302", "text": "Fish &amp; chips &lt;today&gt;", "author_id": "1"}]}
    (tmp_path / "v1.json").write_text(json.dumps([v1]), "utf-8")
    (tmp_path / "v2.json").write_text(json.dumps(v2), "utf-8")
    [one], _ = _split(list(TwitterSource().read(tmp_path / "v1.json", _ctx(tmp_path))))
    [two], _ = _split(list(TwitterSource().read(tmp_path / "v2.json", _ctx(tmp_path))))
    assert one.text == "Tea & cake at 5 <3 >> &amp; done"  # a typed "&amp;" arrives as "&amp;amp;"
    assert two.text == "Fish & chips <today>"
