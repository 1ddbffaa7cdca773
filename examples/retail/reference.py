#!/usr/bin/env python3
"""An independent implementation of the retail example's business rules, in plain Python.

It reads the same export as Rekindle (data/customers.csv, data/events.csv) and the
config's as_of, timezone and params, and writes expected.csv in Rekindle's output format.
It was written from the business description in README.md, not from Rekindle's output,
so that comparing the two checks Rekindle (and the rules file) against the intent:

    python3 reference.py
    rekindle run retail.rules --config rekindle.yaml --out /tmp/retail.csv
    diff expected.csv /tmp/retail.csv

Python 3.9+ standard library only (zoneinfo for the time zone).
"""

import csv
import os
import re
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))

RULES_NAME = "retail_lifecycle"
RULES_VERSION = "1"
SEGMENTS = ["high_value", "cart_abandoned", "browsed_no_cart", "birthday_soon", "member_anniversary"]
BEHAVIOUR = {"purchase", "visit", "cart_add", "email_open"}
DAY = 86400  # seconds


# --- config ---------------------------------------------------------------------------

def read_config(path):
    """The few top-level scalars, the channels' quiet hours and the params block of
    rekindle.yaml (a line-based reader for this file's layout; no PyYAML needed)."""
    conf, params, section = {}, {}, None
    quiet = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(" #")[0].rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m:
                section = m.group(1)
                if m.group(2):
                    conf[section] = m.group(2).strip()
                continue
            m = re.match(r"^\s+(\w+):\s*(.+)$", line)
            if m and section == "params":
                params[m.group(1)] = m.group(2).strip()
            if m and section == "channels":
                q = re.search(r'quiet:\s*"(\d\d):(\d\d)-(\d\d):(\d\d)"', m.group(2))
                if q:
                    h1, m1, h2, m2 = map(int, q.groups())
                    quiet[m.group(1)] = (h1 * 60 + m1, h2 * 60 + m2)
    conf["quiet"] = quiet
    return conf, params


def duration_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
    total = 0
    for n, u in re.findall(r"(\d+)([smhdw])", text):
        total += int(n) * units[u]
    return total


# --- values ---------------------------------------------------------------------------

def parse_time(text, zone):
    """An instant from the spellings the export uses; no offset means the config's zone."""
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text), timezone.utc)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    t = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return t if t.tzinfo else t.replace(tzinfo=zone)


def parse_bool(text):
    text = text.strip().lower()
    if text == "":
        return None
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("not a bool: %r" % text)


def null_if_empty(text):
    return text if text != "" else None


def next_anniversary(month, day, today):
    """The next date on or after today with this month/day (29 Feb -> 28 Feb off leap years)."""
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:  # 29 February in a common year
            d = date(year, 2, 28)
        if d >= today:
            return d
    raise AssertionError("unreachable")


def anniversary_within(month, day, today, days):
    return (next_anniversary(month, day, today) - today).days <= days


def send_time(now, zone, quiet):
    """When to send: now, or the end of the channel's quiet hours if now is inside them
    (start inclusive, end exclusive, in the config's zone; "21:00-08:00" wraps midnight)."""
    local = now.astimezone(zone)
    if quiet is None:
        return local
    start, end = quiet
    minute = local.hour * 60 + local.minute + local.second / 60
    inside = (start <= minute < end) if start <= end else (minute >= start or minute < end)
    if not inside:
        return local
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=zone)


# --- the business rules ---------------------------------------------------------------

def decide(c, evs, now, today, zone, p):
    at_risk_after = p["at_risk_after"]
    dormant_after = p["dormant_after"]
    window = p["interest_window"]

    def since(t):  # seconds from t to now
        return (now - t).total_seconds()

    purchases = [e for e in evs if e["kind"] == "purchase"]
    orders = len(purchases)
    last_order = max((e["at"] for e in purchases), default=None)
    idle = since(last_order) if last_order else None
    spend_12m = sum(e["amount"] for e in purchases
                    if e["amount"] is not None and since(e["at"]) <= 365 * DAY)
    carts = [e["at"] for e in evs if e["kind"] == "cart_add"]
    last_cart = max(carts, default=None)
    visits = [e["at"] for e in evs if e["kind"] == "visit"]
    last_visit = max(visits, default=None)
    # Last sign of life: own behaviour or signup, whichever is later.
    seen = [e["at"] for e in evs if e["kind"] in BEHAVIOUR] + [c["signup_at"]]
    quiet = since(max(seen))

    # Segments.
    seg = {}
    seg["high_value"] = spend_12m >= p["high_value_spend"]
    seg["cart_abandoned"] = (last_cart is not None and since(last_cart) <= window
                             and not any(e["at"] >= last_cart for e in purchases))
    seg["browsed_no_cart"] = (last_visit is not None and since(last_visit) <= window
                              and not any(e["kind"] in ("cart_add", "purchase") and since(e["at"]) <= window
                                          for e in evs))
    bd = c["birthday"]
    seg["birthday_soon"] = bd is not None and anniversary_within(bd.month, bd.day, today, 7)
    signup_local = c["signup_at"].astimezone(zone)
    seg["member_anniversary"] = (anniversary_within(signup_local.month, signup_local.day, today, 7)
                                 and since(c["signup_at"]) >= 365 * DAY)

    # Stage.
    if quiet >= dormant_after:
        stage = "dormant"
    elif orders == 0:
        stage = "new"
    elif orders == 1 and idle < at_risk_after:
        stage = "first_purchase"
    elif orders >= 2 and idle < at_risk_after:
        stage = "active"
    else:
        stage = "at_risk"

    # Channel: the first one allowed by consent and contact details, in order of preference.
    can_email = c["consent_email"] is True and bool(c["email"])
    can_push = c["consent_push"] is True and bool(c["app_token"])
    can_sms = c["consent_sms"] is True and bool(c["phone"])
    if can_email and not c["email_bounced"]:
        channel = "email"
    elif can_push:
        channel = "push"
    elif can_sms and stage in ("at_risk", "dormant"):
        channel = "sms"
    else:
        channel = "none"

    # Offer.
    interested = seg["cart_abandoned"] or seg["browsed_no_cart"]
    sens = c["price_sensitivity"]
    if channel == "none" or c["account_type"] == "b2b":
        offer = "none"
    elif seg["birthday_soon"] and stage != "new":
        offer = "BIRTHDAY_GIFT"
    elif stage == "first_purchase" and interested:
        offer = {"price": "FIRST_ORDER_DISCOUNT", "experience": "STORE_VOUCHER"}.get(sens, "BESTSELLERS")
    elif stage == "new":
        offer = "WELCOME10"
    elif stage == "active":
        offer = "NEW_ARRIVALS"
    elif stage == "at_risk":
        offer = "ANNIVERSARY_COUPON" if seg["member_anniversary"] else "WINBACK20"
    elif stage == "dormant":
        offer = "HOLIDAY_PREVIEW"
    else:
        offer = "none"

    return stage, [s for s in SEGMENTS if seg[s]], channel, offer


# --- I/O --------------------------------------------------------------------------------

def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--as-of", help="decide as of this time instead of the config's as_of")
    ap.add_argument("--out", default=os.path.join(HERE, "expected.csv"))
    args = ap.parse_args()

    conf, params = read_config(os.path.join(HERE, "rekindle.yaml"))
    zone = ZoneInfo(conf.get("timezone", "UTC"))
    now = parse_time(args.as_of or conf["as_of"], zone)
    today = now.astimezone(zone).date()
    p = {
        "at_risk_after": duration_seconds(params.get("at_risk_after", "90d")),
        "dormant_after": duration_seconds(params.get("dormant_after", "365d")),
        "interest_window": duration_seconds(params.get("interest_window", "7d")),
        "high_value_spend": float(params.get("high_value_spend", "2000")),
    }

    customers = []
    with open(os.path.join(HERE, "data", "customers.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            customers.append({
                "customer_id": r["customer_id"],
                "signup_at": parse_time(r["signup_at"], zone),
                "email": null_if_empty(r["email"]),
                "phone": null_if_empty(r["phone"]),
                "app_token": null_if_empty(r["app_token"]),
                "birthday": date.fromisoformat(r["birthday"]) if r["birthday"] else None,
                "account_type": r["account_type"],
                "consent_email": parse_bool(r["consent_email"]),
                "consent_sms": parse_bool(r["consent_sms"]),
                "consent_push": parse_bool(r["consent_push"]),
                "email_bounced": parse_bool(r["email_bounced"]),
                "price_sensitivity": null_if_empty(r["price_sensitivity"]),
            })
    events = {c["customer_id"]: [] for c in customers}
    unknown = 0
    with open(os.path.join(HERE, "data", "events.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["customer_id"] not in events:
                unknown += 1
                continue
            events[r["customer_id"]].append({
                "at": parse_time(r["at"], zone),
                "kind": r["kind"],
                "amount": float(r["amount"]) if r["amount"] else None,
            })

    out = args.out
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "stage", "segments", "channel", "send", "send_at", "suppressed_by",
                    "next_eligible_at", "offer", "holdout", "transition", "rules", "rules_version",
                    "decided_at"])
        for c in customers:
            stage, segs, channel, offer = decide(c, events[c["customer_id"]], now, today, zone, p)
            send = channel != "none"
            send_at = send_time(now, zone, conf["quiet"].get(channel)).isoformat() if send else ""
            w.writerow([c["customer_id"], stage, ";".join(segs), channel, "true" if send else "false",
                        send_at, "", "", offer, "false", "", RULES_NAME, RULES_VERSION,
                        now.astimezone(zone).isoformat()])
    print("wrote %s: %d customers (%d events for unknown customers ignored)"
          % (out, len(customers), unknown), file=sys.stderr)


if __name__ == "__main__":
    main()
