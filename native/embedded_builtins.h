// Names the builtins V8 runs from its own copy of the embedded blob.
//
// V8 builds its builtins into the node binary (the "embedded blob"). On x64 with enough memory
// it also copies the blob into each isolate's code range and runs it from there, so calls
// between JIT code and builtins stay short. V8 12+ (Node 22+) then reports the copy (in
// Isolate::GetEmbeddedCodeRange and in its code events), and the code map names it as it names
// any code. V8 10-11 (Node 18-20) report only the binary's addresses while the frames run in the
// copy, which no module holds and no code event named: a builtin with JS linkage
// (String.prototype.repeat, Array.prototype.indexOf) showed up as an unnamed JS frame, and its
// report as partial. This finds the copy in the isolate's code range and proves it is one (the
// same bytes as the binary's blob, all of them); only then does the code map name it after the
// original.
#pragma once

namespace v8 {
class Isolate;
}

namespace stallwatch {

class CodeMap;

// JS thread, once per isolate. True when a copy was found and proven, and `map` now names it;
// false when the isolate runs its builtins where the code events name them, or no copy could
// be proven (its frames then stay unnamed, and each report meeting one says so in `partial`).
bool NameCopiedBuiltins(v8::Isolate* isolate, CodeMap& map);

}  // namespace stallwatch
