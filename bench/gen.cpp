// rekindle_bench_gen: a synthetic retail export of any size, in the schema of
// examples/retail (customers + events, the contact history inside the events), for the
// benchmark. Deterministic: the same --seed and --customers give the same bytes.
//
//   rekindle_bench_gen --customers 100000 --seed 1 --format csv --out DIR
//
// Shapes: purchase counts are power-law (discrete Pareto, many customers never buy), purchase
// inter-arrival times are gamma(2), customers churn after an exponential lifetime; visits and
// cart adds cluster before purchases; campaign emails (with opens), push, SMS and WeChat
// messages in the last weeks; restock notices. Contact details and consents are missing or
// false for realistic shares, and times are written with several offsets, without one, and as
// epoch seconds. Amounts are whole multiples of CNY 0.50, so that sums are exact in binary
// floating point and every peer of the benchmark gets the same totals whatever its order of
// addition.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rekindle/core/time.h"

namespace {

// --- time ---------------------------------------------------------------------------------

constexpr int64_t kDay = 86400;
constexpr int64_t kNow = 1795395600;  // 2026-11-23T09:00:00+08:00, the retail example's as_of
constexpr int64_t kShanghai = 8 * 3600;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// How a time is written: exports mix offsets, UTC, local times without an offset (read in the
// config's zone, Asia/Shanghai) and epoch seconds.
enum TimeStyle : uint8_t { kShanghaiOffset, kUtcZ, kLocalSpace, kLocalT, kNewYork, kTokyo, kKolkata, kEpoch };

TimeStyle pickStyle(double u) {
  if (u < 0.40) return kShanghaiOffset;
  if (u < 0.55) return kUtcZ;
  if (u < 0.70) return kLocalSpace;
  if (u < 0.80) return kLocalT;
  if (u < 0.85) return kNewYork;
  if (u < 0.90) return kTokyo;
  if (u < 0.95) return kKolkata;
  return kEpoch;
}

// Writes t in `style`; returns the length. `buf` has room for 32 bytes.
int formatTime(char* buf, int64_t t, TimeStyle style) {
  if (style == kEpoch) return std::snprintf(buf, 32, "%" PRId64, t);
  int64_t offset = 0;
  const char* suffix = "";
  switch (style) {
    case kShanghaiOffset: offset = kShanghai; suffix = "+08:00"; break;
    case kUtcZ: offset = 0; suffix = "Z"; break;
    case kLocalSpace: case kLocalT: offset = kShanghai; suffix = ""; break;
    case kNewYork: offset = -5 * 3600; suffix = "-05:00"; break;
    case kTokyo: offset = 9 * 3600; suffix = "+09:00"; break;
    case kKolkata: offset = 5 * 3600 + 1800; suffix = "+05:30"; break;
    case kEpoch: break;
  }
  int64_t local = t + offset;
  int64_t days = floorDiv(local, kDay);
  int64_t sec = local - days * kDay;
  rekindle::CivilDate c = rekindle::civilFromDays(days);
  return std::snprintf(buf, 32, "%04d-%02u-%02u%c%02d:%02d:%02d%s", c.year, c.month, c.day, style == kLocalSpace ? ' ' : 'T',
                       static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60), static_cast<int>(sec % 60), suffix);
}

int formatDate(char* buf, int64_t days) {
  rekindle::CivilDate c = rekindle::civilFromDays(days);
  return std::snprintf(buf, 32, "%04d-%02u-%02u", c.year, c.month, c.day);
}

// --- randomness ---------------------------------------------------------------------------

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256**, one stream per customer (seeded from the run's seed and the customer's index),
// so that a customer's data does not depend on how many came before.
struct Rng {
  uint64_t s[4];
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ (stream + 1) * 0xd1b54a32d192ed03ULL;
    for (auto& v : s) v = splitmix(x);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return uniform() < p; }
  int64_t range(int64_t lo, int64_t hi) {  // [lo, hi)
    if (hi <= lo) return lo;
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo));
  }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  double gamma2(double mean) { return exponential(mean / 2) + exponential(mean / 2); }
  int poisson(double mean) {  // Knuth's method: the means here are small
    double l = std::exp(-mean), p = 1;
    int k = 0;
    do {
      ++k;
      p *= uniform();
    } while (p > l && k < 1000);
    return k - 1;
  }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2 * std::log(1 - u1)) * std::cos(2 * M_PI * u2);
  }
};

// --- the catalogue ------------------------------------------------------------------------

const char* const kBaseProducts[] = {
    "Running shoes", "Wool coat", "Linen shirt", "Yoga mat", "Silk pillowcase", "Bluetooth speaker",
    "Tote bag, canvas", "Mug \"Classic\"", "保温杯", "羊绒围巾", "Sneakers, white", "Rain jacket",
    "Desk lamp", "Leather wallet", "Face serum", "Green tea, 250g", "Ceramic bowl", "Hiking socks",
    "Phone case", "Backpack", "Scented candle", "Down jacket", "Denim jeans", "Sunglasses",
    "Water bottle", "Notebook A5", "Coffee beans", "Bath towel", "Wireless earbuds", "Slippers",
    "真丝衬衫", "运动水壶", "Cashmere sweater", "Umbrella", "Board game", "Chef's knife"};
const char* const kVariants[] = {"black", "white", "navy", "red", "grey", "beige", "green", "pink"};
const char* const kStores[] = {"Chengdu Taikoo Li", "上海静安店", "Beijing Sanlitun", "Shenzhen Bay, MixC",
                                "Hangzhou Hubin", "Guangzhou Tianhe", "Nanjing Deji", "Wuhan Chuhe"};
const char* const kGiven[] = {"Wei", "Fang", "Jun", "Li", "Min", "Tao", "Emma", "Lucas", "Yan", "Hui", "Lei", "Xin"};
const char* const kFamily[] = {"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "王", "李"};
const char* const kMailHosts[] = {"example.cn", "163.com", "qq.com", "gmail.com", "outlook.com"};

constexpr size_t kBase = sizeof(kBaseProducts) / sizeof(*kBaseProducts);
constexpr size_t kVariantCount = sizeof(kVariants) / sizeof(*kVariants);
constexpr size_t kCatalogue = 2400;  // products; popularity is Zipf-like

std::vector<std::string> makeCatalogue() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kCatalogue; ++i) {
    std::string n = kBaseProducts[i % kBase];
    size_t v = i / kBase;
    if (v > 0) {
      n += std::string(" (") + kVariants[(v - 1) % kVariantCount];
      if (v > kVariantCount) n += ", model " + std::to_string((v - 1) / kVariantCount);
      n += ")";
    }
    names.push_back(std::move(n));
  }
  return names;
}

// Cumulative Zipf(1.1) weights over the catalogue.
std::vector<double> zipfCdf(size_t n, double s) {
  std::vector<double> cdf(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) cdf[i] = (total += 1.0 / std::pow(static_cast<double>(i + 1), s));
  for (double& c : cdf) c /= total;
  return cdf;
}

uint16_t pickProduct(Rng& r, const std::vector<double>& cdf) {
  double u = r.uniform();
  return static_cast<uint16_t>(std::min<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), cdf.size() - 1));
}

// --- events -------------------------------------------------------------------------------

enum Kind : uint8_t { kPurchase, kVisit, kCartAdd, kEmailOpen, kEmailSent, kSmsSent, kPushSent, kWechatSent, kBackInStock };
const char* const kKindNames[] = {"purchase", "visit", "cart_add", "email_open", "email_sent", "sms_sent", "push_sent", "wechat_sent", "back_in_stock"};
enum Channel : uint8_t { kNoChannel, kWeb, kApp, kStore, kEmail, kSms, kPush, kWechat };
const char* const kChannelNames[] = {"", "web", "app", "store", "email", "sms", "push", "wechat"};
constexpr uint16_t kNoProduct = 0xFFFF;

struct Event {
  int64_t at;
  uint32_t customer;
  uint32_t halfYuan;  // amount in CNY 0.50; 0 = no amount
  uint16_t product;
  uint8_t kind, channel;
  uint8_t opened;  // 0 none, 1 false, 2 true
  uint8_t style;
};

// --- output -------------------------------------------------------------------------------

class Out {
 public:
  explicit Out(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), path_(path) {
    if (!f_) {
      std::fprintf(stderr, "rekindle_bench_gen: cannot write %s\n", path.c_str());
      std::exit(1);
    }
    buf_.reserve(1 << 21);
  }
  ~Out() {
    flush();
    if (std::fclose(f_) != 0) {
      std::fprintf(stderr, "rekindle_bench_gen: error writing %s\n", path_.c_str());
      std::exit(1);
    }
  }
  void raw(const char* s, size_t n) {
    buf_.append(s, n);
    if (buf_.size() >= (1 << 20)) flush();
  }
  void raw(const char* s) { raw(s, std::strlen(s)); }
  void raw(const std::string& s) { raw(s.data(), s.size()); }
  void ch(char c) { buf_.push_back(c); }
  // A CSV field, quoted when it holds a comma, a quote or a line break.
  void csv(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return raw(s);
    ch('"');
    for (char c : s) {
      if (c == '"') ch('"');
      ch(c);
    }
    ch('"');
  }
  // A JSON string (UTF-8 passes through).
  void json(const std::string& s) {
    ch('"');
    for (char c : s) {
      if (c == '"' || c == '\\') {
        ch('\\');
        ch(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char e[8];
        std::snprintf(e, sizeof e, "\\u%04x", c);
        raw(e);
      } else {
        ch(c);
      }
    }
    ch('"');
  }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      std::fprintf(stderr, "rekindle_bench_gen: error writing %s\n", path_.c_str());
      std::exit(1);
    }
    buf_.clear();
  }

 private:
  std::FILE* f_;
  std::string path_;
  std::string buf_;
};

std::string customerId(uint32_t i) {
  char b[16];
  std::snprintf(b, sizeof b, "C%07u", i + 1);
  return b;
}

std::string amountText(uint32_t halfYuan) {
  char b[32];
  std::snprintf(b, sizeof b, "%u.%s", halfYuan / 2, halfYuan % 2 ? "50" : "00");
  return b;
}

struct Customer {
  std::string id, name, email, phone, appToken, store, sensitivity, accountType;
  int64_t signupAt = 0;
  TimeStyle signupStyle = kShanghaiOffset;
  bool hasBirthday = false, hasPoints = false, hasExpiry = false;
  int64_t birthdayDays = 0, expiryDays = 0, points = 0;
  bool consentEmail = false, consentSms = false, consentPush = false;
  int bounced = 0;  // 0 empty, 1 false, 2 true
};

struct Args {
  uint64_t customers = 100000;
  uint64_t seed = 1;
  std::string format = "csv";
  std::string out = ".";
};

void usage() {
  std::fprintf(stderr, "usage: rekindle_bench_gen [--customers N] [--seed S] [--format csv|jsonl] [--out DIR]\n");
  std::exit(2);
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (k == "--customers") a.customers = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--seed") a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--format") a.format = v;
    else if (k == "--out") a.out = v;
    else usage();
  }
  if (a.format != "csv" && a.format != "jsonl") usage();
  if (a.customers == 0 || a.customers > 50000000) usage();
  return a;
}

// One customer's profile and history. Events are appended to `events`.
Customer makeCustomer(uint32_t index, uint64_t seed, const std::vector<double>& productCdf, std::vector<Event>& events) {
  Rng r(seed, index);
  Customer c;
  c.id = customerId(index);
  const char* given = kGiven[r.range(0, std::size(kGiven))];
  const char* family = kFamily[r.range(0, std::size(kFamily))];
  double nameStyle = r.uniform();
  c.name = nameStyle < 0.02 ? std::string(family) + ", " + given               // "Wang, Wei": quoted in CSV
           : nameStyle < 0.03 ? std::string(given) + " \"" + family + "\""   // a nickname in quotes
           : nameStyle < 0.10 ? std::string()                                // no name on file
                              : std::string(given) + " " + family;
  // Signups over the last six years, more of them recent.
  int64_t age = r.chance(0.3) ? r.range(0, 365 * kDay) : r.range(0, 6 * 365 * kDay);
  c.signupAt = kNow - age - r.range(0, kDay);
  c.signupStyle = pickStyle(r.uniform());
  // Engagement ends after an exponential lifetime; 20% never lapse.
  int64_t end = r.chance(0.2) ? kNow : std::min<int64_t>(kNow, c.signupAt + static_cast<int64_t>(r.exponential(420.0 * kDay)));
  bool alive = kNow - end < 30 * kDay;

  if (r.chance(0.9)) c.email = std::string(given) + std::to_string(r.range(1, 99999)) + "@" + kMailHosts[r.range(0, std::size(kMailHosts))];
  for (char& ch : c.email) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
  if (!c.email.empty() && static_cast<unsigned char>(c.email[0]) >= 0x80) c.email = "u" + std::to_string(index) + "@qq.com";
  if (r.chance(0.75)) c.phone = "1" + std::to_string(r.range(3000000000LL, 9999999999LL));
  if (r.chance(0.45)) {
    char b[24];
    std::snprintf(b, sizeof b, "apt_%012" PRIx64, static_cast<uint64_t>(r.next() & 0xFFFFFFFFFFFFULL));
    c.appToken = b;
  }
  c.hasBirthday = r.chance(0.7);
  if (c.hasBirthday) c.birthdayDays = floorDiv(kNow, kDay) - r.range(18 * 365, 70 * 365);
  c.accountType = r.chance(0.03) ? "b2b" : "b2c";
  c.consentEmail = r.chance(0.85);
  c.consentSms = r.chance(0.4);
  c.consentPush = r.chance(0.6);
  double b = r.uniform();
  c.bounced = b < 0.03 ? 2 : b < 0.10 ? 1 : 0;
  if (r.chance(0.3)) c.store = kStores[r.range(0, std::size(kStores))];
  double s = r.uniform();
  c.sensitivity = s < 0.25 ? "price" : s < 0.45 ? "feature" : s < 0.6 ? "experience" : "";
  c.hasPoints = r.chance(0.5);
  if (c.hasPoints) {
    c.points = r.chance(0.1) ? 0 : r.range(10, 8000);
    c.hasExpiry = r.chance(0.9);
    c.expiryDays = floorDiv(kNow + kShanghai, kDay) + r.range(-30, 180);
  }

  auto add = [&](int64_t at, Kind kind, Channel channel, uint16_t product = kNoProduct, uint32_t half = 0, uint8_t opened = 0) {
    events.push_back(Event{at, index, half, product, kind, channel, opened, static_cast<uint8_t>(pickStyle(r.uniform()))});
  };
  auto shopChannel = [&]() { double u = r.uniform(); return u < 0.45 ? kWeb : u < 0.85 ? kApp : kStore; };

  // Purchases: a discrete Pareto count, gamma(2) gaps over the engaged span.
  int purchases = 0;
  if (r.chance(0.72)) purchases = std::min(300, static_cast<int>(std::floor(std::pow(1.0 - r.uniform(), -1.0 / 1.3))));
  std::vector<uint16_t> viewed;
  int64_t span = std::max<int64_t>(kDay, end - c.signupAt);
  int64_t t = c.signupAt;
  for (int k = 0; k < purchases; ++k) {
    t += static_cast<int64_t>(r.gamma2(static_cast<double>(span) / purchases));
    if (t > end) break;
    uint16_t p = pickProduct(r, productCdf);
    // Lognormal basket, median about CNY 180, in half-yuan steps; 1% of orders carry no amount.
    uint32_t half = r.chance(0.01) ? 0 : static_cast<uint32_t>(std::max(1.0, std::round(2 * 180 * std::exp(0.9 * r.normal()))));
    Channel ch = shopChannel();
    add(t, kPurchase, ch, p, half);
    // Most orders were looked at first, some put in the cart.
    if (r.chance(0.7)) add(t - r.range(60, 3 * kDay), kVisit, ch, p), viewed.push_back(p);
    if (r.chance(0.5)) add(t - r.range(30, 6 * 3600), kCartAdd, ch == kStore ? kApp : ch, p);
  }
  // Browsing: across the engaged span (some as a guest before signup), more for the engaged.
  int visits = r.poisson(3.0 + 1.2 * purchases);
  for (int k = 0; k < visits; ++k) {
    int64_t from = c.signupAt - (r.chance(0.05) ? 30 * kDay : 0);
    uint16_t p = r.chance(0.3) && !viewed.empty() ? viewed[r.range(0, viewed.size())] : pickProduct(r, productCdf);
    add(r.range(from, std::max(from + 1, end)), kVisit, shopChannel(), p);
    viewed.push_back(p);
  }
  if (alive) {
    // Recent interest: a browse in the last month, a cart left in the last ten days.
    if (r.chance(0.35)) {
      uint16_t p = pickProduct(r, productCdf);
      add(kNow - r.range(0, 30 * kDay), kVisit, shopChannel(), p);
      viewed.push_back(p);
    }
    if (r.chance(0.12)) add(kNow - r.range(0, 10 * kDay), kCartAdd, r.chance(0.5) ? kWeb : kApp, pickProduct(r, productCdf));
  }
  // Campaign email over the last 60 days, sent at 10:00 or 20:00 Shanghai time; opens follow.
  const int64_t today0 = floorDiv(kNow + kShanghai, kDay) * kDay - kShanghai;  // today 00:00 in Shanghai
  if (!c.email.empty() && c.bounced != 2) {
    int emails = r.poisson(alive ? 7.0 : 4.0);
    double openRate = alive ? 0.3 : 0.04;
    for (int k = 0; k < emails; ++k) {
      int64_t at = today0 - r.range(0, 60) * kDay + (r.chance(0.5) ? 10 : 20) * 3600 + r.range(0, 900);
      if (at > kNow) at -= kDay;
      bool opened = r.chance(openRate);
      add(at, kEmailSent, kEmail, kNoProduct, 0, static_cast<uint8_t>(r.chance(0.1) ? 0 : opened ? 2 : 1));
      if (opened && at + 3600 < kNow) add(std::min(kNow, at + 60 + static_cast<int64_t>(r.exponential(6 * 3600.0))), kEmailOpen, kEmail);
    }
    if (r.chance(0.003)) add(kNow + r.range(60, kDay), kEmailSent, kEmail);  // queued after now
  }
  if (!c.appToken.empty()) {
    int pushes = r.poisson(2.0);
    for (int k = 0; k < pushes; ++k) add(kNow - r.range(3600, 30 * kDay), kPushSent, kPush);
    if (r.chance(0.05)) add(today0 + r.range(0, 9 * 3600), kPushSent, kPush);  // earlier today
  }
  if (!c.phone.empty()) {
    int sms = r.poisson(0.4);
    for (int k = 0; k < sms; ++k) add(kNow - r.range(3600, 30 * kDay), kSmsSent, kSms);
  }
  int wechat = r.poisson(1.0);
  for (int k = 0; k < wechat; ++k) add(kNow - r.range(3600, 30 * kDay), kWechatSent, kWechat);
  // Restocks in a category they follow, some of a product they looked at.
  int restocks = r.poisson(0.6);
  for (int k = 0; k < restocks; ++k) {
    uint16_t p = r.chance(0.4) && !viewed.empty() ? viewed[r.range(0, viewed.size())] : pickProduct(r, productCdf);
    add(kNow - r.range(0, 10 * kDay), kBackInStock, kNoChannel, p);
  }
  return c;
}

void writeCustomer(Out& o, const Customer& c, bool jsonl) {
  char tb[32], bd[32], ex[32];
  int tl = formatTime(tb, c.signupAt, c.signupStyle);
  if (c.hasBirthday) formatDate(bd, c.birthdayDays);
  if (c.hasExpiry) formatDate(ex, c.expiryDays);
  const char* bounced[] = {"", "false", "true"};
  if (!jsonl) {
    o.raw(c.id); o.ch(',');
    o.csv(c.name); o.ch(',');
    o.raw(tb, tl); o.ch(',');
    o.raw(c.email); o.ch(',');
    o.raw(c.phone); o.ch(',');
    o.raw(c.appToken); o.ch(',');
    if (c.hasBirthday) o.raw(bd);
    o.ch(',');
    o.raw(c.accountType); o.ch(',');
    o.raw(c.consentEmail ? "true" : "false"); o.ch(',');
    o.raw(c.consentSms ? "true" : "false"); o.ch(',');
    o.raw(c.consentPush ? "true" : "false"); o.ch(',');
    o.raw(bounced[c.bounced]); o.ch(',');
    o.csv(c.store); o.ch(',');
    o.raw(c.sensitivity); o.ch(',');
    if (c.hasPoints) o.raw(std::to_string(c.points));
    o.ch(',');
    if (c.hasExpiry) o.raw(ex);
    o.ch('\n');
    return;
  }
  auto strOrNull = [&](const char* key, const std::string& v) {
    o.raw(key);
    if (v.empty()) o.raw("null");
    else o.json(v);
  };
  o.raw("{\"customer_id\":"); o.json(c.id);
  strOrNull(",\"name\":", c.name);
  o.raw(",\"signup_at\":");
  if (c.signupStyle == kEpoch) o.raw(tb, tl);
  else o.json(std::string(tb, tl));
  strOrNull(",\"email\":", c.email);
  strOrNull(",\"phone\":", c.phone);
  strOrNull(",\"app_token\":", c.appToken);
  strOrNull(",\"birthday\":", c.hasBirthday ? std::string(bd) : std::string());
  strOrNull(",\"account_type\":", c.accountType);
  o.raw(",\"consent_email\":"); o.raw(c.consentEmail ? "true" : "false");
  o.raw(",\"consent_sms\":"); o.raw(c.consentSms ? "true" : "false");
  o.raw(",\"consent_push\":"); o.raw(c.consentPush ? "true" : "false");
  if (c.bounced) {
    o.raw(",\"email_bounced\":");
    o.raw(bounced[c.bounced]);
  }
  strOrNull(",\"preferred_store\":", c.store);
  strOrNull(",\"price_sensitivity\":", c.sensitivity);
  o.raw(",\"points_balance\":"); o.raw(c.hasPoints ? std::to_string(c.points) : "null");
  strOrNull(",\"points_expire_on\":", c.hasExpiry ? std::string(ex) : std::string());
  o.raw("}\n");
}

void writeEvent(Out& o, const Event& e, const std::vector<std::string>& ids, const std::vector<std::string>& products, bool jsonl) {
  char tb[32];
  int tl = formatTime(tb, e.at, static_cast<TimeStyle>(e.style));
  const std::string& id = ids[e.customer];
  if (!jsonl) {
    o.raw(id); o.ch(',');
    o.raw(tb, tl); o.ch(',');
    o.raw(kKindNames[e.kind]); o.ch(',');
    if (e.halfYuan) o.raw(amountText(e.halfYuan));
    o.ch(',');
    if (e.product != kNoProduct) o.csv(products[e.product]);
    o.ch(',');
    o.raw(kChannelNames[e.channel]); o.ch(',');
    if (e.opened) o.raw(e.opened == 2 ? "true" : "false");
    o.ch('\n');
    return;
  }
  o.raw("{\"customer_id\":"); o.json(id);
  o.raw(",\"at\":");
  if (e.style == kEpoch) o.raw(tb, tl);
  else o.json(std::string(tb, tl));
  o.raw(",\"kind\":\""); o.raw(kKindNames[e.kind]); o.ch('"');
  if (e.halfYuan) { o.raw(",\"amount\":"); o.raw(amountText(e.halfYuan)); }
  if (e.product != kNoProduct) { o.raw(",\"product\":"); o.json(products[e.product]); }
  if (e.channel != kNoChannel) { o.raw(",\"channel\":\""); o.raw(kChannelNames[e.channel]); o.ch('"'); }
  if (e.opened) { o.raw(",\"opened\":"); o.raw(e.opened == 2 ? "true" : "false"); }
  o.raw("}\n");
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parseArgs(argc, argv);
  bool jsonl = a.format == "jsonl";
  const std::vector<std::string> products = makeCatalogue();
  const std::vector<double> cdf = zipfCdf(products.size(), 1.1);

  std::vector<Event> events;
  events.reserve(a.customers * 21);
  std::vector<std::string> ids;
  ids.reserve(a.customers);
  {
    Out customers(a.out + "/customers." + a.format);
    if (!jsonl)
      customers.raw("customer_id,name,signup_at,email,phone,app_token,birthday,account_type,consent_email,consent_sms,"
                    "consent_push,email_bounced,preferred_store,price_sensitivity,points_balance,points_expire_on\n");
    for (uint32_t i = 0; i < a.customers; ++i) {
      Customer c = makeCustomer(i, a.seed, cdf, events);
      writeCustomer(customers, c, jsonl);
      ids.push_back(std::move(c.id));
    }
  }
  // An event log is written in time order, customers interleaved. Ties are ordered by every
  // field, so the bytes do not depend on the sort algorithm.
  std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) {
    if (x.at != y.at) return x.at < y.at;
    if (x.customer != y.customer) return x.customer < y.customer;
    if (x.kind != y.kind) return x.kind < y.kind;
    if (x.product != y.product) return x.product < y.product;
    if (x.halfYuan != y.halfYuan) return x.halfYuan < y.halfYuan;
    if (x.channel != y.channel) return x.channel < y.channel;
    if (x.opened != y.opened) return x.opened < y.opened;
    return x.style < y.style;
  });
  {
    Out out(a.out + "/events." + a.format);
    if (!jsonl) out.raw("customer_id,at,kind,amount,product,channel,opened\n");
    for (const Event& e : events) writeEvent(out, e, ids, products, jsonl);
  }
  std::fprintf(stderr, "rekindle_bench_gen: %" PRIu64 " customers, %zu events (%.1f per customer), seed %" PRIu64 ", %s in %s\n",
               a.customers, events.size(), static_cast<double>(events.size()) / static_cast<double>(a.customers), a.seed,
               a.format.c_str(), a.out.c_str());
  return 0;
}
