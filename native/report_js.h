// Report <-> JS object conversion (the BlockReport / UnblockedEvent shapes of lib/report.ts).
#pragma once

#include <napi.h>

#include "report.h"

namespace stallwatch {

Napi::Object ReportToJs(Napi::Env env, const Report& report, uint32_t suppressed);
Napi::Object UnblockedToJs(Napi::Env env, const UnblockedEvent& event);
// Reads a BlockReport-shaped object (as produced by ReportToJs or parsed from a JSON log).
// Unknown or missing fields take their defaults; throws a TypeError for a non-object.
Report ReportFromJs(const Napi::Object& object);

}  // namespace stallwatch
