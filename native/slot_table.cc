#include "slot_table.h"

#include <vector>

namespace stallwatch {
namespace {

std::atomic<CaptureSlot*> g_cells[kMaxMonitoredThreads];
// Registry lock held for every access.
std::vector<CaptureSlot*>* g_free_slots = nullptr;

}  // namespace

int SlotTable::Claim(CaptureSlot* slot) {
  for (int i = 0; i < kMaxMonitoredThreads; ++i) {
    if (g_cells[i].load(std::memory_order_relaxed) == nullptr) {
      g_cells[i].store(slot, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void SlotTable::Release(int index) {
  if (index >= 0 && index < kMaxMonitoredThreads) g_cells[index].store(nullptr, std::memory_order_release);
}

void* SlotTable::CookieFor(int index) { return &g_cells[index]; }

bool SlotTable::IsOurCookie(const void* cookie) {
  // Another copy of stallwatch in the process has its own table: its cookies fall outside ours.
  const auto* cell = static_cast<const std::atomic<CaptureSlot*>*>(cookie);
  return cell >= &g_cells[0] && cell < &g_cells[kMaxMonitoredThreads];
}

CaptureSlot* SlotTable::FromCookie(const void* cookie) {
  const auto* cell = static_cast<const std::atomic<CaptureSlot*>*>(cookie);
  return cell->load(std::memory_order_acquire);
}

CaptureSlot* SlotTable::FindArmedForTid(int64_t tid) {
  for (int i = 0; i < kMaxMonitoredThreads; ++i) {
    CaptureSlot* slot = g_cells[i].load(std::memory_order_acquire);
    if (slot != nullptr && slot->tid == tid && slot->armed_seq.load(std::memory_order_acquire) != 0) return slot;
  }
  return nullptr;
}

CaptureSlot* SlotTable::AcquireSlot() {
  if (g_free_slots != nullptr && !g_free_slots->empty()) {
    CaptureSlot* slot = g_free_slots->back();
    g_free_slots->pop_back();
    return slot;
  }
  return new CaptureSlot();
}

void SlotTable::RecycleSlot(CaptureSlot* slot) {
  if (g_free_slots == nullptr) g_free_slots = new std::vector<CaptureSlot*>();
  slot->isolate = nullptr;
  slot->tid = 0;
  slot->code_events = nullptr;
  slot->v8_code = V8CodeRanges();
  slot->api_callbacks.Clear();
  slot->unwind_tail.Reset();
  g_free_slots->push_back(slot);
}

}  // namespace stallwatch
