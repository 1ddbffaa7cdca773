#!/usr/bin/env python3
"""The benchmark's pandas peer: examples/retail/retail.rules with bench/rekindle.yaml, written
as vectorised pandas (Debian's python3-pandas, numpy). It writes the same decisions file as
`rekindle run`, byte for byte, and bench/run.sh checks that before its time counts.

    python3 bench/pandas_peer.py --customers customers.csv --events events.csv --out decisions.csv

The logic follows examples/retail/reference.py (stages, segments, channel and offer order, caps,
budgets, holdout), with every per-customer loop replaced by column operations: grouped
aggregates, window ranks for the caps, numpy uint64 arithmetic for the bucket hash. Hard-coded
like the hand-written peer: the clock (as_of), Asia/Shanghai as +08:00 (no daylight saving time
since 1991), params, caps, budgets. Times are read as the export writes them: ISO 8601 with
'T' or ' ', with an offset, 'Z' or none (local), a date, or epoch seconds (no fractions).
"""

import argparse

import numpy as np
import pandas as pd

DAY = 86400
ZONE = 8 * 3600  # Asia/Shanghai
NOW = 1795395600  # as_of: 2026-11-23T09:00:00+08:00
TODAY = (NOW + ZONE) // DAY  # local date, days since 1970-01-01
AT_RISK_AFTER, DORMANT_AFTER, INTEREST_WINDOW = 90 * DAY, 365 * DAY, 7 * DAY
HIGH_VALUE_SPEND = 2000.0
POINTS_NOTICE, BROWSE_MEMORY, RESTOCK_NEWS = 14 * DAY, 30 * DAY, 3 * DAY
HOLDOUT_SALT, HOLDOUT_SHARE = "retail-2026q4", 0.10
SMS_PER_RUN, WINBACK20_BUDGET = 6, 30

STAGES = ["dormant", "new", "first_purchase", "active", "at_risk"]
DORMANT, NEW, FIRST, ACTIVE, AT_RISK = range(5)
CHANNELS = ["email", "push", "sms", "none"]
EMAIL, PUSH, SMS, NONE = range(4)
OFFERS = ["none", "BIRTHDAY_GIFT", "FIRST_ORDER_DISCOUNT", "STORE_VOUCHER", "BESTSELLERS", "WELCOME10",
          "BACK_IN_STOCK", "NEW_ARRIVALS", "POINTS_REMINDER", "ANNIVERSARY_COUPON", "WINBACK20", "WINBACK10",
          "HOLIDAY_PREVIEW"]
SEGMENTS = ["high_value", "cart_abandoned", "browsed_no_cart", "birthday_soon", "member_anniversary",
            "points_expiring", "back_in_stock"]
TRUE_WORDS = ["true", "1", "yes", "y", "t"]
SENT_KINDS = ["email_sent", "sms_sent", "push_sent", "wechat_sent"]
BEHAVIOUR = ["purchase", "visit", "cart_add", "email_open"]

U64 = np.uint64


def fmt_time(t):
    """Epoch seconds (array) -> '2026-11-23T09:00:00+08:00' strings."""
    local = pd.to_datetime(np.asarray(t, dtype=np.int64) + ZONE, unit="s")
    return local.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def parse_times(s):
    """Export time strings -> epoch seconds (int64)."""
    s = s.astype(str)
    out = np.empty(len(s), dtype=np.int64)
    iso = (s.str.slice(4, 5) == "-").to_numpy()
    if (~iso).any():
        out[~iso] = s[~iso].astype(np.int64).to_numpy()
    si = s[iso]
    # The ISO 8601 fast path of to_datetime reads both 'T' and ' ', and a date alone.
    base = pd.to_datetime(si.str.slice(0, 19)).to_numpy().astype("datetime64[s]").astype(np.int64)
    codes, suffixes = pd.factorize(si.str.slice(19))
    offsets = np.array([ZONE if x == "" else 0 if x == "Z" else
                        (1 if x[0] == "+" else -1) * (int(x[1:3]) * 3600 + int(x[4:6]) * 60) for x in suffixes],
                       dtype=np.int64)
    out[iso] = base - offsets[codes]
    return out


def parse_dates(s):
    """'YYYY-MM-DD' or '' -> days since 1970-01-01 (float, NaN when empty)."""
    out = np.full(len(s), np.nan)
    has = (s != "").to_numpy()
    out[has] = pd.to_datetime(s[has], format="%Y-%m-%d").to_numpy().astype("datetime64[D]").astype(np.int64)
    return out


def is_true(s):
    return s.str.strip().str.lower().isin(TRUE_WORDS).to_numpy()


def bucket(ids, salt):
    """bucket(salt) of every id: FNV-1a-64 over salt, 0x00, id; SplitMix64's finaliser; the top
    53 bits over 2^53 (docs/reference.md). uint64 arithmetic wraps, as the hash needs."""
    raw = np.char.encode(np.asarray(ids, dtype=str), "utf-8")
    width = raw.dtype.itemsize
    mat = raw.view(np.uint8).reshape(len(raw), width)
    lengths = np.char.str_len(raw)
    prime = U64(0x100000001B3)
    h = U64(0xCBF29CE484222325)
    with np.errstate(over="ignore"):
        for b in salt.encode() + b"\x00":
            h = (h ^ U64(b)) * prime
        h = np.full(len(raw), h, dtype=np.uint64)
        for j in range(width):
            step = (h ^ mat[:, j].astype(np.uint64)) * prime
            h = np.where(j < lengths, step, h)
        z = h
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        z = z ^ (z >> U64(31))
    return (z >> U64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def anniversary_within(days, within):
    """Is the month/day of `days` (NaN: no) today or in the next `within` seconds? 29 Feb counts
    as 28 Feb in common years."""
    ok = ~np.isnan(days)
    d = pd.to_datetime(np.where(ok, days, 0).astype(np.int64), unit="D")
    month, day = d.month.to_numpy(), d.day.to_numpy()
    today = pd.Timestamp(TODAY, unit="D")
    result = np.zeros(len(days), dtype=bool)
    decided = ~ok
    for year in (today.year, today.year + 1):
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        dd = np.where((month == 2) & (day == 29) & (not leap), 28, day)
        frame = pd.DataFrame({"year": year, "month": month, "day": dd})
        nxt = pd.to_datetime(frame).to_numpy().astype("datetime64[D]").astype(np.int64)
        first = ~decided & (nxt >= TODAY)
        result[first] = (nxt[first] - TODAY) * DAY <= within
        decided |= first
    return result


def by_customer(values, c, n, how, fill):
    """A grouped aggregate of `values` by customer index `c`, as an array over all customers."""
    agg = pd.Series(values).groupby(c).agg(how)
    out = np.full(n, fill, dtype=np.float64 if isinstance(fill, float) else np.int64)
    out[agg.index.to_numpy()] = agg.to_numpy()
    return out


def rolling_window(t, c, n, seconds, limit):
    """A rolling cap window over contacts (t, c), t <= now: full when `limit` or more fall in
    (now - W, now]; then the customer may be contacted again when the limit-th newest leaves."""
    inside = pd.DataFrame({"c": c, "t": t})
    inside = inside[inside.t > NOW - seconds].sort_values(["c", "t"], ascending=[True, False], kind="stable")
    rank = inside.groupby("c").cumcount().to_numpy()
    hit = inside[rank == limit - 1]
    full = np.zeros(n, dtype=bool)
    eligible = np.zeros(n, dtype=np.int64)
    full[hit.c.to_numpy()] = True
    eligible[hit.c.to_numpy()] = hit.t.to_numpy() + seconds
    return full, eligible


def calendar_window(t, c, n, start, next_start, limit):
    counts = np.bincount(c[t >= start], minlength=n)
    return counts >= limit, np.full(n, next_start, dtype=np.int64)


def allocate(contenders, value, bucket_values, ids, limit):
    """The `limit` contenders with the highest value get the budget; ties by the lower bucket,
    then the lower id."""
    frame = pd.DataFrame({"k": contenders, "v": value[contenders], "b": bucket_values, "id": ids[contenders]})
    frame = frame.sort_values(["v", "b", "id"], ascending=[False, True, True], kind="stable")
    return frame.k.to_numpy()[:limit]


def quiet_send_time(start_minute, end_minute):
    """Sending time of a decision made now for a channel whose quiet hours cross midnight."""
    local = NOW + ZONE
    day, minute = local // DAY, (local % DAY) // 60
    if not (minute >= start_minute or minute < end_minute):
        return NOW
    end_day = day + 1 if minute >= start_minute else day
    return end_day * DAY + end_minute * 60 - ZONE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    cust = pd.read_csv(args.customers, dtype=str, keep_default_na=False,
                       usecols=["customer_id", "signup_at", "email", "phone", "app_token", "birthday", "account_type",
                                "consent_email", "consent_sms", "consent_push", "email_bounced", "price_sensitivity",
                                "points_balance", "points_expire_on"])
    n = len(cust)
    ids = cust.customer_id.to_numpy()
    signup = parse_times(cust.signup_at)
    has_email = (cust.email.str.strip() != "").to_numpy()
    has_phone = (cust.phone.str.strip() != "").to_numpy()
    has_app = (cust.app_token.str.strip() != "").to_numpy()
    birthday = parse_dates(cust.birthday)
    b2b = (cust.account_type == "b2b").to_numpy()
    consent_email, consent_sms, consent_push = is_true(cust.consent_email), is_true(cust.consent_sms), is_true(cust.consent_push)
    bounced = is_true(cust.email_bounced)
    sensitivity = cust.price_sensitivity.to_numpy()
    points = pd.to_numeric(cust.points_balance.replace("", np.nan)).to_numpy(dtype=np.float64)
    expire = parse_dates(cust.points_expire_on)
    del cust

    ev = pd.read_csv(args.events, usecols=["customer_id", "at", "kind", "amount", "product", "channel"],
                     dtype={"customer_id": "category", "at": str, "kind": "category", "amount": np.float64,
                            "product": str, "channel": "category"},
                     keep_default_na=False, na_values={"amount": [""]})
    # Events of customers not in the customer file are rejected, as Rekindle does.
    index_of_category = pd.Index(ids).get_indexer(ev.customer_id.cat.categories)
    c_all = index_of_category[ev.customer_id.cat.codes.to_numpy()]
    ev = ev[c_all >= 0]
    c_all = c_all[c_all >= 0]
    t_all = parse_times(ev["at"])
    kind = ev.kind

    # What the customer did.
    is_purchase = (kind == "purchase").to_numpy()
    pc, pt = c_all[is_purchase], t_all[is_purchase]
    amount = ev.amount.to_numpy()[is_purchase]
    orders = np.bincount(pc, minlength=n)
    last_order = by_customer(pt, pc, n, "max", np.iinfo(np.int64).min)
    spent = np.nan_to_num(amount, nan=0.0)  # an order without an amount adds nothing
    lifetime = by_customer(spent, pc, n, "sum", 0.0)
    recent = pt >= NOW - 365 * DAY
    spend_12m = by_customer(spent[recent], pc[recent], n, "sum", 0.0)
    has_order = orders > 0

    is_visit = (kind == "visit").to_numpy()
    is_cart = (kind == "cart_add").to_numpy()
    none_t = np.iinfo(np.int64).min
    last_visit = by_customer(t_all[is_visit], c_all[is_visit], n, "max", none_t)
    last_cart = by_customer(t_all[is_cart], c_all[is_cart], n, "max", none_t)
    is_behaviour = kind.isin(BEHAVIOUR).to_numpy()
    last_behaviour = by_customer(t_all[is_behaviour], c_all[is_behaviour], n, "max", none_t)
    last_seen = np.maximum(np.where(last_behaviour == none_t, signup, last_behaviour), signup)

    # Segments.
    high_value = spend_12m >= HIGH_VALUE_SPEND
    cart_abandoned = ((last_cart != none_t) & (NOW - last_cart <= INTEREST_WINDOW)
                      & ~(has_order & (last_order >= last_cart)))
    cart_or_order = np.maximum(last_cart, last_order)
    browsed_no_cart = ((last_visit != none_t) & (NOW - last_visit <= INTEREST_WINDOW)
                       & ~((cart_or_order != none_t) & (cart_or_order >= NOW - INTEREST_WINDOW)))
    birthday_soon = anniversary_within(birthday, 7 * DAY)
    signup_day = ((signup + ZONE) // DAY).astype(np.float64)
    member_anniversary = anniversary_within(signup_day, 7 * DAY) & (NOW - signup >= 365 * DAY)
    points_expiring = ((np.nan_to_num(points, nan=0) > 0) & ~np.isnan(expire) & (expire >= TODAY)
                       & ((expire - TODAY) * DAY <= POINTS_NOTICE))
    product = ev["product"].to_numpy()
    seen = is_visit & (t_all >= NOW - BROWSE_MEMORY) & (product != "")
    restock = (kind == "back_in_stock").to_numpy() & (t_all >= NOW - RESTOCK_NEWS) & (product != "")
    browsed = pd.DataFrame({"c": c_all[seen], "p": product[seen]}).drop_duplicates()
    restocked = pd.DataFrame({"c": c_all[restock], "p": product[restock]}).drop_duplicates()
    back_in_stock = np.zeros(n, dtype=bool)
    back_in_stock[browsed.merge(restocked, on=["c", "p"]).c.to_numpy()] = True
    segments = np.stack([high_value, cart_abandoned, browsed_no_cart, birthday_soon, member_anniversary,
                         points_expiring, back_in_stock])

    # Stage: first match wins.
    quiet = NOW - last_seen
    idle = NOW - last_order
    stage = np.select([quiet >= DORMANT_AFTER, orders == 0, (orders == 1) & (idle < AT_RISK_AFTER),
                       (orders >= 2) & (idle < AT_RISK_AFTER)], [DORMANT, NEW, FIRST, ACTIVE], AT_RISK)

    # The contact history: our messages, up to now.
    sent = kind.isin(SENT_KINDS).to_numpy() & (t_all <= NOW)
    sc, st = c_all[sent], t_all[sent]
    sch = ev.channel.to_numpy()[sent]
    day0 = (NOW + ZONE) // DAY
    week0 = day0 - (day0 + 3) % 7  # Monday; 1970-01-01 was a Thursday
    day_start, week_start = day0 * DAY - ZONE, week0 * DAY - ZONE
    em, pu, sm = sch == "email", sch == "push", sch == "sms"
    windows = [  # (text, full, eligible at), in declaration order
        ("cap email 1 per calendar week",) + calendar_window(st[em], sc[em], n, week_start, week_start + 7 * DAY, 1),
        ("cap email 2 per 7d",) + rolling_window(st[em], sc[em], n, 7 * DAY, 2),
        ("cap email 6 per 30d",) + rolling_window(st[em], sc[em], n, 30 * DAY, 6),
        ("cap push 1 per calendar day",) + calendar_window(st[pu], sc[pu], n, day_start, day_start + DAY, 1),
        ("cap push 2 per calendar week",) + calendar_window(st[pu], sc[pu], n, week_start, week_start + 7 * DAY, 2),
        ("cap sms 1 per 14d",) + rolling_window(st[sm], sc[sm], n, 14 * DAY, 1),
        ("cap any 8 per 30d",) + rolling_window(st, sc, n, 30 * DAY, 8),
    ]
    del ev

    def caps(channel):
        """suppressed_by (window index, -1) and next_eligible_at for each customer's channel:
        the channel's first conditional cap that holds, else its unconditional ones; then `any`.
        The binding window stays full longest (the first declared on a tie)."""
        applies = [(channel == EMAIL) & (stage == DORMANT), (channel == EMAIL) & (stage != DORMANT),
                   (channel == EMAIL) & (stage != DORMANT), channel == PUSH, channel == PUSH, channel == SMS,
                   channel != NONE]
        by = np.full(n, -1)
        at = np.zeros(n, dtype=np.int64)
        for w, ((_, full, eligible), mask) in enumerate(zip(windows, applies)):
            upd = mask & full & ((by < 0) | (eligible > at))
            by[upd] = w
            at[upd] = eligible[upd]
        return by, at

    holdout = bucket(ids, HOLDOUT_SALT) < HOLDOUT_SHARE

    # Channel: the first row whose condition, consent and contact detail hold.
    email_ok = ~bounced & consent_email & has_email
    push_ok = has_app & consent_push
    sms_ok = np.isin(stage, [AT_RISK, DORMANT]) & consent_sms & has_phone
    channel = np.select([email_ok, push_ok, sms_ok], [EMAIL, PUSH, SMS], NONE)
    by, at = caps(channel)
    # SMS: six, by lifetime spend, among those a message would reach; the others fall to none.
    contenders = np.flatnonzero((channel == SMS) & ~holdout & (by < 0))
    winners = allocate(contenders, lifetime, bucket(ids[contenders], "sms"), ids, SMS_PER_RUN)
    away = np.setdiff1d(contenders, winners)
    channel[away] = NONE
    by[away] = -1

    # Offer: first match wins; WINBACK20 to thirty, by 12-month spend, among those reached.
    interested = cart_abandoned | browsed_no_cart
    first = (stage == FIRST) & interested
    offer = np.select([channel == NONE, b2b, birthday_soon & (stage != NEW),
                       first & (sensitivity == "price"), first & (sensitivity == "experience"), first,
                       stage == NEW, (stage == ACTIVE) & back_in_stock, stage == ACTIVE,
                       (stage == AT_RISK) & points_expiring, (stage == AT_RISK) & member_anniversary,
                       stage == AT_RISK, stage == DORMANT],
                      [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12], 0)
    contenders = np.flatnonzero((offer == 10) & ~holdout & (by < 0))
    winners = allocate(contenders, spend_12m, bucket(ids[contenders], "WINBACK20"), ids, WINBACK20_BUDGET)
    offer[np.setdiff1d(contenders, winners)] = 11  # WINBACK10

    # The decisions file, in Rekindle's format.
    send = (channel != NONE) & (by < 0) & ~holdout
    send_at_of = np.array([fmt_time([NOW])[0], fmt_time([quiet_send_time(22 * 60, 9 * 60)])[0],
                           fmt_time([quiet_send_time(21 * 60, 8 * 60)])[0], ""], dtype=object)
    seg_bits = (segments.astype(np.int64) << np.arange(7)[:, None]).sum(axis=0)
    seg_text = np.array([";".join(s for k, s in enumerate(SEGMENTS) if m >> k & 1) for m in range(128)], dtype=object)
    suppressed_text = np.array([w[0] for w in windows] + [""], dtype=object)
    eligible_text = np.full(n, "", dtype=object)
    capped = by >= 0
    eligible_text[capped] = fmt_time(at[capped])
    true_false = np.array(["false", "true"], dtype=object)
    out = pd.DataFrame({
        "customer_id": ids,
        "stage": np.array(STAGES, dtype=object)[stage],
        "segments": seg_text[seg_bits],
        "channel": np.array(CHANNELS, dtype=object)[channel],
        "send": true_false[send.astype(int)],
        "send_at": np.where(send, send_at_of[channel], ""),
        "suppressed_by": suppressed_text[by],
        "next_eligible_at": eligible_text,
        "offer": np.array(OFFERS, dtype=object)[offer],
        "holdout": true_false[holdout.astype(int)],
        "transition": "",
        "rules": "retail_lifecycle",
        "rules_version": "2",
        "decided_at": fmt_time([NOW])[0],
    })
    out.to_csv(args.out, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
