// Report <-> JS object conversion (the BlockReport / UnblockedEvent shapes of lib/report.ts).
#pragma once

#include <napi.h>

#include "report.h"

namespace stallwatch {

// Raw N-API with every status checked: these run from a thread-safe function's callback,
// which Node may still invoke while a worker tears down and JS can no longer run
// (napi_cannot_run_js / napi_closing). They return nullptr instead of throwing then, where
// node-addon-api without C++ exceptions would abort the process.
napi_value ReportToJs(napi_env env, const Report& report, uint32_t suppressed);
napi_value UnblockedToJs(napi_env env, const UnblockedEvent& event);
napi_value StarvationToJs(napi_env env, const StarvationReport& report);
// dumpThreads()'s result: { pid, capturedAt, threads, partial? }.
napi_value ThreadDumpToJs(napi_env env, const ThreadDump& dump);
// Reads a ThreadDump-shaped object (dumpThreads()'s result), for formatThreadDump().
ThreadDump ThreadDumpFromJs(const Napi::Object& object);
// Read an UnblockedEvent / StarvationReport-shaped object (a listener's, or a JSON log line).
UnblockedEvent UnblockedFromJs(const Napi::Object& object);
StarvationReport StarvationFromJs(const Napi::Object& object);
// Reads a BlockReport-shaped object (as produced by ReportToJs or parsed from a JSON log).
// Unknown or missing fields take their defaults; throws a TypeError for a non-object.
Report ReportFromJs(const Napi::Object& object);

}  // namespace stallwatch
