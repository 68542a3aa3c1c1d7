#include "thread_util.h"

#include <pthread.h>
#include <signal.h>

namespace stallwatch {
namespace {

struct StartArgs {
  void (*main)();
  const char* name;
};

void* ThreadEntry(void* raw) {
  StartArgs args = *static_cast<StartArgs*>(raw);
  delete static_cast<StartArgs*>(raw);
#if defined(__linux__)
  pthread_setname_np(pthread_self(), args.name);
#elif defined(__APPLE__)
  pthread_setname_np(args.name);
#endif
  args.main();
  return nullptr;
}

}  // namespace

bool StartDetachedThread(void (*main)(), const char* name) {
  sigset_t all, previous;
  sigfillset(&all);
  // The new thread inherits the creator's mask: block everything around pthread_create.
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  auto* args = new StartArgs{main, name};
  const bool ok = pthread_create(&thread, &attr, ThreadEntry, args) == 0;
  if (!ok) delete args;
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ok;
}

}  // namespace stallwatch
