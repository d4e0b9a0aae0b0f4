"""The App Home: published on opening and after every change made through it; the settings form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from bot.services.people import Preferences
from tests.conftest import ANA, BEN, GIVER, TEAM, Harness, payload, texts
from tests.e2e.test_promises import dms, submit


def open_home(h: Harness, user_id: str = GIVER) -> dict[str, Any]:
    envelope = payload("app_home_opened", event_id=f"EvHome{len(h.fake.calls)}")
    envelope["event"] = {**envelope["event"], "user": user_id}
    h.event(envelope)
    return latest_home(h, user_id)


def latest_home(h: Harness, user_id: str = GIVER) -> dict[str, Any]:
    published = [c for c in h.fake.calls_to("views.publish") if c.params["user_id"] == user_id]
    assert published, "no Home was published"
    view: dict[str, Any] = published[-1].params["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    return view


def press(h: Harness, view: dict[str, Any], action_id: str, *, value: str | None = None) -> Any:
    """Clicks a button on the Home (a block action from a view, with no message and no response_url)."""
    element = next(
        e
        for block in view["blocks"]
        for e in [*block.get("elements", []), block.get("accessory") or {}]
        if isinstance(e, dict)
        and e.get("action_id") == action_id
        and (value is None or e.get("value") == value)
    )
    body = payload("block_actions")
    body.pop("message", None)
    body.pop("channel", None)
    body.pop("response_url", None)
    body["container"] = {"type": "view", "view_id": "V0HOME"}
    body["view"] = {"id": "V0HOME", "type": "home", "blocks": view["blocks"], "private_metadata": ""}
    body["actions"] = [
        {
            **body["actions"][0],
            "action_id": action_id,
            "value": element["value"],
            "action_ts": f"{h.clock.now().timestamp():.6f}",
        }
    ]
    return h.interaction(body)


def test_a_new_person_sees_an_empty_but_friendly_home(harness: Harness) -> None:
    view = open_home(harness)

    shown = texts(view["blocks"])
    assert "*Your open promises* Nothing open. Nice." in shown
    assert "None yet. `/checkin @dan every 2 weeks`" in shown
    assert "*Kudos you received:* none yet." in shown
    assert "*Your dates:* no dates" in shown
    assert "*Working days:* Monday to Friday, 09:00 to 18:00 (your time)" in shown
    assert "*Reminders:* as they come" in shown
    actions = [
        e["action_id"]
        for b in view["blocks"]
        for e in [*b.get("elements", []), b.get("accessory") or {}]
        if isinstance(e, dict) and "action_id" in e
    ]
    assert "home_admin_settings" not in actions


def test_the_home_shows_my_loops_kudos_dates_and_settings(harness: Harness) -> None:
    h = harness
    h.fake.add_user(GIVER, "gia", real_name="Gia Giver", tz="Europe/London", is_admin=True)
    h.command(f"<@{ANA}|ana> send the deck by Friday 3pm", name="/promise")
    h.command(f"<@{GIVER}|gia> the numbers by Friday 10am", name="/promise", user_id=BEN)
    h.command(f"<@{ANA}|ana> every 2 weeks catch up", name="/checkin")
    h.command(f"<@{GIVER}|gia> thanks for the review #craft", user_id=ANA)
    h.command("14 March", name="/birthday")

    shown = texts(open_home(h)["blocks"])

    assert "*send the deck* for <@U0ANA>, due Fri 20 Nov 15:00" in shown
    assert (
        "*Waiting on others* • <@U0BEN>: *the numbers*, by Fri 20 Nov 01:00" in shown
    )  # Ben's 10am in Tokyo
    assert "<@U0ANA>, every 2 weeks. Next: Wed 2 Dec 09:00" in shown
    assert "*Kudos you received:* 1 in all." in shown and "<@U0ANA>: thanks for the review" in shown
    assert "*Your dates:* birthday 14 March" in shown
    first_button = next(e for b in latest_home(h)["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert first_button["text"]["text"] == "ExtraMile settings"


def test_done_on_the_home_closes_the_promise_and_shows_the_home_again(harness: Harness) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> send the deck by Friday 3pm", name="/promise")
    view = open_home(h)
    before = len(h.fake.calls_to("views.publish"))

    press(h, view, "promise_done")

    assert len(h.fake.calls_to("views.publish")) == before + 1
    assert "Nothing open. Nice." in texts(latest_home(h)["blocks"])
    assert h.fake.calls_to("response_url") == []  # nothing to replace on a Home
    assert any("done, on time" in texts(dm["blocks"]) for dm in dms(h, ANA))


def test_my_settings_are_changed_from_the_home(harness: Harness) -> None:
    h = harness
    view = open_home(h)
    press(h, view, "home_preferences")
    [opened] = h.fake.calls_to("views.open")
    form = opened.params["view"]
    assert form["callback_id"] == "preferences_modal"

    bad = submit(
        h,
        form,
        {
            "preferences_days": {"days": {"type": "checkboxes", "selected_options": []}},
            "preferences_start": {"start": {"type": "timepicker", "selected_time": "17:00"}},
            "preferences_end": {"end": {"type": "timepicker", "selected_time": "09:00"}},
            "preferences_away": {"away": {"type": "datepicker", "selected_date": None}},
            "preferences_digest": {"digest": {"type": "radio_buttons", "selected_option": None}},
        },
        view_id="VPREFS1",
    )
    assert bad["response_action"] == "errors"
    assert set(bad["errors"]) == {"preferences_days", "preferences_end"}
    assert h.app.services.people.preferences(TEAM, GIVER) == Preferences()

    good = submit(
        h,
        form,
        {
            "preferences_days": {
                "days": {"type": "checkboxes", "selected_options": [{"value": str(d)} for d in (0, 1, 2, 3)]}
            },
            "preferences_start": {"start": {"type": "timepicker", "selected_time": "08:30"}},
            "preferences_end": {"end": {"type": "timepicker", "selected_time": "16:30"}},
            "preferences_away": {"away": {"type": "datepicker", "selected_date": "2026-11-27"}},
            "preferences_digest": {
                "digest": {"type": "radio_buttons", "selected_option": {"value": "digest"}}
            },
            # Offers to track promises written in chat: left unticked.
            "preferences_offers": {"offers": {"type": "checkboxes", "selected_options": []}},
        },
        view_id="VPREFS2",
    )

    assert good is None
    assert h.app.services.people.preferences(TEAM, GIVER) == Preferences(
        work_days=(0, 1, 2, 3),
        work_start=time(8, 30),
        work_end=time(16, 30),
        away_until=date(2026, 11, 27),
        digest=True,
        promise_offers=False,
    )
    shown = texts(latest_home(h)["blocks"])
    assert "*Working days:* Monday, Tuesday, Wednesday, Thursday, 08:30 to 16:30 (your time)" in shown
    assert "*Away until:* Fri 27 November" in shown and "one digest at the start of your day" in shown
    assert "*Offers to track promises you write:* off" in shown


def test_editing_dates_from_the_home_shows_them_at_once(harness: Harness) -> None:
    h = harness
    view = open_home(h)
    press(h, view, "welcome_share_dates")
    [opened] = h.fake.calls_to("views.open")

    submit(
        h,
        opened.params["view"],
        {
            "dates_birthday": {"birthday": {"type": "plain_text_input", "value": "3 July"}},
            "dates_start": {"start": {"type": "datepicker", "selected_date": "2020-02-01"}},
        },
        view_id="VDATES",
    )

    assert "*Your dates:* birthday 3 July, start date 2020-02-01" in texts(latest_home(h)["blocks"])
    assert h.clock.now() == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def test_a_stale_button_on_the_home_shows_the_home_as_it_is_now(harness: Harness) -> None:
    h = harness
    h.command(f"<@{ANA}|ana> send the deck by Friday 3pm", name="/promise")
    view = open_home(h)
    press(h, view, "promise_done")

    press(h, view, "promise_done")  # the same, old Home: the promise is closed already

    assert "Nothing open. Nice." in texts(latest_home(h)["blocks"])


def test_a_long_list_of_what_others_owe_me_still_fits_the_home(harness: Harness) -> None:
    h = harness
    for n in range(9):
        h.command(
            f"<@{GIVER}|gia> {'a long & winding report ' * 19} part {n} by Friday 3pm",
            name="/promise",
            user_id=ANA,
        )

    view = open_home(h)

    assert (
        sum("a long &amp; winding report" in b.get("text", {}).get("text", "") for b in view["blocks"]) == 8
    )
