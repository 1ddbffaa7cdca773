// The decision pass: one customer at a time, in input order.
#include "rekindle/runtime/engine.h"

namespace rekindle {

std::string outcomeLabel(const Executable& exe, TableKind k, const Value& v) {
  if (v.isNull()) return "";
  return exe.outcomeName(k, v.i);
}

bool runDecisions(const Executable& exe, const Dataset& data, const RunClock& clock, DecisionSink& sink,
                  RunSummary& summary, std::string& error) {
  const Program& prog = exe.program();
  Evaluator ev(exe, data, clock);
  Decision d;
  for (uint32_t c = 0; c < data.customerCount; ++c) {
    ev.begin(c);
    d = Decision();
    d.customer = c;
    // Dependencies first, as the compiler ordered them; memoisation makes the order safe.
    for (uint8_t t : prog.decisionOrder) ev.decision(static_cast<TableKind>(t));
    for (int t = 0; t < kTableCount; ++t) {
      if (!prog.tables[t].present) continue;
      Value v = ev.decision(static_cast<TableKind>(t));
      d.row[t] = ev.decidedRow(static_cast<TableKind>(t));
      if (t == 0) d.stage = v;
      if (t == 1) d.channel = v;
      if (t == 2) d.offer = v;
    }
    d.segments.resize(prog.segments.size());
    for (uint32_t s = 0; s < prog.segments.size(); ++s) d.segments[s] = ev.segment(s).isTrue();
    if (!ev.fault().empty()) {
      error = ev.fault() + " (customer '" + data.customerId(c) + "')";
      return false;
    }
    d.send = !d.channel.isNull() && d.channel.i != kNoOutcome;
    if (d.send) d.sendAt = clock.now;

    ++summary.customers;
    if (d.send) ++summary.sends;
    ++summary.stageChannel[{outcomeLabel(exe, TableKind::Stage, d.stage), outcomeLabel(exe, TableKind::Channel, d.channel)}];
    std::string offer = outcomeLabel(exe, TableKind::Offer, d.offer);
    if (prog.tables[2].present) ++summary.offers[offer];
    if (!d.offer.isNull() && d.offer.i != kNoOutcome) summary.offerCost += exe.config().offers[exe.configOffer(static_cast<int32_t>(d.offer.i))].cost;
    for (uint32_t s = 0; s < prog.segments.size(); ++s)
      if (d.segments[s]) ++summary.segments[prog.segments[s].name];
    sink.write(d);
  }
  return true;
}

}  // namespace rekindle
