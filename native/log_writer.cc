#include "log_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "thread_util.h"

namespace stallwatch {
namespace {

// Bounded: if the sink is stuck (a pipe nobody reads), the oldest pending reports are
// dropped rather than growing memory without limit; the count is written once it drains.
constexpr size_t kMaxQueued = 256;

struct Queue {
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable drained;
  std::deque<std::pair<std::shared_ptr<LogSink>, std::string>> items;
  size_t dropped = 0;
  uint64_t enqueued = 0;
  uint64_t written = 0;
  bool started = false;
};

Queue& TheQueue() {
  static Queue* queue = new Queue();  // deliberately leaked: outlives every caller
  return *queue;
}

void WriteAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed pipe, full disk: nothing sensible left to do
    off += static_cast<size_t>(n);
  }
}

void WriterMain() {
  Queue& q = TheQueue();
  std::unique_lock<std::mutex> lock(q.mutex);
  for (;;) {
    q.wake.wait(lock, [&] { return !q.items.empty(); });
    auto item = std::move(q.items.front());
    q.items.pop_front();
    const size_t dropped = std::exchange(q.dropped, 0);
    lock.unlock();
    if (dropped > 0) {
      item.first->Write("stallwatch: " + std::to_string(dropped) +
                        " reports were dropped because the log could not be written fast enough\n");
    }
    item.first->Write(item.second);
    item.first.reset();
    lock.lock();
    ++q.written;
    q.drained.notify_all();
  }
}

}  // namespace

std::shared_ptr<LogSink> LogSink::Stderr(bool json) {
  return std::shared_ptr<LogSink>(new LogSink(STDERR_FILENO, false, json));
}

static int OpenLogFile(const std::string& path) {
  // O_NOFOLLOW: a symlink planted at the log path must not redirect our writes.
  return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
}

std::shared_ptr<LogSink> LogSink::OpenFile(const std::string& path, bool json, uint64_t max_bytes, int keep,
                                           std::string* error) {
  int fd = OpenLogFile(path);
  if (fd < 0) {
    *error = "cannot open log file " + path + ": " + strerror(errno);
    return nullptr;
  }
  std::shared_ptr<LogSink> sink(new LogSink(fd, true, json));
  sink->path_ = path;
  sink->max_bytes_ = max_bytes;
  sink->keep_ = keep;
  return sink;
}

void LogSink::Write(const std::string& text) {
  if (max_bytes_ > 0) RotateIfNeeded(text.size());
  WriteAll(fd_, text);
}

void LogSink::RotateIfNeeded(size_t incoming) {
  struct stat st;
  if (fstat(fd_, &st) != 0 || st.st_size == 0 || static_cast<uint64_t>(st.st_size) + incoming <= max_bytes_) return;
  // <path>.<keep> falls off; each older file moves up one; the current one becomes <path>.1.
  for (int i = keep_ - 1; i >= 1; --i) {
    rename((path_ + "." + std::to_string(i)).c_str(), (path_ + "." + std::to_string(i + 1)).c_str());
  }
  if (rename(path_.c_str(), (path_ + ".1").c_str()) != 0) return;  // keep appending rather than lose
  const int fresh = OpenLogFile(path_);
  if (fresh < 0) return;
  close(fd_);
  fd_ = fresh;
}

LogSink::~LogSink() {
  if (owned_) close(fd_);
}

void LogWriter::Enqueue(std::shared_ptr<LogSink> sink, std::string text) {
  Queue& q = TheQueue();
  std::lock_guard<std::mutex> lock(q.mutex);
  if (!q.started) {
    q.started = true;
    StartDetachedThread(WriterMain, "stallwatch-log");
  }
  if (q.items.size() >= kMaxQueued) {
    q.items.pop_front();
    ++q.dropped;
    ++q.written;
  }
  q.items.emplace_back(std::move(sink), std::move(text));
  ++q.enqueued;
  q.wake.notify_one();
}

bool LogWriter::Flush(int timeout_ms) {
  Queue& q = TheQueue();
  std::unique_lock<std::mutex> lock(q.mutex);
  const uint64_t target = q.enqueued;
  return q.drained.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return q.written >= target; });
}

}  // namespace stallwatch
