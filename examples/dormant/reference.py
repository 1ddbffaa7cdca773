#!/usr/bin/env python3
"""An independent implementation of the dormant example's business rules, in plain Python.

It reads the same export as Rekindle (data/customers.csv, data/events.csv) and the parts of
rekindle.yaml it needs (timezone, as_of, the customers' zone field, the channels' consent,
required field and quiet hours, the params), and writes expected.csv in Rekindle's output
format. The business rules below are written from README.md ("The business rules"), not from
Rekindle's output; the runtime mechanisms (time zones, rolling and calendar cap windows,
quiet hours, holdout buckets, budget allocation, RFM quintiles, the output format) come from
../reference/rekindle_ref.py, written from docs/runtime.md.

    python3 reference.py                                   # expected.csv at the pinned as_of
    python3 reference.py --as-of 2027-03-28T01:30:00+01:00 --out /tmp/dst.csv

Python 3.9+ standard library only.
"""

import argparse
import csv
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import rekindle_ref as rk  # noqa: E402

DAY = rk.DAY
RULES_NAME = "dormant_winback"
RULES_VERSION = "1"
HOLDOUT_SHARE, HOLDOUT_SALT = 0.10, "dormant-winback-2026"

# What counts as a response to our marketing, and what the customer does on their own.
RESPONSE_KINDS = {"email_open", "email_click", "push_open", "sms_reply", "survey_response"}
OWN_KINDS = {"purchase", "app_open", "web_visit", "store_visit"}
SEND_KINDS = ["email_sent", "sms_sent", "push_sent"]  # the contact history (for caps)
VIP = {"Champions", "At Risk", "Can't Lose Them"}

SEGMENTS = ["dormant_email", "dormant_sms", "dormant_app", "dormant_everywhere",
            "email_invalid", "stale_contact", "bounce_risk",
            "last_on_email", "last_on_sms", "last_on_push", "last_on_app", "last_on_web", "last_on_store",
            "last_was_purchase", "silent_2y", "vip"]

# Frequency caps, as rekindle_ref.apply_caps wants them; "when" is filled in per customer.
CAPS = [
    {"target": "email", "windows": [(1, 30 * DAY)], "when": "dormant"},   # dormant addresses
    {"target": "email", "windows": [(2, 30 * DAY)], "when": None},
    {"target": "sms", "windows": [(1, 30 * DAY)], "when": None},
    {"target": "push", "windows": [(1, "day"), (3, 7 * DAY)], "when": None},
    {"target": "any", "windows": [(4, 30 * DAY)], "when": None},
]

# The offer table: (outcome, limit, rank descending). The rows with a limit rank by total spend.
OFFER_ROWS = [("none", None, True), ("WELCOME10", None, True), ("none", None, True),
              ("WINBACK_BIG", 12, True), ("CHANNEL_SURVEY", None, True), ("PROFILE_POINTS", None, True),
              ("WINBACK_SMALL", 40, True), ("PROFILE_POINTS", None, True)]


# --- config -----------------------------------------------------------------------------------

def read_config(path):
    """The few parts of rekindle.yaml this reference needs (a line-based reader for this
    file's layout; no PyYAML needed)."""
    conf = {"channels": {}, "params": {}}
    section = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = re.sub(r"\s+#.*$", "", raw.rstrip("\n"))
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m:
                section = m.group(1)
                if m.group(2):
                    conf[section] = m.group(2).strip()
                continue
            m = re.match(r"^\s+(\w+):\s*(.*)$", line)
            if not m:
                continue
            key, value = m.group(1), m.group(2).strip()
            if section == "customers" and key == "timezone":
                conf["customer_zone_field"] = value
            elif section == "channels":
                spec = {k: v.strip() for k, v in re.findall(r'(\w+):\s*"?([^,"}]+)"?', value)}
                conf["channels"][key] = {"consent": spec["consent"], "requires": spec.get("requires"),
                                         "quiet": spec.get("quiet")}
            elif section == "params":
                conf["params"][key] = value
    return conf


def duration_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
    m = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    return int(m.group(1)) * units[m.group(2)]


# --- reading the export -------------------------------------------------------------------------

def parse_bool(text):
    t = text.strip().lower()
    if t == "":
        return None
    if t in ("true", "1", "yes", "y", "t"):
        return True
    if t in ("false", "0", "no", "n", "f"):
        return False
    raise ValueError("not a bool: %r" % text)


def opt(text):
    return text if text != "" else None


def valid_zone(name):
    try:
        rk.zone(name)
        return True
    except Exception:
        return False


def read_export(conf, config_zone):
    customers, rejected = [], set()
    zf = conf.get("customer_zone_field")
    with open(os.path.join(HERE, "data", "customers.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            tzname = opt(r[zf]) if zf else None
            if tzname is not None and not valid_zone(tzname):
                rejected.add(r["customer_id"])  # an unknown zone rejects the row
                continue
            customers.append({
                "id": r["customer_id"],
                "zone": rk.zone(tzname) if tzname else config_zone,
                "signup_at": rk.parse_time(r["signup_at"], config_zone),
                "email": opt(r["email"]),
                "phone": opt(r["phone"]),
                "app_token": opt(r["app_token"]),
                "consent_email": parse_bool(r["consent_email"]),
                "consent_sms": parse_bool(r["consent_sms"]),
                "consent_push": parse_bool(r["consent_push"]),
                "email_valid": parse_bool(r["email_valid"]),
                "email_bounce_count": int(r["email_bounce_count"]) if r["email_bounce_count"] else None,
                "deceased": parse_bool(r["deceased"]),
                "contact_confirmed_at": (rk.parse_time(r["contact_confirmed_at"], config_zone)
                                         if r["contact_confirmed_at"] else None),
                "events": [],
            })
    by_id = {c["id"]: c for c in customers}
    unknown = 0
    with open(os.path.join(HERE, "data", "events.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            c = by_id.get(r["customer_id"])
            if c is None:
                unknown += 1
                continue
            c["events"].append({
                "at": rk.parse_time(r["at"], config_zone),
                "kind": r["kind"],
                "channel": opt(r["channel"]),
                "amount": float(r["amount"]) if r["amount"] else None,
                "opened": parse_bool(r["opened"]),
            })
    for c in customers:
        c["events"].sort(key=lambda e: e["at"])  # stable: equal times keep file order
    return customers, len(rejected), unknown


# --- the business rules -------------------------------------------------------------------------

def is_response(e):
    return e["kind"] in RESPONSE_KINDS or (e["kind"] == "email_sent" and e["opened"] is True)


def is_interaction(e):
    return is_response(e) or e["kind"] in OWN_KINDS


def facts(c, now, p):
    """Everything the stage, channel and offer need, for one customer."""
    evs = c["events"]
    purchases = [e for e in evs if e["kind"] == "purchase"]
    responses = [e for e in evs if is_response(e)]
    interactions = [e for e in evs if is_interaction(e)]

    def within(e, window):  # in the rolling window ending now: now - window < at
        return e["at"] > now - window

    f = {}
    f["orders"] = len(purchases)
    f["spend_total"] = sum(e["amount"] for e in purchases if e["amount"] is not None)
    f["last_purchase"] = max((e["at"] for e in purchases), default=None)
    f["bought_recently"] = any(within(e, p["purchase_window"]) for e in purchases)
    f["responded_recently"] = any(within(e, p["response_window"]) for e in responses)
    f["seen_recently"] = any(within(e, p["response_window"]) for e in interactions)
    f["engaged_after_signup"] = any(e["at"] >= c["signup_at"] for e in interactions)
    last = interactions[-1] if interactions else None
    f["last_channel"] = last["channel"] if last else None
    f["last_kind"] = last["kind"] if last else None
    f["last_at"] = last["at"] if last else None

    def dormant_on(address, channels):
        return address is not None and not any(
            e["channel"] in channels and within(e, p["response_window"]) for e in interactions)

    seg = {}
    seg["dormant_email"] = dormant_on(c["email"], {"email"})
    seg["dormant_sms"] = dormant_on(c["phone"], {"sms"})
    seg["dormant_app"] = dormant_on(c["app_token"], {"app", "push"})
    seg["dormant_everywhere"] = not f["seen_recently"]
    bounces = c["email_bounce_count"]
    seg["email_invalid"] = c["email_valid"] is False or (bounces is not None and bounces >= 2)
    confirmed = c["contact_confirmed_at"] if c["contact_confirmed_at"] is not None else c["signup_at"]
    seg["stale_contact"] = now - confirmed >= p["stale_after"]
    seg["bounce_risk"] = bounces == 1 or (seg["stale_contact"] and seg["dormant_email"])
    for ch in ("email", "sms", "push", "app", "web", "store"):
        seg["last_on_" + ch] = f["last_channel"] == ch
    seg["last_was_purchase"] = f["last_kind"] == "purchase"
    seg["silent_2y"] = f["last_at"] is not None and now - f["last_at"] >= p["long_silence"]
    seg["vip"] = c["rfm_segment"] in VIP
    f["seg"] = seg
    return f


def stage_of(c, f):
    seg = f["seg"]
    if c["deceased"] is True:
        return "deceased"          # never contact again
    if seg["email_invalid"] and seg["dormant_everywhere"]:
        return "unreachable"       # interacts with nobody: suppress
    if not f["engaged_after_signup"]:
        return "new_acquisition"   # never did anything since signing up
    if f["bought_recently"] and f["responded_recently"]:
        return "active"
    return "dormant"               # no purchase in a year, or no response in 180 days


def reachable(c, channel, channels):
    spec = channels[channel]
    if c[spec["consent"]] is not True:
        return False
    if spec["requires"]:
        v = c[spec["requires"]]
        return v is not None and v.strip() != ""
    return True


def channel_of(c, stage, f, channels):
    seg = f["seg"]
    rows = [
        ("none", stage in ("deceased", "unreachable")),
        ("push", seg["dormant_email"] and not seg["dormant_app"]),
        ("email", not seg["email_invalid"] and not seg["bounce_risk"]),
        ("push", True),
        ("sms", stage == "dormant"),
        ("none", True),
    ]
    for channel, cond in rows:
        if cond and (channel == "none" or reachable(c, channel, channels)):
            return channel
    raise AssertionError("unreachable")


def offer_rows(stage, channel, f):
    """The offer rows whose condition holds, in table order (indices into OFFER_ROWS)."""
    conds = [
        channel == "none",
        stage == "new_acquisition",
        stage == "active",
        f["seg"]["vip"],
        f["bought_recently"],
        f["seg"]["silent_2y"],
        f["orders"] > 0,
        True,
    ]
    return [i for i, ok in enumerate(conds) if ok]


# --- the run ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--as-of", help="decide as of this time instead of the config's as_of")
    ap.add_argument("--out", default=os.path.join(HERE, "expected.csv"))
    ap.add_argument("-v", "--verbose", action="store_true", help="list the budget rankings")
    args = ap.parse_args()

    conf = read_config(os.path.join(HERE, "rekindle.yaml"))
    config_zone = rk.zone(conf.get("timezone", "UTC"))
    now = rk.parse_time(args.as_of or conf["as_of"], config_zone)
    prm = conf["params"]
    p = {
        "purchase_window": duration_seconds(prm.get("purchase_window", "365d")),
        "response_window": duration_seconds(prm.get("response_window", "180d")),
        "stale_after": duration_seconds(prm.get("stale_after", "730d")),
        "long_silence": duration_seconds(prm.get("long_silence", "730d")),
    }
    channels = conf["channels"]

    customers, rejected, unknown = read_export(conf, config_zone)

    # RFM over this run's customers with at least one purchase.
    values = {}
    for c in customers:
        buys = [e for e in c["events"] if e["kind"] == "purchase"]
        if buys:
            last = max(e["at"] for e in buys)
            values[c["id"]] = (math.floor((now - last) / DAY), len(buys),
                               sum(e["amount"] for e in buys if e["amount"] is not None))
    scores = rk.rfm_scores(values) if values else {}
    for c in customers:
        r, fq, m = scores.get(c["id"], (0, 0, 0))
        c["rfm"] = (r, fq, m)
        c["rfm_segment"] = rk.rfm_segment(r, fq)

    holdout = {c["id"] for c in customers if rk.bucket(c["id"], HOLDOUT_SALT) < HOLDOUT_SHARE}

    decided = {}
    for c in customers:
        f = facts(c, now, p)
        stage = stage_of(c, f)
        channel = channel_of(c, stage, f, channels)
        decided[c["id"]] = (f, stage, channel)

    # The caps of the channel each customer was given (no channel has a budget here, so the
    # channel is final): is the contact suppressed, and until when?
    capped = {}
    for c in customers:
        f, stage, channel = decided[c["id"]]
        suppressed, eligible_at = "", None
        if channel != "none":
            contacts = {}
            for e in c["events"]:
                if e["kind"] in SEND_KINDS:
                    contacts.setdefault(e["channel"] or "", []).append(e["at"])
            lines = []
            for cap in CAPS:
                when = cap["when"]
                lines.append(dict(cap, when=None if when is None else stage == when))
            suppressed, eligible_at = rk.apply_caps(lines, channel, contacts, now, c["zone"])
        capped[c["id"]] = (suppressed, eligible_at)

    def reached(cid, r=None):
        """Does a message reach the customer (a real channel that the caps let through)?
        The offer rows read `channel`, so the channel is decided first, and on an offer row
        only those customers use the budget: one who gets no message takes the offer
        without using it."""
        return decided[cid][2] not in ("", "none") and not capped[cid][0]

    # Offers: allocate the budgets (WINBACK_BIG 12, WINBACK_SMALL 40, biggest spenders first).
    eligible = {cid: offer_rows(stage, channel, f) for cid, (f, stage, channel) in decided.items()}
    spend = {cid: f["spend_total"] for cid, (f, _, _) in decided.items()}
    got, full = rk.allocate(OFFER_ROWS, eligible,
                            lambda cid, r: spend[cid] if OFFER_ROWS[r][1] is not None else None,
                            holdout, reached)

    rows = []
    for c in customers:
        cid = c["id"]
        f, stage, channel = decided[cid]
        row = got[cid]
        offer = OFFER_ROWS[row][0] if row is not None else ""
        send_at = None
        suppressed, eligible_at = capped[cid]
        held = cid in holdout
        send = channel != "none" and not suppressed and not held
        if send:
            quiet = channels[channel]["quiet"]
            send_at = rk.quiet_send_time(now, quiet, c["zone"]) if quiet else now
        rows.append({
            "customer_id": cid,
            "stage": stage,
            "segments": ";".join(s for s in SEGMENTS if f["seg"][s]),
            "channel": channel,
            "send": send,
            "send_at": rk.format_time(send_at, c["zone"]) if send else "",
            "suppressed_by": suppressed,
            "next_eligible_at": rk.format_time(eligible_at, c["zone"]) if eligible_at is not None else "",
            "offer": offer,
            "holdout": held,
            "transition": "",
            "rules": RULES_NAME,
            "rules_version": RULES_VERSION,
            "decided_at": rk.format_time(now, config_zone),
        })
    rk.write_decisions(args.out, rows)
    print("wrote %s: %d customers decided as of %s (%d customer rows and %d events rejected)"
          % (args.out, len(rows), rk.format_time(now, config_zone), rejected, unknown), file=sys.stderr)
    # The budgets, as Rekindle's summary counts them: given = customers the offer reached
    # within the budget (held-out customers and customers who get no message take the
    # offer without using it), turned away = competitors the full budget sent on.
    for r, (name, limit, _) in enumerate(OFFER_ROWS):
        if limit is None:
            continue
        given = sum(1 for cid in got if got[cid] == r and cid not in holdout and reached(cid))
        away = sum(1 for cid in full if full[cid] == r)
        took = sum(1 for cid in got if got[cid] == r)
        print("  budget offer %s: limit %d, given %d, turned away %d (%d got it in all: %d held out,"
              " %d not reached)" % (name, limit, given, away, took,
                                    sum(1 for cid in got if got[cid] == r and cid in holdout),
                                    sum(1 for cid in got if got[cid] == r and cid not in holdout
                                        and not reached(cid))), file=sys.stderr)
        if args.verbose:
            comp = sorted((cid for cid in got if (got[cid] == r and cid not in holdout and reached(cid))
                           or full.get(cid) == r),
                          key=lambda cid: (-spend[cid], rk.bucket(cid, name), cid))
            for k, cid in enumerate(comp):
                print("    %3d %s %10.2f %.6f %s" % (k + 1, cid, spend[cid], rk.bucket(cid, name),
                                                    "got it" if got[cid] == r else "turned away"),
                      file=sys.stderr)


if __name__ == "__main__":
    main()
