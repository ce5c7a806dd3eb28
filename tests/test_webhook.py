"""`unionbot run` with WEBHOOK_URL: Telegram posts updates; only posts with the secret count.

A real bot process against the Bot API emulator (its answers go through the adapter as usual);
the test plays Telegram's side of the webhook and posts real update JSON to the local address
the reverse proxy would forward to.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from models.members import Role
from tests.support.copies import BotCopy, own_database
from tests.support.e2e_stack import GROUP_ID, seed, skip_without_emulator
from tests.support.emulator import (
    Adapter,
    Emulator,
    EmulatorClient,
    bot_environment,
    free_port,
)
from tests.support.updates import Person, text

TEACHER = Person(84003, "Wang", "en")
CHAIR = Person(84001, "张", "zh-hans")
SECRET = "webhook-secret-for-tests-0123456789"
PUBLIC_URL = "https://unionbot.example/telegram/hook"
HELP = "Union Desk can help you with"
WELCOME_BACK = "Welcome back"


def _post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        url, data=json.dumps(update).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_webhook_takes_updates_with_the_secret_only(tmp_path: Path) -> None:
    skip_without_emulator()
    url = own_database(tmp_path, "webhook")
    seed(url, [(CHAIR, "张主席", (Role.CHAIR,), None), (TEACHER, "王芳", (), None)])
    emulator = Emulator()
    emulator.start()
    adapter = Adapter(emulator.url)
    adapter.start()
    client = EmulatorClient(emulator)
    port = free_port()
    folder = tmp_path / "bot"
    folder.mkdir()
    bot = BotCopy(
        folder,
        bot_environment(
            adapter,
            url,
            folder,
            webhook_url=PUBLIC_URL,
            webhook_listen=f"127.0.0.1:{port}",
            webhook_secret=SECRET,
            health_listen="off",
            owner_ids=str(CHAIR.id),
            committee_chat_id=str(GROUP_ID),
        ),
    )
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    try:
        bot.start_until("Serving the webhook")
        # Telegram was told the public address and the secret (and the bot never polls).
        registered = next(call.params for call in adapter.calls if call.method == "setWebhook")
        assert registered["url"] == PUBLIC_URL
        assert registered["secret_token"] == SECRET
        assert adapter.count("getUpdates") == 0

        assert _post(hook, text(TEACHER, "/help"), SECRET) == 200
        client.wait_for(TEACHER.id, HELP)
        # Forged posts: no secret, a wrong one. Refused before any handler sees them.
        assert _post(hook, text(TEACHER, "/help"), None) == 403
        assert _post(hook, text(TEACHER, "/help"), "not-the-secret-0123456789") == 403
        assert _post(hook, text(TEACHER, "/start"), SECRET) == 200
        client.wait_for(TEACHER.id, WELCOME_BACK)

        texts = list(client.texts(TEACHER.id))
        assert sum(HELP in t for t in texts) == 1, texts
        assert adapter.count("getUpdates") == 0
        assert bot.interrupt() == 0
        assert "Traceback" not in bot.log()
    except BaseException:
        print(bot.log()[-6000:])
        raise
    finally:
        bot.stop()
        adapter.stop()
        emulator.stop()


def _raw(url: str, body: bytes, secret: str | None, content_type: str) -> int:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_junk_posted_to_the_webhook_is_refused_and_the_bot_goes_on(tmp_path: Path) -> None:
    """10 MB with and without the secret, a body that is not JSON, JSON that is no update:
    nothing handled, nothing sent, and the next real update is answered once."""
    skip_without_emulator()
    url = own_database(tmp_path, "webhook_junk")
    seed(url, [(CHAIR, "张主席", (Role.CHAIR,), None), (TEACHER, "王芳", (), None)])
    emulator = Emulator()
    emulator.start()
    adapter = Adapter(emulator.url)
    adapter.start()
    client = EmulatorClient(emulator)
    port = free_port()
    folder = tmp_path / "bot"
    folder.mkdir()
    bot = BotCopy(
        folder,
        bot_environment(
            adapter,
            url,
            folder,
            webhook_url=PUBLIC_URL,
            webhook_listen=f"127.0.0.1:{port}",
            webhook_secret=SECRET,
            health_listen="off",
            owner_ids=str(CHAIR.id),
            committee_chat_id=str(GROUP_ID),
        ),
    )
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    big = b'{"update_id": 1, "message": {"text": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
    try:
        bot.start_until("Serving the webhook")
        sent_before = adapter.count("sendMessage")
        answers = [
            _raw(hook, big, None, "application/json"),
            _raw(hook, big, SECRET, "application/json"),
            _raw(hook, b"not json at all", SECRET, "application/json"),
            _raw(hook, b"update_id=5", SECRET, "application/x-www-form-urlencoded"),
            _raw(hook, json.dumps({"ok": True, "result": []}).encode(), SECRET, "application/json"),
        ]
        print(f"\nwebhook answers to junk: {answers}")
        # 403 without the secret (before any parsing), 4xx/5xx for what is no update.
        assert answers[0] == 403
        assert 200 not in answers
        assert adapter.count("sendMessage") == sent_before
        assert _post(hook, text(TEACHER, "/help"), SECRET) == 200
        client.wait_for(TEACHER.id, HELP)
        assert sum(HELP in t for t in client.texts(TEACHER.id)) == 1
        assert bot.alive
        assert bot.interrupt() == 0
    except BaseException:
        print(bot.log()[-6000:])
        raise
    finally:
        bot.stop()
        adapter.stop()
        emulator.stop()
