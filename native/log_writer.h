// Log sinks and the writer thread.
//
// Writing can block (a full stderr pipe, a slow disk), so neither the watchdog nor the
// reporter ever writes: they queue whole reports here, and a dedicated thread writes each
// one with a single write(2) call (O_APPEND makes a whole write land contiguously in a file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace stallwatch {

class LogSink {
 public:
  // stderr (not owned) or a file opened O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600.
  static std::shared_ptr<LogSink> Stderr(bool json);
  // `max_bytes` > 0 turns on rotation: a report that would take the file past it first moves
  // the file to <path>.1 (older ones shift, up to <path>.<keep>) and starts a new one. A report
  // is never split across files; one larger than max_bytes gets a file of its own.
  static std::shared_ptr<LogSink> OpenFile(const std::string& path, bool json, uint64_t max_bytes, int keep,
                                           std::string* error);
  ~LogSink();

  bool json() const { return json_; }

  // Writer thread only.
  void Write(const std::string& text);

 private:
  LogSink(int fd, bool owned, bool json) : fd_(fd), owned_(owned), json_(json) {}
  void RotateIfNeeded(size_t incoming);
  int fd_;  // writer thread only after construction (rotation replaces it)
  bool owned_;
  bool json_;
  std::string path_;
  uint64_t max_bytes_ = 0;
  int keep_ = 0;
};

class LogWriter {
 public:
  // Any thread. Never blocks on I/O. Starts the writer thread on first use.
  static void Enqueue(std::shared_ptr<LogSink> sink, std::string text);
  // Waits (bounded) until everything queued so far has been written. For tests and exit paths.
  static bool Flush(int timeout_ms);
};

}  // namespace stallwatch
