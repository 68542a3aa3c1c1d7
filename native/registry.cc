#include "registry.h"

#include "reporter.h"

namespace stallwatch {
namespace {

// Deliberately leaked process singletons: they must outlive every environment, including
// the main one during process teardown, while detached stallwatch threads still run.
struct State {
  std::mutex mutex;
  std::condition_variable watchdog_wake;
  std::vector<std::shared_ptr<ThreadRecord>> records;
};
State& TheState() {
  static State* state = new State();
  return *state;
}

}  // namespace

std::mutex& Registry::mutex() { return TheState().mutex; }
std::vector<std::shared_ptr<ThreadRecord>>& Registry::records() { return TheState().records; }
std::condition_variable& Registry::watchdog_wake() { return TheState().watchdog_wake; }
void Registry::WakeWatchdog() { TheState().watchdog_wake.notify_all(); }
void Registry::WakeReporter() { Reporter::Wake(); }

}  // namespace stallwatch
