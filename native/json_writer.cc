#include "json_writer.h"

#include <cmath>

namespace stallwatch {
namespace {

bool InRange(unsigned char b, unsigned char lo, unsigned char hi) { return b >= lo && b <= hi; }

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when the byte there cannot start one.
size_t Utf8SequenceLength(std::string_view s, size_t i, uint32_t* cp) {
  const size_t left = s.size() - i;
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b0 = at(0);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (InRange(b0, 0xC2, 0xDF)) {
    len = 2;
  } else if (InRange(b0, 0xE0, 0xEF)) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (InRange(b0, 0xF0, 0xF4)) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (left < len || !InRange(at(1), lo, hi)) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (!InRange(at(k), 0x80, 0xBF)) return 0;
  }
  uint32_t value = b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) value = (value << 6) | (at(k) & 0x3F);
  *cp = value;
  return len;
}

void AppendControl(std::string& out, uint32_t cp) {
  switch (cp) {
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
  }
  static const char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[(cp >> 4) & 0xF];
  out += kHex[cp & 0xF];
}

void AppendDecimal(std::string& out, uint64_t v) {
  char buf[24];
  size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out += buf[--n];
}

void AppendInt(std::string& out, int64_t v) {
  if (v < 0) {
    out += '-';
    // Negate in unsigned arithmetic so INT64_MIN does not overflow.
    AppendDecimal(out, ~static_cast<uint64_t>(v) + 1);
  } else {
    AppendDecimal(out, static_cast<uint64_t>(v));
  }
}

}  // namespace

void AppendEscaped(std::string& out, std::string_view s, EscapeMode mode) {
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t len = Utf8SequenceLength(s, i, &cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per offending byte
      ++i;
      continue;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      // C1 controls too: some terminals act on them, and a log line should not be able to.
      AppendControl(out, cp);
    } else if (mode == EscapeMode::kJson && (cp == '"' || cp == '\\')) {
      out += '\\';
      out += static_cast<char>(cp);
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
}

void JsonWriter::Separator() {
  if (need_comma_) out_ += ',';
  need_comma_ = true;
}

void JsonWriter::Key(std::string_view key) {
  Separator();
  out_ += '"';
  AppendEscaped(out_, key, EscapeMode::kJson);
  out_ += "\":";
}

void JsonWriter::BeginObject() {
  Separator();
  out_ += '{';
  need_comma_ = false;
}

void JsonWriter::BeginObject(std::string_view key) {
  Key(key);
  out_ += '{';
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_ += '}';
  need_comma_ = true;
}

void JsonWriter::BeginArray(std::string_view key) {
  Key(key);
  out_ += '[';
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_ += ']';
  need_comma_ = true;
}

void JsonWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  out_ += '"';
  AppendEscaped(out_, value, EscapeMode::kJson);
  out_ += '"';
}

void JsonWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  AppendInt(out_, value);
}

void JsonWriter::Decimal1(std::string_view key, double value) {
  Key(key);
  // Beyond 2^62 tenths the value is not a plausible duration; clamp rather than overflow.
  constexpr double kLimit = 4.6e17;
  double tenths = std::isfinite(value) ? std::round(value * 10) : 0;
  if (tenths > kLimit) tenths = kLimit;
  if (tenths < -kLimit) tenths = -kLimit;
  int64_t t = static_cast<int64_t>(tenths);
  if (t < 0) {
    out_ += '-';
    t = -t;
  }
  AppendDecimal(out_, static_cast<uint64_t>(t / 10));
  if (t % 10 != 0) {
    out_ += '.';
    out_ += static_cast<char>('0' + t % 10);
  }
}

}  // namespace stallwatch
