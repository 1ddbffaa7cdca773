-- The benchmark's SQLite peer: examples/retail/retail.rules with bench/rekindle.yaml, in SQL
-- (Debian's sqlite3 3.40). bench/sqlite_peer.sh imports the two CSV files as tables
-- `customers` and `events` (every column TEXT, in file order) and runs this script, which
-- writes the same decisions file as `rekindle run`, byte for byte.
--
-- A few staged tables rather than one statement: SQLite re-evaluates a CTE at each use, and
-- the bucket hash needs its layers materialised. Hard-coded like the other peers: the clock
-- (as_of 2026-11-23T09:00:00+08:00 = 1795395600), Asia/Shanghai as +08:00 (no daylight saving
-- time since 1991), params, caps, budgets, holdout.
--
-- Times: epoch seconds (no '-'), local times without an offset (19 characters) and dates (10)
-- in Shanghai, else ISO 8601 with 'Z' or an offset, which unixepoch() reads.

PRAGMA temp_store = MEMORY;

-- Customers, in input order (k), typed.
CREATE TABLE c AS
SELECT rowid AS k,
       customer_id AS id,
       CASE WHEN instr(signup_at, '-') = 0 THEN CAST(signup_at AS INTEGER)
            WHEN length(signup_at) IN (10, 19) THEN unixepoch(signup_at) - 28800
            ELSE unixepoch(signup_at) END AS signup,
       trim(email) <> '' AS has_email,
       trim(phone) <> '' AS has_phone,
       trim(app_token) <> '' AS has_app,
       NULLIF(birthday, '') AS birthday,
       account_type = 'b2b' AS b2b,
       lower(trim(consent_email)) IN ('true', '1', 'yes', 'y', 't') AS consent_email,
       lower(trim(consent_sms)) IN ('true', '1', 'yes', 'y', 't') AS consent_sms,
       lower(trim(consent_push)) IN ('true', '1', 'yes', 'y', 't') AS consent_push,
       lower(trim(email_bounced)) IN ('true', '1', 'yes', 'y', 't') AS bounced,
       price_sensitivity AS sensitivity,
       CASE WHEN points_balance <> '' THEN CAST(points_balance AS INTEGER) END AS points,
       NULLIF(points_expire_on, '') AS expire_on
FROM customers;
CREATE UNIQUE INDEX c_id ON c(id);

-- Events of known customers (the others are rejected, as Rekindle does), typed.
CREATE TABLE e AS
SELECT c.k AS k,
       CASE WHEN instr(v.at, '-') = 0 THEN CAST(v.at AS INTEGER)
            WHEN length(v.at) IN (10, 19) THEN unixepoch(v.at) - 28800
            ELSE unixepoch(v.at) END AS t,
       v.kind AS kind,
       CASE WHEN v.amount <> '' THEN CAST(v.amount AS REAL) END AS amount,
       NULLIF(v.product, '') AS product,
       v.channel AS channel
FROM events v JOIN c ON c.id = v.customer_id;

-- What each customer did.
CREATE TABLE a AS
SELECT k,
       SUM(kind = 'purchase') AS orders,
       MAX(CASE WHEN kind = 'purchase' THEN t END) AS last_order,
       TOTAL(CASE WHEN kind = 'purchase' THEN amount END) AS lifetime,
       TOTAL(CASE WHEN kind = 'purchase' AND t >= 1795395600 - 365 * 86400 THEN amount END) AS spend_12m,
       MAX(CASE WHEN kind = 'visit' THEN t END) AS last_visit,
       MAX(CASE WHEN kind = 'cart_add' THEN t END) AS last_cart,
       MAX(CASE WHEN kind IN ('purchase', 'visit', 'cart_add', 'email_open') THEN t END) AS last_behaviour
FROM e GROUP BY k;

-- A product looked at in the last 30 days came back in stock in the last 3.
CREATE TABLE bis AS
SELECT DISTINCT k FROM (
  SELECT k, product FROM e WHERE kind = 'back_in_stock' AND t >= 1795395600 - 3 * 86400 AND product IS NOT NULL
  INTERSECT
  SELECT k, product FROM e WHERE kind = 'visit' AND t >= 1795395600 - 30 * 86400 AND product IS NOT NULL);

-- Stage and segments. Anniversaries: the month and day this year or next (29 February is 28
-- February in a common year), today or within 7 days; today is 2026-11-23 in Shanghai.
CREATE TABLE s AS
WITH f AS (
  SELECT c.*, COALESCE(a.orders, 0) AS orders, a.last_order, COALESCE(a.lifetime, 0.0) AS lifetime,
         COALESCE(a.spend_12m, 0.0) AS spend_12m, a.last_visit, a.last_cart,
         max(COALESCE(a.last_behaviour, c.signup), c.signup) AS last_seen,
         bis.k IS NOT NULL AS restock_seen,
         substr(birthday, 6, 5) AS birth_md,
         substr(date(c.signup + 28800, 'unixepoch'), 6, 5) AS signup_md
  FROM c LEFT JOIN a ON a.k = c.k LEFT JOIN bis ON bis.k = c.k),
g AS (
  SELECT f.*,
    CASE WHEN 1795395600 - last_seen >= 365 * 86400 THEN 'dormant'
         WHEN orders = 0 THEN 'new'
         WHEN orders = 1 AND 1795395600 - last_order < 90 * 86400 THEN 'first_purchase'
         WHEN orders >= 2 AND 1795395600 - last_order < 90 * 86400 THEN 'active'
         ELSE 'at_risk' END AS stage,
    spend_12m >= 2000.0 AS high_value,
    COALESCE(1795395600 - last_cart <= 7 * 86400 AND NOT COALESCE(last_order >= last_cart, 0), 0) AS cart_abandoned,
    COALESCE(1795395600 - last_visit <= 7 * 86400
             AND NOT COALESCE(max(COALESCE(last_cart, last_order), COALESCE(last_order, last_cart)) >= 1795395600 - 7 * 86400, 0), 0)
      AS browsed_no_cart,
    (SELECT MIN(d) FROM (
       SELECT julianday(y || '-' || CASE WHEN birth_md = '02-29' AND NOT ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0)
                                         THEN '02-28' ELSE birth_md END) - julianday('2026-11-23') AS d
       FROM (SELECT 2026 AS y UNION ALL SELECT 2027)) WHERE d >= 0) AS birthday_in,
    (SELECT MIN(d) FROM (
       SELECT julianday(y || '-' || CASE WHEN signup_md = '02-29' AND NOT ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0)
                                         THEN '02-28' ELSE signup_md END) - julianday('2026-11-23') AS d
       FROM (SELECT 2026 AS y UNION ALL SELECT 2027)) WHERE d >= 0) AS anniversary_in
  FROM f)
SELECT k, id, stage, lifetime, spend_12m, b2b, sensitivity, consent_email, consent_sms, consent_push, bounced,
       has_email, has_phone, has_app,
       high_value, cart_abandoned, browsed_no_cart,
       birthday IS NOT NULL AND birthday_in * 86400 <= 7 * 86400 AS birthday_soon,
       anniversary_in * 86400 <= 7 * 86400 AND 1795395600 - signup >= 365 * 86400 AS member_anniversary,
       COALESCE(points > 0 AND expire_on >= '2026-11-23'
                AND (julianday(expire_on) - julianday('2026-11-23')) * 86400 <= 14 * 86400, 0) AS points_expiring,
       restock_seen AS back_in_stock,
       -- The first channel row whose condition, consent and contact detail hold.
       CASE WHEN NOT bounced AND consent_email AND has_email THEN 'email'
            WHEN has_app AND consent_push THEN 'push'
            WHEN stage IN ('at_risk', 'dormant') AND consent_sms AND has_phone THEN 'sms'
            ELSE 'none' END AS first_channel
FROM g;

-- The contact history (our messages up to now) and every cap window that is full, with the
-- time from which it has room again. Windows are numbered in declaration order.
CREATE TABLE ct AS
SELECT k, t, channel FROM e WHERE kind IN ('email_sent', 'sms_sent', 'push_sent', 'wechat_sent') AND t <= 1795395600;
-- Today and this week (from Monday) start at local midnight: 2026-11-23 is a Monday.
CREATE TABLE w AS
WITH p AS (SELECT (1795395600 + 28800) / 86400 AS day0),
q AS (SELECT day0 * 86400 - 28800 AS day_start, (day0 - (day0 + 3) % 7) * 86400 - 28800 AS week_start FROM p)
SELECT k, 0 AS win, week_start + 7 * 86400 AS eligible FROM ct, q
  WHERE channel = 'email' AND t >= week_start GROUP BY k HAVING COUNT(*) >= 1
UNION ALL
SELECT k, 1, t + 7 * 86400 FROM (
  SELECT k, t, ROW_NUMBER() OVER (PARTITION BY k ORDER BY t DESC) AS rn FROM ct
  WHERE channel = 'email' AND t > 1795395600 - 7 * 86400) WHERE rn = 2
UNION ALL
SELECT k, 2, t + 30 * 86400 FROM (
  SELECT k, t, ROW_NUMBER() OVER (PARTITION BY k ORDER BY t DESC) AS rn FROM ct
  WHERE channel = 'email' AND t > 1795395600 - 30 * 86400) WHERE rn = 6
UNION ALL
SELECT k, 3, day_start + 86400 FROM ct, q
  WHERE channel = 'push' AND t >= day_start GROUP BY k HAVING COUNT(*) >= 1
UNION ALL
SELECT k, 4, week_start + 7 * 86400 FROM ct, q
  WHERE channel = 'push' AND t >= week_start GROUP BY k HAVING COUNT(*) >= 2
UNION ALL
SELECT k, 5, t + 14 * 86400 FROM (
  SELECT k, t, ROW_NUMBER() OVER (PARTITION BY k ORDER BY t DESC) AS rn FROM ct
  WHERE channel = 'sms' AND t > 1795395600 - 14 * 86400) WHERE rn = 1
UNION ALL
SELECT k, 6, t + 30 * 86400 FROM (
  SELECT k, t, ROW_NUMBER() OVER (PARTITION BY k ORDER BY t DESC) AS rn FROM ct
  WHERE t > 1795395600 - 30 * 86400) WHERE rn = 8;
CREATE INDEX w_k ON w(k);

CREATE TABLE cap_text(win INTEGER PRIMARY KEY, text TEXT);
INSERT INTO cap_text VALUES (0, 'cap email 1 per calendar week'), (1, 'cap email 2 per 7d'), (2, 'cap email 6 per 30d'),
  (3, 'cap push 1 per calendar day'), (4, 'cap push 2 per calendar week'), (5, 'cap sms 1 per 14d'), (6, 'cap any 8 per 30d');

-- The binding full window of a customer on a channel: the email line for dormant customers
-- replaces the other two; `cap any` applies to every channel. It stays full longest; the
-- first declared on a tie.
CREATE TABLE capped AS
SELECT k, ch, win, eligible FROM (
  SELECT s.k, ch.ch, w.win, w.eligible,
         ROW_NUMBER() OVER (PARTITION BY s.k, ch.ch ORDER BY w.eligible DESC, w.win) AS rn
  FROM s JOIN (SELECT 'email' AS ch UNION ALL SELECT 'push' UNION ALL SELECT 'sms') ch ON ch.ch = s.first_channel
  JOIN w ON w.k = s.k
  WHERE (ch.ch = 'email' AND ((s.stage = 'dormant' AND w.win = 0) OR (s.stage <> 'dormant' AND w.win IN (1, 2))))
     OR (ch.ch = 'push' AND w.win IN (3, 4))
     OR (ch.ch = 'sms' AND w.win = 5)
     OR w.win = 6)
WHERE rn = 1;
CREATE UNIQUE INDEX capped_k ON capped(k);

-- Buckets (docs/reference.md, "Holdout and buckets"): FNV-1a-64 over salt, 0x00, id; then
-- SplitMix64's finaliser; the top 53 bits over 2^53. SQLite's integers are signed and turn
-- into floats on overflow, so the 64-bit state is kept as two 32-bit halves and products are
-- split into 16-bit parts: no intermediate value reaches 2^63.
-- Who needs which bucket: everyone the holdout's; possible SMS contenders 'sms'; possible
-- WINBACK20 contenders (at risk, no earlier offer row) 'WINBACK20'.
CREATE TABLE bin AS
SELECT k, id, 'retail-2026q4' AS salt FROM s
UNION ALL SELECT k, id, 'sms' FROM s WHERE first_channel = 'sms'
UNION ALL SELECT k, id, 'WINBACK20' FROM s
  WHERE stage = 'at_risk' AND NOT b2b AND NOT birthday_soon AND NOT points_expiring AND NOT member_anniversary;

CREATE TABLE bucket AS
WITH RECURSIVE
-- FNV-1a over the hex digits of `hx`, two per byte, from state (hi, lo).
salted(salt, hx, pos, hi, lo) AS (
  SELECT salt, hex(salt) || '00', 0, 3421674724, 2216829733 FROM (SELECT DISTINCT salt FROM bin)
  UNION ALL
  SELECT salt, hx, pos + 1,
    (hi * 435 + (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
                  - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) * 435 >> 32)
         + (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
             - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) << 8)) & 4294967295,
    (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
      - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) * 435) & 4294967295
  FROM salted WHERE pos < length(hx) / 2),
prefix AS (SELECT salt, hi, lo FROM salted WHERE pos = length(hx) / 2),
fnv(k, salt, hx, pos, hi, lo) AS (
  SELECT bin.k, bin.salt, hex(CAST(bin.id AS BLOB)), 0, prefix.hi, prefix.lo FROM bin JOIN prefix ON prefix.salt = bin.salt
  UNION ALL
  SELECT k, salt, hx, pos + 1,
    (hi * 435 + (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
                  - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) * 435 >> 32)
         + (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
             - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) << 8)) & 4294967295,
    (((lo | ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))
      - (lo & ((instr('0123456789ABCDEF', substr(hx, 2 * pos + 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hx, 2 * pos + 2, 1)) - 1))) * 435) & 4294967295
  FROM fnv WHERE pos < length(hx) / 2),
h0 AS MATERIALIZED (SELECT k, salt, hi, lo FROM fnv WHERE pos = length(hx) / 2),
-- z ^= z >> 30
x1 AS MATERIALIZED (SELECT k, salt, (hi | (hi >> 30)) - (hi & (hi >> 30)) AS hi,
                           (lo | (((hi << 2) & 4294967295) | (lo >> 30))) - (lo & (((hi << 2) & 4294967295) | (lo >> 30))) AS lo FROM h0),
-- z *= 0xbf58476d1ce4e5b9: (c_hi, c_lo) = (3210233709, 484763065)
p1 AS MATERIALIZED (SELECT k, salt, hi, lo, (lo & 65535) * 484763065 + ((((lo >> 16) * 484763065) & 65535) << 16) AS s,
                           ((lo >> 16) * 484763065) >> 16 AS up FROM x1),
m1 AS MATERIALIZED (SELECT k, salt,
                           ((s >> 32) + up + ((hi & 65535) * 484763065 + ((((hi >> 16) * 484763065) & 65535) << 16))
                            + ((lo & 65535) * 3210233709 + ((((lo >> 16) * 3210233709) & 65535) << 16))) & 4294967295 AS hi,
                           s & 4294967295 AS lo FROM p1),
-- z ^= z >> 27
x2 AS MATERIALIZED (SELECT k, salt, (hi | (hi >> 27)) - (hi & (hi >> 27)) AS hi,
                           (lo | (((hi << 5) & 4294967295) | (lo >> 27))) - (lo & (((hi << 5) & 4294967295) | (lo >> 27))) AS lo FROM m1),
-- z *= 0x94d049bb133111eb: (c_hi, c_lo) = (2496678331, 321982955)
p2 AS MATERIALIZED (SELECT k, salt, hi, lo, (lo & 65535) * 321982955 + ((((lo >> 16) * 321982955) & 65535) << 16) AS s,
                           ((lo >> 16) * 321982955) >> 16 AS up FROM x2),
m2 AS MATERIALIZED (SELECT k, salt,
                           ((s >> 32) + up + ((hi & 65535) * 321982955 + ((((hi >> 16) * 321982955) & 65535) << 16))
                            + ((lo & 65535) * 2496678331 + ((((lo >> 16) * 2496678331) & 65535) << 16))) & 4294967295 AS hi,
                           s & 4294967295 AS lo FROM p2),
-- z ^= z >> 31
x3 AS MATERIALIZED (SELECT k, salt, (hi | (hi >> 31)) - (hi & (hi >> 31)) AS hi,
                           (lo | (((hi << 1) & 4294967295) | (lo >> 31))) - (lo & (((hi << 1) & 4294967295) | (lo >> 31))) AS lo FROM m2)
SELECT k, salt, ((hi << 21) + (lo >> 11)) / 9007199254740992.0 AS b FROM x3;
CREATE UNIQUE INDEX bucket_k ON bucket(k, salt);

-- Channel: six SMS, by lifetime spend (ties: lower bucket, then lower id), among those the
-- SMS caps let through and not held out; the others fall through to none.
CREATE TABLE ch AS
WITH h AS (SELECT s.*, b.b < 0.10 AS holdout FROM s JOIN bucket b ON b.k = s.k AND b.salt = 'retail-2026q4'),
sms AS (
  SELECT h.k, ROW_NUMBER() OVER (ORDER BY h.lifetime DESC, b.b, h.id) AS rn
  FROM h JOIN bucket b ON b.k = h.k AND b.salt = 'sms'
  WHERE h.first_channel = 'sms' AND NOT h.holdout AND NOT EXISTS (SELECT 1 FROM capped WHERE capped.k = h.k))
SELECT h.*, CASE WHEN sms.rn > 6 THEN 'none' ELSE h.first_channel END AS channel
FROM h LEFT JOIN sms ON sms.k = h.k;

-- Offer: first match wins; WINBACK20 to thirty, by 12-month spend, among those a message
-- reaches (held-out and cap-suppressed customers take it without using the budget).
CREATE TABLE o AS
WITH f AS (
  SELECT ch.*, capped.win, capped.eligible,
    CASE WHEN channel = 'none' THEN 'none'
         WHEN b2b THEN 'none'
         WHEN birthday_soon AND stage <> 'new' THEN 'BIRTHDAY_GIFT'
         WHEN stage = 'first_purchase' AND (cart_abandoned OR browsed_no_cart) AND sensitivity = 'price' THEN 'FIRST_ORDER_DISCOUNT'
         WHEN stage = 'first_purchase' AND (cart_abandoned OR browsed_no_cart) AND sensitivity = 'experience' THEN 'STORE_VOUCHER'
         WHEN stage = 'first_purchase' AND (cart_abandoned OR browsed_no_cart) THEN 'BESTSELLERS'
         WHEN stage = 'new' THEN 'WELCOME10'
         WHEN stage = 'active' AND back_in_stock THEN 'BACK_IN_STOCK'
         WHEN stage = 'active' THEN 'NEW_ARRIVALS'
         WHEN stage = 'at_risk' AND points_expiring THEN 'POINTS_REMINDER'
         WHEN stage = 'at_risk' AND member_anniversary THEN 'ANNIVERSARY_COUPON'
         WHEN stage = 'at_risk' THEN 'WINBACK20'
         WHEN stage = 'dormant' THEN 'HOLIDAY_PREVIEW'
         ELSE 'none' END AS first_offer
  FROM ch LEFT JOIN capped ON capped.k = ch.k AND capped.ch = ch.channel),
wb AS (
  SELECT f.k, ROW_NUMBER() OVER (ORDER BY f.spend_12m DESC, b.b, f.id) AS rn
  FROM f JOIN bucket b ON b.k = f.k AND b.salt = 'WINBACK20'
  WHERE f.first_offer = 'WINBACK20' AND NOT f.holdout AND f.win IS NULL)
SELECT f.*, CASE WHEN wb.rn > 30 THEN 'WINBACK10' ELSE f.first_offer END AS offer
FROM f LEFT JOIN wb ON wb.k = f.k;

-- The decisions file (list mode: the shell's CSV mode would quote every value with a space;
-- only an id can need quoting here). Quiet hours: push 22:00-09:00 and SMS 21:00-08:00 (Shanghai) hold a
-- message until their end; the run's 09:00 is in neither.
.headers on
.mode list
.separator "," "\n"
.output __OUT__
SELECT CASE WHEN id GLOB '*[,"]*' THEN '"' || replace(id, '"', '""') || '"' ELSE id END AS customer_id,
       stage,
       NULLIF(rtrim(CASE WHEN high_value THEN 'high_value;' ELSE '' END
                 || CASE WHEN cart_abandoned THEN 'cart_abandoned;' ELSE '' END
                 || CASE WHEN browsed_no_cart THEN 'browsed_no_cart;' ELSE '' END
                 || CASE WHEN birthday_soon THEN 'birthday_soon;' ELSE '' END
                 || CASE WHEN member_anniversary THEN 'member_anniversary;' ELSE '' END
                 || CASE WHEN points_expiring THEN 'points_expiring;' ELSE '' END
                 || CASE WHEN back_in_stock THEN 'back_in_stock;' ELSE '' END, ';'), '') AS segments,
       channel,
       CASE WHEN channel <> 'none' AND win IS NULL AND NOT holdout THEN 'true' ELSE 'false' END AS send,
       CASE WHEN channel <> 'none' AND win IS NULL AND NOT holdout THEN
         strftime('%Y-%m-%dT%H:%M:%S+08:00', 28800 +
           CASE
             WHEN channel = 'push' AND ((1795395600 + 28800) % 86400) / 60 >= 22 * 60
               THEN ((1795395600 + 28800) / 86400 + 1) * 86400 + 9 * 3600 - 28800
             WHEN channel = 'push' AND ((1795395600 + 28800) % 86400) / 60 < 9 * 60
               THEN ((1795395600 + 28800) / 86400) * 86400 + 9 * 3600 - 28800
             WHEN channel = 'sms' AND ((1795395600 + 28800) % 86400) / 60 >= 21 * 60
               THEN ((1795395600 + 28800) / 86400 + 1) * 86400 + 8 * 3600 - 28800
             WHEN channel = 'sms' AND ((1795395600 + 28800) % 86400) / 60 < 8 * 60
               THEN ((1795395600 + 28800) / 86400) * 86400 + 8 * 3600 - 28800
             ELSE 1795395600 END, 'unixepoch') END AS send_at,
       (SELECT text FROM cap_text WHERE cap_text.win = o.win) AS suppressed_by,
       CASE WHEN win IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%S+08:00', eligible + 28800, 'unixepoch') END AS next_eligible_at,
       offer,
       CASE WHEN holdout THEN 'true' ELSE 'false' END AS holdout,
       NULL AS transition,
       'retail_lifecycle' AS rules,
       '2' AS rules_version,
       '2026-11-23T09:00:00+08:00' AS decided_at
FROM o ORDER BY k;
.output stdout
