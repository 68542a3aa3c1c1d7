// sources: jit_code_name.cc
// ParseJitCodeName on the shapes V8's CodeEventLogger writes (jit_code_name.h), including script
// names with spaces, colons and non-ASCII characters, and text it must refuse rather than guess.
#include <cstdio>
#include <string>

#include "jit_code_name.h"

using namespace stallwatch;

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

// UTF-16 length of ASCII or BMP text written as UTF-8, as String::Length() reports it.
size_t Utf16Length(const std::string& utf8) {
  size_t units = 0;
  for (size_t i = 0; i < utf8.size();) {
    const unsigned char c = static_cast<unsigned char>(utf8[i]);
    const size_t bytes = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    units += bytes == 4 ? 2 : 1;
    i += bytes;
  }
  return units;
}

void ExpectFunction(const std::string& text, const std::string& script, const std::string& name, int line, int column) {
  JitCodeName n = ParseJitCodeName(text, Utf16Length(script));
  Check(n.parsed && n.kind == CodeKind::kJsFunction && n.name == name && n.script == script && n.line == line && n.column == column,
        "'" + text + "' -> name '" + n.name + "' script '" + n.script + "' " + std::to_string(n.line) + ":" + std::to_string(n.column) +
            (n.parsed ? "" : " (not parsed)"));
}

void TestFunctions() {
  ExpectFunction("JS:~spin /app/server.js:12:5", "/app/server.js", "spin", 12, 5);
  ExpectFunction("JS:*hot /app/a.js:3:14", "/app/a.js", "hot", 3, 14);
  ExpectFunction("JS:^warm /app/a.js:1:1", "/app/a.js", "warm", 1, 1);
  ExpectFunction("JS:+mid /app/a.js:7:2", "/app/a.js", "mid", 7, 2);
  // V8 13: context-specialized optimized code.
  ExpectFunction("JS:*'culprit /app/a.js:23:17", "/app/a.js", "culprit", 23, 17);
  ExpectFunction("JS:+'mid /app/a.js:7:2", "/app/a.js", "mid", 7, 2);
  ExpectFunction("JS:~'quoted /app/a.js:7:2", "/app/a.js", "'quoted", 7, 2);  // "'" follows + and * only
  // Optimization disabled: no marker.
  ExpectFunction("JS:plain /app/a.js:7:2", "/app/a.js", "plain", 7, 2);
  // Names with spaces (accessors, string keys) and script names with spaces and colons.
  ExpectFunction("JS:~get size /Users/Jane Doe/app/m.js:40:9", "/Users/Jane Doe/app/m.js", "get size", 40, 9);
  ExpectFunction("JS:~a b c:1:2 x:3:4:5:6", "x:3:4", "a b c:1:2", 5, 6);
  ExpectFunction("JS:~ /app/a.js:1:1", "/app/a.js", "", 1, 1);  // anonymous
  ExpectFunction("JS:~[Symbol.iterator] node:internal/streams:100:20", "node:internal/streams", "[Symbol.iterator]", 100, 20);
  // Non-ASCII: a 3-byte character is one unit, a 4-byte one (outside the BMP) two.
  ExpectFunction("JS:~grüße /tmp/çà ü.js:2:3", "/tmp/çà ü.js", "grüße", 2, 3);
  ExpectFunction("JS:~f /tmp/\xF0\x9F\x98\x80.js:2:3", "/tmp/\xF0\x9F\x98\x80.js", "f", 2, 3);
  // An empty script name (eval, new Function).
  ExpectFunction("JS:~evaluated :1:10", "", "evaluated", 1, 10);
  ExpectFunction("Eval:~ :1:1", "", "", 1, 1);
  ExpectFunction("Function:~older /app/a.js:2:2", "/app/a.js", "older", 2, 2);  // the tag before V8 11
  // A replayed top-level script: no position.
  ExpectFunction("Script:~ /app/main.js", "/app/main.js", "", 0, 0);
  ExpectFunction("Script: /app/with space.js", "/app/with space.js", "", 0, 0);
}

void TestOthers() {
  JitCodeName b = ParseJitCodeName("Builtin:StringPrototypeRepeat", kNoScript);
  Check(b.parsed && b.kind == CodeKind::kBuiltin && b.name == "StringPrototypeRepeat" && b.script.empty(), "a builtin");
  JitCodeName h = ParseJitCodeName("BytecodeHandler:Wide.Add", kNoScript);
  Check(h.parsed && h.kind == CodeKind::kBuiltin && h.name == "Wide.Add", "a bytecode handler");
  JitCodeName r = ParseJitCodeName("RegExp:^(a+)+$ x:1:2", kNoScript);
  Check(r.parsed && r.kind == CodeKind::kRegExp && r.name == "^(a+)+$ x:1:2", "a regexp keeps its whole source");
  JitCodeName ic = ParseJitCodeName("IC:LoadIC", kNoScript);
  Check(ic.parsed && ic.kind == CodeKind::kBuiltin && ic.name == "LoadIC", "an inline cache handler");
  JitCodeName c = ParseJitCodeName("Callback:get length", kNoScript);
  Check(c.parsed && c.kind == CodeKind::kOther && c.name == "get length", "a callback");
  JitCodeName w = ParseJitCodeName("JS:A Wasm function", kNoScript);
  Check(w.parsed && w.kind == CodeKind::kJsFunction && w.name == "A Wasm function" && w.script.empty(), "code of a function without a script");
  JitCodeName ns = ParseJitCodeName("JS:~noScript :4:2", kNoScript);
  Check(ns.parsed && ns.name == "noScript", "no script, an empty script name and a position");
}

void TestRefusals() {
  // Script longer than the text, no space before the script, no tag, V8's truncated names.
  Check(!ParseJitCodeName("JS:~f /a.js:1:2", 40).parsed, "a script name longer than the text");
  Check(!ParseJitCodeName("JS:~f/a.js:1:2", Utf16Length("/a.js")).parsed, "no space before the script");
  Check(!ParseJitCodeName("no tag at all", kNoScript).parsed, "no tag");
  std::string long_name = "JS:~" + std::string(5000, 'x') + " /a.js:1:2";
  Check(!ParseJitCodeName(long_name.substr(0, 4096), Utf16Length("/a.js")).parsed, "a name V8 cut at 4096 bytes");
  // A cut name that ends in something like a position but is no top-level script.
  Check(!ParseJitCodeName("JS:~f /a.js", Utf16Length("/a.js")).parsed, "a function without its position");
  // Broken UTF-8 where the script should be.
  Check(!ParseJitCodeName("JS:~f /\x80\x80.js:1:2", 5).parsed, "invalid UTF-8 in the script name");
}

}  // namespace

int main() {
  TestFunctions();
  TestOthers();
  TestRefusals();
  if (failures == 0) std::printf("jit_code_name_test: all passed\n");
  return failures == 0 ? 0 : 1;
}
