#!/usr/bin/env python3
"""An independent implementation of the B2B reactivation example's business rules.

It reads the same export as Rekindle (data/customers.csv, data/events.csv), the previous
run's decisions (previous.csv) and the config's clock, time zone, quiet hours, calendar and
params, and writes expected.csv in Rekindle's output format. It was written from the
business description in README.md, not from Rekindle's output, so that comparing the two
checks Rekindle (and b2b.rules) against the intent. The runtime mechanisms (time formats,
buckets, cap windows, quiet hours, budget allocation, the output writer) come from
../reference/rekindle_ref.py, itself written from docs/runtime.md.

    python3 reference.py                                   # expected.csv, at the pinned as_of
    python3 reference.py --as-of 2026-11-23T20:00:00+08:00 --out /tmp/b2b-2000.csv
    rekindle run b2b.rules --config rekindle.yaml --previous previous.csv --out /tmp/b2b.csv
    diff expected.csv /tmp/b2b.csv

generate.py also uses decide_all() to simulate the earlier runs that previous.csv and
part of the contact history come from.

Python 3.9+ standard library only.
"""

import argparse
import csv
import os
import re
import sys
from datetime import date, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import rekindle_ref as rk  # noqa: E402

DAY = rk.DAY
RULES_NAME = "b2b_reactivation"
RULES_VERSION = "1"
HOLDOUT_SALT = "b2b-reactivation-2026q4"
HOLDOUT_SHARE = 0.10

STAGES = ["customer", "opportunity", "interest", "dormant", "aware", "target"]
SEGMENTS = ["high_value_dormant", "low_value_dormant", "high_quality_lost", "low_quality_lost",
            "reactivated", "moved_company", "birthday_soon"]
INTEREST_KINDS = {"whitepaper_download", "case_study_read", "webinar", "event_attended", "demo_request"}
BEHAVIOUR_KINDS = INTEREST_KINDS | {"email_open", "site_visit", "meeting", "contract"}
CONTACT_KINDS = {"email_sent", "sms_sent", "wechat_sent", "call_made", "card_sent", "inmail_sent"}

# Channels, in order of preference: (name, consent field, required field). The conditions
# are in decide_all().
CHANNELS = [("phone", "consent_phone", "phone"), ("greeting_card", "consent_mail", "postal_address"),
            ("email", "consent_email", "email"), ("wechat", "consent_wechat", "wechat_id"),
            ("sms", "consent_sms", "phone"), ("none", None, None)]
PHONE_CAPACITY = 20
BOGO_BUDGET = 8

# Frequency caps: one email a month for company contacts; sole traders (b2c) at most two a
# week; one call a fortnight; one SMS a month; one WeChat message a week; one card a month;
# four contacts a month over all channels (sales' LinkedIn InMails included).
MONTH, DAY_7, DAY_14, DAY_30 = "month", 7 * DAY, 14 * DAY, 30 * DAY


def cap_lines(is_b2b):
    return [
        {"target": "email", "windows": [(1, MONTH)], "when": is_b2b},
        {"target": "email", "windows": [(2, DAY_7)], "when": None},
        {"target": "phone", "windows": [(1, DAY_14)], "when": None},
        {"target": "sms", "windows": [(1, DAY_30)], "when": None},
        {"target": "wechat", "windows": [(1, DAY_7)], "when": None},
        {"target": "greeting_card", "windows": [(1, DAY_30)], "when": None},
        {"target": "any", "windows": [(4, DAY_30)], "when": None},
    ]


# --- config ---------------------------------------------------------------------------------

def read_config(path):
    """timezone, as_of, each channel's quiet hours, the calendar and the params of
    rekindle.yaml (a line reader for this file's layout; no PyYAML needed)."""
    conf = {"quiet": {}, "calendar": {}, "params": {}}
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = re.sub(r"\s+#.*$", "", line.rstrip("\n"))
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m:
                section = m.group(1)
                if m.group(2) and not m.group(2).startswith("{"):
                    conf[section] = m.group(2).strip()
                continue
            m = re.match(r"^\s+(\w+):\s*(.+)$", line)
            if not m:
                continue
            key, value = m.group(1), m.group(2).strip()
            if section == "channels":
                q = re.search(r'quiet:\s*"([0-9:]+-[0-9:]+)"', value)
                if q:
                    conf["quiet"][key] = q.group(1)
            elif section == "calendar":
                conf["calendar"][key] = [date.fromisoformat(d.strip()) for d in value.strip("[]").split(",")]
            elif section == "params":
                conf["params"][key] = value
    return conf


def duration_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhdw])", text))


def params_of(conf):
    p = conf["params"]
    return {
        "customer_for": duration_seconds(p.get("customer_for", "365d")),
        "stalled_after": duration_seconds(p.get("stalled_after", "180d")),
        "interest_window": duration_seconds(p.get("interest_window", "90d")),
        "big_deal": float(p.get("big_deal", "100000")),
        "good_negotiation": int(p.get("good_negotiation", "4")),
        "card_lead_days": int(p.get("card_lead_days", "35")),
        "reengage_opens": int(p.get("reengage_opens", "3")),
    }


# --- the export -----------------------------------------------------------------------------

def parse_bool(text):
    t = text.strip().lower()
    if t == "":
        return None
    if t in ("true", "1", "yes", "y", "t"):
        return True
    if t in ("false", "0", "no", "n", "f"):
        return False
    raise ValueError("not a bool: %r" % text)


def req_bool(text):
    """A bool column that may not be empty (the consents)."""
    v = parse_bool(text)
    if v is None:
        raise ValueError("empty bool")
    return v


def opt(text):
    return text if text != "" else None


def parse_customers(rows, zone):
    """rows: dicts of strings, as csv.DictReader gives them. A row with a value that does not
    parse, or an id already seen, is rejected (Rekindle writes it to the rejects file)."""
    out, seen = [], set()
    for r in rows:
        try:
            c = parse_customer(r, zone)
        except ValueError:
            continue
        if c["id"] == "" or c["id"] in seen:
            continue
        seen.add(c["id"])
        out.append(c)
    return out


def parse_customer(r, zone):
    return {
        "id": r["contact_id"],
        "company": r["company"],
        "previous_company": opt(r["previous_company"]),
        "account_type": r["account_type"],
        "first_seen": rk.parse_time(r["first_seen"], zone),
        "deal_status": r["deal_status"],
        "last_deal_value": float(r["last_deal_value"]) if r["last_deal_value"] else None,
        "deal_updated_at": rk.parse_time(r["deal_updated_at"], zone) if r["deal_updated_at"] else None,
        "loss_reason": opt(r["loss_reason"]),
        "negotiation_score": int(r["negotiation_score"]) if r["negotiation_score"] else None,
        "email": opt(r["email"]),
        "email_bounced": parse_bool(r["email_bounced"]),
        "phone": opt(r["phone"]),
        "wechat_id": opt(r["wechat_id"]),
        "postal_address": opt(r["postal_address"]),
        "birthday": date.fromisoformat(r["birthday"]) if r["birthday"] else None,
        "tz": rk.zone(r["tz"]) if r["tz"] else zone,
        "consent_email": req_bool(r["consent_email"]),
        "consent_sms": req_bool(r["consent_sms"]),
        "consent_phone": req_bool(r["consent_phone"]),
        "consent_wechat": req_bool(r["consent_wechat"]),
        "consent_mail": req_bool(r["consent_mail"]),
    }


def parse_events(rows, ids, zone):
    """-> (contact id -> events sorted by time, equal times in file order; events of unknown
    contacts)."""
    events = {i: [] for i in ids}
    unknown = 0
    for n, r in enumerate(rows):
        if r["contact_id"] not in events:
            unknown += 1
            continue
        events[r["contact_id"]].append({
            "at": rk.parse_time(r["at"], zone), "n": n, "kind": r["kind"],
            "amount": float(r["amount"]) if r["amount"] else None,
            "channel": opt(r["channel"]), "opened": parse_bool(r["opened"]),
        })
    for evs in events.values():
        evs.sort(key=lambda e: (e["at"], e["n"]))
    return events, unknown


def read_previous(path):
    """The previous decisions file: contact id -> its row (a dict of strings)."""
    if not path or not os.path.exists(path):
        return None
    with open(path, newline="", encoding="utf-8") as f:
        return {r["customer_id"]: r for r in csv.DictReader(f)}


# --- the business rules ---------------------------------------------------------------------

def anniversary_within(d, today, days):
    """Does the month/day of d fall on a day from today to today + days? (29 Feb counts as
    28 Feb in other years.)"""
    for year in (today.year, today.year + 1):
        try:
            a = date(year, d.month, d.day)
        except ValueError:
            a = date(year, 2, 28)
        if a >= today:
            return (a - today).days <= days
    return False


def has(value):
    return value is not None and value.strip() != ""


def profile(c, evs, now, today, conf, p, prev_stage):
    """Stage and segments of one contact."""
    since = lambda t: now - t  # noqa: E731  seconds
    contracts = [e for e in evs if e["kind"] == "contract"]
    ever_bought = bool(contracts)
    last_contract = max((e["at"] for e in contracts), default=None)
    amounts = [e["amount"] for e in contracts if e["amount"] is not None]
    best_deal = max(amounts) if amounts else c["last_deal_value"]
    last_interest = max((e["at"] for e in evs if e["kind"] in INTEREST_KINDS), default=None)
    behaviour = any(e["kind"] in BEHAVIOUR_KINDS for e in evs)
    streak = 0
    for e in reversed([e for e in evs if e["kind"] == "email_sent"]):
        if e["opened"] is not True:
            break
        streak += 1

    if last_contract is not None and since(last_contract) < p["customer_for"]:
        stage = "customer"
    elif (c["deal_status"] == "open" and c["deal_updated_at"] is not None
          and since(c["deal_updated_at"]) < p["stalled_after"]):
        stage = "opportunity"
    elif last_interest is not None and since(last_interest) < p["interest_window"]:
        stage = "interest"
    elif prev_stage in ("dormant", "interest") and streak >= p["reengage_opens"]:
        stage = "interest"
    elif ever_bought or c["deal_status"] in ("lost", "open"):
        stage = "dormant"
    elif behaviour:
        stage = "aware"
    else:
        stage = "target"

    dormant = stage == "dormant"
    big = (best_deal or 0) >= p["big_deal"]
    good = (c["negotiation_score"] or 0) >= p["good_negotiation"]
    seg = {
        "high_value_dormant": dormant and ever_bought and big,
        "low_value_dormant": dormant and ever_bought and not big,
        "high_quality_lost": dormant and not ever_bought and good,
        "low_quality_lost": dormant and not ever_bought and not good,
        "reactivated": stage == "interest" and prev_stage == "dormant",
        "moved_company": c["previous_company"] is not None,
        "birthday_soon": c["birthday"] is not None and anniversary_within(c["birthday"], today, 7),
    }
    return {"stage": stage, "seg": seg, "best_deal": best_deal, "ever_bought": ever_bought}


def card_season(today, conf, lead_days):
    for name in ("christmas", "mid_autumn", "dragon_boat"):
        upcoming = [d for d in conf["calendar"].get(name, []) if d >= today]
        if upcoming and (min(upcoming) - today).days <= lead_days:
            return True
    return False


def decide_all(customers, events, now, conf, previous=None):
    """Decisions for every contact, in input order: a list of dicts with rk.COLUMNS' keys."""
    zone = rk.zone(conf.get("timezone", "UTC"))
    p = params_of(conf)
    today = rk.local_date(now, zone)
    weekday = today.isoweekday()  # 1 = Monday
    season = card_season(today, conf, p["card_lead_days"])
    with_previous = previous is not None
    previous = previous or {}

    info = {}
    for c in customers:
        prev = previous.get(c["id"])
        prev_stage = prev["stage"] if prev and prev["stage"] in STAGES else None
        info[c["id"]] = profile(c, events[c["id"]], now, today, conf, p, prev_stage)

    holdout = {c["id"] for c in customers if rk.bucket(c["id"], HOLDOUT_SALT) < HOLDOUT_SHARE}

    def contacts_of(c):
        by = {}
        for e in events[c["id"]]:
            if e["kind"] in CONTACT_KINDS:
                by.setdefault(e["channel"], []).append(e["at"])
        return by

    history = {c["id"]: contacts_of(c) for c in customers}

    def caps(c, channel):
        if channel == "none":
            return "", None
        return rk.apply_caps(cap_lines(c["account_type"] == "b2b"), channel, history[c["id"]], now, c["tz"])

    # Channel: the rows a contact qualifies for (condition and consent), in table order.
    def channel_rows(c):
        i = info[c["id"]]
        stage, seg = i["stage"], i["seg"]
        wanted = {
            "phone": stage == "dormant" and (seg["high_value_dormant"] or seg["high_quality_lost"]) and weekday <= 5,
            "greeting_card": season and (stage == "customer" or seg["low_value_dormant"]),
            "email": c["email_bounced"] is not True,
            "wechat": stage in ("interest", "opportunity", "customer"),
            "sms": stage == "dormant",
            "none": True,
        }
        rows = []
        for k, (name, consent, required) in enumerate(CHANNELS):
            if not wanted[name]:
                continue
            if consent is not None and (c[consent] is not True or not has(c[required])):
                continue
            rows.append(k)
        return rows

    by_id = {c["id"]: c for c in customers}
    ch_rows = [(name, PHONE_CAPACITY if name == "phone" else None, True) for name, _, _ in CHANNELS]
    got, ch_full = rk.allocate(
        ch_rows, {c["id"]: channel_rows(c) for c in customers},
        rank=lambda cid, r: info[cid]["best_deal"], holdout=holdout,
        consumes=lambda cid, r: not caps(by_id[cid], CHANNELS[r][0])[0])
    channel = {cid: CHANNELS[r][0] for cid, r in got.items()}
    # Then the caps of that channel: does a message reach the contact?
    capped = {c["id"]: caps(c, channel[c["id"]]) for c in customers}

    def reached(cid, r=None):
        """A real channel that the caps let through. The offer rows read `channel`, so the
        channel is decided first; on an offer row only contacts a message reaches use the
        budget (a contact who gets no message takes the offer without using it)."""
        return channel[cid] not in ("", "none") and not capped[cid][0]

    # Offer.
    offers = ["none", "HOLIDAY_CARD", "BOGO_YEAR", "NEW_RELEASE_BRIEF", "SERVICE_UPDATE", "EVENT_INVITE",
              "CASE_STUDY_POINTS", "WHITEPAPER_POINTS", "BIRTHDAY_GREETING", "none"]

    def offer_rows(c):
        i = info[c["id"]]
        stage, seg, ch, reason = i["stage"], i["seg"], channel[c["id"]], c["loss_reason"]
        dormant = stage == "dormant"
        wanted = [
            ch == "none",
            ch == "greeting_card",
            seg["high_value_dormant"],
            dormant and reason == "product",
            dormant and reason == "service",
            (seg["high_quality_lost"] or seg["reactivated"] or stage == "opportunity"
             or (dormant and reason == "brand") or (seg["moved_company"] and i["ever_bought"])),
            dormant,
            stage in ("target", "aware", "interest"),
            stage == "customer" and seg["birthday_soon"],
            True,
        ]
        return [k for k, w in enumerate(wanted) if w]

    of_rows = [(name, BOGO_BUDGET if name == "BOGO_YEAR" else None, True) for name in offers]
    got_offer, of_full = rk.allocate(of_rows, {c["id"]: offer_rows(c) for c in customers},
                                     rank=lambda cid, r: info[cid]["best_deal"], holdout=holdout,
                                     consumes=reached)

    out = []
    for c in customers:
        cid = c["id"]
        i = info[cid]
        ch = channel[cid]
        suppressed, eligible = capped[cid]
        held = cid in holdout
        send = ch != "none" and not suppressed and not held
        send_at = ""
        if send:
            quiet = conf["quiet"].get(ch)
            send_at = rk.format_time(rk.quiet_send_time(now, quiet, c["tz"]) if quiet else now, c["tz"])
        prev = previous.get(cid)
        transition = ""
        if with_previous:
            if prev is None:
                transition = "->" + i["stage"]
            elif prev["stage"] != i["stage"]:
                transition = prev["stage"] + "->" + i["stage"]
        out.append({
            "customer_id": cid,
            "stage": i["stage"],
            "segments": ";".join(s for s in SEGMENTS if i["seg"][s]),
            "channel": ch,
            "send": send,
            "send_at": send_at,
            "suppressed_by": suppressed,
            "next_eligible_at": rk.format_time(eligible, c["tz"]) if suppressed else "",
            "offer": offers[got_offer[cid]],
            "holdout": held,
            "transition": transition,
            "rules": RULES_NAME,
            "rules_version": RULES_VERSION,
            "decided_at": rk.format_time(now, zone),
            # not written; for summaries and generate.py
            "_phone_full": cid in ch_full,
            "_bogo_full": cid in of_full,
            "_phone_used": ch == "phone" and not held and not suppressed,
            "_bogo_used": offers[got_offer[cid]] == "BOGO_YEAR" and not held and reached(cid),
        })
    return out


# --- I/O ------------------------------------------------------------------------------------

def load(data_dir, zone):
    with open(os.path.join(data_dir, "customers.csv"), newline="", encoding="utf-8") as f:
        customers = parse_customers(list(csv.DictReader(f)), zone)
    with open(os.path.join(data_dir, "events.csv"), newline="", encoding="utf-8") as f:
        events, unknown = parse_events(list(csv.DictReader(f)), [c["id"] for c in customers], zone)
    return customers, events, unknown


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--as-of", help="decide as of this time instead of the config's as_of")
    ap.add_argument("--previous", default=os.path.join(HERE, "previous.csv"),
                    help="the previous decisions file (default: previous.csv; 'none' for none)")
    ap.add_argument("--out", default=os.path.join(HERE, "expected.csv"))
    ap.add_argument("--summary", action="store_true", help="print stage x channel and offer counts")
    args = ap.parse_args()

    conf = read_config(os.path.join(HERE, "rekindle.yaml"))
    zone = rk.zone(conf.get("timezone", "UTC"))
    now = rk.parse_time(args.as_of or conf["as_of"], zone)
    customers, events, unknown = load(os.path.join(HERE, "data"), zone)
    previous = None if args.previous == "none" else read_previous(args.previous)
    rows = decide_all(customers, events, now, conf, previous)
    rk.write_decisions(args.out, rows)
    print("wrote %s: %d contacts (%d events of unknown contacts ignored)" % (args.out, len(rows), unknown),
          file=sys.stderr)
    if args.summary:
        summary(rows)


def summary(rows):
    from collections import Counter
    channels = [c for c, _, _ in CHANNELS]
    grid = Counter((r["stage"], r["channel"]) for r in rows)
    print("%-12s" % "stage" + "".join("%14s" % c for c in channels) + "%8s" % "total")
    for s in STAGES:
        n = [grid[(s, c)] for c in channels]
        print("%-12s" % s + "".join("%14d" % x for x in n) + "%8d" % sum(n))
    print("offers:", dict(sorted(Counter(r["offer"] for r in rows).items())))
    print("send:", sum(r["send"] for r in rows), " holdout:", sum(r["holdout"] for r in rows),
          " suppressed:", dict(Counter(r["suppressed_by"] for r in rows if r["suppressed_by"])))
    print("transitions:", dict(Counter(r["transition"] for r in rows if r["transition"])))
    print("segments:", dict(Counter(s for r in rows for s in r["segments"].split(";") if s)))
    print("phone turned away:", [r["customer_id"] for r in rows if r["_phone_full"]],
          " BOGO turned away:", [r["customer_id"] for r in rows if r["_bogo_full"]])
    for label, limit, used, full in (("channel phone", PHONE_CAPACITY, "_phone_used", "_phone_full"),
                                     ("offer BOGO_YEAR", BOGO_BUDGET, "_bogo_used", "_bogo_full")):
        print("budget %s: limit %d, given %d, turned away %d"
              % (label, limit, sum(1 for r in rows if r[used]), sum(1 for r in rows if r[full])))


if __name__ == "__main__":
    main()
