// sources: report.cc report_format.cc json_writer.cc
// Unit tests for the text and JSON log formats (docs/log-format.md) and the JSON escaper.
// Expected outputs are spelled out in full: the formats are a public contract, so any
// change to them should have to change a test too.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "json_writer.h"
#include "report.h"
#include "report_format.h"

using namespace stallwatch;

namespace {

int failures = 0;

std::string Visible(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void ExpectEq(const char* what, const std::string& got, const std::string& want) {
  if (got == want) return;
  ++failures;
  std::fprintf(stderr, "FAIL %s\n--- want\n%s\n--- got\n%s\n---\n", what, Visible(want).c_str(),
               Visible(got).c_str());
}

void ExpectInt(const char* what, long long got, long long want) {
  if (got == want) return;
  ++failures;
  std::fprintf(stderr, "FAIL %s: want %lld, got %lld\n", what, want, got);
}

void ExpectTrue(const char* what, bool ok) {
  if (ok) return;
  ++failures;
  std::fprintf(stderr, "FAIL %s\n", what);
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

Frame Js(std::string name, std::string file, int line = 0, int column = 0, int function_line = 0) {
  Frame f;
  f.kind = FrameKind::kJs;
  f.name = std::move(name);
  f.file = std::move(file);
  f.line = line;
  f.column = column;
  f.function_line = function_line;
  return f;
}

Frame Native(std::string name, std::string module, uintptr_t address = 0) {
  Frame f;
  f.kind = FrameKind::kNative;
  f.name = std::move(name);
  f.module = std::move(module);
  f.address = address;
  return f;
}

Frame V8(std::string name) {
  Frame f;
  f.kind = FrameKind::kV8;
  f.name = std::move(name);
  f.module = "/usr/bin/node";
  return f;
}

const char kLibc[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const char kNode[] = "/usr/bin/node";
const char kFold[] = " frames in node, V8 and libuv internals\n";

Report BaseReport() {
  Report r;
  r.pid = 4200;
  r.tid = 4242;
  r.blocked_ms = 503.24;
  r.captured_at_ms = 1795346401123.0;  // 2026-11-22T11:20:01.123Z
  r.state = VmState::kNative;
  return r;
}

// The example of docs/log-format.md: a synchronous file read called from application JS.
Report ExampleReport() {
  Report r = BaseReport();
  r.frames = {
      Native("read", kLibc),
      Native("uv__fs_read", kNode),
      Native("node::fs::ReadFileUtf8(v8::FunctionCallbackInfo<v8::Value> const&)", kNode),
      Js("readConfig", "/app/server.js", 5, 10, 4),
      Js("handler", "/app/server.js", 12, 3, 11),
      V8("Builtins_CallApiCallbackGeneric"),
      V8("Builtins_InterpreterEntryTrampoline"),
      Js("emit", "node:events", 517, 28),
      Js("parserOnIncoming", "node:_http_server", 1143, 12),
      V8("Builtins_JSEntryTrampoline"),
      V8("Builtins_JSEntry"),
      Native("v8::internal::Execution::Call(...)", kNode),
      Native("node::InternalCallbackScope::Close()", kNode),
      Native("uv__io_poll", kNode),
      Native("main", kNode),
  };
  return r;
}

void TestExampleText() {
  const std::string want =
      "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
      "2026-11-22T11:20:01.123Z\n"
      "    at read (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
      "    at uv__fs_read (/usr/bin/node)\n"
      "    at node::fs::ReadFileUtf8(v8::FunctionCallbackInfo<v8::Value> const&) (/usr/bin/node)\n"
      "--> at readConfig (/app/server.js:5:10)\n"
      "    at handler (/app/server.js:12:3)\n"
      "    ... 9 frames in node, V8 and libuv internals\n"
      "    at main (/usr/bin/node)\n"
      "\n";
  ExpectEq("example text", FormatReportText(ExampleReport()), want);
  ExpectInt("example culprit", FindCulprit(ExampleReport()), 3);
}

void TestExampleJson() {
  Report r = ExampleReport();
  r.frames.resize(4);
  r.frames[0].address = 0x7f3a1c0ffee0;
  r.frames[0].name.clear();
  r.frames[1].file = "src/unix/fs.c";
  r.frames[1].line = 386;
  const std::string want =
      "{\"event\":\"blocked\",\"pid\":4200,\"threadId\":0,\"tid\":4242,\"blockedMs\":503.2,"
      "\"capturedAt\":1795346401123,\"state\":\"native\",\"frames\":["
      "{\"kind\":\"native\",\"name\":\"\",\"module\":\"/usr/lib/x86_64-linux-gnu/libc.so.6\","
      "\"address\":\"0x7f3a1c0ffee0\"},"
      "{\"kind\":\"native\",\"name\":\"uv__fs_read\",\"file\":\"src/unix/fs.c\",\"line\":386,"
      "\"module\":\"/usr/bin/node\"},"
      "{\"kind\":\"native\",\"name\":\"node::fs::ReadFileUtf8(v8::FunctionCallbackInfo<v8::Value> "
      "const&)\",\"module\":\"/usr/bin/node\"},"
      "{\"kind\":\"js\",\"name\":\"readConfig\",\"file\":\"/app/server.js\",\"line\":5,"
      "\"column\":10,\"functionLine\":4}"
      "]}\n";
  ExpectEq("example json", FormatReportJson(r), want);
}

void TestJsonOptionalTopLevelFields() {
  Report r = BaseReport();
  r.thread_id = 3;
  r.thread_name = "db pool";
  r.blocked_ms = 2000;
  r.state = VmState::kAtomicsWait;
  r.partial = "no JS frames: the thread was in native code";
  r.suppressed = 7;
  r.frames = {Frame()};  // kind native, nothing known
  ExpectEq("json optional fields", FormatReportJson(r),
           "{\"event\":\"blocked\",\"pid\":4200,\"threadId\":3,\"threadName\":\"db pool\","
           "\"tid\":4242,\"blockedMs\":2000,\"capturedAt\":1795346401123,"
           "\"state\":\"atomics-wait\",\"frames\":[{\"kind\":\"native\",\"name\":\"\"}],"
           "\"partial\":\"no JS frames: the thread was in native code\",\"suppressed\":7}\n");

  Report empty = BaseReport();
  empty.blocked_ms = NAN;
  empty.captured_at_ms = 0.4;
  ExpectEq("json no frames, NaN duration", FormatReportJson(empty),
           "{\"event\":\"blocked\",\"pid\":4200,\"threadId\":0,\"tid\":4242,\"blockedMs\":0,"
           "\"capturedAt\":0,\"state\":\"native\",\"frames\":[]}\n");
}

void TestJsonEscaping() {
  Report r = BaseReport();
  r.thread_id = 1;
  r.thread_name = "q\"b\\n\nc\x01" "d\x7f";
  Frame f = Js("f\xff" "g\xc3\xa9h", "/app/\xe2\x82", 1, 0, 0);
  r.frames = {f};
  ExpectEq("json escaping", FormatReportJson(r),
           "{\"event\":\"blocked\",\"pid\":4200,\"threadId\":1,"
           "\"threadName\":\"q\\\"b\\\\n\\nc\\u0001d\\u007f\",\"tid\":4242,\"blockedMs\":503.2,"
           "\"capturedAt\":1795346401123,\"state\":\"native\",\"frames\":["
           "{\"kind\":\"js\",\"name\":\"f\xef\xbf\xbdg\xc3\xa9h\","
           "\"file\":\"/app/\xef\xbf\xbd\xef\xbf\xbd\",\"line\":1}]}\n");
}

void TestEscaper() {
  const auto json = [](const std::string& s) {
    std::string out;
    AppendEscaped(out, s, EscapeMode::kJson);
    return out;
  };
  const auto text = [](const std::string& s) {
    std::string out;
    AppendEscaped(out, s, EscapeMode::kText);
    return out;
  };
  const std::string fffd = "\xef\xbf\xbd";
  ExpectEq("escape controls", json("\b\f\n\r\t\x1b"), "\\b\\f\\n\\r\\t\\u001b");
  ExpectEq("escape nul", json(std::string("a\0b", 3)), "a\\u0000b");
  ExpectEq("escape C1 control", json("\xc2\x9b"), "\\u009b");
  ExpectEq("keep 2/3/4-byte UTF-8", json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
           "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  ExpectEq("overlong", json("\xc0\xaf"), fffd + fffd);
  ExpectEq("surrogate", json("\xed\xa0\x80"), fffd + fffd + fffd);
  ExpectEq("above U+10FFFF", json("\xf4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  ExpectEq("truncated at end", json("x\xe2\x82"), "x" + fffd + fffd);
  ExpectEq("lone continuation", json("\x80z"), fffd + "z");
  ExpectEq("text keeps quotes", text("a\"b\\c\nd"), "a\"b\\c\\nd");
}

void TestDecimal() {
  const auto dec = [](double v) {
    JsonWriter w;
    w.BeginObject();
    w.Decimal1("v", v);
    w.EndObject();
    return w.Take();
  };
  ExpectEq("decimal whole", dec(503.0), "{\"v\":503}");
  ExpectEq("decimal round down", dec(503.24), "{\"v\":503.2}");
  ExpectEq("decimal round up to whole", dec(503.96), "{\"v\":504}");
  ExpectEq("decimal small", dec(0.06), "{\"v\":0.1}");
  ExpectEq("decimal inf", dec(INFINITY), "{\"v\":0}");
  ExpectEq("decimal negative", dec(-1.25), "{\"v\":-1.3}");
}

void TestHeaders() {
  Report r = BaseReport();
  r.frames = {Native("main", kNode)};
  ExpectEq("main thread header", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "    at main (/usr/bin/node)\n\n");

  r.thread_id = 3;
  r.thread_name = "db \"pool\"\n";
  r.blocked_ms = 1999.5;
  r.state = VmState::kJs;
  r.captured_at_ms = 951782400999.0;  // leap day, last millisecond of the second
  const std::string text = FormatReportText(r);
  ExpectEq("named worker header", text.substr(0, text.find('\n') + 1),
           "stallwatch: worker 3 \"db \\\"pool\\\"\\n\" (tid 4242) blocked for 2000 ms, "
           "state js, at 2000-02-29T00:00:00.999Z\n");

  r.thread_name.clear();
  r.captured_at_ms = 0;
  const std::string unnamed = FormatReportText(r);
  ExpectEq("unnamed worker header", unnamed.substr(0, unnamed.find('\n') + 1),
           "stallwatch: worker 3 (tid 4242) blocked for 2000 ms, state js, at "
           "1970-01-01T00:00:00.000Z\n");
}

void TestPartialAndSuppressed() {
  Report r = BaseReport();
  r.frames = {Native("main", kNode)};
  const std::string plain = FormatReportText(r);
  ExpectTrue("no partial line", !Contains(plain, "partial:"));
  ExpectTrue("no suppressed line", !Contains(plain, "not reported"));

  r.partial = "JS frames missing: the isolate did not answer within 50 ms\nsecond line";
  r.suppressed = 3;
  ExpectEq("partial and suppressed", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "  partial: JS frames missing: the isolate did not answer within 50 ms\\nsecond line\n"
           "  3 earlier stalls were not reported (maxReportsPerMinute)\n"
           "    at main (/usr/bin/node)\n\n");

  r.partial.clear();
  r.suppressed = 1;
  const std::string one = FormatReportText(r);
  ExpectTrue("singular suppressed",
             Contains(one, "\n  1 earlier stall was not reported (maxReportsPerMinute)\n"));
  ExpectTrue("partial absent again", !Contains(one, "partial:"));
}

void TestNativeAddonCulprit() {
  Report r = BaseReport();
  r.frames = {
      Native("__libc_pread64", "/lib/x86_64-linux-gnu/libpthread.so.0"),
      Native("Hash(char const*)", "/app/node_modules/bcrypt/build/Release/bcrypt_lib.node"),
      Native("napi_wrapper", kNode),
      Js("hashSync", "/app/node_modules/bcrypt/bcrypt.js", 91, 17),
      Js("login", "/app/auth.js", 20, 5),
  };
  ExpectInt("addon is culprit", FindCulprit(r), 1);
  ExpectEq("addon culprit text", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "    at __libc_pread64 (/lib/x86_64-linux-gnu/libpthread.so.0)\n"
           "--> at Hash(char const*) (/app/node_modules/bcrypt/build/Release/bcrypt_lib.node)\n"
           "    at napi_wrapper (/usr/bin/node)\n"
           "    at hashSync (/app/node_modules/bcrypt/bcrypt.js:91:17)\n"
           "    at login (/app/auth.js:20:5)\n\n");

  // Global installs live under /usr/lib/node_modules: still application code.
  r.frames[1].module = "/usr/lib/node_modules/tool/build/Release/x.node";
  ExpectInt("global addon is culprit", FindCulprit(r), 1);
  // A system library by basename, wherever it is.
  r.frames[1].module = "/opt/runtime/libstdc++.so.6";
  ExpectInt("libstdc++ is not culprit", FindCulprit(r), 3);
}

void TestCulpritExclusions() {
  Report r = BaseReport();
  r.frames = {
      Js("", ""),                                             // no script: unknown
      Js("deliver", "/srv/node_modules/stallwatch/dist/lib/index.js", 40, 2),
      Js("emit", "node:events", 517, 28),
      Js("runInThisContext", "internal/vm", 1, 1),
      Native("uv_run", "/home/u/.nvm/versions/node/v22.1.0/bin/node"),
      Native("", ""),                                         // unknown module
      Native("memcpy", "/usr/lib64/libc.so.6"),
      Native("fn", "/lib64/ld-linux-x86-64.so.2"),
      V8("Builtins_JSEntry"),
      Native("unw_step", "/usr/local/lib/libunwind.so.8"),
      Native("open", "libm.so.6"),
      Native("clock_gettime", "linux-vdso.so.1"),
  };
  ExpectInt("no culprit", FindCulprit(r), -1);
  r.frames.push_back(Js("main", "file:///app/main.mjs", 3, 1));
  ExpectInt("file URL script is culprit", FindCulprit(r), 12);
}

void TestFramesFormats() {
  Report r = BaseReport();
  r.frames = {
      Js("", "/app/a.js", 7, 2),
      Js("lineOnly", "/app/a.js", 7, 0),
      Js("defined", "/app/a.js", 0, 0, 42),
      Js("noLine", "/app/a.js"),
      Js("noFile", ""),
      Native("uv__fs_open", kNode),
      Native("", "", 0x7f00deadbeef),
      Native("", "/app/addon.node", 0x10),
      Native("", ""),
      V8("Builtins_ArgumentsAdaptorTrampoline"),
      Native("main", kNode),
  };
  r.frames[5].file = "src/unix/fs.c";
  r.frames[5].line = 386;
  r.frames[8].file = "lib.c";  // file without line
  ExpectEq("frame formats", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "--> at (anonymous) (/app/a.js:7:2)\n"
           "    at lineOnly (/app/a.js:7)\n"
           "    at defined (/app/a.js, defined at line 42)\n"
           "    at noLine (/app/a.js)\n"
           "    at noFile\n"
           "    at uv__fs_open (/usr/bin/node, src/unix/fs.c:386)\n"
           "    at 0x7f00deadbeef (unknown module)\n"
           "    at 0x10 (/app/addon.node)\n"
           "    at ?? (unknown module, lib.c)\n"
           "    at Builtins_ArgumentsAdaptorTrampoline [v8]\n"
           "    at main (/usr/bin/node)\n\n");
}

void TestV8RunsAboveCulprit() {
  Report r = BaseReport();
  r.frames = {
      V8("Builtins_A"), V8("Builtins_B"), V8("Builtins_C"), V8("Builtins_D"),
      Native("uv__fs_read", kNode),  // internal, but above the culprit: printed
      V8("Builtins_E"), V8("Builtins_F"),
      Js("spin", "/app/busy.js", 3, 9),
      V8("Builtins_G"), V8("Builtins_H"),
      Js("main", "/app/busy.js", 10, 1),
  };
  ExpectEq("v8 run above culprit", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "    ... 4 frames in node, V8 and libuv internals\n"
           "    at uv__fs_read (/usr/bin/node)\n"
           "    at Builtins_E [v8]\n"
           "    at Builtins_F [v8]\n"
           "--> at spin (/app/busy.js:3:9)\n"
           "    at Builtins_G [v8]\n"
           "    at Builtins_H [v8]\n"
           "    at main (/app/busy.js:10:1)\n\n");
}

void TestFoldingBelowCulprit() {
  Report r = BaseReport();
  r.frames = {
      Js("spin", "/app/busy.js", 3, 9),
      Native("a", kNode), Native("b", kLibc),                              // 2: printed
      Js("c", "/app/busy.js", 8, 1),
      Js("d", "node:internal/timers", 1, 1), V8("e"), Native("f", kNode),  // 3: folded
      Js("g", "", 0, 0),                                                   // unknown breaks runs
      V8("h"), V8("i"), V8("j"), Native("k", kNode),                       // run ending at last
  };
  ExpectEq("folding below culprit", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "--> at spin (/app/busy.js:3:9)\n"
           "    at a (/usr/bin/node)\n"
           "    at b (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
           "    at c (/app/busy.js:8:1)\n"
           "    ... 3" + std::string(kFold) +
           "    at g\n"
           "    ... 3" + std::string(kFold) +
           "    at k (/usr/bin/node)\n\n");

  // A run of three whose last member is the outermost frame shrinks to two: not folded.
  r.frames[8] = Js("g2", "/app/busy.js", 2, 2);
  const std::string text = FormatReportText(r);
  ExpectTrue("short run at the end printed",
             Contains(text, "    at g2 (/app/busy.js:2:2)\n    at i [v8]\n    at j [v8]\n"
                            "    at k (/usr/bin/node)\n\n"));
}

void TestFoldingWithoutCulprit() {
  Report r = BaseReport();
  r.frames = {
      Native("epoll_wait", kLibc),
      V8("v0"), V8("v1"), V8("v2"),  // a V8 run in the head is folded too
      Native("n4", kNode), Native("n5", kNode),
      Native("n6", kNode), Native("n7", kNode), Native("n8", kNode), Native("n9", kNode),
      Native("main", kNode),
  };
  ExpectInt("no culprit in node-only stack", FindCulprit(r), -1);
  ExpectEq("folding without culprit", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "    at epoll_wait (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
           "    ... 3" + std::string(kFold) +
           "    at n4 (/usr/bin/node)\n"
           "    at n5 (/usr/bin/node)\n"
           "    ... 4" + std::string(kFold) +
           "    at main (/usr/bin/node)\n\n");

  // Head frames are internal but not V8: printed even in a long run; the run only
  // starts folding at the seventh frame.
  Report all = BaseReport();
  for (int i = 0; i < 10; ++i) all.frames.push_back(Native("n" + std::to_string(i), kNode));
  const std::string text = FormatReportText(all);
  ExpectTrue("six head frames printed", Contains(text, "    at n5 (/usr/bin/node)\n    ... 3"));
  ExpectTrue("last printed", Contains(text, kFold + std::string("    at n9 (/usr/bin/node)\n\n")));
}

void TestEmptyAndSingleFrame() {
  Report r = BaseReport();
  r.partial = "no frames: the thread did not answer the signal within 100 ms";
  ExpectEq("no frames", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at "
           "2026-11-22T11:20:01.123Z\n"
           "  partial: no frames: the thread did not answer the signal within 100 ms\n"
           "    (no frames captured)\n\n");
  r.frames = {V8("Builtins_JSEntry")};
  ExpectTrue("single V8 frame printed",
             Contains(FormatReportText(r), "    at Builtins_JSEntry [v8]\n\n"));
}

void TestUnblocked() {
  UnblockedEvent e;
  e.pid = 4200;
  e.tid = 4242;
  e.blocked_ms = 2034.46;
  ExpectEq("unblocked text main", FormatUnblockedText(e),
           "stallwatch: main thread (tid 4242) unblocked after 2034 ms\n\n");
  ExpectEq("unblocked json main", FormatUnblockedJson(e),
           "{\"event\":\"unblocked\",\"pid\":4200,\"threadId\":0,\"tid\":4242,"
           "\"blockedMs\":2034.5}\n");
  e.thread_id = 2;
  e.thread_name = "img";
  ExpectEq("unblocked text worker", FormatUnblockedText(e),
           "stallwatch: worker 2 \"img\" (tid 4242) unblocked after 2034 ms\n\n");
  ExpectEq("unblocked json worker", FormatUnblockedJson(e),
           "{\"event\":\"unblocked\",\"pid\":4200,\"threadId\":2,\"threadName\":\"img\","
           "\"tid\":4242,\"blockedMs\":2034.5}\n");
}

std::shared_ptr<ThreadDump> TwoThreads() {
  auto dump = std::make_shared<ThreadDump>();
  ThreadStack pool;
  pool.tid = 4250;
  pool.name = "node";
  pool.role = "libuv threadpool";
  pool.run_state = "sleeping";
  pool.frames = {Native("clock_nanosleep", kLibc), Native("worker", kNode)};
  ThreadStack own;
  own.tid = 4251;
  own.name = "stallwatch-dog";
  own.role = "stallwatch";
  own.partial = "no stack: the thread blocks Urgent I/O condition (signal 23)";
  dump->threads = {pool, own};
  return dump;
}

void TestAllThreads() {
  Report r = BaseReport();
  r.frames = {Native("read", kLibc)};
  r.all_threads = TwoThreads();
  ExpectEq("all threads text", FormatReportText(r),
           "stallwatch: main thread (tid 4242) blocked for 503 ms, state native, at 2026-11-22T11:20:01.123Z\n"
           "    at read (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
           "  all threads (2):\n"
           "  thread 4250 \"node\" (libuv threadpool, sleeping)\n"
           "    at clock_nanosleep (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
           "    at worker (/usr/bin/node)\n"
           "  thread 4251 \"stallwatch-dog\" (stallwatch)\n"
           "    partial: no stack: the thread blocks Urgent I/O condition (signal 23)\n"
           "\n");
  const std::string json = FormatReportJson(r);
  ExpectTrue("all threads json key", json.find(",\"threads\":[{\"tid\":4250,\"name\":\"node\",\"role\":\"libuv "
                                               "threadpool\",\"runState\":\"sleeping\",\"frames\":[") !=
                                         std::string::npos);
  ExpectTrue("all threads json thread without stack",
             json.find("{\"tid\":4251,\"name\":\"stallwatch-dog\",\"role\":\"stallwatch\",\"frames\":[],\"partial\":") !=
                 std::string::npos);
}

void TestUnblockedWithProfile() {
  UnblockedEvent e;
  e.pid = 4200;
  e.tid = 4242;
  e.blocked_ms = 3012;
  auto profile = std::make_shared<StallProfile>();
  profile->interval_ms = 10;
  profile->started_at_ms = 1795346401123.0;
  profile->ended_at_ms = 1795346404100.0;
  profile->samples = 5;
  profile->stacks = {{{Js("hotLoop", "/app/a.js")}, 4}, {{Native("read", kLibc)}, 1}};
  e.profile = profile;
  ExpectEq("unblocked text with profile", FormatUnblockedText(e),
           "stallwatch: main thread (tid 4242) unblocked after 3012 ms\n"
           "  profile: 5 samples every 10 ms, 2 distinct stacks; the hottest, in 4:\n"
           "--> at hotLoop (/app/a.js)\n"
           "\n");
  ExpectEq("unblocked json with profile", FormatUnblockedJson(e),
           "{\"event\":\"unblocked\",\"pid\":4200,\"threadId\":0,\"tid\":4242,\"blockedMs\":3012,"
           "\"profile\":{\"intervalMs\":10,\"startedAt\":1795346401123,\"endedAt\":1795346404100,\"samples\":5,"
           "\"stacks\":[{\"frames\":[{\"kind\":\"js\",\"name\":\"hotLoop\",\"file\":\"/app/a.js\"}],\"count\":4},"
           "{\"frames\":[{\"kind\":\"native\",\"name\":\"read\",\"module\":\"/usr/lib/x86_64-linux-gnu/libc.so.6\"}],"
           "\"count\":1}]}}\n");
}

void TestStarvation() {
  StarvationReport s;
  s.pid = 4200;
  s.tid = 4242;
  s.waiting_ms = 2003.26;
  s.requests_in_flight = 5;
  s.captured_at_ms = 1795346401123.0;
  s.all_threads = TwoThreads();
  const std::string text = FormatStarvationText(s);
  ExpectEq("starvation text header", text.substr(0, text.find('\n') + 1),
           "stallwatch: main thread (tid 4242) starved: waited 2003 ms with 5 requests in flight and no I/O event, at "
           "2026-11-22T11:20:01.123Z\n");
  ExpectTrue("starvation text ends with one empty line", text.size() > 2 && text.substr(text.size() - 2) == "\n\n" &&
                                                             text.find("\n\n") == text.size() - 2);
  const std::string json = FormatStarvationJson(s);
  ExpectEq("starvation json head", json.substr(0, json.find(",\"threads\"")),
           "{\"event\":\"starvation\",\"pid\":4200,\"threadId\":0,\"tid\":4242,\"waitingMs\":2003.3,"
           "\"requestsInFlight\":5,\"capturedAt\":1795346401123");
}

}  // namespace

int main(int argc, char** argv) {
  // `report_format_test --print` writes sample output for manual checks (e.g. JSON.parse).
  if (argc > 1 && std::string(argv[1]) == "--print") {
    Report r = ExampleReport();
    r.thread_id = 1;
    r.thread_name = "q\"\n\x01\xff";
    r.partial = "bad \xc0 byte";
    r.suppressed = 2;
    std::fputs(FormatReportText(r).c_str(), stdout);
    std::fputs(FormatReportJson(r).c_str(), stdout);
    return 0;
  }
  TestExampleText();
  TestExampleJson();
  TestJsonOptionalTopLevelFields();
  TestJsonEscaping();
  TestEscaper();
  TestDecimal();
  TestHeaders();
  TestPartialAndSuppressed();
  TestNativeAddonCulprit();
  TestCulpritExclusions();
  TestFramesFormats();
  TestV8RunsAboveCulprit();
  TestFoldingBelowCulprit();
  TestFoldingWithoutCulprit();
  TestEmptyAndSingleFrame();
  TestUnblocked();
  TestAllThreads();
  TestStarvation();
  TestUnblockedWithProfile();
  if (failures > 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
