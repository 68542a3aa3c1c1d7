// Turns a raw sample into a report: names native addresses, names JS frames from the code
// map (withholding any name it cannot prove), and merges both into one stack. Runs on the
// reporter thread only.
#pragma once

#include <string>

#include "capture_slot.h"
#include "code_map.h"
#include "report.h"
#include "symbolize.h"

namespace stallwatch {

struct ThreadIdentity {
  int thread_id = 0;
  std::string thread_name;
  int64_t tid = 0;
  int64_t pid = 0;
};

// `sample` may be null (no stack could be taken); `watchdog_partial` says why.
Report BuildReport(const RawSample* sample, const ThreadIdentity& thread, const CodeMap& code_map,
                   NativeSymbolizer& symbolizer, double blocked_ms, double captured_at_ms,
                   const std::string& watchdog_partial, int max_frames);

// How many JS frames the sample's native walk crossed (interpreter entries and JIT code of JS
// functions, known to the code map or not). Bounds an exact stack merged into a sample that
// has no JS frames of its own (see MergeExactJsFrames).
size_t CountWalkJsFrames(const RawSample& sample, const CodeMap& code_map, NativeSymbolizer& symbolizer);

// The JS frames missing from a GC-only (or state-other) sample were recovered: remove that note.
void DropGcOnlyNote(Report& report);

// Appends a sentence to a report's `partial`.
void AddPartial(Report& report, const std::string& sentence);

// Keeps at most `max_frames` frames (the outermost go), saying so in `partial` once. Also after
// the exact stack was merged in: its inlined frames add to the sample's physical ones.
void CapFrames(Report& report, int max_frames);

}  // namespace stallwatch
