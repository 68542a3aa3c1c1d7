#include "log_writer.h"

#include <errno.h>
#include <fcntl.h>
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
      WriteAll(item.first->fd(), "stallwatch: " + std::to_string(dropped) +
                                     " reports were dropped because the log could not be written fast enough\n");
    }
    WriteAll(item.first->fd(), item.second);
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

std::shared_ptr<LogSink> LogSink::OpenFile(const std::string& path, bool json, std::string* error) {
  // O_NOFOLLOW: a symlink planted at the log path must not redirect our writes.
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot open log file " + path + ": " + strerror(errno);
    return nullptr;
  }
  return std::shared_ptr<LogSink>(new LogSink(fd, true, json));
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
