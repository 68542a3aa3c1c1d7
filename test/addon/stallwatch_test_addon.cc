// Test-only addon: gives the capture tests native code whose stack they know exactly.
//
//   blockInNative(ms)  JS -> BlockInNative -> stallwatch_test::HoldTheLock(int) -> clock_nanosleep
//   blockOnMutex(ms)   JS -> BlockOnMutex -> stallwatch_test::WaitForTheLock(...) -> pthread_mutex_lock,
//                      while a helper thread holds the mutex for `ms`
//   callBack(fn)       JS -> CallBack -> stallwatch_test::CallIntoJs(...) -> fn (a JS -> native -> JS chain)
//
// The stallwatch_test:: functions have hidden visibility and are never inlined: they are absent
// from .dynsym, so a symbolizer can only name them from .symtab (kept: built with -g, not stripped).
// The thread is expected to be signaled while it blocks (that is how stallwatch samples it), so
// every wait here survives EINTR and still lasts the full time.

#include <node_api.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define HIDDEN_NOINLINE __attribute__((noinline, visibility("hidden")))

namespace stallwatch_test {

struct SharedLock {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t state_mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t state_cond = PTHREAD_COND_INITIALIZER;
  bool held = false;
  int hold_ms = 0;
};

namespace {

timespec DeadlineAfter(int ms) {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

// Sleeps in the kernel until `deadline`. clock_nanosleep is never restarted after a signal
// handler ran (whatever SA_RESTART says): on EINTR, sleep again until the same absolute deadline.
void SleepUntil(const timespec& deadline) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

}  // namespace

// Blocks the calling thread in clock_nanosleep for `ms` milliseconds.
HIDDEN_NOINLINE void HoldTheLock(int ms) {
  const timespec deadline = DeadlineAfter(ms);
  SleepUntil(deadline);
  // Something after the call, so the sleep is never a tail call and this frame stays on the stack.
  asm volatile("" ::: "memory");
}

// Blocks the calling thread in pthread_mutex_lock until the helper thread releases the mutex.
HIDDEN_NOINLINE void WaitForTheLock(SharedLock* lock) {
  pthread_mutex_lock(&lock->mutex);
  pthread_mutex_unlock(&lock->mutex);
  asm volatile("" ::: "memory");
}

HIDDEN_NOINLINE napi_value CallIntoJs(napi_env env, napi_value fn) {
  napi_value global;
  napi_value result = nullptr;
  if (napi_get_global(env, &global) != napi_ok) return nullptr;
  // On a JS exception the status is napi_pending_exception: returning nullptr rethrows it.
  if (napi_call_function(env, global, fn, 0, nullptr, &result) != napi_ok) return nullptr;
  asm volatile("" ::: "memory");
  return result;
}

namespace {

void* HolderMain(void* arg) {
  SharedLock* lock = static_cast<SharedLock*>(arg);
  pthread_mutex_lock(&lock->mutex);
  const timespec deadline = DeadlineAfter(lock->hold_ms);
  pthread_mutex_lock(&lock->state_mutex);
  lock->held = true;
  pthread_cond_signal(&lock->state_cond);
  pthread_mutex_unlock(&lock->state_mutex);
  SleepUntil(deadline);
  pthread_mutex_unlock(&lock->mutex);
  return nullptr;
}

bool GetMsArg(napi_env env, napi_callback_info info, int* ms) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, argv[0], ms) != napi_ok || *ms < 0) {
    napi_throw_type_error(env, nullptr, "expected a number of milliseconds >= 0");
    return false;
  }
  return true;
}

napi_value BlockInNative(napi_env env, napi_callback_info info) {
  int ms = 0;
  if (!GetMsArg(env, info, &ms)) return nullptr;
  HoldTheLock(ms);
  return nullptr;
}

napi_value BlockOnMutex(napi_env env, napi_callback_info info) {
  int ms = 0;
  if (!GetMsArg(env, info, &ms)) return nullptr;
  SharedLock lock;
  lock.hold_ms = ms;
  pthread_t holder;
  if (pthread_create(&holder, nullptr, HolderMain, &lock) != 0) {
    napi_throw_error(env, nullptr, "pthread_create failed");
    return nullptr;
  }
  pthread_mutex_lock(&lock.state_mutex);
  while (!lock.held) pthread_cond_wait(&lock.state_cond, &lock.state_mutex);
  pthread_mutex_unlock(&lock.state_mutex);
  WaitForTheLock(&lock);
  pthread_join(holder, nullptr);
  return nullptr;
}

napi_value CallBack(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, nullptr, "expected a function");
    return nullptr;
  }
  return CallIntoJs(env, argv[0]);
}

}  // namespace
}  // namespace stallwatch_test

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"blockInNative", nullptr, stallwatch_test::BlockInNative, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"blockOnMutex", nullptr, stallwatch_test::BlockOnMutex, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"callBack", nullptr, stallwatch_test::CallBack, nullptr, nullptr, nullptr, napi_default,
       nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) {
    return nullptr;
  }
  return exports;
}
