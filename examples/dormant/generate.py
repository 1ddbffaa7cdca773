#!/usr/bin/env python3
"""Generate the sample export of the dormant example: data/customers.csv, data/events.csv.

Deterministic (fixed seed, no clock read): running it again writes byte-identical files.
Python 3.9+ standard library only (zoneinfo for the time zones). The data is synthetic but
shaped like a real database-marketing export:

- 274 subscribers in five time zones (Paris, New York, Los Angeles, Tokyo, Shanghai,
  a couple in UTC, some with no zone = the config's Europe/Paris), with email, phone and
  app tokens, consents per channel, and third-party fields (email validity, bounce counts,
  a deceased flag, the date the contact details were last confirmed);
- events merged from six systems, each writing times its own way: the shop (offset in
  the customer's zone), the email provider (UTC, `Z`), the app (epoch seconds), the tills
  (Paris wall time, no offset), the SMS gateway (`+00:00`), the survey tool (Paris offset);
- histories up to five years long, although the source systems keep only 90-180 days;
- hand-written edge cases (the `name` column says what each tests): quiet hours in the
  customer's own zone, a DST change inside a 30-day cap window, a contact exactly 30 days
  before now, calendar-day caps in different zones, RFM ties, deceased but consenting,
  bounced twice, never engaged, dormant on email but active in the app, the last
  interaction on each channel, exactly 365 / 180 days;
- event rows shuffled (not in time order, not grouped by customer), two events of a
  customer who is not in the export, and one customer with an unknown time zone (both go
  to the rejects file).

Usage: python3 generate.py            (writes next to this file, in data/)
"""

import csv
import os
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SEED = 20261123
UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
AS_OF = datetime(2026, 11, 23, 14, 0, 0, tzinfo=PARIS).astimezone(UTC)  # must match rekindle.yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

rng = random.Random(SEED)

CUSTOMER_COLUMNS = [
    "customer_id", "name", "signup_at", "tz", "email", "phone", "app_token",
    "consent_email", "consent_sms", "consent_push",
    "email_valid", "email_bounce_count", "deceased", "contact_confirmed_at",
]
EVENT_COLUMNS = ["customer_id", "at", "kind", "channel", "amount", "opened", "source"]

ZONES = ["Europe/Paris", "", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Asia/Shanghai", "UTC"]
ZONE_WEIGHTS = [30, 25, 14, 8, 9, 9, 2]
GIVEN = ["Camille", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Zoé", "Emma", "Noah",
         "Olivia", "Liam", "Yui", "Haruto", "Wei", "Fang", "José", "Anaïs", "Søren", "Amélie"]
FAMILY = ["Martin", "Bernard", "Dubois", "Moreau", "Lefèvre", "Smith", "Johnson", "García",
          "Sato", "Suzuki", "Wang", "Li", "Nguyen", "Müller", "O'Brien"]
DOMAINS = ["gmail.com", "orange.fr", "free.fr", "yahoo.com", "outlook.com", "example.fr"]

customers = []  # dicts with CUSTOMER_COLUMNS
events = []     # dicts with EVENT_COLUMNS
zones = {}      # customer id -> ZoneInfo (their own zone, or Paris)


# --- times ------------------------------------------------------------------------------

def ago(days=0, hours=0, minutes=0, seconds=0):
    """An instant this long before as_of (real elapsed time, whatever the DST changes)."""
    return AS_OF - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def paris_is_clear(t):
    """True when t's Paris wall time happens exactly once (not in a DST gap or overlap),
    so that writing it without an offset is not ambiguous."""
    local = t.astimezone(PARIS).replace(tzinfo=None)
    a = local.replace(tzinfo=PARIS, fold=0)
    b = local.replace(tzinfo=PARIS, fold=1)
    return a.utcoffset() == b.utcoffset() and a.astimezone(UTC) == t


def fmt(t, style, zone=PARIS):
    """Write the instant t (aware) the way one of the source systems does."""
    if style == "offset":          # the shop: ISO 8601 with the offset of the customer's zone
        return t.astimezone(zone).isoformat()
    if style == "paris_offset":    # the survey tool and the CRM
        return t.astimezone(PARIS).isoformat()
    if style == "utc":             # the email provider
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "utc_offset":      # the SMS gateway
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    if style == "epoch":           # the app
        return str(int(t.timestamp()))
    if style == "paris_local":     # the tills: Paris wall time, no offset
        if not paris_is_clear(t):
            return t.astimezone(PARIS).isoformat()
        return t.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
    if style == "date":            # a date only: midnight in Paris
        return t.astimezone(PARIS).strftime("%Y-%m-%d")
    raise ValueError(style)


SOURCE_STYLE = {"shop": "offset", "esp": "utc", "app": "epoch", "pos": "paris_local",
                "sms_gw": "utc_offset", "survey": "paris_offset", "crm": "paris_offset"}


def local_day_time(days_ago, zone, lo_hour=9, hi_hour=21):
    """A random instant about days_ago days before as_of, at a daytime hour in zone."""
    base = (AS_OF - timedelta(days=days_ago)).astimezone(zone)
    t = base.replace(hour=rng.randint(lo_hour, hi_hour), minute=rng.randint(0, 59),
                     second=rng.randint(0, 59)).astimezone(UTC)
    if t > AS_OF - timedelta(minutes=5):
        t = AS_OF - timedelta(minutes=rng.randint(5, 600))
    return t


def b(x):
    return "" if x is None else ("true" if x else "false")


# --- customers and events -----------------------------------------------------------------

_next_id = [0]


def new_id():
    _next_id[0] += 1
    return "D%04d" % _next_id[0]


def random_name():
    if rng.random() < 0.06:
        return ""
    if rng.random() < 0.1:
        return "%s, %s" % (rng.choice(FAMILY), rng.choice(GIVEN))
    return "%s %s" % (rng.choice(GIVEN), rng.choice(FAMILY))


def add_customer(signup, **kw):
    """A customer with random contact details; keyword arguments override them.
    signup: an aware datetime (written in Paris) or the text to write."""
    cid = new_id()
    tz = rng.choices(ZONES, ZONE_WEIGHTS)[0]
    c = {
        "customer_id": cid,
        "name": random_name(),
        "signup_at": fmt(signup, "paris_offset") if isinstance(signup, datetime) else signup,
        "tz": tz,
        "email": ("%s.%s%d@%s" % (rng.choice(["camille", "leo", "emma", "yui", "wei", "noah"]),
                                  rng.choice(["m", "b", "s", "l"]), rng.randint(1, 999),
                                  rng.choice(DOMAINS)) if rng.random() < 0.9 else ""),
        "phone": ("+33 6 %02d %02d %02d %02d" % tuple(rng.randint(0, 99) for _ in range(4))
                  if rng.random() < 0.6 else ""),
        "app_token": ("apt_%012x" % rng.getrandbits(48)) if rng.random() < 0.45 else "",
        "consent_email": rng.random() < 0.85,
        "consent_sms": rng.random() < 0.5,
        "consent_push": rng.random() < 0.75,
        "email_valid": rng.choices([True, None, False], [70, 26, 4])[0],
        "email_bounce_count": rng.choices([0, None, 1, 2, 3], [72, 12, 10, 4, 2])[0],
        "deceased": rng.choices([False, None, True], [88, 10, 2])[0],
        "contact_confirmed_at": None,
    }
    if rng.random() < 0.6 and isinstance(signup, datetime):
        # Confirmed at some point between the sign-up and now (a date, or a time).
        span = max(1, int((AS_OF - signup).total_seconds() // 86400))
        t = signup + timedelta(days=rng.randint(0, span), hours=rng.randint(0, 20))
        if t >= AS_OF:
            t = AS_OF - timedelta(days=1)
        c["contact_confirmed_at"] = fmt(t, rng.choice(["date", "paris_offset", "utc"]))
    if kw.pop("clean", False):  # edge cases about something else: reachable by email, alive
        c["email"] = c["email"] or "member%s@example.fr" % cid[1:]
        c["consent_email"], c["email_valid"], c["email_bounce_count"] = True, True, 0
        c["deceased"] = False
        c["contact_confirmed_at"] = fmt(ago(days=30), "paris_offset")
    c.update(kw)
    for key in ("consent_email", "consent_sms", "consent_push", "email_valid", "deceased"):
        c[key] = b(c[key]) if not isinstance(c[key], str) else c[key]
    c["email_bounce_count"] = "" if c["email_bounce_count"] is None else str(c["email_bounce_count"])
    customers.append(c)
    zones[cid] = ZoneInfo(c["tz"]) if c["tz"] and c["tz"] != "Europe/Atlantis" else PARIS
    return cid


def ev(cid, t, kind, channel=None, amount=None, opened=None, source="shop", at=None):
    """One event row; at= writes the time exactly as given."""
    if at is None and t > AS_OF - timedelta(minutes=1):
        t = AS_OF - timedelta(minutes=rng.randint(1, 120))  # nothing from the future
    events.append({
        "customer_id": cid,
        "at": at if at is not None else fmt(t, SOURCE_STYLE[source], zones.get(cid, PARIS)),
        "kind": kind,
        "channel": channel or "",
        "amount": "" if amount is None else "%.2f" % amount,
        "opened": b(opened),
        "source": source,
    })


def purchase(cid, t, amount="random", where=None, at=None):
    where = where or rng.choice(["web", "web", "app", "store"])
    if amount == "random":
        amount = None if rng.random() < 0.03 else round(rng.lognormvariate(4.0, 0.7), 2)
    source = {"web": "shop", "app": "shop", "store": "pos"}[where]
    ev(cid, t, "purchase", where, amount, source=source, at=at)


def email_sent(cid, t, opened, at=None):
    """A send from the ESP's log; an open is also seen by the tracking pixel most times."""
    ev(cid, t, "email_sent", "email", opened=opened, source="esp", at=at)
    if opened and t is not None and rng.random() < 0.7:
        t2 = t + timedelta(minutes=rng.randint(3, 2000))
        if t2 < AS_OF:
            ev(cid, t2, "email_open", "email", source="esp")
            if rng.random() < 0.3:
                ev(cid, t2 + timedelta(seconds=rng.randint(5, 300)), "email_click", "email", source="esp")


# Campaign calendars (Paris time): a newsletter every fourth Thursday at 10:00 (every second
# one since 2025), an SMS campaign on the 10th of each month at 11:00, app pushes on Fridays
# at 18:00.
def campaign_days(first, step_days, hour):
    out = []
    d = first
    while True:
        t = datetime(d.year, d.month, d.day, hour, 0, tzinfo=PARIS).astimezone(UTC)
        if t >= AS_OF:
            break
        out.append(t)
        d = d + timedelta(days=step_days)
    return out


NEWSLETTERS = ([t for t in campaign_days(datetime(2021, 11, 4).date(), 28, 10)   # monthly until 2024,
                if t.year < 2025] +                                              # then every second
               [t for t in campaign_days(datetime(2021, 11, 4).date(), 14, 10)   # Thursday
                if t.year >= 2025])
PUSHES = campaign_days(datetime(2022, 1, 7).date(), 7, 18)                       # Fridays
SMS_CAMPAIGNS = []
for _y in range(2021, 2027):
    for _m in range(1, 13):
        _t = datetime(_y, _m, 10, 11, 0, tzinfo=PARIS).astimezone(UTC)
        if _t < AS_OF:
            SMS_CAMPAIGNS.append(_t)


def customer(cid):
    return customers[int(cid[1:]) - 1]


def sends(cid, signup, p_email=0.5, p_sms=0.4, p_push=0.4, email_engaged_until=None,
          app_engaged_until=None, sms_engaged_until=None, p_open=0.45):
    """Our campaigns to this customer since signup on the channels they agreed to, and
    their responses while they were still engaged (until the given instants)."""
    c = customer(cid)
    old_esp = datetime(2025, 6, 1, tzinfo=UTC)  # the old ESP export has no opened flag
    if c["email"] and c["consent_email"] == "true":
        for t in NEWSLETTERS:
            if t > signup and rng.random() < p_email:
                engaged = email_engaged_until is not None and t < email_engaged_until
                opened = engaged and rng.random() < p_open
                if t < old_esp:
                    ev(cid, t, "email_sent", "email", opened=None, source="esp")
                    if opened:
                        ev(cid, t + timedelta(minutes=rng.randint(3, 900)), "email_open", "email", source="esp")
                else:
                    email_sent(cid, t, opened)
    if c["phone"] and c["consent_sms"] == "true":
        for t in SMS_CAMPAIGNS:
            if t > signup and rng.random() < p_sms:
                ev(cid, t, "sms_sent", "sms", source="sms_gw")
                if sms_engaged_until is not None and t < sms_engaged_until and rng.random() < 0.25:
                    ev(cid, t + timedelta(minutes=rng.randint(1, 300)), "sms_reply", "sms", source="sms_gw")
    if c["app_token"] and c["consent_push"] == "true":
        for t in PUSHES:
            if t > signup and t > AS_OF - timedelta(days=400) and rng.random() < p_push:
                ev(cid, t, "push_sent", "push", source="app")
                if app_engaged_until is not None and t < app_engaged_until and rng.random() < 0.3:
                    t2 = t + timedelta(minutes=rng.randint(1, 600))
                    if t2 < AS_OF:
                        ev(cid, t2, "push_open", "push", source="app")


def activity(cid, kind, channel, source, lo_days, hi_days, n):
    z = zones[cid]
    for _ in range(n):
        ev(cid, local_day_time(rng.randint(lo_days, hi_days), z), kind, channel, source=source)


# --- random customers, by the behaviour they were generated with -----------------------------
# (The stage Rekindle gives them is computed from the data, not from this label.)

def signup_ago(lo, hi):
    return local_day_time(rng.randint(lo, hi), PARIS, 8, 22)


def gen_active():
    """Buys and reads our messages."""
    signup = signup_ago(200, 1800)
    cid = add_customer(signup)
    span = int((AS_OF - signup).days)
    last = rng.randint(3, min(330, span - 2))
    purchase(cid, local_day_time(last, zones[cid]))
    for _ in range(rng.randint(1, 10)):
        purchase(cid, local_day_time(rng.randint(last, span - 1), zones[cid]))
    activity(cid, "web_visit", "web", "shop", 1, 120, rng.randint(0, 6))
    sends(cid, signup, p_email=0.6, email_engaged_until=AS_OF, app_engaged_until=AS_OF,
          sms_engaged_until=AS_OF, p_open=0.5)
    if rng.random() < 0.15:
        activity(cid, "survey_response", rng.choice(["email", "web"]), "survey", 5, 150, 1)


def gen_lapsed():
    """Bought for a while, then stopped buying and stopped reading."""
    signup = signup_ago(500, 1800)
    cid = add_customer(signup)
    span = int((AS_OF - signup).days)
    last = rng.randint(370, span - 1)
    purchase(cid, local_day_time(last, zones[cid]))
    for _ in range(rng.randint(0, 7)):
        purchase(cid, local_day_time(rng.randint(last, span - 1), zones[cid]))
    quiet_since = AS_OF - timedelta(days=rng.randint(185, max(186, last + 150)))
    sends(cid, signup, p_email=rng.choice([0.15, 0.4, 0.7]), email_engaged_until=quiet_since,
          app_engaged_until=quiet_since, sms_engaged_until=quiet_since)
    if rng.random() < 0.3:
        activity(cid, "web_visit", "web", "shop", max(181, last - 100), last + 50, rng.randint(1, 3))


def gen_store_buyer():
    """Still buys in the shops, but has stopped reading our messages."""
    signup = signup_ago(400, 1800)
    cid = add_customer(signup)
    span = int((AS_OF - signup).days)
    for _ in range(rng.randint(1, 8)):
        purchase(cid, local_day_time(rng.randint(5, span - 1), PARIS, 10, 19), where="store")
    activity(cid, "store_visit", "store", "pos", 1, 200, rng.randint(0, 4))
    quiet_since = AS_OF - timedelta(days=rng.randint(190, 700))
    sends(cid, signup, p_email=0.4, email_engaged_until=quiet_since, sms_engaged_until=quiet_since,
          app_engaged_until=quiet_since)


def gen_reader():
    """Reads everything we send, has not bought for a year (or ever)."""
    signup = signup_ago(200, 1500)
    cid = add_customer(signup)
    span = int((AS_OF - signup).days)
    if rng.random() < 0.6 and span > 380:
        for _ in range(rng.randint(1, 4)):
            purchase(cid, local_day_time(rng.randint(370, span - 1), zones[cid]))
    sends(cid, signup, p_email=0.6, email_engaged_until=AS_OF, app_engaged_until=AS_OF,
          sms_engaged_until=AS_OF, p_open=0.6)
    activity(cid, "email_click", "email", "esp", 1, 150, rng.randint(0, 2))


def gen_app_user():
    """Dormant on email, but opens the app."""
    signup = signup_ago(300, 1500)
    cid = add_customer(signup, app_token="apt_%012x" % rng.getrandbits(48),
                       consent_push=rng.random() < 0.85)
    span = int((AS_OF - signup).days)
    for _ in range(rng.randint(0, 5)):
        purchase(cid, local_day_time(rng.randint(20, span - 1), zones[cid]), where="app")
    activity(cid, "app_open", "app", "app", 1, 170, rng.randint(1, 8))
    quiet_since = AS_OF - timedelta(days=rng.randint(200, 800))
    sends(cid, signup, p_email=0.5, email_engaged_until=quiet_since, app_engaged_until=AS_OF,
          p_push=0.5)


def gen_never():
    """Signed up, never did anything: our messages went unread."""
    signup = signup_ago(10, 1500)
    cid = add_customer(signup)
    if rng.random() < 0.2:  # bought as a guest before signing up
        purchase(cid, signup - timedelta(days=rng.randint(1, 60), hours=rng.randint(1, 10)))
    sends(cid, signup, p_email=0.35)


def gen_new():
    """Signed up in the last month."""
    signup = signup_ago(1, 30)
    cid = add_customer(signup)
    if rng.random() < 0.5:
        purchase(cid, signup + timedelta(hours=rng.randint(1, 48)))
        if rng.random() < 0.5:
            activity(cid, "web_visit", "web", "shop", 0, 1, 1)
    sends(cid, signup, p_email=0.8, email_engaged_until=AS_OF)


def gen_gone():
    """Nothing from them for years."""
    signup = signup_ago(900, 1800)
    cid = add_customer(signup)
    span = int((AS_OF - signup).days)
    for _ in range(rng.randint(0, 3)):
        purchase(cid, local_day_time(rng.randint(730, span - 1), zones[cid]))
    sends(cid, signup, p_email=0.3, email_engaged_until=AS_OF - timedelta(days=730))


GENERATORS = [(gen_active, 50), (gen_lapsed, 45), (gen_store_buyer, 18), (gen_reader, 20),
              (gen_app_user, 22), (gen_never, 20), (gen_new, 10), (gen_gone, 16)]


# --- hand-written edge cases --------------------------------------------------------------

def edge_cases():
    ok = dict(clean=True)
    # Someone who is active by the brand's definition: bought this year, responded lately.
    def make_active(cid):
        purchase(cid, ago(days=40, hours=3), 80.0, where="web")
        email_sent(cid, ago(days=20, hours=4), True)

    def make_dormant(cid):  # bought long ago, reads nothing
        purchase(cid, ago(days=500, hours=2), 60.0, where="web")

    # -- Quiet hours, in the customer's own zone (now = 14:00 Paris) --
    # Dormant on email, active in the app: the push row.
    def app_active(cid):
        purchase(cid, ago(days=450), 45.0, where="app")
        ev(cid, ago(days=600), "email_open", "email", source="esp")
        ev(cid, ago(days=6, hours=2), "app_open", "app", source="app")

    for tz, label in [("America/New_York", "New York 08:00, the end of push quiet hours: not quiet"),
                      ("America/Los_Angeles", "Los Angeles 05:00: push waits until 08:00 there"),
                      ("Asia/Tokyo", "Tokyo 22:00, the start of push quiet hours: next morning"),
                      ("Asia/Shanghai", "Shanghai 21:00: push quiet hours start at 22:00")]:
        c = add_customer(ago(days=900), name="Quiet: " + label, tz=tz, app_token="apt_q%s" % tz[-3:].lower(),
                         consent_push=True, **ok)
        app_active(c)
    # Dormant, SMS only (no email consent, no app).
    for tz, label in [("Asia/Shanghai", "Shanghai 21:00, the start of SMS quiet hours"),
                      ("America/Los_Angeles", "Los Angeles 05:00, SMS quiet hours"),
                      ("", "no zone: Paris 14:00, not quiet"),
                      ("Asia/Tokyo", "Tokyo 22:00, SMS quiet hours")]:
        c = add_customer(ago(days=900), name="Quiet: " + label, tz=tz, consent_email=False,
                         app_token="", phone="+33 6 00 00 00 %02d" % len(customers),
                         consent_sms=True, email_valid=True, email_bounce_count=0, deceased=False)
        make_dormant(c)
    c = add_customer(ago(days=900), name="Zone UTC: times written with Z", tz="UTC", **ok)
    make_active(c)
    c = add_customer(ago(days=900), name="Unknown zone (rejected)", tz="Europe/Atlantis", **ok)
    make_active(c)

    # -- Frequency caps: rolling windows (t - W < c <= t) and DST --
    # A dormant customer reachable by email only: cap email 1 per 30d.
    def dormant_email_only(label, **kw):
        c = add_customer(ago(days=900), name=label, tz=kw.pop("tz", "Europe/Paris"), app_token="",
                         consent_sms=False, **ok, **kw)
        make_dormant(c)
        return c
    c = dormant_email_only("Cap: email exactly 30 days before now (not counted)")
    email_sent(c, ago(days=30), False, at="2026-10-24T13:00:00Z")
    c = dormant_email_only("Cap: email 30 days minus 1 second before now (counted)")
    email_sent(c, ago(days=30, seconds=-1), False, at="2026-10-24T13:00:01Z")
    c = dormant_email_only("Cap: email 2026-10-24 14:30 Paris wall time, before the DST change: 30d 30m ago")
    email_sent(c, None, False, at="2026-10-24 14:30:00")
    c = dormant_email_only("Cap: email 2026-10-24 16:00+02:00, 29d 23h ago: next eligible 15:00 in winter time")
    email_sent(c, None, False, at="2026-10-24T16:00:00+02:00")
    c = dormant_email_only("Cap: two emails on the DST night (01:30 and 02:30+01:00)", tz="America/New_York")
    email_sent(c, None, False, at="2026-10-25T01:30:00+02:00")
    email_sent(c, None, False, at="2026-10-25T02:30:00+01:00")
    # Active customers: cap email 2 per 30d.
    c = add_customer(ago(days=900), name="Cap: New York, 2 emails in 30 days, next eligible after US DST ended",
                     tz="America/New_York", app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=100), 70.0)
    email_sent(c, None, True, at="2026-10-30T14:00:00Z")
    email_sent(c, None, False, at="2026-11-12T09:00:00Z")
    c = add_customer(ago(days=900), name="Cap: 3 emails in 30 days, cap 2: two must age out",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=100), 70.0)
    email_sent(c, None, True, at="2026-11-01T09:00:00Z")
    email_sent(c, None, False, at="2026-11-10T09:00:00Z")
    email_sent(c, None, False, at="2026-11-20T09:00:00Z")
    c = add_customer(ago(days=900), name="Cap: any 4 per 30d (1 email, 2 SMS, 1 push), email still free",
                     app_token="apt_capany00001", consent_push=False, phone="+33 6 11 11 11 11",
                     consent_sms=True, **ok)
    make_active(c)   # one email 20 days ago
    ev(c, None, "sms_sent", "sms", source="sms_gw", at="2026-11-10T10:00:00+00:00")
    ev(c, None, "sms_sent", "sms", source="sms_gw", at="2026-10-28T10:00:00+00:00")
    ev(c, None, "push_sent", "push", source="app", at=str(int(ago(days=3).timestamp())))
    c = add_customer(ago(days=900), name="Cap: an email sent after now does not count",
                     app_token="", consent_sms=False, **ok)
    make_active(c)
    email_sent(c, None, False, at="2026-11-23T14:00:01+01:00")
    email_sent(c, None, False, at="2026-11-23T14:00:00+01:00")   # at now: counts
    # Push: 1 per calendar day (the customer's day), 3 per 7d.
    for tz, label in [("America/New_York", "pushed 03:00 Paris today = Sunday 21:00 in New York: not today there"),
                      ("Europe/Paris", "pushed 03:00 Paris today: capped until midnight"),
                      ("Asia/Tokyo", "pushed 00:30 Tokyo today (Sunday in Paris): capped until Tokyo midnight")]:
        c = add_customer(ago(days=900), name="Cap push: " + label, tz=tz,
                         app_token="apt_cd%s" % tz[-3:].lower(), consent_push=True, **ok)
        app_active(c)
        at = {"America/New_York": "2026-11-23T03:00:00+01:00", "Europe/Paris": "2026-11-23T03:00:00+01:00",
              "Asia/Tokyo": "2026-11-23T00:30:00+09:00"}[tz]
        ev(c, None, "push_sent", "push", source="app", at=at)
    c = add_customer(ago(days=900), name="Cap push: three pushes in 7 days", tz="Europe/Paris",
                     app_token="apt_cap3in7", consent_push=True, **ok)
    app_active(c)
    for at in ["2026-11-17T10:00:00+01:00", "2026-11-19T10:00:00+01:00", "2026-11-21T10:00:00+01:00"]:
        ev(c, None, "push_sent", "push", source="app", at=at)

    # -- Who we never contact, and addresses we hold back --
    c = add_customer(ago(days=1200), name="Deceased, but consents to everything and still 'active'",
                     tz="Europe/Paris", app_token="apt_deceased01", consent_push=True,
                     phone="+33 6 22 22 22 22", consent_sms=True, **dict(ok, deceased=True))
    make_active(c)
    c = add_customer(ago(days=1200), name="Deceased flag empty (not on the file): normal", **dict(ok, deceased=None))
    make_active(c)
    c = add_customer(ago(days=1200), name="Bounced twice, nothing from them for years (unreachable)",
                     phone="+33 6 33 33 33 33", consent_sms=True, **dict(ok, email_bounce_count=2))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="Bounced twice, but opens the app: push",
                     app_token="apt_bounce2app", consent_push=True, **dict(ok, email_bounce_count=2))
    app_active(c)
    c = add_customer(ago(days=1200), name="Invalid email (vendor), silent, has SMS consent: unreachable",
                     phone="+33 6 44 44 44 44", consent_sms=True, app_token="", **dict(ok, email_valid=False))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="Invalid email, still buys in store: dormant, SMS",
                     phone="+33 6 55 55 55 55", consent_sms=True, app_token="", **dict(ok, email_valid=False))
    purchase(c, ago(days=30), 90.0, where="store")
    c = add_customer(ago(days=1200), name="Bounced once (bounce risk), dormant: SMS instead of email",
                     phone="+33 6 66 66 66 66", consent_sms=True, app_token="", **dict(ok, email_bounce_count=1))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="Bounced once, active, has the app: push instead of email",
                     app_token="apt_bounce1", consent_push=True, **dict(ok, email_bounce_count=1))
    make_active(c)
    c = add_customer(ago(days=1500), name="Stale contact (confirmed 3 years ago), dormant on email: held back",
                     app_token="", consent_sms=False,
                     **dict(ok, contact_confirmed_at="2023-11-02"))
    make_dormant(c)
    c = add_customer(ago(days=1500), name="Stale contact, but still opens our emails: email is fine",
                     app_token="", **dict(ok, contact_confirmed_at="2022-05-17T10:00:00+02:00"))
    make_active(c)
    c = add_customer(ago(days=1500), name="Contact confirmed exactly 730 days ago (stale), dormant on email",
                     app_token="", phone="+33 6 77 77 77 77", consent_sms=True,
                     **dict(ok, contact_confirmed_at="2024-11-23T13:00:00Z"))
    make_dormant(c)
    c = add_customer(ago(days=1500), name="Contact confirmed 730 days minus 1s ago (fresh), dormant on email",
                     app_token="", phone="+33 6 77 77 77 78", consent_sms=True,
                     **dict(ok, contact_confirmed_at="2024-11-23T13:00:01Z"))
    make_dormant(c)
    c = add_customer(signup_ago(1000, 1000), name="Never confirmed: the sign-up counts, 1000 days ago",
                     app_token="", consent_sms=False, **dict(ok, contact_confirmed_at=""))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="Blank email address with consent: no email",
                     app_token="", phone="+33 6 88 88 88 88", consent_sms=True,
                     **dict(ok, email="   "))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="Opted out of email, dormant: SMS", phone="+33 6 99 99 99 99",
                     consent_sms=True, app_token="", **dict(ok, consent_email=False))
    make_dormant(c)
    c = add_customer(ago(days=1200), name="No consent anywhere: no channel, no offer", consent_sms=False,
                     consent_push=False, app_token="apt_noconsent", phone="+33 6 10 10 10 10",
                     **dict(ok, consent_email=False))
    make_dormant(c)

    # -- Engagement after sign-up --
    s = ago(days=1100, hours=3)
    c = add_customer(s, name="Never engaged: three years of unopened emails", app_token="", **ok)
    for t in NEWSLETTERS:
        if t > s and rng.random() < 0.4:
            ev(c, t, "email_sent", "email", opened=False if t > datetime(2025, 6, 1, tzinfo=UTC) else None,
               source="esp")
    s = ago(days=400, hours=5)
    c = add_customer(s, name="Never engaged since sign-up, bought as a guest before", app_token="", **ok)
    purchase(c, s - timedelta(days=3), 120.0, where="web")
    ev(c, s - timedelta(days=3, hours=1), "web_visit", "web", source="shop")
    s = ago(days=700)
    c = add_customer(s, name="Bought at the very second of signing up", app_token="", **ok)
    purchase(c, s, 55.0, where="web", at=fmt(s, "utc"))
    c = add_customer(ago(days=1), name="Signed up yesterday, nothing yet", app_token="", **ok)
    c = add_customer(ago(days=300), name="Only response: an opened send (ESP flag, pixel missed it)",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=100), 35.0)
    ev(c, ago(days=10), "email_sent", "email", opened=True, source="esp")
    c = add_customer(ago(days=1600), name="Old sends without the opened flag are not responses",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=100), 35.0)
    for d in (1200, 1000, 900):
        ev(c, ago(days=d), "email_sent", "email", opened=None, source="esp")

    # -- The brand's windows: 365 days for a purchase, 180 days for a response --
    c = add_customer(ago(days=900), name="Purchase exactly 365 days ago, responds: dormant", app_token="",
                     consent_sms=False, **ok)
    purchase(c, None, 150.0, at="2025-11-23T13:00:00Z")
    email_sent(c, ago(days=12), True)
    c = add_customer(ago(days=900), name="Purchase 365 days minus 1 second ago, responds: active", app_token="",
                     consent_sms=False, **ok)
    purchase(c, None, 150.0, at="2025-11-23 14:00:01")
    email_sent(c, ago(days=12), True)
    c = add_customer(ago(days=900), name="Response exactly 180 days ago (Paris summer time), buys: dormant",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=60), 150.0)
    ev(c, None, "email_click", "email", source="esp", at="2026-05-27 15:00:00")
    c = add_customer(ago(days=900), name="Response 180 days minus 1 second ago, buys: active",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=60), 150.0)
    ev(c, None, "email_click", "email", source="esp", at="2026-05-27 15:00:01")

    # -- Dormant per channel and the last interaction's channel --
    c = add_customer(ago(days=800), name="Dormant on email, active in the app: push",
                     app_token="apt_emaildorm1", consent_push=True, **ok)
    purchase(c, ago(days=200), 99.0, where="app")
    ev(c, ago(days=300), "email_click", "email", source="esp")
    ev(c, ago(days=2, hours=5), "push_open", "push", source="app")
    c = add_customer(ago(days=800), name="Dormant on email, app active, but no push consent: email",
                     app_token="apt_emaildorm2", consent_push=False, **ok)
    purchase(c, ago(days=200), 99.0, where="app")
    ev(c, ago(days=9), "app_open", "app", source="app")
    for kind, channel, source, label in [("email_click", "email", "esp", "an email click"),
                                         ("sms_reply", "sms", "sms_gw", "an SMS reply"),
                                         ("push_open", "push", "app", "a push open"),
                                         ("app_open", "app", "app", "an app open"),
                                         ("web_visit", "web", "shop", "a web visit"),
                                         ("store_visit", "store", "pos", "a store visit"),
                                         ("survey_response", "email", "survey", "a survey answered by email"),
                                         ("purchase", "store", "pos", "a purchase in a shop")]:
        c = add_customer(ago(days=1000), name="Last interaction: " + label, app_token="apt_last%s" % kind[:6],
                         phone="+33 6 12 34 56 %02d" % len(customers), consent_sms=True, consent_push=True, **ok)
        purchase(c, ago(days=420), 65.0, where="web")
        ev(c, ago(days=250), "email_open", "email", source="esp")
        ev(c, ago(days=230), "app_open", "app", source="app")
        if kind == "purchase":
            purchase(c, ago(days=25, hours=2), 42.0, where="store")
        else:
            ev(c, ago(days=25, hours=2), kind, channel, source=source)
        email_sent(c, ago(days=5), False)  # sent after it, not an interaction

    # -- RFM ties: identical recency, frequency and monetary must get identical scores --
    for i in range(6):
        c = add_customer(ago(days=1500), name="RFM tie %d: 3 orders, EUR 180, last 400 days ago" % (i + 1),
                         app_token="", consent_sms=False, **ok)
        # The last order at a different hour of the same day: whole days since are equal.
        purchase(c, ago(days=400, hours=i), 40.0, where="web")
        purchase(c, ago(days=500), 60.0, where="store")
        purchase(c, ago(days=700), 80.0, where="web")
    for i in range(4):
        c = add_customer(ago(days=1500), name="RFM tie %d: 1 order, EUR 30, 800 days ago" % (i + 1),
                         app_token="", consent_sms=False, **ok)
        purchase(c, ago(days=800), 30.0, where="web")
    for i in range(3):
        c = add_customer(ago(days=1500), name="Big spender tie %d: 9 orders, EUR 900, last 380 days ago" % (i + 1),
                         app_token="", consent_sms=False, **ok)
        for k in range(9):
            purchase(c, ago(days=380 + 40 * k), 100.0, where="web")
    c = add_customer(ago(days=1500), name="Purchase without an amount (counts in F, not in M)",
                     app_token="", consent_sms=False, **ok)
    purchase(c, ago(days=390), None, where="store")
    purchase(c, ago(days=600), 50.0, where="web")

    # Two events of a customer who is not in the export (a deleted account): rejected.
    ev("D9999", ago(days=3), "web_visit", "web", source="shop")
    ev("D9999", ago(days=2), "purchase", "web", 12.5, source="shop")


def main():
    edge_cases()
    plan = [g for g, n in GENERATORS for _ in range(n)]
    rng.shuffle(plan)
    for g in plan:
        g()
    # The email provider's bounce log: one bounce row per bounce it counted, a minute after
    # one of our sends to that address. (Bounces are neither interactions nor contacts.)
    sent = {}
    for e in events:
        if e["kind"] == "email_sent" and e["source"] == "esp" and e["at"][-1:] == "Z":
            sent.setdefault(e["customer_id"], []).append(e["at"])
    for c in customers:
        n = int(c["email_bounce_count"] or 0)
        times = sorted(sent.get(c["customer_id"], []))
        for at in rng.sample(times, min(n, len(times))):
            t = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(minutes=1)
            ev(c["customer_id"], t, "email_bounce", "email", source="esp")
    rng.shuffle(events)
    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, CUSTOMER_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(customers)
    with open(os.path.join(DATA, "events.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, EVENT_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(events)
    print("wrote %d customers, %d events" % (len(customers), len(events)))


if __name__ == "__main__":
    main()
