#include "stack_merge.h"

#include <utility>

namespace stallwatch {
namespace {

bool Compatible(const NativeEntry& entry, const SampledJsFrame& js) {
  if (!js.native_symbol.empty()) return false;
  // Both sides know the code object: they must agree. An interpreter entry (or JIT code the
  // map does not know) cannot be checked and is taken in order.
  return entry.code_start == 0 || js.code_start == 0 || entry.code_start == js.code_start;
}

std::vector<Frame> PlaceAsBlock(const std::vector<NativeEntry>& native, const std::vector<SampledJsFrame>& js) {
  std::vector<Frame> out;
  bool placed = false;
  auto place = [&] {
    for (const SampledJsFrame& j : js) {
      if (j.native_symbol.empty()) out.push_back(j.frame);
    }
    placed = true;
  };
  for (const NativeEntry& entry : native) {
    if (entry.role == NativeEntry::Role::kJsCode) {
      if (!placed) place();
      continue;
    }
    out.push_back(entry.frame);
  }
  if (!placed) place();
  return out;
}

bool SameFunction(const Frame& sampled, const Frame& exact) {
  if (sampled.name.empty()) return true;  // a withheld name matches any frame
  return sampled.name == exact.name && sampled.file == exact.file;
}

// One alignment attempt. `skip_first_js_code`: the walk's innermost JS-code entry is taken as
// V8 code (the walk caught a frame being set up that the sample does not show);
// `lead_js`: the sample's innermost JS frame has no twin in the walk and goes right before the
// first JS-code entry (the sample shows a frame the walk missed); `native_cut`: sampled frames
// left over at the end are beyond the walk's cut, not a disagreement. Returns false if unaligned.
bool AlignOnce(const std::vector<NativeEntry>& native, const std::vector<SampledJsFrame>& js, bool native_cut,
               bool skip_first_js_code, bool lead_js, std::vector<Frame>* out) {
  out->clear();
  size_t j = 0;
  bool skipped = false;
  bool led = false;
  for (const NativeEntry& entry : native) {
    if (entry.role == NativeEntry::Role::kJsCode) {
      // Sampled frames that are native code and found no twin are dropped: the walk shows
      // that code itself.
      while (j < js.size() && !js[j].native_symbol.empty()) ++j;
      if (skip_first_js_code && !skipped) {
        skipped = true;
        out->push_back(entry.frame);
        continue;
      }
      if (lead_js && !led) {
        led = true;
        if (j >= js.size()) return false;
        out->push_back(js[j++].frame);
        while (j < js.size() && !js[j].native_symbol.empty()) ++j;
      }
      // Unknown generated code is not the next JS frame if that frame's code is known (it
      // would have been found in the map too): it is V8's own, shown as such.
      if (entry.unknown_code && (j == js.size() || js[j].code_start != 0)) {
        out->push_back(entry.frame);
        continue;
      }
      if (j < js.size() && Compatible(entry, js[j])) {
        out->push_back(js[j++].frame);
        continue;
      }
      return false;
    }
    if (j < js.size() && !js[j].native_symbol.empty() && js[j].native_symbol == entry.frame.name) ++j;
    out->push_back(entry.frame);
  }
  while (j < js.size() && !js[j].native_symbol.empty()) ++j;
  // Sampled frames left over lie beyond a cut walk; without a cut, the views disagree.
  return (j == js.size() || native_cut) && (!skip_first_js_code || skipped) && (!lead_js || led);
}

bool SameStack(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].name != b[i].name || a[i].address != b[i].address) return false;
  }
  return true;
}

// Whether C or C++ code sits above the walk's innermost JS-code entry: then that JS frame
// called out and is fully set up, and no frame is being entered or left at that end.
bool CalledOutOfJs(const std::vector<NativeEntry>& native) {
  for (const NativeEntry& entry : native) {
    if (entry.role == NativeEntry::Role::kJsCode) return false;
    if (entry.role == NativeEntry::Role::kNative) return true;
  }
  return false;
}

}  // namespace

std::vector<Frame> MergeStacks(const std::vector<NativeEntry>& native, const std::vector<SampledJsFrame>& js,
                               bool native_cut, bool* interleaved) {
  // The signal can land while the innermost JS frame is being entered or left, when one view
  // has one frame more than the other at that end; nowhere else may they differ. Three
  // readings, of which the frame counts of the two views leave one. A cut walk drops the
  // sample's outer frames, and with them that count: a reading is then taken only if every
  // reading that aligns gives the same stack, and when C++ sits above the innermost JS frame
  // (nothing was being entered or left), the plain one is the only reading.
  const bool innermost_race = !native_cut || !CalledOutOfJs(native);
  std::vector<Frame> out;
  std::vector<Frame> other;
  bool found = false;
  bool ambiguous = false;
  for (const auto& [skip, lead] : {std::pair{false, false}, std::pair{true, false}, std::pair{false, true}}) {
    if ((skip || lead) && !innermost_race) break;
    if (!AlignOnce(native, js, native_cut, skip, lead, found ? &other : &out)) continue;
    if (!native_cut) {
      found = true;
      break;
    }
    if (found && !SameStack(out, other)) ambiguous = true;
    found = true;
  }
  *interleaved = found && !ambiguous;
  return *interleaved ? out : PlaceAsBlock(native, js);
}

bool MergeExactJsFrames(std::vector<Frame>& frames, const std::vector<Frame>& exact, size_t walk_js_frames) {
  if (exact.empty()) return false;
  std::vector<size_t> positions;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].kind == FrameKind::kJs) positions.push_back(i);
  }
  if (positions.empty()) {
    // The sample had no JS frames (it landed in GC): they go where V8 code starts, if the
    // exact stack is at least as deep as the JS the walk crossed.
    if (walk_js_frames == 0 || exact.size() < walk_js_frames) return false;
    size_t at = 0;
    while (at < frames.size() && frames[at].kind != FrameKind::kV8) ++at;
    frames.insert(frames.begin() + static_cast<long>(at), exact.begin(), exact.end());
    return true;
  }
  // Match sampled frames to exact ones from the outermost inwards.
  if (!SameFunction(frames[positions.back()], exact.back())) return false;
  std::vector<size_t> match(positions.size());
  size_t e = exact.size();
  for (size_t k = positions.size(); k-- > 0;) {
    const Frame& sampled = frames[positions[k]];
    while (e > 0 && !SameFunction(sampled, exact[e - 1])) --e;
    if (e == 0) return false;
    match[k] = --e;
  }
  std::vector<Frame> out;
  out.reserve(frames.size() + exact.size());
  size_t next_exact = 0;
  size_t k = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (k < positions.size() && positions[k] == i) {
      // Inlined frames (no sampled twin) sit innermost of the physical frame they belong to.
      for (; next_exact < match[k]; ++next_exact) out.push_back(exact[next_exact]);
      Frame merged = exact[match[k]];
      merged.function_line = frames[i].function_line;
      merged.address = frames[i].address;
      if (merged.name.empty()) merged.name = frames[i].name;
      out.push_back(std::move(merged));
      next_exact = match[k] + 1;
      ++k;
      continue;
    }
    out.push_back(frames[i]);
  }
  frames = std::move(out);
  return true;
}

}  // namespace stallwatch
