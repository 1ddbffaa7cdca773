// Rendering the HTML report: a fixed stylesheet, inline SVG charts and a table of numbers beside
// each chart. No script, no external resource (a Content-Security-Policy forbids them), no clock:
// the output depends on the ReportData alone.
#include "report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace rekindle::report {

namespace {

// ---------------------------------------------------------------- text

// Length of a valid UTF-8 sequence starting at s[i], or 0.
size_t utf8Length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  if (n == 2 && c < 0xC2) return 0;  // overlong
  if (n == 3) {
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return 0;  // overlong, surrogate
  }
  if (n == 4) {
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90) || c > 0xF4) return 0;
  }
  return n;
}

// The first `max` characters of a label, with an ellipsis when cut (the full text goes in a title).
std::string clip(std::string_view s, size_t max) {
  size_t chars = 0, i = 0, cut = std::string_view::npos;
  while (i < s.size()) {
    size_t n = utf8Length(s, i);
    if (n == 0) n = 1;
    if (chars == max - 1) cut = i;
    if (++chars > max) return std::string(s.substr(0, cut)) + "\u2026";
    i += n;
  }
  return std::string(s);
}

size_t charCount(std::string_view s) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++chars) {
    size_t n = utf8Length(s, i);
    i += n ? n : 1;
  }
  return chars;
}

std::string num(double v) {  // SVG coordinates: fixed precision, so output is stable
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string pct(uint64_t part, uint64_t whole) {
  if (whole == 0) return "0.0%";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string money(double v) { return fmt::format("{:.2f}", v); }

std::string moneyGrouped(double v) {
  std::string s = money(v);
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot);
  bool neg = !whole.empty() && whole[0] == '-';
  if (neg) whole.erase(0, 1);
  std::string out;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i && (whole.size() - i) % 3 == 0) out += ',';
    out += whole[i];
  }
  return (neg ? "-" : "") + out + s.substr(dot);
}

using E = std::string;  // escaped text, by convention
E esc(std::string_view s) { return escapeHtml(s); }

std::string stageLabel(const std::string& s) { return s.empty() ? "(no stage)" : s; }
std::string outcomeLabel(const std::string& s) { return s.empty() ? "(no row)" : s; }

// A number in a table cell, machine-readable: data-figure names it, data-value holds it.
// colspan 0: no colspan attribute.
E figureCell(const std::string& key, uint64_t n, size_t colspan = 0) {
  std::string span = colspan ? fmt::format(" colspan=\"{}\"", colspan) : std::string();
  return fmt::format("<td class=\"n\"{} data-figure=\"{}\" data-value=\"{}\">{}</td>", span, esc(key), n, groupDigits(n));
}
E moneyCell(const std::string& key, double v) {
  return fmt::format("<td class=\"n\" data-figure=\"{}\" data-value=\"{}\">{}</td>", esc(key), money(v), moneyGrouped(v));
}
E plainCell(const std::string& text, bool numeric = false) {
  return fmt::format("<td{}>{}</td>", numeric ? " class=\"n\"" : "", esc(text));
}

// ---------------------------------------------------------------- colours

struct Rgb {
  int r, g, b;
};
std::string hex(Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }
Rgb mix(Rgb a, Rgb b, double t) {
  auto m = [&](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
  return {m(a.r, b.r), m(a.g, b.g), m(a.b, b.b)};
}

// Okabe-Ito, readable by colour-blind readers and in greyscale print.
const char* const kSeries[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c6d1f", "#666666"};
const char* const kSent = "#009e73";
const char* const kSuppressed = "#d55e00";
const char* const kHeldOut = "#7f8a99";
const char* const kNoMessage = "#c9d1db";
const char* const kBar = "#2f6db5";
const char* const kInk = "#1b2430";
const char* const kMuted = "#566070";
const char* const kGrid = "#d7dde5";

// Heat map shade for n of max: light to deep blue (square root, so small counts show).
struct Shade {
  std::string fill, text;
};
Shade heat(uint64_t n, uint64_t max, Rgb hi = {8, 69, 148}) {
  if (n == 0 || max == 0) return {"#f4f6f8", "#8a94a3"};
  double t = std::sqrt(static_cast<double>(n) / static_cast<double>(max));
  Rgb lo{222, 235, 247};
  return {hex(mix(lo, hi, t)), t > 0.55 ? "#ffffff" : kInk};
}

// ---------------------------------------------------------------- SVG

class Svg {
 public:
  Svg(std::string id, double width, std::string title, std::string desc)
      : id_(std::move(id)), width_(width), title_(std::move(title)), desc_(std::move(desc)) {}
  void add(const std::string& s) { body_ += s; }
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "") {
    body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}/>", num(x), num(y), num(std::max(0.0, w)),
                         num(std::max(0.0, h)), fill, extra);
  }
  void text(double x, double y, const std::string& s, const std::string& attrs = "") {
    body_ += fmt::format("<text x=\"{}\" y=\"{}\"{}>{}</text>", num(x), num(y), attrs.empty() ? "" : " " + attrs, esc(s));
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1, const std::string& extra = "") {
    body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>", num(x1), num(y1), num(x2),
                         num(y2), stroke, num(width), extra);
  }
  // A group with a tooltip (and an accessible name): <g><title>...</title>...</g>
  void openGroup(const std::string& tooltip) { body_ += "<g><title>" + esc(tooltip) + "</title>"; }
  void closeGroup() { body_ += "</g>"; }
  std::string finish(double height) const {
    return fmt::format(
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-t {}-d\" "
        "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif\" font-size=\"12\" fill=\"{}\">"
        "<title id=\"{}-t\">{}</title><desc id=\"{}-d\">{}</desc>{}</svg>",
        num(width_), num(height), id_, id_, kInk, id_, esc(title_), id_, esc(desc_), body_);
  }
  double width() const { return width_; }

 private:
  std::string id_;
  double width_;
  std::string title_, desc_;
  std::string body_;
};

constexpr double kCharWidth = 6.6;  // approximate width of a character at font-size 12

// The drawn width of a label as clip(label, maxChars) shows it: capitals and digits are wider
// than lower case (offer codes are all capitals), and CJK characters are square.
double textWidth(std::string_view label, size_t maxChars) {
  std::string shown = clip(label, maxChars);
  double w = 0;
  for (size_t i = 0; i < shown.size();) {
    size_t n = utf8Length(shown, i);
    if (n == 0) n = 1;
    unsigned char c = static_cast<unsigned char>(shown[i]);
    if (n > 1) w += n >= 3 && c >= 0xE3 ? 12.0 : kCharWidth;  // U+3000 and up: CJK, full width
    else if (std::isupper(c) || std::isdigit(c) || c == '_' || c == '%') w += 8.2;
    else w += kCharWidth;
    i += n;
  }
  return w;
}

double labelWidth(const std::vector<std::string>& labels, size_t maxChars) {
  double m = 4 * kCharWidth;
  for (const auto& l : labels) m = std::max(m, textWidth(l, maxChars));
  return m + 12;
}

// An empty chart: a framed message, so every section shows something in print and on screen.
std::string emptyChart(const std::string& id, const std::string& title, const std::string& message) {
  Svg svg(id, 600, title, message);
  svg.rect(0.5, 0.5, 599, 59, "#f4f6f8", " stroke=\"#d7dde5\" rx=\"6\"");
  svg.text(300, 35, message, "text-anchor=\"middle\" fill=\"#566070\"");
  return svg.finish(60);
}

// Horizontal bars. Each item: label, value, and optionally a part of it drawn lighter.
struct BarItem {
  std::string label;
  uint64_t value = 0;
  uint64_t part = 0;         // drawn in `partFill` at the end of the bar
  std::string annotation;    // after the number
  std::string fill;          // default kBar
};

std::string barChart(const std::string& id, const std::string& title, const std::string& desc, const std::vector<BarItem>& items,
                     const std::string& partFill = "", const std::string& partName = "") {
  if (items.empty()) return emptyChart(id, title, "nothing to show");
  Svg svg(id, 600, title, desc);
  std::vector<std::string> labels;
  for (const auto& it : items) labels.push_back(it.label);
  double lw = labelWidth(labels, 26);
  double valueW = 150;
  double barW = 600 - lw - valueW;
  uint64_t max = 1;
  for (const auto& it : items) max = std::max(max, it.value);
  const double rowH = 24, top = 6;
  double y = top;
  for (const auto& it : items) {
    double w = barW * static_cast<double>(it.value) / static_cast<double>(max);
    std::string tip = fmt::format("{}: {}", it.label, groupDigits(it.value));
    if (it.part && !partName.empty()) tip += fmt::format(" ({} {})", groupDigits(it.part), partName);
    if (!it.annotation.empty()) tip += ", " + it.annotation;
    svg.openGroup(tip);
    svg.text(lw - 8, y + 15, clip(it.label, 26), "text-anchor=\"end\"");
    svg.rect(lw, y + 3, barW, rowH - 6, "#f0f2f5");
    svg.rect(lw, y + 3, w, rowH - 6, it.fill.empty() ? kBar : it.fill);
    if (it.part) {
      double pw = barW * static_cast<double>(it.part) / static_cast<double>(max);
      svg.rect(lw + w - pw, y + 3, pw, rowH - 6, partFill);
    }
    std::string value = groupDigits(it.value) + (it.annotation.empty() ? "" : "  " + it.annotation);
    svg.text(lw + barW + 6, y + 15, clip(value, 24));
    svg.closeGroup();
    y += rowH;
  }
  return svg.finish(y + top);
}

// A heat map: rows x columns, the count in every cell.
struct HeatCell {
  uint64_t n = 0;
  std::string tip;
  std::string small;  // a second, smaller line (RFM segment names)
  bool muted = false;  // drawn in grey (the "stayed" diagonal of the transitions)
};

std::string heatMap(const std::string& id, const std::string& title, const std::string& desc, const std::vector<std::string>& rows,
                    const std::vector<std::string>& cols, const std::vector<std::vector<HeatCell>>& cells,
                    const std::string& rowAxis, const std::string& colAxis, double cellH = 30) {
  if (rows.empty() || cols.empty()) return emptyChart(id, title, "nothing to show");
  Svg svg(id, 600, title, desc);
  double lw = std::max(labelWidth(rows, 22), static_cast<double>(charCount(rowAxis)) * kCharWidth + 12);
  double gridW = 600 - lw - 4;
  double cw = std::min(110.0, gridW / static_cast<double>(cols.size()));
  size_t colChars = static_cast<size_t>(std::max(3.0, (cw - 6) / kCharWidth));
  uint64_t max = 0;
  for (const auto& r : cells)
    for (const auto& c : r)
      if (!c.muted) max = std::max(max, c.n);
  const double headH = 34;
  svg.text(lw + cw * static_cast<double>(cols.size()) / 2, 12, colAxis, "text-anchor=\"middle\" fill=\"#566070\" font-size=\"11\"");
  svg.text(lw - 8, 28, rowAxis, "text-anchor=\"end\" fill=\"#566070\" font-size=\"11\"");
  for (size_t j = 0; j < cols.size(); ++j) {
    svg.openGroup(cols[j]);
    svg.text(lw + cw * (static_cast<double>(j) + 0.5), 28, clip(cols[j], colChars), "text-anchor=\"middle\" font-weight=\"600\"");
    svg.closeGroup();
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    double y = headH + cellH * static_cast<double>(i);
    svg.openGroup(rows[i]);
    svg.text(lw - 8, y + cellH / 2 + 4, clip(rows[i], 22), "text-anchor=\"end\" font-weight=\"600\"");
    svg.closeGroup();
    for (size_t j = 0; j < cols.size(); ++j) {
      const HeatCell& c = cells[i][j];
      Shade s = c.muted ? Shade{c.n ? "#e4e7eb" : "#f4f6f8", kMuted} : heat(c.n, max);
      double x = lw + cw * static_cast<double>(j);
      svg.openGroup(c.tip);
      svg.rect(x + 1, y + 1, cw - 2, cellH - 2, s.fill, " rx=\"3\"");
      if (c.small.empty()) {
        svg.text(x + cw / 2, y + cellH / 2 + 4, groupDigits(c.n), fmt::format("text-anchor=\"middle\" fill=\"{}\"", s.text));
      } else {
        svg.text(x + cw / 2, y + cellH / 2 - 2, groupDigits(c.n),
                 fmt::format("text-anchor=\"middle\" fill=\"{}\" font-weight=\"600\"", s.text));
        svg.text(x + cw / 2, y + cellH / 2 + 12, clip(c.small, colChars + 2),
                 fmt::format("text-anchor=\"middle\" fill=\"{}\" font-size=\"9.5\"", s.text));
      }
      svg.closeGroup();
    }
  }
  return svg.finish(headH + cellH * static_cast<double>(rows.size()) + 4);
}

// ---------------------------------------------------------------- sections

struct Section {
  std::string id, title, intro, chart, table;
  bool wide = false;
};

E sectionHtml(const Section& s) {
  return fmt::format(
      "<section class=\"card{}\" id=\"{}\" aria-labelledby=\"{}-h\">\n<h2 id=\"{}-h\">{}</h2>\n{}<figure>{}</figure>\n"
      "<div class=\"table-wrap\">{}</div>\n</section>\n",
      s.wide ? " wide" : "", s.id, s.id, s.id, esc(s.title), s.intro.empty() ? "" : "<p class=\"intro\">" + s.intro + "</p>\n", s.chart,
      s.table);
}

uint64_t stageTotal(const ReportData& d, const std::string& stage) {
  uint64_t n = 0;
  for (const auto& [key, c] : d.stageChannel)
    if (key.first == stage) n += c;
  return n;
}

uint64_t channelTotal(const ReportData& d, const std::string& channel) {
  uint64_t n = 0;
  for (const auto& [key, c] : d.stageChannel)
    if (key.second == channel) n += c;
  return n;
}

Section funnel(const ReportData& d) {
  Section s{"stages", "Customers per stage", "", "", ""};
  s.intro = "In the order the stages appear in the rules; each customer is in one stage.";
  Svg svg("chart-stages", 600, "Customers per stage",
          "A funnel of the customers in each stage, in the rules' order; the numbers are in the table below.");
  std::vector<std::string> labels;
  for (const auto& st : d.stages) labels.push_back(stageLabel(st));
  double lw = labelWidth(labels, 22), valueW = 110, area = 600 - lw - valueW;
  uint64_t max = 1;
  for (const auto& st : d.stages) max = std::max(max, stageTotal(d, st));
  double y = 4;
  const double rowH = 30;
  for (size_t i = 0; i < d.stages.size(); ++i) {
    uint64_t n = stageTotal(d, d.stages[i]);
    double w = std::max(n ? 2.0 : 0.0, area * static_cast<double>(n) / static_cast<double>(max));
    svg.openGroup(fmt::format("{}: {} customers ({})", labels[i], groupDigits(n), pct(n, d.customers)));
    svg.text(lw - 8, y + 19, clip(labels[i], 22), "text-anchor=\"end\" font-weight=\"600\"");
    svg.rect(lw + (area - w) / 2, y + 3, w, rowH - 6, kSeries[i % 8], " rx=\"3\"");
    svg.text(lw + area + 8, y + 19, fmt::format("{} ({})", groupDigits(n), pct(n, d.customers)));
    svg.closeGroup();
    y += rowH;
  }
  s.chart = d.stages.empty() ? emptyChart("chart-stages", "Customers per stage", "no customers") : svg.finish(y + 4);
  E t = "<table><caption>Customers per stage</caption><thead><tr><th scope=\"col\">stage</th><th scope=\"col\" class=\"n\">customers</th>"
        "<th scope=\"col\" class=\"n\">share</th></tr></thead><tbody>";
  for (size_t i = 0; i < d.stages.size(); ++i) {
    uint64_t n = stageTotal(d, d.stages[i]);
    t += "<tr><th scope=\"row\">" + esc(labels[i]) + "</th>" + figureCell("stage:" + d.stages[i], n) + plainCell(pct(n, d.customers), true) +
         "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">total</th>" + figureCell("customers", d.customers) + plainCell("100.0%", true) +
       "</tr></tfoot></table>";
  s.table = t;
  return s;
}

Section stageChannel(const ReportData& d) {
  Section s{"stage-channel", "Stage \u00d7 channel", "", "", ""};
  s.intro = "How each stage is reached. <em>none</em>: the rules chose no channel; <em>(no row)</em>: no channel row matched.";
  std::vector<std::string> rows, cols;
  for (const auto& st : d.stages) rows.push_back(stageLabel(st));
  for (const auto& c : d.channels) cols.push_back(outcomeLabel(c));
  std::vector<std::vector<HeatCell>> cells(d.stages.size(), std::vector<HeatCell>(d.channels.size()));
  for (size_t i = 0; i < d.stages.size(); ++i)
    for (size_t j = 0; j < d.channels.size(); ++j) {
      auto it = d.stageChannel.find({d.stages[i], d.channels[j]});
      uint64_t n = it == d.stageChannel.end() ? 0 : it->second;
      cells[i][j] = {n, fmt::format("{} \u00d7 {}: {} customers", rows[i], cols[j], groupDigits(n)), "", false};
    }
  s.chart = heatMap("chart-stage-channel", "Customers per stage and channel",
                    "A heat map: one row per stage, one column per channel, the number of customers in each cell.", rows, cols, cells,
                    "stage", "channel");
  E t = "<table><caption>Customers per stage and channel</caption><thead><tr><th scope=\"col\">stage \\ channel</th>";
  for (const auto& c : cols) t += "<th scope=\"col\" class=\"n\">" + esc(c) + "</th>";
  t += "<th scope=\"col\" class=\"n\">total</th></tr></thead><tbody>";
  for (size_t i = 0; i < d.stages.size(); ++i) {
    t += "<tr><th scope=\"row\">" + esc(rows[i]) + "</th>";
    for (size_t j = 0; j < d.channels.size(); ++j) t += figureCell("stage-channel:" + d.stages[i] + ":" + d.channels[j], cells[i][j].n);
    t += plainCell(groupDigits(stageTotal(d, d.stages[i])), true) + "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">total</th>";
  for (const auto& c : d.channels) t += figureCell("channel:" + c, channelTotal(d, c));
  t += plainCell(groupDigits(d.customers), true) + "</tr></tfoot></table>";
  s.table = t;
  return s;
}

Section sends(const ReportData& d) {
  Section s{"sends", "Sends and suppressions", "", "", ""};
  uint64_t suppressedAll = 0;
  for (const auto& [cap, n] : d.suppressedBy) suppressedAll += n;
  s.intro = "Every customer is in one of four groups. A cap that is full <em>suppresses</em> the message; the stage, channel "
            "and offer are still decided.";
  Svg svg("chart-sends", 600, "Sends and suppressions",
          "A bar split into sent, suppressed by a frequency cap, held out and no message; then one bar per cap with the "
          "customers it suppressed. The numbers are in the table below.");
  struct Part {
    const char* name;
    uint64_t n;
    const char* fill;
  };
  Part parts[] = {{"sent", d.sent, kSent}, {"suppressed by a cap", d.suppressedTreated, kSuppressed}, {"held out", d.heldOut, kHeldOut},
                  {"no message (no channel)", d.noMessage, kNoMessage}};
  double x = 0, total = static_cast<double>(std::max<uint64_t>(1, d.customers));
  for (const auto& p : parts) {
    double w = 600 * static_cast<double>(p.n) / total;
    svg.openGroup(fmt::format("{}: {} ({})", p.name, groupDigits(p.n), pct(p.n, d.customers)));
    svg.rect(x, 4, w, 34, p.fill);
    if (w > 46) svg.text(x + w / 2, 26, pct(p.n, d.customers), fmt::format("text-anchor=\"middle\" fill=\"{}\" font-weight=\"600\"",
                                                                           p.fill == kNoMessage ? kInk : "#ffffff"));
    svg.closeGroup();
    x += w;
  }
  double ly = 58, lx = 0;
  for (const auto& p : parts) {
    std::string label = fmt::format("{} {}", p.name, groupDigits(p.n));
    svg.rect(lx, ly - 10, 12, 12, p.fill);
    svg.text(lx + 16, ly, label);
    lx += 16 + static_cast<double>(charCount(label)) * kCharWidth + 14;
    if (lx > 470) {
      lx = 0;
      ly += 18;
    }
  }
  double y = ly + 20;
  std::vector<std::string> caps = d.caps;
  for (const auto& [cap, n] : d.suppressedBy)
    if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
  svg.text(0, y + 4, caps.empty() ? "The rules have no frequency caps." : "Suppressed by each cap (held-out customers in grey):",
           "fill=\"#566070\"");
  y += 10;
  uint64_t max = 1;
  for (const auto& [cap, n] : d.suppressedBy) max = std::max(max, n);
  double lw = labelWidth(caps, 34), area = 600 - lw - 60;
  for (const auto& cap : caps) {
    auto it = d.suppressedBy.find(cap);
    uint64_t n = it == d.suppressedBy.end() ? 0 : it->second;
    auto h = d.suppressedByHeldOut.find(cap);
    uint64_t held = h == d.suppressedByHeldOut.end() ? 0 : h->second;
    double w = area * static_cast<double>(n) / static_cast<double>(max);
    double hw = area * static_cast<double>(held) / static_cast<double>(max);
    svg.openGroup(fmt::format("{}: {} suppressed ({} of them held out)", cap, groupDigits(n), groupDigits(held)));
    svg.text(lw - 8, y + 16, clip(cap, 34), "text-anchor=\"end\"");
    svg.rect(lw, y + 4, area, 16, "#f0f2f5");
    svg.rect(lw, y + 4, w - hw, 16, kSuppressed);
    svg.rect(lw + w - hw, y + 4, hw, 16, kHeldOut);
    svg.text(lw + area + 6, y + 16, groupDigits(n));
    svg.closeGroup();
    y += 22;
  }
  s.chart = svg.finish(y + 6);
  E t = "<table><caption>Sends</caption><thead><tr><th scope=\"col\">customers</th><th scope=\"col\" class=\"n\">count</th>"
        "<th scope=\"col\" class=\"n\">share</th></tr></thead><tbody>";
  const char* keys[] = {"sent", "suppressed-treated", "held-out", "no-message"};
  for (size_t i = 0; i < 4; ++i)
    t += "<tr><th scope=\"row\">" + esc(parts[i].name) + "</th>" + figureCell(keys[i], parts[i].n) +
         plainCell(pct(parts[i].n, d.customers), true) + "</tr>";
  t += "</tbody></table><table><caption>Suppressed by cap (as in the run summary: held-out customers included)</caption>"
       "<thead><tr><th scope=\"col\">cap</th><th scope=\"col\" class=\"n\">suppressed</th><th scope=\"col\" class=\"n\">of them held out</th>"
       "</tr></thead><tbody>";
  for (const auto& cap : caps) {
    auto it = d.suppressedBy.find(cap);
    auto h = d.suppressedByHeldOut.find(cap);
    t += "<tr><th scope=\"row\">" + esc(cap) + "</th>" + figureCell("suppressed-by:" + cap, it == d.suppressedBy.end() ? 0 : it->second) +
         figureCell("suppressed-by-held-out:" + cap, h == d.suppressedByHeldOut.end() ? 0 : h->second) + "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">total</th>" + figureCell("suppressed", suppressedAll) + "<td></td></tr></tfoot></table>";
  s.table = t;
  return s;
}

Section offers(const ReportData& d) {
  Section s{"offers", "Offers, budgets and cost", "", "", ""};
  s.intro = d.costsKnown ? "Offers to held-out customers cost nothing (lighter part of each bar). A budget (<code>limit N</code>) counts "
                           "only the customers the outcome reaches."
                         : "Offers to held-out customers are the lighter part of each bar. Costs need the offer catalogue "
                           "(<code>--config</code>).";
  std::string chart;
  if (!d.hasOffers) {
    chart = emptyChart("chart-offers", "Offers", "the rules have no offer table");
  } else {
    std::vector<BarItem> items;
    for (const auto& o : d.offers) {
      auto it = d.offerCount.find(o);
      if (it == d.offerCount.end()) continue;
      BarItem b;
      b.label = outcomeLabel(o);
      b.value = it->second;
      auto h = d.offerHeldOut.find(o);
      b.part = h == d.offerHeldOut.end() ? 0 : h->second;
      auto c = d.offerCost.find(o);
      if (d.costsKnown && !o.empty() && o != "none") b.annotation = "cost " + moneyGrouped(c == d.offerCost.end() ? 0.0 : c->second);
      b.fill = (o.empty() || o == "none") ? "#9aa5b1" : kBar;
      items.push_back(b);
    }
    chart = barChart("chart-offers", "Offers given",
                     "One bar per offer: the customers given it, the held-out part lighter, and its cost. The numbers are in the "
                     "table below.",
                     items, "#9cc3e6", "held out");
  }
  // Budgets: given against the limit, and those turned away.
  if (!d.budgets.empty()) {
    Svg svg("chart-budgets", 600, "Budgets and capacities",
            "One bar per row with a limit: customers given the outcome, those turned away because it was full, and the limit "
            "as a line.");
    std::vector<std::string> labels;
    for (const auto& b : d.budgets) labels.push_back(b.table + " " + b.outcome);
    double lw = labelWidth(labels, 26), area = 600 - lw - 150;
    double y = 4;
    for (size_t i = 0; i < d.budgets.size(); ++i) {
      const BudgetRow& b = d.budgets[i];
      uint64_t turned = b.turnedAway.value_or(0);
      double scale = static_cast<double>(std::max<uint64_t>({1, static_cast<uint64_t>(std::max<int64_t>(0, b.limit)), b.given + turned}));
      double gw = area * static_cast<double>(b.given) / scale, tw = area * static_cast<double>(turned) / scale;
      double lx = lw + area * static_cast<double>(std::max<int64_t>(0, b.limit)) / scale;
      std::string tip = fmt::format("{}: {} given of a limit of {}", labels[i], groupDigits(b.given), b.limit);
      if (b.turnedAway) tip += fmt::format(", {} turned away", groupDigits(*b.turnedAway));
      if (!b.cutoff.empty()) tip += ", cut-off " + b.cutoff;
      svg.openGroup(tip);
      svg.text(lw - 8, y + 19, clip(labels[i], 26), "text-anchor=\"end\"");
      svg.rect(lw, y + 5, area, 20, "#f0f2f5");
      svg.rect(lw, y + 5, gw, 20, kBar);
      svg.rect(lw + gw, y + 5, tw, 20, "#f4a582");
      svg.line(lx, y + 1, lx, y + 29, kInk, 2);
      std::string value = fmt::format("{} / {}", groupDigits(b.given), b.limit);
      if (b.turnedAway) value += fmt::format(", {} turned away", groupDigits(*b.turnedAway));
      svg.text(lw + area + 6, y + 19, clip(value, 24));
      svg.closeGroup();
      y += 32;
    }
    svg.rect(lw, y + 2, 12, 12, kBar);
    svg.text(lw + 16, y + 12, "given");
    svg.rect(lw + 70, y + 2, 12, 12, "#f4a582");
    svg.text(lw + 86, y + 12, "turned away");
    svg.line(lw + 176, y + 1, lw + 176, y + 15, kInk, 2);
    svg.text(lw + 182, y + 12, "limit");
    chart += "<h3>Budgets and capacities</h3>" + svg.finish(y + 20);
  }
  s.chart = chart;
  E t;
  if (d.hasOffers) {
    t = "<table><caption>Offers</caption><thead><tr><th scope=\"col\">offer</th><th scope=\"col\" class=\"n\">customers</th>"
        "<th scope=\"col\" class=\"n\">of them held out</th>";
    if (d.costsKnown) t += "<th scope=\"col\" class=\"n\">unit cost</th><th scope=\"col\" class=\"n\">cost</th>";
    t += "</tr></thead><tbody>";
    for (const auto& o : d.offers) {
      auto it = d.offerCount.find(o);
      if (it == d.offerCount.end()) continue;
      auto h = d.offerHeldOut.find(o);
      t += "<tr><th scope=\"row\">" + esc(outcomeLabel(o)) + "</th>" + figureCell("offer:" + o, it->second) +
           figureCell("offer-held-out:" + o, h == d.offerHeldOut.end() ? 0 : h->second);
      if (d.costsKnown) {
        if (o.empty() || o == "none") {
          t += "<td></td><td></td>";
        } else {
          auto u = d.unitCost.find(o);
          auto c = d.offerCost.find(o);
          t += plainCell(u == d.unitCost.end() ? "" : money(u->second), true) + moneyCell("offer-cost:" + o, c == d.offerCost.end() ? 0.0 : c->second);
        }
      }
      t += "</tr>";
    }
    t += "</tbody>";
    if (d.costsKnown)
      t += "<tfoot><tr><th scope=\"row\">total offer cost</th><td></td><td></td><td></td>" + moneyCell("offer-cost-total", d.totalCost) +
           "</tr></tfoot>";
    t += "</table>";
  }
  if (!d.budgets.empty()) {
    t += "<table><caption>Budgets and capacities</caption><thead><tr><th scope=\"col\">row</th><th scope=\"col\" class=\"n\">limit</th>"
         "<th scope=\"col\" class=\"n\">given</th><th scope=\"col\" class=\"n\">turned away</th><th scope=\"col\" class=\"n\">cut-off</th>"
         "</tr></thead><tbody>";
    for (const auto& b : d.budgets) {
      std::string key = "budget:" + b.table + ":" + b.outcome;
      t += "<tr><th scope=\"row\">" + esc(b.table + " " + b.outcome) + "</th>" +
           fmt::format("<td class=\"n\" data-figure=\"{}\" data-value=\"{}\">{}</td>", esc(key + ":limit"), b.limit, b.limit) +
           figureCell(key + ":given", b.given) +
           (b.turnedAway ? figureCell(key + ":turned-away", *b.turnedAway) : plainCell("not known", true)) + plainCell(b.cutoff, true) +
           "</tr>";
    }
    t += "</tbody></table>";
  }
  s.table = t;
  return s;
}

Section holdout(const ReportData& d) {
  Section s{"holdout", "Holdout", "", "", ""};
  std::string share = pct(d.heldOut, d.customers);
  s.intro = fmt::format("{} of {} customers ({}) are in the control group: decided like everybody else, sent nothing.",
                        groupDigits(d.heldOut), groupDigits(d.customers), share);
  if (d.holdoutDeclared) s.intro += fmt::format(" The rules hold out {:.1f}%.", *d.holdoutDeclared * 100);
  Svg svg("chart-holdout", 600, "Holdout share per stage",
          "One bar per stage and one for everybody, split into treated and held-out customers; a line marks the share the "
          "rules declare.");
  std::vector<std::string> labels{"all customers"};
  for (const auto& st : d.stages) labels.push_back(stageLabel(st));
  double lw = labelWidth(labels, 22), area = 600 - lw - 110;
  double y = 4;
  for (size_t i = 0; i < labels.size(); ++i) {
    uint64_t total = i == 0 ? d.customers : stageTotal(d, d.stages[i - 1]);
    uint64_t held = 0;
    if (i == 0) {
      held = d.heldOut;
    } else {
      auto it = d.stageHoldout.find(d.stages[i - 1]);
      held = it == d.stageHoldout.end() ? 0 : it->second;
    }
    double hw = total ? area * static_cast<double>(held) / static_cast<double>(total) : 0;
    svg.openGroup(fmt::format("{}: {} of {} held out ({})", labels[i], groupDigits(held), groupDigits(total), pct(held, total)));
    svg.text(lw - 8, y + 16, clip(labels[i], 22), i == 0 ? "text-anchor=\"end\" font-weight=\"600\"" : "text-anchor=\"end\"");
    svg.rect(lw, y + 4, area, 18, total ? "#cfe3f3" : "#f4f6f8");
    svg.rect(lw, y + 4, hw, 18, kHeldOut);
    svg.text(lw + area + 6, y + 16, fmt::format("{} ({})", groupDigits(held), pct(held, total)));
    svg.closeGroup();
    y += i == 0 ? 30 : 24;
  }
  if (d.holdoutDeclared) {
    double x = lw + area * std::clamp(*d.holdoutDeclared, 0.0, 1.0);
    svg.line(x, 0, x, y, kInk, 1.5, " stroke-dasharray=\"4 3\"");
    svg.text(x + 4, y + 12, fmt::format("declared {:.1f}%", *d.holdoutDeclared * 100), "font-size=\"11\"");
    y += 16;
  }
  svg.rect(lw, y + 4, 12, 12, kHeldOut);
  svg.text(lw + 16, y + 14, "held out");
  svg.rect(lw + 86, y + 4, 12, 12, "#cfe3f3");
  svg.text(lw + 102, y + 14, "treated");
  s.chart = svg.finish(y + 22);
  E t = "<table><caption>Holdout per stage</caption><thead><tr><th scope=\"col\">stage</th><th scope=\"col\" class=\"n\">held out</th>"
        "<th scope=\"col\" class=\"n\">customers</th><th scope=\"col\" class=\"n\">share</th></tr></thead><tbody>";
  for (const auto& st : d.stages) {
    auto it = d.stageHoldout.find(st);
    uint64_t held = it == d.stageHoldout.end() ? 0 : it->second, total = stageTotal(d, st);
    t += "<tr><th scope=\"row\">" + esc(stageLabel(st)) + "</th>" + figureCell("stage-held-out:" + st, held) +
         plainCell(groupDigits(total), true) + plainCell(pct(held, total), true) + "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">all customers</th>" + figureCell("held-out-total", d.heldOut) +
       plainCell(groupDigits(d.customers), true) +
       fmt::format("<td class=\"n\" data-figure=\"holdout-share\" data-value=\"{}\">{}</td>", share.substr(0, share.size() - 1), share) +
       "</tr></tfoot></table>";
  s.table = t;
  return s;
}

Section transitions(const ReportData& d) {
  Section s{"transitions", "Transitions since the previous run", "", "", ""};
  // Rows: where customers were (stages in the rules' order, then other names, then "not in the
  // previous run"); columns: where they are now.
  std::vector<std::string> from, to = d.stages;
  std::set<std::string> fromSeen;
  for (const auto& [key, n] : d.transitions) fromSeen.insert(key.first);
  for (const auto& st : d.stages)
    if (!st.empty() && (d.previousKnown || fromSeen.count(st))) from.push_back(st);
  for (const auto& f : fromSeen)
    if (!f.empty() && std::find(from.begin(), from.end(), f) == from.end()) from.push_back(f);
  for (const auto& [key, n] : d.transitions)
    if (std::find(to.begin(), to.end(), key.second) == to.end()) to.push_back(key.second);
  if (fromSeen.count("")) from.push_back("");
  uint64_t moved = 0;
  for (const auto& [key, n] : d.transitions) moved += n;
  if (!d.previousKnown && d.transitions.empty()) {
    s.intro = "This run had no <code>--previous</code> file, so there are no transitions to show.";
    s.chart = emptyChart("chart-transitions", "Transitions since the previous run", "no previous run (rekindle run --previous FILE)");
    s.table = "";
    return s;
  }
  s.intro = fmt::format("{} customers changed stage{}. Rows: the stage in the previous run; columns: the stage now.{}",
                        groupDigits(moved), d.previousKnown ? "" : " (from the transition column)",
                        d.previousKnown ? " Grey cells: customers who stayed." : "");
  auto cellOf = [&](const std::string& f, const std::string& t) -> uint64_t {
    if (f == t && !f.empty()) {
      if (!d.previousKnown) return 0;
      // Customers in stage t with no transition stayed there.
      uint64_t in = stageTotal(d, t);
      for (const auto& [key, n] : d.transitions)
        if (key.second == t) in -= std::min(in, n);
      return in;
    }
    auto it = d.transitions.find({f, t});
    return it == d.transitions.end() ? 0 : it->second;
  };
  std::vector<std::string> rowLabels, colLabels;
  for (const auto& f : from) rowLabels.push_back(f.empty() ? "(new)" : f);
  for (const auto& t : to) colLabels.push_back(stageLabel(t));
  std::vector<std::vector<HeatCell>> cells(from.size(), std::vector<HeatCell>(to.size()));
  for (size_t i = 0; i < from.size(); ++i)
    for (size_t j = 0; j < to.size(); ++j) {
      uint64_t n = cellOf(from[i], to[j]);
      bool stayed = from[i] == to[j] && !from[i].empty();
      cells[i][j] = {n,
                     stayed ? fmt::format("stayed {}: {}", colLabels[j], groupDigits(n))
                            : fmt::format("{} \u2192 {}: {}", rowLabels[i], colLabels[j], groupDigits(n)),
                     "", stayed};
    }
  s.chart = heatMap("chart-transitions", "Transitions since the previous run",
                    "A matrix: one row per stage in the previous run, one column per stage now; each cell counts the customers "
                    "who moved (grey: stayed).",
                    rowLabels, colLabels, cells, "was \u2193", "now \u2192");
  E t = "<table><caption>Transitions (from \u2192 to)</caption><thead><tr><th scope=\"col\">from \\ to</th>";
  for (const auto& c : colLabels) t += "<th scope=\"col\" class=\"n\">" + esc(c) + "</th>";
  t += "</tr></thead><tbody>";
  for (size_t i = 0; i < from.size(); ++i) {
    t += "<tr><th scope=\"row\">" + esc(rowLabels[i]) + "</th>";
    for (size_t j = 0; j < to.size(); ++j) {
      bool stayed = from[i] == to[j] && !from[i].empty();
      if (stayed && !d.previousKnown) t += "<td></td>";
      else if (stayed) t += figureCell("stayed:" + to[j], cells[i][j].n);
      else t += figureCell("transition:" + from[i] + "->" + to[j], cells[i][j].n);
    }
    t += "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">changed stage</th>" +
       figureCell("transitions", moved, to.size()) +
       "</tr></tfoot></table>";
  s.table = t;
  return s;
}

Section rfm(const ReportData& d) {
  Section s{"rfm", "RFM grid (recency \u00d7 frequency)", "", "", ""};
  if (!d.rfmAvailable) {
    s.intro = esc(d.rfmNote.empty() ? "No RFM scores in this report." : d.rfmNote);
    s.chart = emptyChart("chart-rfm", "RFM grid", "no RFM scores");
    return s;
  }
  uint64_t scored = 0;
  for (int r = 1; r <= 5; ++r)
    for (int f = 1; f <= 5; ++f) scored += d.rfm[r][f];
  s.intro = fmt::format("std.rfm quintile scores of the {} customers with a purchase ({} without one: <em>No Purchases</em>). "
                        "5 = most recent, most frequent.{}",
                        groupDigits(scored), groupDigits(d.rfm[0][0]), d.rfmNote.empty() ? "" : " " + esc(d.rfmNote));

  std::vector<std::string> rows, cols;
  std::vector<std::vector<HeatCell>> cells;
  for (int r = 5; r >= 1; --r) {
    rows.push_back(fmt::format("R {}", r));
    std::vector<HeatCell> row;
    for (int f = 1; f <= 5; ++f)
      row.push_back({d.rfm[r][f], fmt::format("R {} \u00d7 F {} ({}): {} customers", r, f, d.rfmSegments[r][f], groupDigits(d.rfm[r][f])),
                     d.rfmSegments[r][f], false});
    cells.push_back(row);
  }
  for (int f = 1; f <= 5; ++f) cols.push_back(fmt::format("F {}", f));
  s.chart = heatMap("chart-rfm", "RFM grid: customers per recency and frequency score",
                    "A 5 by 5 grid, recency score 5 at the top, frequency score 1 to 5 from left to right, the number of customers "
                    "and the std.rfm segment in each cell.",
                    rows, cols, cells, "recency \u2193", "frequency \u2192", 42);
  E t = "<table><caption>Customers per R \u00d7 F score</caption><thead><tr><th scope=\"col\">R \\ F</th>";
  for (const auto& c : cols) t += "<th scope=\"col\" class=\"n\">" + esc(c) + "</th>";
  t += "</tr></thead><tbody>";
  for (int r = 5; r >= 1; --r) {
    t += fmt::format("<tr><th scope=\"row\">R {}</th>", r);
    for (int f = 1; f <= 5; ++f) t += figureCell(fmt::format("rfm:{}:{}", r, f), d.rfm[r][f]);
    t += "</tr>";
  }
  t += "</tbody><tfoot><tr><th scope=\"row\">No Purchases</th>" +
       figureCell("rfm:none", d.rfm[0][0], 5) +
       "</tr></tfoot></table>";
  s.table = t;
  return s;
}

Section rejects(const ReportData& d) {
  Section s{"rejects", "Rejected rows", "", "", ""};
  if (!d.rejectsKnown) {
    s.intro = "No rejects file was found; rejected rows are not known.";
    s.chart = emptyChart("chart-rejects", "Rejected rows", "rejects not known");
    return s;
  }
  uint64_t total = 0;
  for (const auto& [src, n] : d.rejectsBySource) total += n;
  s.intro = total ? "Rows of the exports that could not be used, per source, and the most frequent reasons; every one is in the "
                    "rejects file with its file, line and column."
                  : "Every row of the exports was used.";
  std::vector<BarItem> items;
  for (const char* src : {"customers", "events", "contacts"}) {
    auto it = d.rejectsBySource.find(src);
    items.push_back({src, it == d.rejectsBySource.end() ? 0 : it->second, 0, "", kSuppressed});
  }
  for (const auto& [src, n] : d.rejectsBySource)
    if (src != "customers" && src != "events" && src != "contacts") items.push_back({src, n, 0, "", kSuppressed});
  s.chart = barChart("chart-rejects", "Rejected rows per source", "One bar per source with the number of rows rejected.", items);
  E t = "<table><caption>Rejected rows per source</caption><thead><tr><th scope=\"col\">source</th><th scope=\"col\" class=\"n\">rows</th>"
        "</tr></thead><tbody>";
  for (const auto& it : items) t += "<tr><th scope=\"row\">" + esc(it.label) + "</th>" + figureCell("rejects:" + it.label, it.value) + "</tr>";
  t += "</tbody><tfoot><tr><th scope=\"row\">total</th>" + figureCell("rejects", total) + "</tr></tfoot></table>";
  if (!d.topReasons.empty()) {
    t += "<table><caption>Most frequent reasons</caption><thead><tr><th scope=\"col\">source</th><th scope=\"col\">reason</th>"
         "<th scope=\"col\" class=\"n\">rows</th><th scope=\"col\">for example</th></tr></thead><tbody>";
    for (const auto& r : d.topReasons)
      t += "<tr>" + plainCell(r.source) + plainCell(r.reason) + plainCell(groupDigits(r.count), true) + "<td class=\"example\">" +
           esc(r.example) + "</td></tr>";
    t += "</tbody></table>";
  }
  s.table = t;
  return s;
}

Section segments(const ReportData& d) {
  Section s{"segments", "Segments", "Customers in each segment (a customer may be in several).", "", ""};
  std::vector<BarItem> items;
  for (const auto& seg : d.segments) {
    auto it = d.segmentCount.find(seg);
    items.push_back({seg, it == d.segmentCount.end() ? 0 : it->second, 0, "", kSeries[4]});
  }
  s.chart = d.segments.empty() ? emptyChart("chart-segments", "Segments", "the rules declare no segments")
                               : barChart("chart-segments", "Customers per segment", "One bar per segment, in declaration order.", items);
  if (!d.segments.empty()) {
    E t = "<table><caption>Customers per segment</caption><thead><tr><th scope=\"col\">segment</th><th scope=\"col\" class=\"n\">customers"
          "</th><th scope=\"col\" class=\"n\">share</th></tr></thead><tbody>";
    for (const auto& it : items)
      t += "<tr><th scope=\"row\">" + esc(it.label) + "</th>" + figureCell("segment:" + it.label, it.value) +
           plainCell(pct(it.value, d.customers), true) + "</tr>";
    s.table = t + "</tbody></table>";
  }
  return s;
}

E overview(const ReportData& d) {
  uint64_t rejected = 0;
  for (const auto& [src, n] : d.rejectsBySource) rejected += n;
  uint64_t suppressedAll = 0;
  for (const auto& [cap, n] : d.suppressedBy) suppressedAll += n;
  struct Tile {
    std::string label, key, value, rawValue, sub;
  };
  std::vector<Tile> tiles{
      {"customers decided", "tile-customers", groupDigits(d.customers), std::to_string(d.customers), ""},
      {"messages sent", "tile-sent", groupDigits(d.sent), std::to_string(d.sent), pct(d.sent, d.customers)},
      {"suppressed by caps", "tile-suppressed", groupDigits(suppressedAll), std::to_string(suppressedAll), pct(suppressedAll, d.customers)},
      {"held out", "tile-held-out", groupDigits(d.heldOut), std::to_string(d.heldOut), pct(d.heldOut, d.customers)},
  };
  if (d.hasOffers && d.costsKnown) tiles.push_back({"offer cost", "tile-cost", moneyGrouped(d.totalCost), money(d.totalCost), ""});
  if (d.rejectsKnown) tiles.push_back({"rows rejected", "tile-rejected", groupDigits(rejected), std::to_string(rejected), ""});
  E o = "<ul class=\"tiles\">";
  for (const auto& t : tiles)
    o += fmt::format("<li><span class=\"tile-value\" data-figure=\"{}\" data-value=\"{}\">{}</span><span class=\"tile-label\">{}{}</span></li>",
                     esc(t.key), esc(t.rawValue), esc(t.value), esc(t.label), t.sub.empty() ? "" : " (" + esc(t.sub) + ")");
  return o + "</ul>";
}

E inputsTable(const ReportData& d) {
  E t = "<table class=\"inputs\"><caption>Inputs</caption><thead><tr><th scope=\"col\">input</th><th scope=\"col\">file</th>"
        "<th scope=\"col\" class=\"n\">read</th><th scope=\"col\" class=\"n\">used</th><th scope=\"col\" class=\"n\">rejected</th></tr>"
        "</thead><tbody>";
  for (const auto& in : d.inputs) {
    auto cell = [&](const char* what, const std::optional<uint64_t>& v) -> E {
      if (!v) return "<td class=\"n\">\u2013</td>";
      return figureCell("input:" + in.source + ":" + what, *v);
    };
    t += "<tr><th scope=\"row\">" + esc(in.source) + "</th><td class=\"path\">" + esc(in.path) +
         (in.note.empty() ? "" : " <span class=\"muted\">(" + esc(in.note) + ")</span>") + "</td>" + cell("read", in.read) +
         cell("used", in.used) + cell("rejected", in.rejected) + "</tr>";
  }
  return t + "</tbody></table>";
}

const char* const kStyle = R"css(
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1b2430;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;-webkit-text-size-adjust:100%}
header.top{background:#fff;border-bottom:1px solid #d7dde5;padding:18px 24px}
header.top h1{margin:0 0 4px;font-size:1.5rem;line-height:1.25}
.meta{margin:0;color:#566070;font-size:.9rem}
.meta span{white-space:nowrap;margin-right:1.2em}
.wrap{max-width:1400px;margin:0 auto;padding:16px 24px}
.tiles{list-style:none;display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px;padding:0}
.tiles li{background:#fff;border:1px solid #d7dde5;border-radius:8px;padding:10px 14px;min-width:9.5em;flex:1 1 9.5em}
.tile-value{display:block;font-size:1.45rem;font-weight:650;font-variant-numeric:tabular-nums}
.tile-label{color:#566070;font-size:.85rem}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,540px),1fr));gap:16px;align-items:start}
section.card{background:#fff;border:1px solid #d7dde5;border-radius:8px;padding:14px 16px;min-width:0}
section.wide{grid-column:1/-1}
h2{font-size:1.1rem;margin:0 0 6px}
h3{font-size:.95rem;margin:14px 0 6px}
p.intro{margin:0 0 10px;color:#3c4654;font-size:.9rem}
figure{margin:0 0 8px}
svg.chart{display:block;width:100%;height:auto;max-width:760px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.8rem;font-variant-numeric:tabular-nums;margin:6px 0 4px}
caption{text-align:left;font-weight:600;color:#3c4654;padding:2px 0 4px}
th,td{padding:2px 6px;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top}
thead th{border-bottom:1px solid #b9c2cd;font-weight:600}
tbody th,tfoot th{font-weight:500}
tfoot th,tfoot td{border-top:1px solid #b9c2cd;border-bottom:none;font-weight:600}
.n{text-align:right}
td.path,td.example{word-break:break-all}
.muted{color:#566070}
section.notes ul{margin:4px 0 0;padding-left:1.2em;font-size:.9rem}
footer{color:#566070;font-size:.8rem;padding:8px 24px 24px;max-width:1400px;margin:0 auto}
code{font-size:.9em}
@media (max-width:640px){
 header.top{padding:14px}
 .wrap{padding:12px}
 section.card{padding:12px}
 .tiles li{min-width:8em}
 table{font-size:.75rem}
}
@media print{
 @page{size:A4;margin:12mm}
 body{background:#fff;font-size:10.5pt}
 header.top{border:none;padding:0 0 8px}
 .wrap{padding:0;max-width:none}
 main{display:block}
 section.card{border:none;border-top:1px solid #b9c2cd;border-radius:0;padding:8px 0;break-inside:avoid;page-break-inside:avoid}
 .tiles li{border:1px solid #b9c2cd}
 svg.chart{max-width:100%;max-height:150mm}
 .table-wrap{overflow:visible}
 footer{padding:8px 0}
}
)css";

}  // namespace

std::string escapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\t':
        case '\n': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7f) out += "\xEF\xBF\xBD";  // control characters: U+FFFD
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t n = utf8Length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // not UTF-8
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string groupDigits(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string reasonKind(std::string_view reason) {
  std::string out;
  for (size_t i = 0; i < reason.size();) {
    char c = reason[i];
    if (c == '\'') {
      size_t end = reason.find('\'', i + 1);
      if (end == std::string_view::npos) {
        out.append(reason.substr(i));
        break;
      }
      // Field names stay ("field 'at'", "for 'signup_at'"); values go.
      std::string_view before = std::string_view(out);
      bool name = (before.size() >= 6 && before.substr(before.size() - 6) == "field ") ||
                  (before.size() >= 4 && before.substr(before.size() - 4) == "for ");
      if (name) out.append(reason.substr(i, end - i + 1));
      else out += "'\u2026'";
      i = end + 1;
      continue;
    }
    if (c >= '0' && c <= '9' && (out.size() >= 5 && out.compare(out.size() - 5, 5, "line ") == 0)) {
      while (i < reason.size() && reason[i] >= '0' && reason[i] <= '9') ++i;
      out += "N";
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

std::string renderHtml(const ReportData& d) {
  std::string name = d.rulesName.empty() ? "Rekindle run" : d.rulesName;
  std::string version = d.rulesVersion.empty() ? "" : "version " + d.rulesVersion;
  E o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may be loaded from anywhere: the report is one file.
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n";
  o += "<meta name=\"generator\" content=\"" + esc(d.tool) + "\">\n";
  o += "<title>" + esc(name) + (version.empty() ? "" : " " + esc(version)) + " \u2014 Rekindle report" +
       (d.asOf.empty() ? "" : " as of " + esc(d.asOf)) + "</title>\n";
  o += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  o += "<header class=\"top\"><h1><span data-figure=\"rules\" data-value=\"" + esc(name) + "\">" + esc(name) + "</span>" +
       (version.empty() ? "" : " <span class=\"muted\" data-figure=\"rules-version\" data-value=\"" + esc(d.rulesVersion) + "\">" + esc(version) + "</span>") +
       "</h1>\n<p class=\"meta\">";
  o += "<span>as of <time data-figure=\"as-of\">" + esc(d.asOf.empty() ? "unknown" : d.asOf) + "</time></span>";
  o += "<span>" + esc(groupDigits(d.customers)) + " customers</span>";
  o += "<span>report by " + esc(d.origin) + "</span></p></header>\n";
  o += "<div class=\"wrap\">\n" + overview(d) + "\n<main>\n";
  std::vector<Section> sections{funnel(d), stageChannel(d), sends(d), offers(d), holdout(d), transitions(d), rfm(d), rejects(d)};
  if (!d.segments.empty()) sections.push_back(segments(d));
  for (const auto& s : sections) o += sectionHtml(s);
  o += "<section class=\"card wide\" id=\"inputs\" aria-labelledby=\"inputs-h\">\n<h2 id=\"inputs-h\">Run</h2>\n";
  o += "<p class=\"intro\">Rules <strong>" + esc(name) + "</strong>" + (version.empty() ? "" : " " + esc(version)) + ", as of " +
       esc(d.asOf.empty() ? "unknown" : d.asOf) + ". Read = used + rejected for every export.</p>\n";
  o += "<div class=\"table-wrap\">" + inputsTable(d) + "</div>\n";
  if (!d.notes.empty()) {
    o += "<h3>About this report</h3><ul class=\"notes\">";
    for (const auto& n : d.notes) o += "<li>" + esc(n) + "</li>";
    o += "</ul>\n";
  }
  o += "</section>\n</main>\n</div>\n";
  o += "<footer>Written by " + esc(d.tool) + ". One self-contained file: no scripts, fonts or images are loaded.</footer>\n";
  o += "</body>\n</html>\n";
  return o;
}

}  // namespace rekindle::report
