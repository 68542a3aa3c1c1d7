// Log sinks and the writer thread.
//
// Writing can block (a full stderr pipe, a slow disk), so neither the watchdog nor the
// reporter ever writes: they queue whole reports here, and a dedicated thread writes each
// one with a single write(2) call (O_APPEND makes a whole write land contiguously in a file).
#pragma once

#include <memory>
#include <string>

namespace stallwatch {

class LogSink {
 public:
  // stderr (not owned) or a file opened O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600.
  static std::shared_ptr<LogSink> Stderr(bool json);
  static std::shared_ptr<LogSink> OpenFile(const std::string& path, bool json, std::string* error);
  ~LogSink();

  bool json() const { return json_; }
  int fd() const { return fd_; }

 private:
  LogSink(int fd, bool owned, bool json) : fd_(fd), owned_(owned), json_(json) {}
  int fd_;
  bool owned_;
  bool json_;
};

class LogWriter {
 public:
  // Any thread. Never blocks on I/O. Starts the writer thread on first use.
  static void Enqueue(std::shared_ptr<LogSink> sink, std::string text);
  // Waits (bounded) until everything queued so far has been written. For tests and exit paths.
  static bool Flush(int timeout_ms);
};

}  // namespace stallwatch
