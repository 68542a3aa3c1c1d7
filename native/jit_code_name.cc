#include "jit_code_name.h"

namespace stallwatch {
namespace {

// V8's code tags as its logger writes them (CODE_TYPE_LIST in code-events.h: "JS" for functions
// and "IC" for handlers from V8 11 on, older spellings kept), mapped as v8::CodeEventHandler's
// types are in V8 10.
CodeKind KindOfTag(std::string_view tag) {
  if (tag == "JS" || tag == "Eval" || tag == "Script" || tag == "Function" || tag == "NativeFunction" ||
      tag == "NativeScript" || tag == "LazyCompile" || tag == "NativeLazyCompile") {
    return CodeKind::kJsFunction;
  }
  if (tag == "Builtin" || tag == "BytecodeHandler" || tag == "IC" || tag == "Handler" || tag == "Stub") return CodeKind::kBuiltin;
  if (tag == "RegExp") return CodeKind::kRegExp;
  return CodeKind::kOther;
}

constexpr size_t kV8NameBufferSize = 4096;  // CodeEventLogger::NameBuffer::kUtf8BufferSize

// A tier marker: "~" bytecode, "^" Sparkplug, "+" Maglev, "*" TurboFan; V8 13 adds "'" after
// "+" and "*" for code specialized to its function's context ("*'").
void StripMarker(std::string_view* text) {
  if (text->empty()) return;
  const char c = text->front();
  if (c != '~' && c != '^' && c != '+' && c != '*') return;
  text->remove_prefix(1);
  if ((c == '+' || c == '*') && !text->empty() && text->front() == '\'') text->remove_prefix(1);
}

// Parses a decimal int of 1..9 digits ending at text[end - 1]; returns where it starts, or npos.
size_t TrailingInt(std::string_view text, size_t end, int* value) {
  size_t start = end;
  while (start > 0 && end - start < 9 && text[start - 1] >= '0' && text[start - 1] <= '9') --start;
  if (start == end) return std::string_view::npos;
  int v = 0;
  for (size_t i = start; i < end; ++i) v = v * 10 + (text[i] - '0');
  *value = v;
  return start;
}

// Steps back over `units` UTF-16 code units of UTF-8 text ending at `end` (V8 writes names as
// UTF-8; a 4-byte sequence is a surrogate pair, two units). Returns the byte where they start,
// or npos when the text is shorter or not UTF-8 there.
size_t BackUtf16Units(std::string_view text, size_t end, size_t units) {
  size_t pos = end;
  while (units > 0) {
    if (pos == 0) return std::string_view::npos;
    size_t start = pos - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && pos - start < 4) --start;
    const unsigned char lead = static_cast<unsigned char>(text[start]);
    const size_t bytes = pos - start;
    const size_t expected = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (expected != bytes) return std::string_view::npos;
    const size_t width = bytes == 4 ? 2 : 1;
    if (width > units) return std::string_view::npos;
    units -= width;
    pos = start;
  }
  return pos;
}

// "<marker><debug name> <script>" with the script `script_length` units long: splits it.
bool SplitFunction(std::string_view head, size_t script_length, JitCodeName* out) {
  const size_t script_start = BackUtf16Units(head, head.size(), script_length);
  if (script_start == std::string_view::npos || script_start == 0 || head[script_start - 1] != ' ') return false;
  std::string_view prefix = head.substr(0, script_start - 1);
  // A debug name that itself begins with a marker character (only a quoted or computed property
  // key can: { '~x'() {} }) would lose that character here when its code has no marker (or a
  // "'" after "+" or "*" when the code is not context-specialized): the text cannot tell the
  // two apart. Every other name is exact.
  StripMarker(&prefix);
  out->name.assign(prefix);
  out->script.assign(head.substr(script_start));
  return true;
}

}  // namespace

JitCodeName ParseJitCodeName(std::string_view text, size_t script_length) {
  JitCodeName out;
  // V8 cuts names at its 4096-byte buffer: a name that long may have lost its end.
  if (text.size() >= kV8NameBufferSize) return out;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return out;
  out.kind = KindOfTag(text.substr(0, colon));
  const std::string_view rest = text.substr(colon + 1);
  if (out.kind != CodeKind::kJsFunction) {
    out.name.assign(rest);
    out.parsed = true;
    return out;
  }
  // JS code: "... <script>:<line>:<column>", or, for a replayed top-level script, "... <script>".
  int line = 0;
  int column = 0;
  const size_t column_start = TrailingInt(rest, rest.size(), &column);
  size_t line_start = std::string_view::npos;
  if (column_start != std::string_view::npos && column_start > 0 && rest[column_start - 1] == ':') {
    line_start = TrailingInt(rest, column_start - 1, &line);
  }
  const bool positioned = line_start != std::string_view::npos && line_start > 0 && rest[line_start - 1] == ':';
  if (script_length == kNoScript) {
    // No script (a Wasm function, or code replayed without one): the name is the rest, minus a
    // position after an empty script name.
    std::string_view name = rest;
    if (positioned && line_start >= 2 && rest[line_start - 2] == ' ') name = rest.substr(0, line_start - 2);
    StripMarker(&name);
    out.name.assign(name);
    out.parsed = true;
    return out;
  }
  if (positioned && SplitFunction(rest.substr(0, line_start - 1), script_length, &out)) {
    out.line = line;
    out.column = column;
    out.parsed = true;
    return out;
  }
  // The top-level shape: nothing but a marker before the script (its debug name is empty).
  if (SplitFunction(rest, script_length, &out) && out.name.empty()) {
    out.parsed = true;
    return out;
  }
  out.name.clear();
  out.script.clear();
  return out;
}

}  // namespace stallwatch
