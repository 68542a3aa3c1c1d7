// What `supervise({ workers: true })` needs process-wide: the options new workers adopt,
// and the names their parents gave them (Node 20 has no API that tells a worker its own name).
// Reports of threads marked "forwarded" also go to every subscriber that watches workers.
#pragma once

#include <string>

namespace stallwatch {

class WorkerCoverage {
 public:
  // The options (as JSON) a worker's preload passes to supervise(); "" = no coverage.
  static void SetDefaults(std::string json);
  static std::string Defaults();
  // Names workers by threadId, as given to `new Worker(file, { name })`.
  static void NameThread(int thread_id, std::string name);
  static std::string ThreadName(int thread_id);
  static void ForgetThread(int thread_id);
};

}  // namespace stallwatch
