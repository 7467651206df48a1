"""Parsing Feishu message events into conversations, text and attachments."""

from __future__ import annotations

from adapters.feishu.inbound import parse_attachment_ref, parse_message_event
from core.types import AttachmentKind
from tests.feishu_fake.events import BOT_OPEN_ID, message_event


def test_group_mention_is_stripped_and_other_mentions_keep_their_names() -> None:
    payload = message_event(text="用 @_user_2 的风格 生成一只猫的视频", other_mentions=(("ou_bob", "Bob"),))
    msg = parse_message_event(payload, BOT_OPEN_ID)
    assert msg is not None
    assert msg.text == "用 @Bob 的风格 生成一只猫的视频"
    assert msg.mentions_bot and msg.addressed_to_bot
    assert not msg.conversation.is_direct
    assert msg.conversation.user_id == "ou_alice"
    assert msg.conversation.chat_id == "oc_group"


def test_group_message_mentioning_someone_else_is_not_for_the_bot() -> None:
    payload = message_event(text="@_user_2 look at this", mention_bot=False,
                            other_mentions=(("ou_bob", "Bob"),))
    msg = parse_message_event(payload, BOT_OPEN_ID)
    assert msg is not None and not msg.addressed_to_bot


def test_direct_message_needs_no_mention() -> None:
    msg = parse_message_event(message_event(text="a cat", chat_type="p2p", mention_bot=False), BOT_OPEN_ID)
    assert msg is not None and msg.addressed_to_bot and msg.conversation.is_direct
    assert msg.text == "a cat"


def test_image_message_becomes_an_image_attachment() -> None:
    payload = message_event(message_type="image", content={"image_key": "img_v3_1"}, chat_type="p2p",
                            message_id="om_img")
    msg = parse_message_event(payload, BOT_OPEN_ID)
    assert msg is not None and msg.supported
    (att,) = msg.attachments
    assert att.kind is AttachmentKind.IMAGE
    assert parse_attachment_ref(att.ref) == ("om_img", "img_v3_1", "image")


def test_post_with_text_and_embedded_images() -> None:
    post = {"title": "", "content": [
        [{"tag": "at", "user_id": "@_user_1", "user_name": "IMA Bot"},
         {"tag": "text", "text": " 让这两张图动起来"}],
        [{"tag": "img", "image_key": "img_a"}, {"tag": "img", "image_key": "img_b"}],
        [{"tag": "media", "file_key": "file_v", "image_key": "img_cover"}],
    ]}
    payload = message_event(message_type="post", content=post, message_id="om_p")
    msg = parse_message_event(payload, BOT_OPEN_ID)
    assert msg is not None
    assert msg.text == "让这两张图动起来"
    assert msg.mentions_bot
    kinds = [a.kind for a in msg.attachments]
    assert kinds == [AttachmentKind.IMAGE, AttachmentKind.IMAGE, AttachmentKind.VIDEO]
    assert parse_attachment_ref(msg.attachments[2].ref) == ("om_p", "file_v", "file")


def test_locale_wrapped_post_is_understood() -> None:
    post = {"zh_cn": {"title": "标题", "content": [[{"tag": "text", "text": "一只猫"}]]}}
    msg = parse_message_event(message_event(message_type="post", content=post, chat_type="p2p"), BOT_OPEN_ID)
    assert msg is not None and msg.text == "标题\n一只猫"


def test_file_audio_and_media_kinds() -> None:
    cases = [
        ("file", {"file_key": "file_1", "file_name": "clip.MOV"}, AttachmentKind.VIDEO),
        ("file", {"file_key": "file_2", "file_name": "report.pdf"}, AttachmentKind.OTHER),
        ("audio", {"file_key": "file_3", "duration": 3000}, AttachmentKind.AUDIO),
        ("media", {"file_key": "file_4", "image_key": "img_c", "file_name": "v.mp4"}, AttachmentKind.VIDEO),
    ]
    for message_type, content, kind in cases:
        msg = parse_message_event(message_event(message_type=message_type, content=content), BOT_OPEN_ID)
        assert msg is not None and len(msg.attachments) == 1
        assert msg.attachments[0].kind is kind
        assert msg.attachments[0].ref.endswith("/file")


def test_stickers_and_shared_chats_are_unsupported() -> None:
    for message_type in ("sticker", "share_chat", "merge_forward"):
        payload = message_event(message_type=message_type, content={"file_key": "x"})
        msg = parse_message_event(payload, BOT_OPEN_ID)
        assert msg is not None and not msg.supported and msg.attachments == ()


def test_malformed_payloads_are_rejected() -> None:
    assert parse_message_event({}, BOT_OPEN_ID) is None
    payload = message_event(text="x")
    payload["event"]["message"]["content"] = "not json"
    msg = parse_message_event(payload, BOT_OPEN_ID)
    assert msg is not None and msg.text == ""


def test_unknown_bot_id_counts_any_mention() -> None:
    msg = parse_message_event(message_event(text="a dog"), None)
    assert msg is not None and msg.mentions_bot and msg.text == "a dog"


def test_messages_from_other_bots_are_flagged() -> None:
    msg = parse_message_event(message_event(text="hi", sender_type="app"), BOT_OPEN_ID)
    assert msg is not None and not msg.from_user


def test_attachment_refs_from_elsewhere_are_not_ours() -> None:
    assert parse_attachment_ref("https://example.com/a.png") is None
    assert parse_attachment_ref("feishu:om/key/sticker") is None


def test_at_everyone_placeholder_is_dropped() -> None:
    msg = parse_message_event(message_event(text="@_all 生成一只猫的视频"), BOT_OPEN_ID)
    assert msg is not None and msg.text == "生成一只猫的视频"
