// A tiny append-only JSON builder for stallwatch's log lines and an escaper shared with the
// text log. Written here rather than taken from a library because the addon has no
// third-party dependencies and the output must stay valid whatever bytes a symbol name,
// script URL or worker name contains (a report is often the only trace of a hung process).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace stallwatch {

enum class EscapeMode {
  // Inside a JSON string literal: quotes, backslashes and control characters are escaped.
  kJson,
  // Inside a line of the text log: only control characters are escaped, so that one report
  // can never be split into, or forge, other log lines; quotes and backslashes stay as is.
  kText,
};

// Appends `s` to `out`. In both modes, bytes that are not valid UTF-8 are replaced by U+FFFD
// (so the result is always valid UTF-8), and control characters (U+0000-U+001F, U+007F-U+009F)
// become \b \f \n \r \t or \u00XX.
void AppendEscaped(std::string& out, std::string_view s, EscapeMode mode);

// Builds one JSON value into a string. Commas are inserted automatically; the caller is
// responsible for balancing Begin/End calls (the formatter's fixed shape guarantees it).
// Numbers are formatted with integer arithmetic so the C locale (LC_NUMERIC) cannot change
// the decimal separator.
class JsonWriter {
 public:
  void BeginObject();                      // top-level value or array element
  void BeginObject(std::string_view key);  // member of the enclosing object
  void EndObject();
  void BeginArray(std::string_view key);
  void EndArray();

  void String(std::string_view key, std::string_view value);
  void Int(std::string_view key, int64_t value);
  // A number rounded to one decimal, written without the decimal when it is whole
  // ("503", "503.2"). Non-finite values, which JSON cannot hold, are written as 0.
  void Decimal1(std::string_view key, double value);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separator();
  void Key(std::string_view key);

  std::string out_;
  bool need_comma_ = false;  // a value was written at the current nesting level
};

}  // namespace stallwatch
