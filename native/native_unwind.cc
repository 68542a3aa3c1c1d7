#include "native_unwind.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "capture_slot.h"
#include "unwind_tail_cache.h"

#if defined(STALLWATCH_HAVE_LIBUNWIND)
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

namespace stallwatch {
namespace {

#define SW_STRINGIFY_(x) #x
#define SW_STRINGIFY(x) SW_STRINGIFY_(x)

#if defined(STALLWATCH_HAVE_LIBUNWIND)
// Written once by Initialize (under std::call_once) before any capture can run; read-only after.
struct Libunwind {
  int (*init_local2)(unw_cursor_t*, unw_context_t*, int) = nullptr;
  int (*step)(unw_cursor_t*) = nullptr;
  int (*get_reg)(unw_cursor_t*, unw_regnum_t, unw_word_t*) = nullptr;
  int (*getcontext)(unw_context_t*) = nullptr;
  int (*is_signal_frame)(unw_cursor_t*) = nullptr;
  int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t) = nullptr;
  int (*get_save_loc)(unw_cursor_t*, int, unw_save_loc_t*) = nullptr;  // optional: the tail cache
  unw_addr_space_t* local_addr_space = nullptr;
};
Libunwind g_unw;
#endif

bool g_have_libunwind = false;
const char* g_reason = "libunwind not initialized";
std::once_flag g_once;

#if defined(STALLWATCH_HAVE_LIBUNWIND)
// A walk from here: fills libunwind's caches, allocates its per-thread state and takes the
// loader locks now, on a JS thread, instead of inside a signal handler.
void WarmUpWalk() {
  unw_context_t context;
  unw_cursor_t cursor;
  if (g_unw.getcontext(&context) == 0 && g_unw.init_local2(&cursor, &context, 0) == 0) {
    for (int i = 0; i < 256 && g_unw.step(&cursor) > 0; ++i) {
    }
  }
}

void SetUpLoaded();

void LoadLibunwind() {
#if defined(__APPLE__)
  // On macOS the system unwinder is not libunwind's API; frame pointers are guaranteed by
  // Apple's ABIs, so the frame-pointer walk is the intended path there.
  g_reason = "macOS: frame-pointer walk";
  return;
#elif defined(STALLWATCH_LIBUNWIND_STATIC)
  // Linked in (the prebuilds: a PIC libunwind.a, its symbols kept local with --exclude-libs):
  // the same table, filled from our own copy, so nothing is needed at run time.
  g_unw.init_local2 = &unw_init_local2;
  g_unw.step = &unw_step;
  g_unw.get_reg = &unw_get_reg;
  g_unw.getcontext = &unw_tdep_getcontext;
  g_unw.is_signal_frame = &unw_is_signal_frame;
  g_unw.set_caching_policy = &unw_set_caching_policy;
  g_unw.get_save_loc = &unw_get_save_loc;
  g_unw.local_addr_space = &unw_local_addr_space;
  SetUpLoaded();
#else
  void* lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (lib == nullptr) {
    g_reason = "libunwind.so.8 could not be loaded (install libunwind8); native frames come from a frame-pointer walk";
    return;
  }
  g_unw.init_local2 = reinterpret_cast<decltype(g_unw.init_local2)>(dlsym(lib, SW_STRINGIFY(unw_init_local2)));
  g_unw.step = reinterpret_cast<decltype(g_unw.step)>(dlsym(lib, SW_STRINGIFY(unw_step)));
  g_unw.get_reg = reinterpret_cast<decltype(g_unw.get_reg)>(dlsym(lib, SW_STRINGIFY(unw_get_reg)));
  g_unw.getcontext = reinterpret_cast<decltype(g_unw.getcontext)>(dlsym(lib, SW_STRINGIFY(unw_tdep_getcontext)));
  g_unw.is_signal_frame = reinterpret_cast<decltype(g_unw.is_signal_frame)>(dlsym(lib, SW_STRINGIFY(unw_is_signal_frame)));
  g_unw.set_caching_policy =
      reinterpret_cast<decltype(g_unw.set_caching_policy)>(dlsym(lib, SW_STRINGIFY(unw_set_caching_policy)));
  g_unw.local_addr_space = reinterpret_cast<unw_addr_space_t*>(dlsym(lib, SW_STRINGIFY(unw_local_addr_space)));
  g_unw.get_save_loc = reinterpret_cast<decltype(g_unw.get_save_loc)>(dlsym(lib, SW_STRINGIFY(unw_get_save_loc)));
  if (!g_unw.init_local2 || !g_unw.step || !g_unw.get_reg || !g_unw.getcontext) {
    g_reason = "libunwind.so.8 lacks unw_init_local2 (needs libunwind >= 1.3); native frames come from a frame-pointer walk";
    return;
  }
  SetUpLoaded();
#endif
}

// Once g_unw is filled in, from the linked-in or the dlopened libunwind.
void SetUpLoaded() {
  // The global cache takes a lock around every lookup, and blocks all signals with
  // sigprocmask each time (about a hundred system calls per capture, measured). The per-thread
  // cache needs no lock; its thread-local storage is allocated by each monitored thread's
  // warm-up walk (WarmUpThisThread), never for the first time inside the handler.
  if (g_unw.set_caching_policy != nullptr && g_unw.local_addr_space != nullptr) {
    g_unw.set_caching_policy(*g_unw.local_addr_space, UNW_CACHE_PER_THREAD);
  }
  g_have_libunwind = true;
  WarmUpWalk();
  g_reason = nullptr;
}

// The cursor's share of the scratch buffer; the restart context follows it.
constexpr size_t kCursorBytes = (sizeof(unw_cursor_t) + 63) / 64 * 64;
static_assert(kCursorBytes + sizeof(unw_context_t) <= kUnwindScratchBytes, "unwind scratch too small");

#if defined(__x86_64__)
constexpr unw_regnum_t kFramePointerReg = UNW_X86_64_RBP;
#elif defined(__aarch64__)
constexpr unw_regnum_t kFramePointerReg = UNW_AARCH64_X29;
#endif

// Follows V8's frame-pointer chain from the frame at `fp` (whose own pc is already recorded)
// while the return addresses stay in V8 code, recording each. Every read stays inside the
// thread's stack and each frame must lie above the last. Returns true with `caller` set to the
// first frame outside V8 code (its pc, sp and frame pointer, as a return from the last V8 frame
// leaves them): the C++ that entered V8 (JSEntry's caller), where libunwind takes over again.
bool WalkV8Frames(uintptr_t fp, uintptr_t sp, uintptr_t stack_high, const V8CodeRanges& v8, uintptr_t* out,
                  uint32_t max, UnwindResult* result, platform::MachineRegisters* caller) {
  constexpr uintptr_t kRecord = 2 * sizeof(uintptr_t);  // saved frame pointer, return address
  if (stack_high < kRecord) return false;                 // stack bounds unknown: no reads at all
  for (;;) {
    if (fp < sp || fp % sizeof(uintptr_t) != 0 || fp > stack_high - kRecord) return false;
    const uintptr_t next_fp = reinterpret_cast<const uintptr_t*>(fp)[0];
    const uintptr_t ret = reinterpret_cast<const uintptr_t*>(fp)[1];
    if (ret == 0) return false;
    if (!v8.Contains(ret)) {
      caller->pc = ret;
      caller->sp = fp + kRecord;
      caller->fp = next_fp;
      return true;
    }
    if (result->count == max) {
      result->truncated = true;
      return false;
    }
    out[result->count++] = ret;
    if (next_fp <= fp) return false;
    sp = fp + kRecord;
    fp = next_fp;
  }
}

// For the tail cache (unwind_tail_cache.h): how the walk reached the cursor's frame, `pc`, on
// the way down from the restart point `start`. Its return address is the word just below its
// sp (x86-64: the caller's canonical frame address minus 8; checked here, so a frame that keeps
// it elsewhere is not kept). Its frame pointer came from a slot on the stack, which libunwind
// names, or is still the start frame's: its location is then the restart context itself.
// False when the frame cannot be described that way (the recording is then abandoned).
bool RecordTailFrame(UnwindTailCache* tail, unw_cursor_t* cursor, uintptr_t pc, bool first,
                     const platform::MachineRegisters& start, const unw_context_t* restart, uintptr_t stack_high) {
#if defined(__x86_64__)
  if (first) return tail->Add(pc, {}, {});  // the start frame itself: nothing read to get here
  if (g_unw.get_save_loc == nullptr) return false;
  unw_word_t sp = 0, fp = 0;
  unw_save_loc_t where{};
  if (g_unw.get_reg(cursor, UNW_REG_SP, &sp) != 0 || g_unw.get_reg(cursor, UNW_X86_64_RBP, &fp) != 0 ||
      g_unw.get_save_loc(cursor, UNW_X86_64_RBP, &where) != 0 || where.type != UNW_SLT_MEMORY) {
    return false;
  }
  const auto in_live_stack = [&](uintptr_t address) {
    return address % sizeof(uintptr_t) == 0 && address >= start.sp && stack_high >= sizeof(uintptr_t) &&
           address <= stack_high - sizeof(uintptr_t);
  };
  const UnwindTailCache::StackRead return_address{static_cast<uintptr_t>(sp) - sizeof(uintptr_t), pc};
  if (!in_live_stack(return_address.address) || *reinterpret_cast<const uintptr_t*>(return_address.address) != pc) {
    return false;
  }
  UnwindTailCache::StackRead frame_pointer;
  const auto fp_at = static_cast<uintptr_t>(where.u.addr);
  const auto restart_at = reinterpret_cast<uintptr_t>(restart);
  if (fp_at >= restart_at && fp_at < restart_at + sizeof(unw_context_t)) {
    if (static_cast<uintptr_t>(fp) != start.fp) return false;  // {} : the start's own frame pointer
  } else if (in_live_stack(fp_at)) {
    frame_pointer = {fp_at, static_cast<uintptr_t>(fp)};
  } else {
    return false;
  }
  return tail->Add(pc, return_address, frame_pointer);
#else
  (void)tail, (void)cursor, (void)pc, (void)first, (void)start, (void)restart, (void)stack_high;
  return false;  // the cache's reasoning is x86-64's; elsewhere every capture walks the tail
#endif
}

// StepAll, except that V8 frames are walked by WalkV8Frames and libunwind is restarted (from a
// copy of the interrupted context with pc, sp and frame pointer replaced) at the C++ frame that
// called into V8. Callee-saved registers other than the frame pointer keep the values of the
// interrupted context, as they do when libunwind itself steps out of a frame without tables.
// From a restart on, the frames come from `tail` when its kept walk still holds, else the walk
// is recorded into it (unless `tail` is nullptr).
void StepMixed(unw_cursor_t* cursor, const void* ucontext, unw_context_t* restart, const V8CodeRanges& v8,
               uintptr_t stack_low, uintptr_t stack_high, uintptr_t* out, uint32_t max, UnwindResult* result,
               UnwindTailCache* tail) {
  platform::MachineRegisters tail_start;
  bool at_tail_start = false;
  for (;;) {
    if (result->count == max) {
      result->truncated = true;
      break;
    }
    unw_word_t ip = 0;
    if (g_unw.get_reg(cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    out[result->count++] = static_cast<uintptr_t>(ip);
    if (result->signal_frame < 0 && g_unw.is_signal_frame != nullptr && g_unw.is_signal_frame(cursor) > 0) {
      result->signal_frame = static_cast<int>(result->count - 1);
      if (tail != nullptr) tail->Abandon();
    }
    // Without the stack's bounds no frame pointer can be checked before it is read: libunwind only.
    if (stack_high != 0 && v8.Contains(static_cast<uintptr_t>(ip))) {
      unw_word_t fp = 0, sp = 0;
      platform::MachineRegisters caller;
      if (g_unw.get_reg(cursor, kFramePointerReg, &fp) != 0 || g_unw.get_reg(cursor, UNW_REG_SP, &sp) != 0 ||
          !WalkV8Frames(static_cast<uintptr_t>(fp), std::max<uintptr_t>(static_cast<uintptr_t>(sp), stack_low),
                        stack_high, v8, out, max, result, &caller)) {
        break;
      }
      if (tail != nullptr) {
        tail->Abandon();  // a tail recorded so far led into V8 again: not the bottom of the stack
        if (tail->Replay(caller, stack_high, out, max, result)) return;
      }
      memcpy(restart, ucontext, sizeof(unw_context_t));
      platform::SetContextRegisters(restart, caller);
      const int rc = g_unw.init_local2(cursor, restart, 0);  // 0: caller.pc is a return address
      if (rc != 0) {
        result->error = rc;
        break;
      }
      if (tail != nullptr) {
        tail->Begin(caller);
        tail_start = caller;
        at_tail_start = true;
      }
      continue;
    }
    if (tail != nullptr && tail->Recording() &&
        !RecordTailFrame(tail, cursor, static_cast<uintptr_t>(ip), at_tail_start, tail_start, restart, stack_high)) {
      tail->Abandon();
    }
    at_tail_start = false;
    const int rc = g_unw.step(cursor);
    if (rc <= 0) {
      if (tail != nullptr && rc == 0) tail->Commit();  // the bottom of the stack, cleanly
      result->error = rc;
      break;
    }
  }
  if (tail != nullptr) tail->Abandon();  // truncated, or stopped early: nothing new is kept
}

// Records every frame the cursor reaches with libunwind alone, innermost first (walks outside
// a signal handler: no V8 ranges, so StepMixed never restarts and never reads a context).
// Async-signal-safe when the per-thread cache is warm.
void StepAll(unw_cursor_t* cursor, uintptr_t* out, uint32_t max, UnwindResult* result) {
  StepMixed(cursor, nullptr, nullptr, V8CodeRanges(), 0, 0, out, max, result, nullptr);
}
#endif

}  // namespace

void NativeUnwinder::Initialize() {
  std::call_once(g_once, [] {
#if defined(STALLWATCH_HAVE_LIBUNWIND)
    LoadLibunwind();
#else
    g_reason = "stallwatch was built without libunwind headers (install libunwind-dev and rebuild); native frames come from a frame-pointer walk";
#endif
  });
}

void NativeUnwinder::WarmUpThisThread() {
#if defined(STALLWATCH_HAVE_LIBUNWIND)
  if (g_have_libunwind) WarmUpWalk();
#endif
}

bool NativeUnwinder::HasLibunwind() { return g_have_libunwind; }
const char* NativeUnwinder::UnavailableReason() { return g_reason; }

UnwindResult NativeUnwinder::Walk(void* ucontext, const platform::MachineRegisters& regs, uintptr_t stack_low,
                                  uintptr_t stack_high, const V8CodeRanges& v8, uintptr_t* out, uint32_t max,
                                  void* scratch, size_t scratch_size, UnwindTailCache* tail) {
#if defined(STALLWATCH_HAVE_LIBUNWIND)
  if (g_have_libunwind && scratch_size >= kCursorBytes + sizeof(unw_context_t)) {
    UnwindResult result;
    auto* cursor = static_cast<unw_cursor_t*>(scratch);
    auto* restart = reinterpret_cast<unw_context_t*>(static_cast<unsigned char*>(scratch) + kCursorBytes);
    // UNW_INIT_SIGNAL_FRAME: the context is the interrupted one, so the first frame's pc is
    // exact (not a return address) and our own handler frames are never in the walk.
    if (g_unw.init_local2(cursor, static_cast<unw_context_t*>(ucontext), UNW_INIT_SIGNAL_FRAME) == 0) {
      StepMixed(cursor, ucontext, restart, v8, stack_low, stack_high, out, max, &result, tail);
      if (result.count > 0) return result;
    }
  }
#else
  (void)ucontext;
  (void)v8;
  (void)scratch;
  (void)scratch_size;
#endif
  return WalkFramePointers(regs, stack_low, stack_high, out, max);
}

UnwindResult NativeUnwinder::WalkOutsideHandler(const void* ucontext, uintptr_t* out, uint32_t max) {
  UnwindResult result;
  if (max == 0) return result;
#if defined(STALLWATCH_HAVE_LIBUNWIND)
  if (g_have_libunwind) {
    unw_context_t here;
    unw_cursor_t cursor;
    int rc;
    if (ucontext != nullptr) {
      // The copy is a whole ucontext_t, which is what unw_context_t is on Linux.
      rc = g_unw.init_local2(&cursor, static_cast<unw_context_t*>(const_cast<void*>(ucontext)), UNW_INIT_SIGNAL_FRAME);
    } else {
      rc = g_unw.getcontext(&here) == 0 ? g_unw.init_local2(&cursor, &here, 0) : -1;
    }
    if (rc == 0) {
      StepAll(&cursor, out, max, &result);
      return result;
    }
    result.error = rc;
  }
#endif
  if (ucontext != nullptr) out[result.count++] = platform::RegistersFromContext(ucontext).pc;
  if (result.error == 0) result.error = -1;
  return result;
}

UnwindResult NativeUnwinder::WalkFramePointers(const platform::MachineRegisters& regs, uintptr_t stack_low,
                                               uintptr_t stack_high, uintptr_t* out, uint32_t max) {
  // Every read stays inside the thread's own stack and every frame must be above the last,
  // so a corrupt or missing frame pointer ends the walk instead of faulting.
  UnwindResult result;
  result.used_frame_pointers = true;
  if (max == 0) return result;
  out[result.count++] = regs.pc;
#if defined(__aarch64__)
  if (regs.lr != 0 && result.count < max) out[result.count++] = regs.lr;
#endif
  uintptr_t fp = regs.fp;
  const uintptr_t low = regs.sp > stack_low ? regs.sp : stack_low;
  while (fp >= low && fp + 2 * sizeof(uintptr_t) <= stack_high && (fp % sizeof(uintptr_t)) == 0) {
    if (result.count == max) {
      result.truncated = true;
      break;
    }
    const uintptr_t next_fp = reinterpret_cast<const uintptr_t*>(fp)[0];
    const uintptr_t ret = reinterpret_cast<const uintptr_t*>(fp)[1];
    if (ret == 0) break;
    out[result.count++] = ret;
    if (next_fp <= fp) break;
    fp = next_fp;
  }
  return result;
}

}  // namespace stallwatch
