// The language server in-process: framing, positions (UTF-16 against code points), URIs, the
// JSON-RPC lifecycle and errors, and each request's result on small rules files compiled against
// a copy of the conformance config in a temporary folder.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rekindle/compiler/format.h"
#include "rekindle/lsp/server.h"
#include "test_support.h"

using namespace rekindle;
using namespace rekindle::lsp;
using json = nlohmann::json;

namespace {

std::string frame(const std::string& body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A server with a temporary workspace: rekindle.yaml (the conformance config) in a folder.
class Client {
 public:
  explicit Client(bool withConfig = true) {
    dir = test::tempDir("lsp");
    if (withConfig) {
      std::ofstream(dir + "/rekindle.yaml") << test::readText(test::sourcePath("tests/conformance/rekindle.yaml"));
    }
    server = std::make_unique<Server>([this](const std::string& body) { sent.push_back(json::parse(body)); });
  }
  ~Client() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  json request(const std::string& method, json params) {
    int id = nextId++;
    sent.clear();
    server->handle(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
    for (const auto& m : sent)
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
    FAIL("no response to " << method);
    return {};
  }

  void notify(const std::string& method, json params) {
    sent.clear();
    server->handle(json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump());
  }

  void initialize() {
    json r = request("initialize", {{"processId", nullptr}, {"rootUri", pathToUri(dir)}, {"capabilities", json::object()}});
    REQUIRE(r.contains("result"));
    notify("initialized", json::object());
  }

  std::string uri(const std::string& name = "test.rules") const { return pathToUri(dir + "/" + name); }

  // Opens a document; returns the diagnostics published for it.
  json open(const std::string& text, const std::string& name = "test.rules") {
    notify("textDocument/didOpen",
           {{"textDocument", {{"uri", uri(name)}, {"languageId", "rekindle"}, {"version", 1}, {"text", text}}}});
    return diagnosticsFor(uri(name));
  }

  json change(const std::string& text, int version = 2, const std::string& name = "test.rules") {
    notify("textDocument/didChange", {{"textDocument", {{"uri", uri(name)}, {"version", version}}},
                                      {"contentChanges", json::array({{{"text", text}}})}});
    return diagnosticsFor(uri(name));
  }

  json diagnosticsFor(const std::string& u) const {
    for (const auto& m : sent)
      if (m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == u)
        return m["params"]["diagnostics"];
    return nullptr;
  }

  json at(const std::string& method, int line, int character, json extra = json::object()) {
    json params{{"textDocument", {{"uri", uri()}}}, {"position", {{"line", line}, {"character", character}}}};
    params.update(extra);
    json r = request(method, params);
    REQUIRE(r.contains("result"));
    return r["result"];
  }

  std::string dir;
  std::unique_ptr<Server> server;
  std::vector<json> sent;
  int nextId = 1;
};

const char* kRules = R"(rules demo version 1
use std.rfm
use std.lifecycle

param dormant_after = 365d

# Orders that count.
# Only purchases.
let purchases = events where kind == "purchase"
let orders = count(purchases)
let spend = sum(purchases.amount)

segment vip when spend >= 1000 or rfm.m >= 5

stage
  fresh    when orders == 0
  active   when days_since(signup_at) <= 90
  dormant  when lifecycle.orders_12m == 0
  lost     otherwise
end

channel
  email when stage in [active, dormant]
  none  otherwise
end

offer
  WINBACK20 when stage == dormant
  none      otherwise
end
)";

// Line and UTF-16 column of the first occurrence of `needle` (plus `delta` units) in `text`.
std::pair<int, int> where(const std::string& text, const std::string& needle, int delta = 0) {
  size_t off = text.find(needle);
  REQUIRE(off != std::string::npos);
  LineIndex index(text);
  Position p = index.positionOf(off);
  return {static_cast<int>(p.line), static_cast<int>(p.character) + delta};
}

std::vector<std::string> labels(const json& completion) {
  std::vector<std::string> out;
  const json& items = completion.is_array() ? completion : completion["items"];
  for (const auto& i : items) out.push_back(i["label"].get<std::string>());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

// ---- framing -----------------------------------------------------------------------------------

TEST_CASE("lsp framing reads messages back to back, whatever the header case", "[lsp]") {
  std::istringstream in(frame("{\"a\":1}") + "content-length: 7\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"b\":2}");
  MessageReader r(in);
  std::string body, err;
  REQUIRE(r.read(body, err) == MessageReader::Status::Ok);
  CHECK(body == "{\"a\":1}");
  REQUIRE(r.read(body, err) == MessageReader::Status::Ok);
  CHECK(body == "{\"b\":2}");
  CHECK(r.read(body, err) == MessageReader::Status::Eof);
}

TEST_CASE("lsp framing reports a bad header block and goes on", "[lsp]") {
  std::istringstream in("Content-Type: x\r\n\r\nContent-Length: abc\r\n\r\n" + frame("{}"));
  MessageReader r(in);
  std::string body, err;
  CHECK(r.read(body, err) == MessageReader::Status::Malformed);
  CHECK_THAT(err, Catch::Contains("Content-Length"));
  CHECK(r.read(body, err) == MessageReader::Status::Malformed);
  REQUIRE(r.read(body, err) == MessageReader::Status::Ok);
  CHECK(body == "{}");
}

TEST_CASE("lsp framing: a truncated body is the end of input, and writeMessage frames", "[lsp]") {
  std::istringstream in("Content-Length: 10\r\n\r\n{}");
  MessageReader r(in);
  std::string body, err;
  CHECK(r.read(body, err) == MessageReader::Status::Eof);
  std::ostringstream out;
  writeMessage(out, "{\"x\":\"沉\"}");
  CHECK(out.str() == "Content-Length: 11\r\n\r\n{\"x\":\"沉\"}");  // bytes, not characters
}

TEST_CASE("lsp stdio loop answers, survives garbage and exits on exit", "[lsp]") {
  std::string input = frame(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}})") +
                      frame("{not json") + "Bogus: 1\r\n\r\n" +
                      frame(R"({"jsonrpc":"2.0","id":2,"method":"shutdown"})") +
                      frame(R"({"jsonrpc":"2.0","method":"exit"})") +
                      frame(R"({"jsonrpc":"2.0","id":3,"method":"shutdown"})");
  std::istringstream in(input);
  std::ostringstream out;
  CHECK(runServer(in, out) == 0);
  std::istringstream back(out.str());
  MessageReader r(back);
  std::vector<json> got;
  std::string body, err;
  while (r.read(body, err) == MessageReader::Status::Ok) got.push_back(json::parse(body));
  REQUIRE(got.size() == 4);  // initialize, the parse error, the framing error, shutdown; nothing after exit
  CHECK(got[0]["result"]["capabilities"]["hoverProvider"] == true);
  CHECK(got[1]["error"]["code"] == -32700);
  CHECK(got[1]["id"].is_null());
  CHECK(got[2]["error"]["code"] == -32700);
  CHECK(got[3]["id"] == 2);
  CHECK(got[3]["result"].is_null());
}

// ---- positions ---------------------------------------------------------------------------------

TEST_CASE("lsp positions count UTF-16 units, ours count code points", "[lsp]") {
  // 沉睡 are one UTF-16 unit each, 🎁 is two (a surrogate pair), and each is one code point.
  std::string text = "let a = \"沉睡🎁\" + b\r\nx\n";
  LineIndex index(text);
  CHECK(index.lineCount() == 3);
  // `b` is code point column 17 (1-based) and UTF-16 character 17 (0-based: 8 + 1 + 2 + 2 + 1 + 3).
  size_t bOffset = text.find(" b") + 1;
  CHECK(index.positionOf(bOffset) == Position{0, 17});
  CHECK(index.toLsp(SourceLoc{1, 17}) == Position{0, 17});
  CHECK(index.toSource(Position{0, 17}) == SourceLoc{1, 17});
  // Just after the pair: the closing quote is code point 13, UTF-16 unit 13.
  CHECK(index.toLsp(SourceLoc{1, 13}) == Position{0, 13});
  CHECK(index.toSource(Position{0, 13}) == SourceLoc{1, 13});
  // A position inside the surrogate pair rounds down to the pair's start.
  CHECK(index.toSource(Position{0, 12}) == SourceLoc{1, 12});
  CHECK(index.offsetOf(Position{0, 12}) == index.offsetOf(Position{0, 11}));
  // The \r belongs to the line break; past the end clamps.
  CHECK(index.offsetOf(Position{0, 999}) == text.find('\r'));
  CHECK(index.offsetOf(Position{1, 0}) == text.find('x'));
  CHECK(index.offsetOf(Position{7, 0}) == text.size());
  CHECK(index.end() == Position{2, 0});
  CHECK(index.toLsp(SourceLoc{}) == Position{0, 0});
  CHECK(utf16Length("沉睡🎁") == 4);
}

TEST_CASE("lsp file URIs round trip with percent-encoding", "[lsp]") {
  CHECK(pathToUri("/tmp/a b/沉.rules") == "file:///tmp/a%20b/%E6%B2%89.rules");
  CHECK(uriToPath("file:///tmp/a%20b/%E6%B2%89.rules") == std::optional<std::string>("/tmp/a b/沉.rules"));
  CHECK(uriToPath("file://localhost/x/y.rules") == std::optional<std::string>("/x/y.rules"));
  CHECK_FALSE(uriToPath("untitled:Untitled-1"));
}

// ---- the protocol --------------------------------------------------------------------------------

TEST_CASE("lsp lifecycle and JSON-RPC errors", "[lsp]") {
  Client c;
  CHECK(c.request("textDocument/hover", json::object())["error"]["code"] == -32002);
  json init = c.request("initialize", {{"capabilities", json::object()}});
  const json& caps = init["result"]["capabilities"];
  CHECK(caps["textDocumentSync"]["change"] == 2);
  CHECK(caps["completionProvider"]["triggerCharacters"].size() >= 1);
  CHECK(caps["definitionProvider"] == true);
  CHECK(caps["referencesProvider"] == true);
  CHECK(caps["documentSymbolProvider"] == true);
  CHECK(caps["documentFormattingProvider"] == true);
  CHECK(c.request("initialize", json::object())["error"]["code"] == -32600);
  CHECK(c.request("workspace/frobnicate", json::object())["error"]["code"] == -32601);
  // Bad params get an error, not a crash.
  CHECK(c.request("textDocument/hover", {{"textDocument", 3}})["error"]["code"] == -32602);
  CHECK(c.request("textDocument/hover", {{"textDocument", {{"uri", c.uri("nope.rules")}}}, {"position", {{"line", 0}, {"character", 0}}}})
            ["error"]["code"] == -32602);
  c.sent.clear();
  c.server->handle("[1,2]");
  REQUIRE(c.sent.size() == 1);
  CHECK(c.sent[0]["error"]["code"] == -32600);
  c.sent.clear();
  c.server->handle("{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":7}}");
  for (const auto& m : c.sent) CHECK(m.value("method", "") == "window/logMessage");  // logged, no response
  c.sent.clear();
  c.server->handle("{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":1}}");
  CHECK(c.sent.empty());
  CHECK(c.request("shutdown", nullptr)["result"].is_null());
  CHECK(c.request("textDocument/hover", json::object())["error"]["code"] == -32600);
  CHECK_FALSE(c.server->exited());
  c.notify("exit", nullptr);
  CHECK(c.server->exited());
  CHECK(c.server->exitCode() == 0);

  Client d;
  d.initialize();
  d.notify("exit", nullptr);
  CHECK(d.server->exited());
  CHECK(d.server->exitCode() == 1);
}

TEST_CASE("lsp diagnostics: located in UTF-16 after CJK text, cleared when fixed", "[lsp]") {
  Client c;
  c.initialize();
  std::string bad = "let label = \"沉睡客户🎁\" + spnd\n";
  json diags = c.open(bad);
  REQUIRE(diags.is_array());
  REQUIRE(diags.size() >= 1);
  const json& d = diags[0];
  CHECK(d["code"] == "E011");
  CHECK(d["severity"] == 1);
  CHECK(d["source"] == "rekindle");
  CHECK_THAT(d["message"].get<std::string>(), Catch::Contains("spnd"));
  auto [line, col] = where(bad, "spnd");
  CHECK(line == 0);
  CHECK(col == 23);  // 12 + 1 + 4 CJK + 2 (surrogate pair) + 1 + 3
  CHECK(d["range"]["start"]["line"] == 0);
  CHECK(d["range"]["start"]["character"] == col);
  CHECK(d["range"]["end"]["character"] == col + 4);

  json fixed = c.change("let label = \"沉睡客户🎁\"\nsegment s when label == \"x\"\n");
  REQUIRE(fixed.is_array());
  for (const auto& x : fixed) CHECK(x["severity"] != 1);

  // Incremental changes: replace "x" with an unknown name.
  c.notify("textDocument/didChange",
           {{"textDocument", {{"uri", c.uri()}, {"version", 3}}},
            {"contentChanges", json::array({{{"range", {{"start", {{"line", 1}, {"character", 24}}}, {"end", {{"line", 1}, {"character", 27}}}}},
                                             {"text", "nme"}}})}});
  json again = c.diagnosticsFor(c.uri());
  REQUIRE(again.size() >= 1);
  CHECK(again[0]["code"] == "E011");
  CHECK(again[0]["range"]["start"] == json{{"line", 1}, {"character", 24}});

  // Syntax errors come with their code too.
  json syntax = c.change("let = 3\n", 4);
  REQUIRE(syntax.size() >= 1);
  CHECK(syntax[0]["code"] == "E001");

  c.notify("textDocument/didClose", {{"textDocument", {{"uri", c.uri()}}}});
  CHECK(c.diagnosticsFor(c.uri()) == json::array());
}

TEST_CASE("lsp diagnostics say so when there is no config, and when it is broken", "[lsp]") {
  Client c(false);
  c.initialize();
  json diags = c.open("let x = 1\n");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0]["code"] == "E050");
  CHECK_THAT(diags[0]["message"].get<std::string>(), Catch::Contains("no rekindle.yaml"));
  // Syntax errors are still reported.
  json syntax = c.change("let x = \n", 2);
  CHECK(syntax.size() == 2);

  // A broken config: its errors on the yaml, and one diagnostic on the rules naming it.
  std::ofstream(c.dir + "/rekindle.yaml") << "customers: [1, 2]\n";
  c.notify("workspace/didChangeWatchedFiles", {{"changes", json::array({{{"uri", pathToUri(c.dir + "/rekindle.yaml")}, {"type", 1}}})}});
  json rules = c.diagnosticsFor(c.uri());
  REQUIRE(rules.size() >= 1);
  bool named = false;
  for (const auto& d : rules) named = named || d["message"].get<std::string>().find("rekindle.yaml") != std::string::npos;
  CHECK(named);
  json yaml = c.diagnosticsFor(pathToUri(c.dir + "/rekindle.yaml"));
  REQUIRE(yaml.is_array());
  CHECK(yaml.size() >= 1);

  // Fixed on disk: re-read on the next change, and the yaml's diagnostics are cleared.
  std::ofstream(c.dir + "/rekindle.yaml") << test::readText(test::sourcePath("tests/conformance/rekindle.yaml"));
  c.notify("workspace/didChangeWatchedFiles", {{"changes", json::array()}});
  CHECK(c.diagnosticsFor(pathToUri(c.dir + "/rekindle.yaml")) == json::array());
  json ok = c.change("let x = 1\nsegment s when x > 0\n", 3);
  for (const auto& d : ok) CHECK(d["severity"] != 1);
}

TEST_CASE("lsp hover shows types and docs", "[lsp]") {
  Client c;
  c.initialize();
  json diags = c.open(kRules);
  for (const auto& d : diags) CHECK(d["severity"] != 1);
  std::string text = kRules;
  auto hoverAt = [&](const std::string& needle, int delta = 1) {
    auto [l, ch] = where(text, needle, delta);
    json r = c.at("textDocument/hover", l, ch);
    REQUIRE(r.is_object());
    return r["contents"]["value"].get<std::string>();
  };
  // A let: its declaration, type and doc comment (at its use and at its declaration).
  std::string let = hoverAt("purchases.amount");
  CHECK_THAT(let, Catch::Contains("let purchases = events where"));
  CHECK_THAT(let, Catch::Contains("events"));
  CHECK_THAT(let, Catch::Contains("Orders that count.\nOnly purchases."));
  CHECK_THAT(hoverAt("orders = count", 0), Catch::Contains("**type** `int`"));
  // Fields: customer (with the config line) and event.
  std::string field = hoverAt("signup_at");
  CHECK_THAT(field, Catch::Contains("customer field signup_at: time"));
  CHECK_THAT(field, Catch::Contains("rekindle.yaml"));
  CHECK_THAT(hoverAt("kind =="), Catch::Contains("event field kind: string"));
  CHECK_THAT(hoverAt("amount)"), Catch::Contains("event field amount: float?"));
  // A param, a built-in, a stage, a channel, an offer, module members.
  CHECK_THAT(hoverAt("dormant_after"), Catch::Contains("param dormant_after = 365d"));
  std::string count = hoverAt("count(");
  CHECK_THAT(count, Catch::Contains("count(xs: list<T>) -> int"));
  CHECK_THAT(count, Catch::Contains("Number of elements."));
  CHECK_THAT(hoverAt("days_since("), Catch::Contains("days_since(t: time) -> int"));
  CHECK_THAT(hoverAt("dormant]"), Catch::Contains("stage dormant"));
  std::string email = hoverAt("email when");
  CHECK_THAT(email, Catch::Contains("channel email"));
  CHECK_THAT(email, Catch::Contains("consent_email"));
  CHECK_THAT(hoverAt("WINBACK20"), Catch::Contains("20% off next order"));
  CHECK_THAT(hoverAt("m >= 5", 0), Catch::Contains("rfm.m() -> int"));
  CHECK_THAT(hoverAt("orders_12m"), Catch::Contains("let orders_12m"));
  CHECK_THAT(hoverAt("rfm.m", 0), Catch::Contains("use std.rfm"));
  CHECK_THAT(hoverAt("stage in"), Catch::Contains("stage"));
  // Nothing under a comment.
  auto [l, ch] = where(text, "# Orders", 3);
  CHECK(c.at("textDocument/hover", l, ch).is_null());
}

TEST_CASE("lsp completion offers what fits the place", "[lsp]") {
  Client c;
  c.initialize();
  c.open(kRules);
  auto completeJson = [&](const std::string& text, const std::string& marker) {
    std::string t = text;
    size_t at = t.find(marker);
    REQUIRE(at != std::string::npos);
    t.erase(at, marker.size());
    c.change(t, c.nextId + 10);
    LineIndex index(t);
    Position p = index.positionOf(at);
    return c.at("textDocument/completion", static_cast<int>(p.line), static_cast<int>(p.character));
  };
  auto complete = [&](const std::string& text, const std::string& marker) { return labels(completeJson(text, marker)); };
  std::string base = kRules;
  // An expression: lets, segments, params, customer fields, built-ins, stages, keywords.
  auto expr = complete(base + "segment s when |\n", "|");
  for (const char* x : {"purchases", "orders", "vip", "dormant_after", "signup_at", "email", "count", "days_since",
                        "events", "fresh", "now", "rfm", "lifecycle"})
    CHECK(has(expr, x));
  CHECK_FALSE(has(expr, "kind"));  // an event field only inside where/streak
  // Inside a where condition (and streak's), event fields.
  auto inWhere = complete(base + "let x = count(events where k|)\n", "|");
  CHECK(has(inWhere, "kind"));
  CHECK(has(inWhere, "amount"));
  CHECK(has(inWhere, "at"));
  auto inStreak = complete(base + "let x = streak(events, op|)\n", "|");
  CHECK(has(inStreak, "opened"));
  auto afterWhere = complete(base + "let x = count(events where kind == \"a\") + |\n", "|");
  CHECK_FALSE(has(afterWhere, "kind"));
  // Channels after `channel ==` and in channel rows; offers in offer rows; stages after stage ==.
  auto channels = complete(base + "segment s when channel == |\n", "|");
  CHECK(has(channels, "email"));
  CHECK(has(channels, "sms"));
  CHECK(has(channels, "none"));
  CHECK_FALSE(has(channels, "count"));
  auto inList = complete(base + "segment s when channel in [email, |]\n", "|");
  CHECK(has(inList, "push"));
  auto stages = complete(base + "segment s when stage != |\n", "|");
  CHECK(has(stages, "dormant"));
  CHECK(has(stages, "lost"));
  std::string rows = base;
  size_t chRow = rows.find("  none  otherwise\nend\n\noffer");
  rows.insert(chRow, "  |\n");
  auto channelRow = complete(rows, "|");
  CHECK(has(channelRow, "sms"));
  CHECK(has(channelRow, "end"));
  std::string offerRows = base;
  offerRows.insert(offerRows.find("  none      otherwise"), "  F|\n");
  auto offerRow = complete(offerRows, "|");
  CHECK(has(offerRow, "FREESHIP"));
  CHECK(has(offerRow, "BOGO_YEAR"));
  // Module members after the dot.
  auto rfm = complete(base + "segment s when rfm.|\n", "|");
  CHECK(has(rfm, "r"));
  CHECK(has(rfm, "segment"));
  auto lifecycle = complete(base + "segment s when lifecycle.|\n", "|");
  CHECK(has(lifecycle, "idle"));
  CHECK(has(lifecycle, "orders_12m"));
  auto projection = complete(base + "let x = purchases.|\n", "|");
  CHECK(has(projection, "amount"));
  auto uses = complete("use std.|\n" + base, "|");
  CHECK(has(uses, "lifecycle"));
  // The start of a declaration: keywords.
  auto decl = complete(base + "\nse|\n", "|");
  CHECK(has(decl, "segment"));
  CHECK(has(decl, "let"));
  // Built-ins carry their signature.
  json items = completeJson(base + "segment s when c|\n", "|")["items"];
  bool signature = false;
  for (const auto& i : items)
    if (i["label"] == "count") signature = i["detail"].get<std::string>().find("count(xs: list<T>) -> int") != std::string::npos;
  CHECK(signature);
  // With a syntax error further up, names still come (from the partial tree or the last good one).
  auto broken = complete("let = \n" + base + "segment s when |\n", "|");
  CHECK(has(broken, "purchases"));
  // Nothing in a comment or a string.
  CHECK(complete(base + "# a comment |\n", "|").empty());
  CHECK(complete(base + "let x = \"abc|\"\n", "|").empty());
  auto holiday = complete(base + "let x = holiday(\"|\")\n", "|");
  CHECK(has(holiday, "mid_autumn"));
}

TEST_CASE("lsp definition and references", "[lsp]") {
  Client c;
  c.initialize();
  c.open(kRules);
  std::string text = kRules;
  // A let, from its use to its declaration.
  auto [l, ch] = where(text, "purchases.amount", 2);
  json def = c.at("textDocument/definition", l, ch);
  REQUIRE(def.is_object());
  CHECK(def["uri"] == c.uri());
  auto [dl, dc] = where(text, "purchases = events");
  CHECK(def["range"]["start"] == json{{"line", dl}, {"character", dc}});
  CHECK(def["range"]["end"] == json{{"line", dl}, {"character", dc + 9}});
  // A cursor just after the word works too.
  auto [l2, ch2] = where(text, "purchases.amount", 9);
  CHECK(c.at("textDocument/definition", l2, ch2) == def);
  // A stage, used in a channel row.
  auto [sl, sc] = where(text, "dormant]");
  json stageDef = c.at("textDocument/definition", sl, sc);
  auto [rl, rc] = where(text, "dormant  when");
  CHECK(stageDef["range"]["start"] == json{{"line", rl}, {"character", rc}});
  // A customer field: into rekindle.yaml.
  auto [fl, fc] = where(text, "signup_at");
  json field = c.at("textDocument/definition", fl, fc);
  REQUIRE(field.is_object());
  CHECK(field["uri"] == pathToUri(c.dir + "/rekindle.yaml"));
  std::string yaml = test::readText(c.dir + "/rekindle.yaml");
  auto [yl, yc] = where(yaml, "signup_at:");
  CHECK(field["range"]["start"] == json{{"line", yl}, {"character", yc}});
  // A channel, into the yaml too.
  auto [cl, cc] = where(text, "email when");
  json channel = c.at("textDocument/definition", cl, cc);
  REQUIRE(channel.is_object());
  auto [yl2, yc2] = where(yaml, "email: {");
  CHECK(channel["range"]["start"] == json{{"line", yl2}, {"character", yc2}});
  // A built-in has no definition.
  auto [bl, bc] = where(text, "count(");
  CHECK(c.at("textDocument/definition", bl, bc).is_null());

  // References of `purchases`: two uses (orders, spend), plus the declaration when asked.
  auto [pl, pc] = where(text, "purchases = events");
  json refs = c.at("textDocument/references", pl, pc, {{"context", {{"includeDeclaration", false}}}});
  REQUIRE(refs.is_array());
  CHECK(refs.size() == 2);
  json withDecl = c.at("textDocument/references", pl, pc, {{"context", {{"includeDeclaration", true}}}});
  CHECK(withDecl.size() == 3);
  CHECK(withDecl[0]["range"]["start"] == json{{"line", pl}, {"character", pc}});
  // A param used once; a stage used twice.
  auto [ql, qc] = where(text, "dormant_after");
  CHECK(c.at("textDocument/references", ql, qc, {{"context", {{"includeDeclaration", false}}}}).size() == 0);
  json stageRefs = c.at("textDocument/references", sl, sc, {{"context", {{"includeDeclaration", false}}}});
  CHECK(stageRefs.size() == 2);  // the channel row and the offer row
}

TEST_CASE("lsp document symbols list declarations and table rows", "[lsp]") {
  Client c;
  c.initialize();
  c.open(kRules);
  json r = c.request("textDocument/documentSymbol", {{"textDocument", {{"uri", c.uri()}}}})["result"];
  REQUIRE(r.is_array());
  std::vector<std::string> names;
  for (const auto& s : r) names.push_back(s["name"].get<std::string>());
  for (const char* x : {"rules demo", "rfm", "lifecycle", "dormant_after", "purchases", "orders", "spend", "vip", "stage",
                        "channel", "offer"})
    CHECK(has(names, x));
  for (const auto& s : r) {
    if (s["name"] == "purchases") {
      CHECK(s["kind"] == 13);
      CHECK(s["detail"] == "events");
    }
    if (s["name"] == "stage") {
      REQUIRE(s["children"].size() == 4);
      CHECK(s["children"][0]["name"] == "fresh");
      CHECK(s["children"][0]["detail"] == "when orders == 0");
      CHECK(s["children"][3]["detail"] == "otherwise");
    }
  }
}

TEST_CASE("lsp formatting replaces the document with formatRules' text", "[lsp]") {
  Client c;
  c.initialize();
  std::string messy = "let   a =1\nsegment  s when a>0\n";
  c.open(messy);
  json r = c.request("textDocument/formatting", {{"textDocument", {{"uri", c.uri()}}}, {"options", {{"tabSize", 2}, {"insertSpaces", true}}}})["result"];
  std::vector<Diagnostic> diags;
  auto expected = formatRules(SourceFile(c.dir + "/test.rules", messy), diags);
  REQUIRE(expected);
  if (*expected == messy) {
    CHECK(r == json::array());
  } else {
    REQUIRE(r.size() == 1);
    CHECK(r[0]["range"]["start"] == json{{"line", 0}, {"character", 0}});
    CHECK(r[0]["range"]["end"] == json{{"line", 2}, {"character", 0}});
    CHECK(r[0]["newText"] == *expected);
  }
  // A file that does not parse is left alone.
  c.change("let = = 1\n");
  json none = c.request("textDocument/formatting", {{"textDocument", {{"uri", c.uri()}}}, {"options", json::object()}})["result"];
  std::vector<Diagnostic> d2;
  if (!formatRules(SourceFile("x.rules", "let = = 1\n"), d2)) CHECK(none.is_null());
}
