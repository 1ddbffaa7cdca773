#!/usr/bin/env python3
"""An independent implementation of the retail example's business rules, in plain Python.

It reads the same export as Rekindle (data/customers.csv, data/events.csv) and the
config's as_of, timezone, quiet hours and params, and writes expected.csv in Rekindle's
output format. It was written from the business description in README.md, not from
Rekindle's output, so that comparing the two checks Rekindle (and the rules file) against
the intent:

    python3 reference.py
    rekindle run retail.rules --config rekindle.yaml --out /tmp/retail.csv
    diff expected.csv /tmp/retail.csv

The business rules (stages, segments, channel and offer order, which caps, which budgets,
the holdout) are written out here. The runtime's mechanisms (time parsing, buckets, cap
windows, quiet hours, budget allocation, the output file) come from the shared
examples/reference/rekindle_ref.py, written from docs/runtime.md.

Python 3.9+ standard library only (zoneinfo for the time zone).
"""

import csv
import os
import re
import sys
from collections import Counter
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import rekindle_ref as rk  # noqa: E402

DAY = rk.DAY
RULES_NAME = "retail_lifecycle"
RULES_VERSION = "2"
SEGMENTS = ["high_value", "cart_abandoned", "browsed_no_cart", "birthday_soon", "member_anniversary",
            "points_expiring", "back_in_stock"]
BEHAVIOUR = {"purchase", "visit", "cart_add", "email_open"}
# Our messages, by the event kind that records them, and the channel field says which.
SENT_KINDS = {"email_sent", "sms_sent", "push_sent", "wechat_sent"}

# --- the business rules about contact pressure and measurement -------------------------

HOLDOUT_SALT = "retail-2026q4"
HOLDOUT_SHARE = 0.10
SMS_PER_RUN = 6          # the SMS gateway contract, given to the biggest lifetime spenders
WINBACK20_BUDGET = 30    # 20% off for the at-risk customers who spent most in 12 months


def cap_lines(stage):
    """The frequency caps, in the order the rules declare them. For dormant customers only
    the one-email-a-calendar-week line applies to email; for everybody else, 2 a week and 6
    a month. Push: 1 a calendar day, 2 a calendar week. SMS: 1 per 14 days. Everything
    together (WeChat included): 8 per 30 days."""
    return [
        {"target": "email", "windows": [(1, "week")], "when": stage == "dormant"},
        {"target": "email", "windows": [(2, 7 * DAY), (6, 30 * DAY)], "when": None},
        {"target": "push", "windows": [(1, "day"), (2, "week")], "when": None},
        {"target": "sms", "windows": [(1, 14 * DAY)], "when": None},
        {"target": "any", "windows": [(8, 30 * DAY)], "when": None},
    ]


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
                q = re.search(r'quiet:\s*"(\d\d:\d\d-\d\d:\d\d)"', m.group(2))
                if q:
                    quiet[m.group(1)] = q.group(1)
    conf["quiet"] = quiet
    return conf, params


def duration_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhdw])", text))


# --- values ---------------------------------------------------------------------------

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


# --- the business rules: what we know about a customer before budgets -----------------

def assess(c, evs, now, today, tz, p):
    """Stage, segments and the values the channel and offer rules need. Times are UTC
    seconds; evs are the customer's events, oldest first."""
    window = p["interest_window"]

    def since(t):
        return now - t

    purchases = [e for e in evs if e["kind"] == "purchase"]
    orders = len(purchases)
    last_order = max((e["at"] for e in purchases), default=None)
    idle = since(last_order) if last_order is not None else None
    spend_12m = 0.0
    lifetime_spend = 0.0
    for e in purchases:  # summed oldest first, as the events are ordered
        if e["amount"] is not None:
            lifetime_spend += e["amount"]
            if since(e["at"]) <= 365 * DAY:
                spend_12m += e["amount"]
    carts = [e["at"] for e in evs if e["kind"] == "cart_add"]
    last_cart = max(carts, default=None)
    visits = [e for e in evs if e["kind"] == "visit"]
    last_visit = max((e["at"] for e in visits), default=None)
    # Last sign of life: own behaviour or signup, whichever is later.
    seen = [e["at"] for e in evs if e["kind"] in BEHAVIOUR] + [c["signup_at"]]
    quiet = since(max(seen))

    seg = {}
    seg["high_value"] = spend_12m >= p["high_value_spend"]
    seg["cart_abandoned"] = (last_cart is not None and since(last_cart) <= window
                             and not any(e["at"] >= last_cart for e in purchases))
    seg["browsed_no_cart"] = (last_visit is not None and since(last_visit) <= window
                              and not any(e["kind"] in ("cart_add", "purchase") and since(e["at"]) <= window
                                          for e in evs))
    bd = c["birthday"]
    seg["birthday_soon"] = bd is not None and anniversary_within(bd.month, bd.day, today, 7)
    signup_day = rk.local_date(c["signup_at"], tz)
    seg["member_anniversary"] = (anniversary_within(signup_day.month, signup_day.day, today, 7)
                                 and since(c["signup_at"]) >= 365 * DAY)
    # Points that expire today or within points_notice days (at the end of their day).
    exp = c["points_expire_on"]
    seg["points_expiring"] = ((c["points_balance"] or 0) > 0 and exp is not None
                              and exp >= today and (exp - today).days * DAY <= p["points_notice"])
    # A product looked at in the last browse_memory came back in stock in the last restock_news.
    browsed = {e["product"] for e in visits if since(e["at"]) <= p["browse_memory"] and e["product"]}
    seg["back_in_stock"] = any(e["kind"] == "back_in_stock" and since(e["at"]) <= p["restock_news"]
                               and e["product"] in browsed for e in evs)

    if quiet >= p["dormant_after"]:
        stage = "dormant"
    elif orders == 0:
        stage = "new"
    elif orders == 1 and idle < p["at_risk_after"]:
        stage = "first_purchase"
    elif orders >= 2 and idle < p["at_risk_after"]:
        stage = "active"
    else:
        stage = "at_risk"

    return {"stage": stage, "seg": seg, "spend_12m": spend_12m, "lifetime_spend": lifetime_spend}


# Channel rows in order of preference: (name, budget, condition). Consent and the contact
# detail are checked separately (the runtime's rule, not a business choice).
CHANNEL_ROWS = [
    ("email", None, lambda c, a: not c["email_bounced"]),
    ("push", None, lambda c, a: c["app_token"] is not None),
    ("sms", SMS_PER_RUN, lambda c, a: a["stage"] in ("at_risk", "dormant")),
    ("none", None, lambda c, a: True),
]
REACH = {"email": ("consent_email", "email"), "push": ("consent_push", "app_token"),
         "sms": ("consent_sms", "phone")}


def reachable(c, channel):
    if channel == "none":
        return True
    consent, detail = REACH[channel]
    return c[consent] is True and bool((c[detail] or "").strip())


def interested(a):
    return a["seg"]["cart_abandoned"] or a["seg"]["browsed_no_cart"]


# Offer rows in order: (name, budget, condition of customer, assessment, channel).
OFFER_ROWS = [
    ("none", None, lambda c, a, ch: ch == "none"),
    ("none", None, lambda c, a, ch: c["account_type"] == "b2b"),
    ("BIRTHDAY_GIFT", None, lambda c, a, ch: a["seg"]["birthday_soon"] and a["stage"] != "new"),
    ("FIRST_ORDER_DISCOUNT", None, lambda c, a, ch: a["stage"] == "first_purchase" and interested(a)
     and c["price_sensitivity"] == "price"),
    ("STORE_VOUCHER", None, lambda c, a, ch: a["stage"] == "first_purchase" and interested(a)
     and c["price_sensitivity"] == "experience"),
    ("BESTSELLERS", None, lambda c, a, ch: a["stage"] == "first_purchase" and interested(a)),
    ("WELCOME10", None, lambda c, a, ch: a["stage"] == "new"),
    ("BACK_IN_STOCK", None, lambda c, a, ch: a["stage"] == "active" and a["seg"]["back_in_stock"]),
    ("NEW_ARRIVALS", None, lambda c, a, ch: a["stage"] == "active"),
    ("POINTS_REMINDER", None, lambda c, a, ch: a["stage"] == "at_risk" and a["seg"]["points_expiring"]),
    ("ANNIVERSARY_COUPON", None, lambda c, a, ch: a["stage"] == "at_risk" and a["seg"]["member_anniversary"]),
    ("WINBACK20", WINBACK20_BUDGET, lambda c, a, ch: a["stage"] == "at_risk"),
    ("WINBACK10", None, lambda c, a, ch: a["stage"] == "at_risk"),
    ("HOLIDAY_PREVIEW", None, lambda c, a, ch: a["stage"] == "dormant"),
    ("none", None, lambda c, a, ch: True),
]


# --- I/O --------------------------------------------------------------------------------

def read_export(tz):
    customers = []
    with open(os.path.join(HERE, "data", "customers.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            customers.append({
                "customer_id": r["customer_id"],
                "signup_at": rk.parse_time(r["signup_at"], tz),
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
                "points_balance": int(r["points_balance"]) if r["points_balance"] else None,
                "points_expire_on": date.fromisoformat(r["points_expire_on"]) if r["points_expire_on"] else None,
            })
    events = {c["customer_id"]: [] for c in customers}
    unknown = 0
    with open(os.path.join(HERE, "data", "events.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["customer_id"] not in events:
                unknown += 1
                continue
            events[r["customer_id"]].append({
                "at": rk.parse_time(r["at"], tz),
                "kind": r["kind"],
                "amount": float(r["amount"]) if r["amount"] else None,
                "product": null_if_empty(r["product"]),
                "channel": null_if_empty(r["channel"]),
            })
    for evs in events.values():
        evs.sort(key=lambda e: e["at"])  # stable: equal times keep file order
    return customers, events, unknown


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--as-of", help="decide as of this time instead of the config's as_of")
    ap.add_argument("--out", default=os.path.join(HERE, "expected.csv"))
    ap.add_argument("-v", "--verbose", action="store_true", help="list the budget rankings")
    args = ap.parse_args()

    conf, params = read_config(os.path.join(HERE, "rekindle.yaml"))
    tz = rk.zone(conf.get("timezone", "UTC"))
    now = rk.parse_time(args.as_of or conf["as_of"], tz)
    today = rk.local_date(now, tz)
    p = {
        "at_risk_after": duration_seconds(params.get("at_risk_after", "90d")),
        "dormant_after": duration_seconds(params.get("dormant_after", "365d")),
        "interest_window": duration_seconds(params.get("interest_window", "7d")),
        "high_value_spend": float(params.get("high_value_spend", "2000")),
        "points_notice": duration_seconds(params.get("points_notice", "14d")),
        "browse_memory": duration_seconds(params.get("browse_memory", "30d")),
        "restock_news": duration_seconds(params.get("restock_news", "3d")),
    }

    customers, events, unknown = read_export(tz)
    ids = [c["customer_id"] for c in customers]
    cust = {c["customer_id"]: c for c in customers}
    assessed = {i: assess(cust[i], events[i], now, today, tz, p) for i in ids}
    held_out = {i for i in ids if rk.bucket(i, HOLDOUT_SALT) < HOLDOUT_SHARE}

    contacts = {}
    for i in ids:
        by_channel = {}
        for e in events[i]:
            if e["kind"] in SENT_KINDS:
                by_channel.setdefault(e["channel"], []).append(e["at"])
        contacts[i] = by_channel

    def caps(i, channel):
        if channel in ("", "none"):
            return "", None
        return rk.apply_caps(cap_lines(assessed[i]["stage"]), channel, contacts[i], now, tz)

    # Channel: budgets first (a customer the SMS caps would suppress takes the row without
    # using the gateway's capacity), then everybody takes the row they were given.
    ch_eligible = {i: [r for r, (name, _, cond) in enumerate(CHANNEL_ROWS)
                       if reachable(cust[i], name) and cond(cust[i], assessed[i])] for i in ids}
    ch_got, ch_full = rk.allocate(
        [(name, limit, True) for name, limit, _ in CHANNEL_ROWS], ch_eligible,
        lambda i, r: assessed[i]["lifetime_spend"], held_out,
        lambda i, r: not caps(i, CHANNEL_ROWS[r][0])[0])
    channel = {i: CHANNEL_ROWS[ch_got[i]][0] if ch_got[i] is not None else "" for i in ids}

    # The caps of the channel each customer was given: who gets a message at all.
    capped = {i: caps(i, channel[i]) for i in ids}

    def reached(i, r=None):
        """Does the customer get a message (a real channel that the caps let through)? On
        an offer row, only those use the offer's budget: a customer who gets no message
        takes the offer without using it (the channel is decided before the offer here,
        as the offer rows read `channel`)."""
        return channel[i] not in ("", "none") and not capped[i][0]

    # Offer: budgets (WINBACK20) among the customers a message reaches, then the rest.
    of_eligible = {i: [r for r, (_, _, cond) in enumerate(OFFER_ROWS)
                       if cond(cust[i], assessed[i], channel[i])] for i in ids}
    of_got, of_full = rk.allocate(
        [(name, limit, True) for name, limit, _ in OFFER_ROWS], of_eligible,
        lambda i, r: assessed[i]["spend_12m"], held_out, reached)

    rows, summary = [], Counter()
    decided_at = rk.format_time(now, tz)
    for i in ids:
        a, ch = assessed[i], channel[i]
        offer = OFFER_ROWS[of_got[i]][0] if of_got[i] is not None else ""
        suppressed_by, eligible_at = capped[i]
        send = ch not in ("", "none") and not suppressed_by and i not in held_out
        send_at = rk.quiet_send_time(now, conf["quiet"][ch], tz) if send and ch in conf["quiet"] else now
        rows.append({
            "customer_id": i, "stage": a["stage"],
            "segments": ";".join(s for s in SEGMENTS if a["seg"][s]),
            "channel": ch, "send": send,
            "send_at": rk.format_time(send_at, tz) if send else "",
            "suppressed_by": suppressed_by,
            "next_eligible_at": rk.format_time(eligible_at, tz) if suppressed_by else "",
            "offer": offer, "holdout": i in held_out, "transition": "",
            "rules": RULES_NAME, "rules_version": RULES_VERSION, "decided_at": decided_at,
        })
        summary[("stage", a["stage"], ch)] += 1
        summary[("offer", offer)] += 1
        summary[("send",)] += send
        if suppressed_by:
            summary[("suppressed", suppressed_by)] += 1
    rk.write_decisions(args.out, rows)

    # A summary to compare with Rekindle's.
    out = sys.stderr
    print("wrote %s: %d customers (%d events for unknown customers ignored)"
          % (args.out, len(customers), unknown), file=out)
    stages = ["dormant", "new", "first_purchase", "active", "at_risk"]
    chans = ["email", "push", "sms", "none"]
    print("  %-16s" % "stage" + "".join("%8s" % c for c in chans), file=out)
    for s in stages:
        print("  %-16s" % s + "".join("%8d" % summary[("stage", s, c)] for c in chans), file=out)
    for name in dict.fromkeys(r[0] for r in OFFER_ROWS):
        print("  offer %-22s %4d" % (name, summary[("offer", name)]), file=out)
    for (kind, *rest), n in sorted(summary.items()):
        if kind == "suppressed":
            print("  suppressed by %-28s %4d" % (rest[0], n), file=out)
    for label, rows_, got, full, consumes in [
            ("channel", CHANNEL_ROWS, ch_got, ch_full, lambda i, r: not caps(i, CHANNEL_ROWS[r][0])[0]),
            ("offer", OFFER_ROWS, of_got, of_full, reached)]:
        for r, (name, limit, _) in enumerate(rows_):
            if limit is None:
                continue
            given = sum(1 for i in ids if got[i] == r and i not in held_out and consumes(i, r))
            away = sum(1 for i in ids if full.get(i) == r)
            print("  budget %s %s: limit %d, given %d, turned away %d"
                  % (label, name, limit, given, away), file=out)
            if args.verbose:
                key = "lifetime_spend" if label == "channel" else "spend_12m"
                comp = sorted((i for i in ids if (got[i] == r and i not in held_out and consumes(i, r))
                               or full.get(i) == r),
                              key=lambda i: (-assessed[i][key], rk.bucket(i, name), i))
                for k, i in enumerate(comp):
                    print("    %3d %s %10.2f %.6f %s" % (k + 1, i, assessed[i][key], rk.bucket(i, name),
                                                        "got it" if got[i] == r else "turned away"), file=out)
    print("  sends %d of %d; holdout %d; suppressed %d"
          % (summary[("send",)], len(ids), len(held_out),
             sum(n for k, n in summary.items() if k[0] == "suppressed")), file=out)


if __name__ == "__main__":
    main()
