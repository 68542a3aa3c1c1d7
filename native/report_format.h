// Renders reports for the log and for formatReport(). Both formats are public contracts,
// specified in docs/log-format.md; change them only together with that document.
//
// These run on the reporter thread while the monitored thread may be deadlocked, possibly
// holding locks of its own: they allocate, but take no locks besides the allocator's, call
// no V8 or libuv API and are never run in a signal handler.
#pragma once

#include <string>

#include "report.h"

namespace stallwatch {

// The text log: a header line, optional "partial"/"suppressed" lines, one line per shown
// frame, then exactly one blank line (the result ends with "\n\n").
std::string FormatReportText(const Report& r);
// One JSON object with the keys of the TypeScript BlockReport plus "event":"blocked",
// on one line ending with "\n".
std::string FormatReportJson(const Report& r);

std::string FormatUnblockedText(const UnblockedEvent& e);
std::string FormatUnblockedJson(const UnblockedEvent& e);

// starvationMs: header `stallwatch: <thread> (tid <tid>) starved: waited <ms> ms with <n>
// requests in flight and no I/O event, at <time>`, then every thread's stack.
std::string FormatStarvationText(const StarvationReport& r);
std::string FormatStarvationJson(const StarvationReport& r);
// dumpThreads() as text (formatThreadDump()).
std::string FormatThreadDumpText(const ThreadDump& dump);

// Index in r.frames of the innermost frame of the application's own code (JS outside
// node's built-ins and stallwatch, or native code outside node and system libraries), or -1.
int FindCulprit(const Report& r);

}  // namespace stallwatch
