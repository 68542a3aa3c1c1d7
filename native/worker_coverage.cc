#include "worker_coverage.h"

#include <map>
#include <mutex>

namespace stallwatch {
namespace {

// Leaked process singleton; its mutex is taken only by JS threads and the reporter, briefly.
struct State {
  std::mutex mutex;
  std::string defaults;
  std::map<int, std::string> names;
};
State& TheState() {
  static State* state = new State();
  return *state;
}

}  // namespace

void WorkerCoverage::SetDefaults(std::string json) {
  std::lock_guard<std::mutex> lock(TheState().mutex);
  TheState().defaults = std::move(json);
}

std::string WorkerCoverage::Defaults() {
  std::lock_guard<std::mutex> lock(TheState().mutex);
  return TheState().defaults;
}

void WorkerCoverage::NameThread(int thread_id, std::string name) {
  std::lock_guard<std::mutex> lock(TheState().mutex);
  if (name.empty()) {
    TheState().names.erase(thread_id);
  } else {
    TheState().names[thread_id] = std::move(name);
  }
}

std::string WorkerCoverage::ThreadName(int thread_id) {
  std::lock_guard<std::mutex> lock(TheState().mutex);
  auto it = TheState().names.find(thread_id);
  return it == TheState().names.end() ? std::string() : it->second;
}

void WorkerCoverage::ForgetThread(int thread_id) { NameThread(thread_id, std::string()); }

}  // namespace stallwatch
