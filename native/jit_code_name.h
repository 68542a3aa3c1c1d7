// Reads a V8 JIT code event's name (v8::JitCodeEvent::name) back into the fields a code map
// keeps: kind, function name, script, line, column. Pure text work, no V8: unit-tested alone.
//
// Why parse text at all: from V8 11 on, the other source of names, v8::CodeEventHandler, can
// crash the process (see code_events.cc), and the JIT event carries the same facts in one
// string, which V8 builds (CodeEventLogger, log.cc) as
//   <tag> ":" <comment>                                          builtins, stubs, regexps, ...
//   <tag> ":" <marker> <debug name> " " <script> ":" <line> ":" <column>    JS functions
//   <tag> ":" <marker> " " <script>                              a top-level script, replayed
// where <marker> is one of "~" (bytecode), "^" (Sparkplug), "+" (Maglev), "*" (TurboFan), on
// V8 13 "+'" or "*'" (code specialized to its function's context), or empty (bytecode of a
// function whose optimization is disabled, or builtin code). The script's
// name may hold spaces and colons, so where it starts is found from its length, which the
// caller reads from the script (UnboundScript::GetScriptName, String::Length: no allocation).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "code_map.h"

namespace stallwatch {

struct JitCodeName {
  CodeKind kind = CodeKind::kOther;
  std::string name;    // the function's debug name, builtin or stub name, or regexp source
  std::string script;  // JS functions with a script only
  int line = 0;        // 1-based, 0 when the name carries none
  int column = 0;
  // False when the text did not have the shape above (truncated by V8 at 4096 bytes, say): then
  // name and script are empty, never a guess.
  bool parsed = false;
};

// `script_length`: the script name's length in UTF-16 code units (String::Length()), or
// kNoScript when the event has no script (event->script empty).
constexpr size_t kNoScript = static_cast<size_t>(-1);
JitCodeName ParseJitCodeName(std::string_view text, size_t script_length);

}  // namespace stallwatch
