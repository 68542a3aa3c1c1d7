// sources: log_writer.cc thread_util.cc
// LogWriter from many threads at once (log_writer.h): reports enqueued concurrently reach a pipe
// whole (one write each, never interleaved), nothing is lost except through the bounded queue's
// drop count, Flush() waits for what was queued, a failing sink (/dev/full: ENOSPC) neither blocks
// nor breaks the writer, a symlink is refused (O_NOFOLLOW), and the writer thread blocks every
// signal. Built plain, with ASan and with TSan (npm run test:tsan).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "log_writer.h"

using namespace stallwatch;

namespace {

std::atomic<int> failures{0};

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

std::string TempDir() {
  char templ[] = "/tmp/stallwatch-log-writer-XXXXXX";
  const char* dir = mkdtemp(templ);
  return dir ? dir : "";
}

// Many producers, one FIFO read by a thread: lines arrive whole and all accounted for.
void TestConcurrentToPipe(const std::string& dir) {
  const std::string fifo = dir + "/fifo";
  Check(mkfifo(fifo.c_str(), 0600) == 0, "mkfifo");
  std::string received;
  std::thread reader([&] {
    const int fd = open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[65536];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        received.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    close(fd);
  });
  std::string error;
  std::shared_ptr<LogSink> sink = LogSink::OpenFile(fifo, false, 0, 0, &error);  // blocks until the reader opens
  Check(sink != nullptr, "open the FIFO as a log file: " + error);
  if (!sink) {
    reader.join();
    return;
  }
  constexpr int kProducers = 8;
  constexpr int kPerProducer = 300;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([p, sink] {
      for (int i = 0; i < kPerProducer; ++i) {
        // A report-sized record (a few KB, below PIPE_BUF only for the short ones) with a checksum
        // line, so a torn or interleaved write is detected.
        const int body = (i % 7 == 0) ? 6000 : 40 + (i * 13) % 200;
        std::string line = "R " + std::to_string(p) + " " + std::to_string(i) + " " + std::to_string(body) + " ";
        line.append(static_cast<size_t>(body), static_cast<char>('a' + (p + i) % 26));
        line += "\n";
        LogWriter::Enqueue(sink, std::move(line));
      }
    });
  }
  for (auto& t : producers) t.join();
  Check(LogWriter::Flush(10000), "pipe: Flush() returns once everything queued is written");
  sink.reset();  // the writer drops its references once written: this closes the FIFO
  reader.join();

  int records = 0, dropped = 0;
  std::istringstream in(received);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("stallwatch: ", 0) == 0) {
      int n = 0;
      Check(std::sscanf(line.c_str(), "stallwatch: %d reports were dropped", &n) == 1, "pipe: a drop notice: " + line.substr(0, 80));
      dropped += n;
      continue;
    }
    int p = -1, i = -1, body = -1;
    char fill = 0;
    int consumed = 0;
    if (std::sscanf(line.c_str(), "R %d %d %d %n", &p, &i, &body, &consumed) != 3 || consumed <= 0) {
      Check(false, "pipe: an unexpected line: " + line.substr(0, 80));
      continue;
    }
    fill = static_cast<char>('a' + (p + i) % 26);
    const std::string rest = line.substr(static_cast<size_t>(consumed));
    Check(rest.size() == static_cast<size_t>(body) && rest.find_first_not_of(fill) == std::string::npos,
          "pipe: record " + std::to_string(p) + "/" + std::to_string(i) + " arrived whole and alone");
    ++records;
  }
  std::fprintf(stderr, "pipe: %d records, %d dropped\n", records, dropped);
  Check(records + dropped == kProducers * kPerProducer, "pipe: every record was written or counted as dropped (" +
                                                          std::to_string(records) + " + " + std::to_string(dropped) + ")");
  Check(records > 0, "pipe: records were written");
}

// A sink whose writes fail (ENOSPC): Enqueue never blocks, Flush still completes, the writer goes on.
void TestFullDisk(const std::string& dir) {
  std::string error;
  std::shared_ptr<LogSink> full = LogSink::OpenFile("/dev/full", true, 0, 0, &error);
  Check(full != nullptr, "open /dev/full: " + error);
  if (!full) return;
  for (int i = 0; i < 50; ++i) LogWriter::Enqueue(full, std::string(1000, 'x') + "\n");
  Check(LogWriter::Flush(5000), "full: Flush() completes although every write fails with ENOSPC");
  // The writer still works for other sinks.
  const std::string path = dir + "/after-full.log";
  std::shared_ptr<LogSink> file = LogSink::OpenFile(path, false, 0, 0, &error);
  Check(file != nullptr, "open a file: " + error);
  if (!file) return;
  LogWriter::Enqueue(file, "still writing\n");
  Check(LogWriter::Flush(5000), "full: Flush() after");
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Check(content == "still writing\n", "full: the next sink got its line");
  struct stat st;
  Check(stat(path.c_str(), &st) == 0 && (st.st_mode & 0777) == 0600, "file: created with mode 0600");
}

void TestRefusals(const std::string& dir) {
  std::string error;
  const std::string target = dir + "/target";
  const std::string link = dir + "/link";
  { std::ofstream(target) << ""; }
  Check(symlink(target.c_str(), link.c_str()) == 0, "symlink");
  Check(LogSink::OpenFile(link, false, 0, 0, &error) == nullptr, "a symlink is refused (O_NOFOLLOW)");
  Check(error.find("cannot open log file") != std::string::npos && error.find(link) != std::string::npos,
        "the error names the path: " + error);
  error.clear();
  Check(LogSink::OpenFile(dir, false, 0, 0, &error) == nullptr && !error.empty(), "a directory is refused: " + error);
  error.clear();
  Check(LogSink::OpenFile(dir + "/missing/x.log", false, 0, 0, &error) == nullptr && !error.empty(), "a missing directory is refused");
  // Opened log files are close-on-exec: a child process must not inherit them.
  const std::string cloexec_path = dir + "/cloexec.log";
  std::shared_ptr<LogSink> file = LogSink::OpenFile(cloexec_path, false, 0, 0, &error);
  Check(file != nullptr, "open a log file");
  bool seen = false;
  for (int fd = 0; fd < 1024; ++fd) {
    char link_path[64], target_path[4096];
    std::snprintf(link_path, sizeof link_path, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link_path, target_path, sizeof target_path - 1);
    if (n <= 0) continue;
    target_path[n] = 0;
    if (cloexec_path != target_path) continue;
    seen = true;
    Check((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "log files are O_CLOEXEC");
    const int flags = fcntl(fd, F_GETFL);
    Check((flags & O_APPEND) != 0 && (flags & O_ACCMODE) == O_WRONLY, "log files are write-only, O_APPEND");
  }
  Check(seen, "the log file's descriptor is open");
}

// Rotation under concurrent producers: whatever files remain hold only whole records.
void TestRotationConcurrent(const std::string& dir) {
  std::string error;
  const std::string path = dir + "/rotating.log";
  std::shared_ptr<LogSink> sink = LogSink::OpenFile(path, false, 16 * 1024, 3, &error);
  Check(sink != nullptr, "open a rotating log: " + error);
  if (!sink) return;
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([p, sink] {
      for (int i = 0; i < 200; ++i) {
        std::string line = "R " + std::to_string(p) + " " + std::to_string(i) + " ";
        line.append(static_cast<size_t>(100 + (i % 5) * 1000), 'z');
        LogWriter::Enqueue(sink, line + "\n");
      }
    });
  }
  for (auto& t : producers) t.join();
  Check(LogWriter::Flush(10000), "rotation: Flush()");
  for (const std::string& name : {path, path + ".1", path + ".2", path + ".3"}) {
    std::ifstream in(name);
    std::string line;
    size_t bytes = 0;
    while (std::getline(in, line)) {
      bytes += line.size() + 1;
      Check(line.rfind("R ", 0) == 0 && line.back() == 'z', "rotation: whole records only in " + name);
    }
    Check(bytes <= 16 * 1024 + 5000, "rotation: " + name + " stays near max_bytes (" + std::to_string(bytes) + ")");
  }
  struct stat st;
  Check(stat((path + ".4").c_str(), &st) != 0, "rotation: no more than `keep` old files");
}

// The writer thread ("stallwatch-log") has every signal blocked, so a capture signal or a
// process-directed signal never lands on it.
void TestWriterBlocksSignals() {
  LogWriter::Enqueue(LogSink::Stderr(false), "");  // make sure it runs
  LogWriter::Flush(2000);
  DIR* tasks = opendir("/proc/self/task");
  bool found = false;
  while (dirent* e = tasks ? readdir(tasks) : nullptr) {
    if (e->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + e->d_name;
    std::ifstream comm(base + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name != "stallwatch-log") continue;
    found = true;
    std::ifstream status(base + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) == 0) {
        const unsigned long long mask = std::strtoull(line.c_str() + 7, nullptr, 16);
        // Every signal the kernel lets a thread block: all but SIGKILL and SIGSTOP. (glibc keeps
        // its two internal real-time signals out of sigfillset; TSan's runtime may add more.)
        const unsigned long long wanted = (1ull << (SIGURG - 1)) | (1ull << (SIGUSR2 - 1)) | (1ull << (SIGPROF - 1)) |
                                          (1ull << (SIGRTMIN + 4 - 1)) | (1ull << (SIGTERM - 1)) | (1ull << (SIGINT - 1));
        Check((mask & wanted) == wanted, "the writer thread blocks the capture signals and process signals (" + line + ")");
      }
    }
  }
  if (tasks) closedir(tasks);
  Check(found, "the writer thread is named stallwatch-log");
}

}  // namespace

int main() {
  alarm(120);
  signal(SIGPIPE, SIG_IGN);
  const std::string dir = TempDir();
  Check(!dir.empty(), "mkdtemp");
  TestConcurrentToPipe(dir);
  TestFullDisk(dir);
  TestRefusals(dir);
  TestRotationConcurrent(dir);
  TestWriterBlocksSignals();
  std::string cleanup = "rm -rf '" + dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  return 0;
}
