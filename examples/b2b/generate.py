#!/usr/bin/env python3
"""Generate the sample CRM export of the B2B example: data/customers.csv, data/events.csv,
and previous.csv (the decisions of the run four weeks earlier).

Deterministic (fixed seed, no clock read): running it again writes byte-identical files.
Python 3.9+ standard library only. The data is synthetic but shaped like a real export:

- contacts (people) at companies, generated for every funnel stage: targets, aware,
  interested, open deals, customers, dormant customers (big and small contracts), lost
  prospects (good and poor negotiations), stalled deals, and a few sole traders (b2c);
- the contact history is part of the events: the monthly newsletter (first Tuesday-ish
  of the month), sales' LinkedIn InMails, mid-autumn cards, and what the two earlier runs
  of this program (28 September and 26 October) decided to send. Those runs are simulated
  with reference.decide_all() on the export *as it was then* (contacts created later left
  out, later events left out, deals and companies as they were), so previous.csv and the
  history agree with each other;
- about 50 hand-written edge cases, named after what they test (the `name` column): an email on
  1 November 00:00 vs 31 October 23:59:59, the same instant in UTC, a contact in Berlin
  whose 1 November is still 31 October, three opens in a row (and two, and an unknown
  open in the middle), contracts exactly a year old, deals exactly 180 days stalled,
  downloads exactly 90 days old, ties in the call-centre ranking, calls and InMails that
  hit the caps, consent false, missing or blank phone and email, a contact who moved
  company, a contact merged in from another CRM with old history, a deleted contact;
- times written the ways exports write them (with an offset, UTC, no offset, epoch);
  events shuffled; non-ASCII company names, commas and quotes.

Usage: python3 generate.py            (writes data/ and previous.csv next to this file)
"""

import csv
import os
import random
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, HERE)
import reference  # noqa: E402  (simulates the earlier runs)
import rekindle_ref as rk  # noqa: E402  (put on sys.path by reference)

SEED = 20261123
SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 11, 23, 9, 0, 0, tzinfo=SH)   # must match rekindle.yaml (a Monday)
RUNS = [datetime(2026, 9, 28, 9, 0, tzinfo=SH),       # earlier runs of the program (Mondays)
        datetime(2026, 10, 26, 9, 0, tzinfo=SH)]      # the last one is previous.csv
NEWSLETTERS = [datetime(2026, m, d, 10, 0, tzinfo=SH)
               for m, d in [(5, 12), (6, 9), (7, 14), (8, 11), (9, 8), (10, 13), (11, 3)]]
DATA = os.path.join(HERE, "data")

rng = random.Random(SEED)

CUSTOMER_COLUMNS = [
    "contact_id", "name", "company", "previous_company", "job_title", "account_type", "first_seen",
    "deal_status", "last_deal_value", "deal_updated_at", "loss_reason", "negotiation_score",
    "email", "email_bounced", "phone", "wechat_id", "postal_address", "birthday", "tz",
    "consent_email", "consent_sms", "consent_phone", "consent_wechat", "consent_mail",
]
EVENT_COLUMNS = ["contact_id", "at", "kind", "amount", "channel", "opened", "account", "topic"]

COMPANIES = [
    ("华东精密制造有限公司", "hdjm.cn"), ("Acme Logistics (Shanghai) Co., Ltd.", "acme-logistics.cn"),
    ("深圳云启科技", "yunqi-tech.com"), ("Northwind Trading", "northwind.com"),
    ("杭州绿源食品有限公司", "lvyuan-food.cn"), ("Globex China", "globex.cn"),
    ("北京博远咨询", "boyuan-consult.com"), ("Initech Asia", "initech.asia"),
    ('Stark "Industrial" Components', "stark-ic.com"), ("苏州恒信电子", "hengxin-e.cn"),
    ("Umbrella Pharma Shanghai", "umbrella-pharma.cn"), ("成都天府物流", "tianfu-wl.cn"),
    ("Wayne Enterprises (HK)", "wayne.hk"), ("广州南方医疗器械", "nanfang-med.cn"),
    ("Tyrell Robotics", "tyrell.ai"), ("宁波港通贸易", "gangtong.cn"),
    ("Soylent Foods", "soylent.cn"), ("武汉光谷新材料", "gg-material.cn"),
    ("Cyberdyne Systems Asia", "cyberdyne.sg"), ("青岛海润水务", "hairun-water.cn"),
    ("Vandelay Import-Export", "vandelay.com"), ("西安秦川机械", "qinchuan-mach.cn"),
    ("Hooli Cloud China", "hooli.cn"), ("上海东方物流有限公司", "dongfang-log.cn"),
    ("Oscorp Materials", "oscorp.com"), ("厦门鹭岛航运", "ludao-ship.cn"),
    ("Gringotts Fintech", "gringotts.io"), ("天津滨海化工", "binhai-chem.cn"),
    ("Monarch Solar", "monarch-solar.com"), ("重庆山城汽配", "shancheng-auto.cn"),
]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Tao", "Hui", "Jun", "Xin", "Ling", "Hao",
         "Anna", "Lukas", "Sophie", "David", "Chloé", "José", "Priya", "Kenji"]
FAMILY = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
          "Müller", "Schmidt", "García", "Smith", "Tanaka", "Nair"]
CHINESE = ["李伟", "王芳", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄涛", "周杰", "吴欣", "孙悦", "马超"]
TITLES = ["IT Director", "CIO", "Head of Operations", "Procurement Manager", "采购经理", "运营总监",
          "CFO", "Supply Chain Lead", "信息部经理", "VP Engineering", "Plant Manager", "COO"]
REASONS = ["product", "service", "brand", "price"]
WHITEPAPERS = ["Predictive maintenance 2026", "供应链数字化白皮书", "Cost of downtime, a benchmark"]
CASES = ["How Northwind cut stock-outs by 30%", "华东精密：产线透明化", "Globex: one platform, 12 plants"]
WEBINARS = ["Release 7 walkthrough", "AI in the warehouse", "数据驱动的运维"]
ZONES_ABROAD = ["Europe/Berlin", "America/New_York", "Asia/Singapore"]

customers = []   # dicts of output strings, plus private keys starting with "_"
events = []      # dicts of output strings, plus "_t" (an aware datetime)


# --- formatting -----------------------------------------------------------------------------

def fmt_time(t, style=None):
    """Write an aware datetime the way one of the source systems would."""
    if style is None:
        style = rng.choices(["offset", "local", "utc", "epoch"], [5, 4, 2, 1])[0]
    if style == "offset":
        return t.astimezone(SH).isoformat()
    if style == "local":
        return t.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")
    if style == "utc":
        return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "epoch":
        return str(int(t.timestamp()))
    raise ValueError(style)


def b(x):
    return "" if x is None else ("true" if x else "false")


def ago(days=0, hours=0, minutes=0, seconds=0):
    return AS_OF - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def at(y, m, d, hh=10, mi=0, ss=0, tz=SH):
    return datetime(y, m, d, hh, mi, ss, tzinfo=tz)


def office_time(days_ago_lo, days_ago_hi):
    """A random time in office hours, between days_ago_hi and days_ago_lo days before as_of."""
    d = rng.randint(days_ago_lo, days_ago_hi)
    t = (AS_OF - timedelta(days=d)).replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59),
                                           second=rng.randint(0, 59))
    return min(t, AS_OF - timedelta(minutes=rng.randint(5, 60)))


def money(lo, hi, step=10000):
    return float(rng.randrange(lo, hi + 1, step))


# --- contacts -------------------------------------------------------------------------------

_next = [0]


def new_id(holdout=None):
    """The next contact id; with holdout=True/False, the next id that is (not) in the
    control group (ids of deleted or merged contacts leave gaps, as in a real CRM)."""
    while True:
        _next[0] += 1
        cid = "C%04d" % _next[0]
        if holdout is None or (rk.bucket(cid, reference.HOLDOUT_SALT) < reference.HOLDOUT_SHARE) == holdout:
            return cid


def add_contact(first_seen, holdout=None, **kw):
    """A contact with random details; keyword arguments override them. Private keys:
    _news (chance to be on each newsletter), _p_open (chance to open an email we send)."""
    cid = new_id(holdout)
    company, domain = rng.choice(COMPANIES)
    r = rng.random()
    if r < 0.4:
        name = rng.choice(CHINESE)
        local = "c%d" % rng.randint(100, 999)
    else:
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        name = "%s %s" % (given, family) if r < 0.9 else "%s, %s" % (family, given)
        local = "%s.%s" % (given.lower().replace("é", "e"), family.lower().replace("ü", "ue").replace("í", "i"))
    c = {
        "contact_id": cid,
        "name": name,
        "company": company,
        "previous_company": "",
        "job_title": rng.choice(TITLES + [""]),
        "account_type": "b2b",
        "first_seen": first_seen,
        "deal_status": "none",
        "last_deal_value": "",
        "deal_updated_at": "",
        "loss_reason": "",
        "negotiation_score": "",
        "email": "%s@%s" % (local, domain) if rng.random() < 0.92 else "",
        "email_bounced": rng.choices([None, False, True], [65, 27, 8])[0],
        "phone": "1%d%09d" % (rng.choice([3, 5, 8]), rng.randint(0, 999999999)) if rng.random() < 0.85 else "",
        "wechat_id": "wx_%s%d" % (local.split(".")[0], rng.randint(10, 99)) if rng.random() < 0.6 else "",
        "postal_address": ("%s, %d号" % (company, rng.randint(1, 999))) if rng.random() < 0.7 else "",
        "birthday": (date(rng.randint(1965, 1995), 1, 1) + timedelta(days=rng.randint(0, 364))).isoformat()
        if rng.random() < 0.5 else "",
        "tz": rng.choice(ZONES_ABROAD) if rng.random() < 0.05 else "",
        "consent_email": rng.random() < 0.88,
        "consent_sms": rng.random() < 0.5,
        "consent_phone": rng.random() < 0.7,
        "consent_wechat": rng.random() < 0.6,
        "consent_mail": rng.random() < 0.7,
        "_news": 0.6,
        "_p_open": 0.15,
        "_changes": [],   # (effective time, {field: value before})
        "_deleted": False,
    }
    c.update(kw)
    if isinstance(c["first_seen"], datetime):
        c["_first_seen"] = c["first_seen"]
        c["first_seen"] = fmt_time(c["first_seen"])
    customers.append(c)
    return c


def change(c, when, **before):
    """Record that these fields had these values before `when` (for the earlier runs)."""
    c["_changes"].append((when, before))


def deal(c, status, value=None, updated=None, reason=None, score=None, created=None):
    c["deal_status"] = status
    c["last_deal_value"] = "" if value is None else "%.1f" % value
    c["deal_updated_at"] = "" if updated is None else fmt_time(updated)
    c["loss_reason"] = reason or ""
    c["negotiation_score"] = "" if score is None else str(score)
    if created is not None:  # before the deal existed
        change(c, created, deal_status="none", last_deal_value="", deal_updated_at="", loss_reason="",
               negotiation_score="")


def ev(c, t, kind, amount=None, channel=None, opened=None, topic=None, style=None, account=None):
    events.append({
        "contact_id": c["contact_id"] if isinstance(c, dict) else c,
        "at": fmt_time(t, style),
        "kind": kind,
        "amount": "" if amount is None else "%.1f" % amount,
        "channel": channel or "",
        "opened": b(opened),
        "account": account if account is not None else (c["company"] if isinstance(c, dict) else ""),
        "topic": topic or "",
        "_t": t,
    })


def email(c, t, opened, style=None):
    """An email we sent, and the open event when it was opened."""
    ev(c, t, "email_sent", channel="email", opened=opened, style=style)
    if opened:
        ev(c, min(t + timedelta(hours=rng.randint(1, 40)), AS_OF - timedelta(minutes=1)), "email_open",
           channel="email")


def contract(c, t, amount, style=None, account=None):
    ev(c, t, "contract", amount=amount, channel="offline", style=style, account=account)


def interest(c, t, kind=None):
    kind = kind or rng.choice(["whitepaper_download", "case_study_read", "webinar", "event_attended",
                               "demo_request"])
    topic = {"whitepaper_download": WHITEPAPERS, "case_study_read": CASES, "webinar": WEBINARS}.get(
        kind, ["Customer summit 2026"] if kind == "event_attended" else [""])
    ev(c, t, kind, channel="offline" if kind == "event_attended" else "web", topic=rng.choice(topic))


def visits(c, n, lo, hi):
    for _ in range(n):
        ev(c, office_time(lo, hi), "site_visit", channel="web")


# --- random contacts, by the funnel stage they were generated for ---------------------------
# (Their stage is computed from the data by Rekindle and reference.py, not from this label.)

def gen_target():
    add_contact(office_time(20, 900), _p_open=0.0)


def gen_aware():
    c = add_contact(office_time(120, 900), _p_open=0.35)
    visits(c, rng.randint(1, 4), 1, 400)
    if rng.random() < 0.4:  # interested once, long ago
        interest(c, office_time(100, 500))


def gen_interest():
    c = add_contact(office_time(10, 700), _p_open=0.5)
    interest(c, office_time(1, 85))
    if rng.random() < 0.5:
        interest(c, office_time(20, 300))
    visits(c, rng.randint(0, 5), 1, 120)


def gen_opportunity():
    c = add_contact(office_time(90, 800), _p_open=0.6, job_title=rng.choice(["CIO", "IT Director", "COO"]))
    updated = office_time(1, 170)
    created = updated - timedelta(days=rng.randint(0, 90))
    deal(c, "open", money(40000, 500000), updated, created=created)
    for _ in range(rng.randint(1, 3)):
        ev(c, created + timedelta(days=rng.randint(0, max(1, (updated - created).days))), "meeting", channel="offline")
    if rng.random() < 0.5:
        interest(c, office_time(100, 300), "demo_request")


def gen_customer():
    c = add_contact(office_time(400, 1500), _p_open=0.5, _news=0.5)
    last = office_time(5, 360)
    amount = money(30000, 400000)
    contract(c, last, amount)
    for k in range(rng.randint(0, 3)):
        contract(c, last - timedelta(days=365 * (k + 1) + rng.randint(-20, 20)), amount)
    deal(c, "won", amount, last)
    visits(c, rng.randint(0, 3), 1, 200)
    if rng.random() < 0.6:  # mid-autumn card
        ev(c, at(2026, 9, 14, rng.randint(9, 17)), "card_sent", channel="greeting_card")


def gen_dormant_customer(big):
    c = add_contact(office_time(900, 2500), _p_open=0.05, _news=0.5)
    last = office_time(380, 1400)
    amount = money(100000, 600000) if big else money(10000, 90000, 5000)
    contract(c, last, amount)
    for k in range(rng.randint(0, 2)):
        contract(c, last - timedelta(days=365 * (k + 1)), money(10000, int(amount), 5000))
    reason = rng.choice(REASONS + [None])
    if rng.random() < 0.4:  # the renewal was lost
        deal(c, "lost", amount, last + timedelta(days=rng.randint(330, 380)), reason, rng.randint(1, 5))
    else:
        deal(c, "won", amount, last, reason)
    if rng.random() < 0.3:
        visits(c, 1, 200, 700)


def gen_lost(good):
    c = add_contact(office_time(300, 1500), _p_open=0.1)
    lost = office_time(60, 700)
    created = lost - timedelta(days=rng.randint(30, 200))
    score = rng.choice([4, 5]) if good else rng.choice([1, 2, 3, None])
    value = money(30000, 450000) if rng.random() < 0.95 else None
    deal(c, "lost", value, lost, rng.choice(REASONS + [None]), score, created=created)
    change(c, lost, deal_status="open", loss_reason="", negotiation_score="",
           deal_updated_at=fmt_time(created + timedelta(days=5)))
    ev(c, created + timedelta(days=3), "meeting", channel="offline")
    interest(c, created - timedelta(days=rng.randint(5, 40)))


def gen_stalled():
    c = add_contact(office_time(300, 1000), _p_open=0.1)
    updated = office_time(185, 500)
    deal(c, "open", money(20000, 300000), updated, score=rng.choice([None, 2, 4]),
         created=updated - timedelta(days=30))
    ev(c, updated - timedelta(days=10), "meeting", channel="offline")


def gen_sole_trader():
    """A sole trader who buys on the web shop (b2c): more frequent email is fine."""
    c = add_contact(office_time(200, 800), account_type="b2c", _news=0.0, _p_open=0.4,
                    company="个体户 (sole trader)", job_title="Owner")
    contract(c, office_time(30, 300), money(2000, 9000, 500))
    for d in sorted(rng.sample(range(1, 40), 4)):
        email(c, office_time(d, d), rng.random() < 0.4)


# --- hand-written edge cases ----------------------------------------------------------------

def reachable(**kw):
    """Contact details that make email work and nothing else get in the way."""
    d = dict(email="edge%d@example.cn" % (_next[0] + 1), email_bounced=None, consent_email=True,
             consent_phone=False, consent_sms=False, consent_wechat=False, consent_mail=False,
             tz="", birthday="", _news=0.0, _p_open=0.0)
    d.update(kw)
    return d


def phone_ok(**kw):
    d = reachable(consent_phone=True, phone="1390000%04d" % (_next[0] + 1))
    d.update(kw)
    return d


def dormant_big(name, amount, holdout=False, **kw):
    """A high-value dormant customer, reachable by phone."""
    c = add_contact(at(2021, 3, 1), holdout=holdout, name=name, **phone_ok(**kw))
    contract(c, at(2024, 6, 10), amount)
    deal(c, "won", amount, at(2024, 6, 10), "service")
    return c


def edge_cases():
    # -- One email a month: the calendar month, in the contact's time zone. ---------------
    c = add_contact(at(2025, 1, 5), holdout=False, name="Emailed 1 Nov 00:00 Shanghai", **reachable())
    visits(c, 1, 40, 40)
    email(c, at(2026, 11, 1, 0, 0, 0), False, style="offset")
    c = add_contact(at(2025, 1, 5), holdout=False, name="Emailed 31 Oct 23:59:59 Shanghai", **reachable())
    visits(c, 1, 40, 40)
    email(c, at(2026, 10, 31, 23, 59, 59), False, style="local")
    c = add_contact(at(2025, 1, 5), holdout=False, name="Emailed 31 Oct 16:00Z = 1 Nov Shanghai", **reachable())
    visits(c, 1, 40, 40)
    email(c, at(2026, 11, 1, 0, 0, 0), False, style="utc")
    c = add_contact(at(2025, 1, 5), holdout=False, name="Berlin: emailed 31 Oct 17:30 Berlin = 1 Nov Shanghai",
                    **reachable(tz="Europe/Berlin"))
    visits(c, 1, 40, 40)
    email(c, at(2026, 10, 31, 17, 30, 0, tz=ZoneInfo("Europe/Berlin")), False, style="offset")
    c = add_contact(at(2025, 1, 5), holdout=False, name="Berlin: emailed 1 Nov 08:00 Berlin",
                    **reachable(tz="Europe/Berlin"))
    visits(c, 1, 40, 40)
    email(c, at(2026, 11, 1, 8, 0, 0, tz=ZoneInfo("Europe/Berlin")), False, style="utc")
    # Sole traders (b2c) are not held to one a month: 2 per 7 days.
    c = add_contact(at(2024, 5, 5), holdout=False, name="Sole trader, emailed 3 Nov and 20 Nov",
                    account_type="b2c", company="个体户 (sole trader)", **reachable())
    contract(c, at(2026, 2, 10), 3500.0)
    email(c, at(2026, 11, 3, 10), False)
    email(c, at(2026, 11, 20, 10), False)
    c = add_contact(at(2024, 5, 5), holdout=False, name="Sole trader, emailed 17 and 20 Nov (2 in 7d)",
                    account_type="b2c", company="个体户 (sole trader)", **reachable())
    contract(c, at(2026, 3, 10), 4200.0)
    email(c, at(2026, 11, 17, 10), False)
    email(c, at(2026, 11, 20, 10), True)

    # -- Three opens in a row bring a dormant contact back. --------------------------------
    def lost_prospect(name, opens, **kw):
        c = add_contact(at(2024, 2, 1), holdout=False, name=name, **reachable(**kw))
        deal(c, "lost", 60000.0, at(2025, 4, 1), "price", 2)
        ev(c, at(2024, 11, 5), "meeting", channel="offline")
        for (m, d), o in zip([(7, 14), (8, 11), (9, 8), (10, 13), (11, 3)], opens):
            email(c, at(2026, m, d, 10, 5), o)
        return c
    lost_prospect("Opened Sep, Oct, Nov: back to interest", [False, False, True, True, True])
    lost_prospect("Opened Jul-Nov: back to interest at the last run, stays", [True, True, True, True, True])
    lost_prospect("Back at the last run, did not open Nov: dormant again", [True, True, True, True, False])
    lost_prospect("Opened 2, missed 1, opened 2: still dormant", [True, True, False, True, True])
    lost_prospect("Opened Sep, unknown Oct, opened Nov: still dormant", [False, False, True, None, True])
    c = add_contact(at(2024, 2, 1), holdout=False, name="Three opens but never dormant: stays aware", **reachable())
    for m, d in [(9, 8), (10, 13), (11, 3)]:
        email(c, at(2026, m, d, 10, 5), True)
    # Merged in from another CRM on 10 Nov, with its history: not in previous.csv, so the
    # opens cannot bring it back yet (it has to be seen dormant first).
    c = add_contact(at(2026, 11, 10, 14, 0), holdout=False, name="Merged from the old CRM, three opens, new here",
                    **reachable())
    contract(c, at(2023, 3, 1), 45000.0)
    deal(c, "won", 45000.0, at(2023, 3, 1))
    for m, d in [(8, 11), (9, 8), (10, 13)]:
        email(c, at(2026, m, d, 10, 5), True)

    # -- Stage edges. -----------------------------------------------------------------------
    for name, t, style in [("Contract exactly 365 days ago (UTC)", ago(days=365), "utc"),
                           ("Contract 365 days minus 1 s ago (epoch)", ago(days=365, seconds=-1), "epoch"),
                           ("Contract 368 days ago: customer at the last run", ago(days=368), "offset")]:
        c = add_contact(at(2022, 5, 1), holdout=False, name=name, **reachable())
        contract(c, t, 80000.0, style=style)
        deal(c, "won", 80000.0, t)
    c = add_contact(at(2025, 9, 1), holdout=False, name="Deal untouched exactly 180 days", **reachable())
    deal(c, "open", 90000.0, ago(days=180), score=3, created=at(2026, 3, 1))
    c = add_contact(at(2025, 9, 1), holdout=False, name="Deal untouched 180 days minus 1 s", **reachable())
    deal(c, "open", 90000.0, ago(days=180, seconds=-1), created=at(2026, 3, 1))
    c = add_contact(at(2025, 9, 1), holdout=False, name="Open deal without a date", **reachable())
    deal(c, "open", 50000.0, None, score=4)
    c = add_contact(at(2025, 1, 1), holdout=False, name="White paper exactly 90 days ago", **reachable())
    ev(c, ago(days=90), "whitepaper_download", channel="web", topic=WHITEPAPERS[0], style="offset")
    c = add_contact(at(2025, 1, 1), holdout=False, name="White paper 90 days minus 1 s ago", **reachable())
    ev(c, ago(days=90, seconds=-1), "whitepaper_download", channel="web", topic=WHITEPAPERS[1], style="utc")

    # -- Transitions since the last run (26 October). ---------------------------------------
    c = add_contact(at(2025, 6, 1), holdout=False, name="Interest -> opportunity (deal opened 5 Nov)", **reachable())
    ev(c, at(2026, 10, 10, 15), "whitepaper_download", channel="web", topic=WHITEPAPERS[2])
    deal(c, "open", 220000.0, at(2026, 11, 12, 16), created=at(2026, 11, 5, 11))
    ev(c, at(2026, 11, 12, 15), "meeting", channel="offline")
    c = add_contact(at(2025, 6, 1), holdout=False, name="Opportunity -> lost 12 Nov (product, went well)",
                    **phone_ok())
    deal(c, "lost", 240000.0, at(2026, 11, 12, 17), "product", 5, created=at(2026, 7, 1))
    change(c, at(2026, 11, 12, 17), deal_status="open", loss_reason="", negotiation_score="",
           deal_updated_at=fmt_time(at(2026, 10, 20, 11)))
    ev(c, at(2026, 10, 20, 10), "meeting", channel="offline")
    c = add_contact(at(2020, 6, 1), holdout=False, name="Dormant -> customer (won back 18 Nov)", **reachable())
    contract(c, at(2023, 6, 20), 150000.0)
    contract(c, at(2026, 11, 18, 16), 180000.0)
    deal(c, "won", 180000.0, at(2026, 11, 18, 16))
    change(c, at(2026, 11, 18, 16), deal_status="won", last_deal_value="150000.0",
           deal_updated_at=fmt_time(at(2023, 6, 20)), loss_reason="service")
    c = add_contact(at(2026, 2, 1), holdout=False, name="Target -> aware (first open 3 Nov)", **reachable())
    email(c, at(2026, 9, 8, 10, 7), False)
    email(c, at(2026, 11, 3, 10, 7), True)
    c = add_contact(at(2026, 11, 12, 14), holdout=False, name="New: signed up at the 12 Nov webinar", **reachable())
    ev(c, at(2026, 11, 12, 14), "webinar", channel="web", topic=WEBINARS[0])
    c = add_contact(at(2026, 11, 20, 9), holdout=False, name="New: imported trade-fair lead", **reachable())

    # -- A person who moved company keeps their history. -------------------------------------
    c = add_contact(at(2021, 4, 1), holdout=False, name="Moved company 30 Oct; bought at the old one",
                    company="Hooli Cloud China", previous_company="上海东方物流有限公司",
                    **reachable(email="li.na@hooli.cn"))
    contract(c, at(2025, 6, 3), 200000.0, account="上海东方物流有限公司")
    deal(c, "won", 200000.0, at(2025, 6, 3), "price")
    ev(c, at(2026, 11, 2, 10), "whitepaper_download", channel="web", topic=WHITEPAPERS[0], account="Hooli Cloud China")
    change(c, at(2026, 10, 30), company="上海东方物流有限公司", previous_company="", email="li.na@dongfang-log.cn")
    c = add_contact(at(2021, 4, 1), holdout=False, name="Moved company 15 Nov; customer at the old one",
                    company="Monarch Solar", previous_company="Northwind Trading", **reachable())
    contract(c, at(2026, 3, 15), 120000.0, account="Northwind Trading")
    deal(c, "won", 120000.0, at(2026, 3, 15))
    change(c, at(2026, 11, 15), company="Northwind Trading", previous_company="")

    # -- Channels: consent, missing and blank details, bounces. ------------------------------
    c = add_contact(at(2023, 1, 1), name="Consent false everywhere", **reachable(
        consent_email=False, phone="13911112222", wechat_id="wx_nope", postal_address="某处 1号"))
    contract(c, at(2024, 1, 1), 300000.0)
    c = add_contact(at(2025, 1, 1), holdout=False, name="No email, no phone: WeChat only", **reachable(
        email="", phone="", consent_wechat=True, wechat_id="wx_only01"))
    interest(c, at(2026, 10, 1, 11), "case_study_read")
    c = add_contact(at(2023, 1, 1), holdout=False, name="Bounced email, dormant: SMS", **reachable(
        email_bounced=True, consent_sms=True, phone="13922223333"))
    deal(c, "lost", 20000.0, at(2025, 2, 1), "brand", 2)
    c = add_contact(at(2023, 1, 1), holdout=False, name="Bounced email, no SMS consent: nobody to tell",
                    **reachable(email_bounced=True, phone="13922224444"))
    deal(c, "lost", 20000.0, at(2025, 2, 1), "service", 1)
    c = add_contact(at(2021, 3, 1), holdout=False, name="High value, phone is a blank space: email",
                    **phone_ok(phone=" "))
    contract(c, at(2023, 5, 1), 450000.0)
    deal(c, "won", 450000.0, at(2023, 5, 1), "product")
    c = add_contact(at(2021, 3, 1), holdout=False, name="High value, no phone consent: email",
                    **reachable(phone="13933334444"))
    contract(c, at(2023, 5, 1), 460000.0)
    deal(c, "won", 460000.0, at(2023, 5, 1), "service")
    c = add_contact(at(2022, 3, 1), holdout=False, name="Good negotiation, deal value unknown: ranks last",
                    **phone_ok())
    deal(c, "lost", None, at(2025, 8, 1), "price", 5)
    c = add_contact(at(2021, 3, 1), holdout=False, name="Contract without an amount, deal value 150k",
                    **phone_ok())
    contract(c, at(2024, 2, 1), None)
    deal(c, "won", 150000.0, at(2024, 2, 1), "brand")

    # -- The call centre: capacity 20, caps, ties, quiet hours abroad. -----------------------
    dormant_big("New York, biggest account: called at 09:00 New York", 880000.0, tz="America/New_York")
    dormant_big("Held out: biggest contract, no call, no budget", 900000.0, holdout=True)
    c = dormant_big("Called 13 Nov: phone cap, no capacity used", 700000.0)
    ev(c, at(2026, 11, 13, 15, 30), "call_made", channel="phone")
    c = dormant_big("Four contacts in 30 days (InMails): overall cap", 650000.0)
    for t, kind, ch in [(at(2026, 11, 2, 11), "inmail_sent", "linkedin"), (at(2026, 11, 6, 11), "sms_sent", "sms"),
                        (at(2026, 11, 10, 11), "inmail_sent", "linkedin"),
                        (at(2026, 11, 15, 11), "inmail_sent", "linkedin")]:
        ev(c, t, kind, channel=ch)
    for k in range(6):  # equal rank values at the capacity's edge: the bucket of "phone" decides
        dormant_big("Tie at 150k for the last calls (%d of 6)" % (k + 1), 150000.0)

    # -- Cards and birthdays. ----------------------------------------------------------------
    c = add_contact(at(2022, 1, 1), holdout=False, name="Customer, card sent 5 Nov: card cap",
                    **reachable(consent_mail=True, postal_address="上海市浦东新区 88号"))
    contract(c, at(2026, 5, 5), 60000.0)
    deal(c, "won", 60000.0, at(2026, 5, 5))
    ev(c, at(2026, 11, 5, 10), "card_sent", channel="greeting_card")
    c = add_contact(at(2022, 1, 1), holdout=False, name="Customer, birthday in 7 days", **reachable(birthday="1980-11-30"))
    contract(c, at(2026, 6, 1), 50000.0)
    deal(c, "won", 50000.0, at(2026, 6, 1))
    c = add_contact(at(2022, 1, 1), holdout=False, name="Customer, birthday in 8 days", **reachable(birthday="1980-12-01"))
    contract(c, at(2026, 6, 1), 50000.0)
    deal(c, "won", 50000.0, at(2026, 6, 1))

    # -- Bad data. -----------------------------------------------------------------------------
    c = add_contact(at(2024, 1, 1), name="Bad date in the CRM (rejected)", **reachable())
    deal(c, "open", 10000.0, None)
    c["deal_updated_at"] = "2026-13-01"
    c["_snapshot_skip"] = True


def deleted_contact():
    """In the CRM at the last run, deleted since (a data-protection request). previous.csv
    still has its row; two web events were left behind in the export and are rejected."""
    c = add_contact(at(2024, 3, 1), holdout=False, name="Deleted on 10 Nov", **reachable())
    interest(c, at(2026, 9, 20, 10), "webinar")
    c["_deleted"] = True
    ev(c, at(2026, 11, 12, 10), "site_visit", channel="web")
    ev(c, at(2026, 11, 13, 10), "site_visit", channel="web")


# --- history that the generators do not write ----------------------------------------------

def newsletters():
    """The monthly newsletter, to contacts on the list (who agreed to email and have a
    working address), at most one email a month."""
    for c in customers:
        if c["_news"] <= 0 or not c["consent_email"] or not c["email"] or c["email_bounced"]:
            continue
        for t in NEWSLETTERS:
            if t < c.get("_first_seen", AS_OF) or rng.random() >= c["_news"]:
                continue
            sent = t + timedelta(minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
            month = [e for e in events if e["contact_id"] == c["contact_id"] and e["kind"] == "email_sent"
                     and e["_t"].astimezone(SH).strftime("%Y-%m") == sent.strftime("%Y-%m")]
            if not month:
                email(c, sent, rng.random() < c["_p_open"])


def snapshot(t):
    """The export as it was at time t: string rows for reference.parse_*."""
    rows = []
    for c in customers:
        if c.get("_first_seen", AS_OF) > t or c.get("_snapshot_skip"):
            continue
        row = dict(c)
        for when, before in sorted(c["_changes"], key=lambda x: x[0], reverse=True):
            if when > t:
                row.update(before)
        rows.append(string_row(row))
    evs = [e for e in events if e["_t"] <= t]
    return rows, evs


def string_row(c):
    row = {k: c[k] for k in CUSTOMER_COLUMNS}
    for k in ("email_bounced", "consent_email", "consent_sms", "consent_phone", "consent_wechat", "consent_mail"):
        if not isinstance(row[k], str):
            row[k] = b(row[k])
    return row


SENT_KIND = {"email": "email_sent", "phone": "call_made", "sms": "sms_sent", "wechat": "wechat_sent",
             "greeting_card": "card_sent"}


def simulate_runs(conf):
    """Run the program at each earlier run time on the export as it was then, and write what
    it sent into the history (the sending platform exports its log)."""
    zone = rk.zone(conf["timezone"])
    previous = None
    by_id = {c["contact_id"]: c for c in customers}
    for t in RUNS:
        rows, evs = snapshot(t)
        parsed = reference.parse_customers(rows, zone)
        evmap, _ = reference.parse_events(evs, [p["id"] for p in parsed], zone)
        decisions = reference.decide_all(parsed, evmap, int(t.timestamp()), conf, previous)
        for d in decisions:
            if not d["send"]:
                continue
            c = by_id[d["customer_id"]]
            start = datetime.fromisoformat(d["send_at"])
            sent = start + timedelta(minutes=rng.randint(0, 240), seconds=rng.randint(0, 59))
            if d["channel"] == "email":
                email(c, sent, rng.random() < c["_p_open"])
            else:
                ev(c, sent, SENT_KIND[d["channel"]], channel=d["channel"])
        previous = {d["customer_id"]: d for d in decisions}
    return decisions


def main():
    edge_cases()
    plan = ([gen_target] * 22 + [gen_aware] * 24 + [gen_interest] * 22 + [gen_opportunity] * 16
            + [gen_customer] * 28 + [lambda: gen_dormant_customer(True)] * 20
            + [lambda: gen_dormant_customer(False)] * 18 + [lambda: gen_lost(True)] * 16
            + [lambda: gen_lost(False)] * 16 + [gen_stalled] * 7 + [gen_sole_trader] * 4)
    rng.shuffle(plan)
    for g in plan:
        g()
    deleted_contact()
    newsletters()

    conf = reference.read_config(os.path.join(HERE, "rekindle.yaml"))
    last_run = simulate_runs(conf)
    rk.write_decisions(os.path.join(HERE, "previous.csv"), last_run)

    exported = [c for c in customers if not c["_deleted"]]
    kept = {c["contact_id"] for c in exported}
    deleted = {c["contact_id"] for c in customers if c["_deleted"]}
    out_events = [e for e in events if e["contact_id"] in kept
                  or (e["contact_id"] in deleted and e["_t"] > at(2026, 11, 10))]
    rng.shuffle(out_events)  # exports are not sorted by contact or time

    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, CUSTOMER_COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for c in exported:
            w.writerow(string_row(c))
    with open(os.path.join(DATA, "events.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, EVENT_COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(out_events)
    print("wrote %d contacts, %d events to %s; previous.csv: %d rows (run of %s)"
          % (len(exported), len(out_events), DATA, len(last_run), RUNS[-1].isoformat()))


if __name__ == "__main__":
    main()
