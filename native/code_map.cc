#include "code_map.h"

#include <algorithm>
#include <iterator>

namespace stallwatch {

bool LineAt(const LineTable& table, uint32_t offset, int* line, int* column) {
  auto after = std::upper_bound(table.begin(), table.end(), offset,
                                [](uint32_t value, const LineTableRow& row) { return value < row.offset; });
  if (after == table.begin()) return false;
  --after;
  *line = after->line;
  *column = after->column;
  return after->line > 0;
}

uint32_t CodeMap::Intern(std::string s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(s);
  string_ids_.emplace(std::move(s), id);
  return id;
}

void CodeMap::EraseOverlapping(uintptr_t start, size_t size) {
  const uintptr_t end = start + (size ? size : 1);
  auto it = entries_.lower_bound(start);
  if (it != entries_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.size > start) it = prev;
  }
  while (it != entries_.end() && it->first < end) it = entries_.erase(it);
}

bool CodeMap::SameCode(const Entry& a, const Entry& b) {
  return a.size == b.size && a.kind == b.kind && a.name_id == b.name_id && a.script_id == b.script_id &&
         a.line == b.line && a.column == b.column;
}

void CodeMap::Add(uintptr_t start, size_t size, CodeKind kind, std::string name, std::string script, int line,
                  int column) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Stamp before publishing: a capture that read the counter before this increment must
  // not trust this entry.
  const uint64_t stamp = events_.fetch_add(1, std::memory_order_acq_rel) + 1;
  Entry entry{static_cast<uint32_t>(size ? size : 1), Intern(std::move(name)), Intern(std::move(script)),
              line, column, kind, stamp, nullptr};
  // Lines offered for this very code just before (see the header); any other offer is stale.
  if (offered_ != nullptr && offered_start_ == start) {
    entry.lines = std::move(offered_);
  } else if (auto same = entries_.find(start); same != entries_.end() && SameCode(same->second, entry)) {
    // The same code announced again: V8 replays all existing code, without line tables, when a
    // JIT code event handler is installed (another copy of stallwatch attaching, whose handler
    // serves us too). Same place, size, kind, name and definition: the same function's bytecode,
    // whose table is still the one made for it.
    entry.lines = same->second.lines;
  }
  EraseOverlapping(start, size);
  offered_.reset();
  offered_start_ = 0;
  entries_[start] = std::move(entry);
  last_add_start_ = start;
  last_add_stamp_ = stamp;
}

void CodeMap::OfferLines(uintptr_t start, std::shared_ptr<const LineTable> lines, LinesOrder order) {
  std::lock_guard<std::mutex> lock(mutex_);
  offered_.reset();
  offered_start_ = 0;
  if (order == LinesOrder::kBeforeCodeEvent) {
    offered_start_ = start;
    offered_ = std::move(lines);
    return;
  }
  // kAfterCodeEvent: the latest code event must be the Add() of this very start.
  if (last_add_start_ != start || events_.load(std::memory_order_acquire) != last_add_stamp_) return;
  auto it = entries_.find(start);
  if (it != entries_.end() && it->second.stamp == last_add_stamp_) it->second.lines = std::move(lines);
}

void CodeMap::Move(uintptr_t from, uintptr_t to) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t stamp = events_.fetch_add(1, std::memory_order_acq_rel) + 1;
  moves_.fetch_add(1, std::memory_order_relaxed);
  last_move_stamp_ = stamp;
  auto it = entries_.find(from);
  if (it == entries_.end()) return;
  Entry entry = it->second;
  entries_.erase(it);
  EraseOverlapping(to, entry.size);
  entry.stamp = stamp;
  entries_[to] = entry;
}

std::map<uintptr_t, CodeMap::Entry>::const_iterator CodeMap::EntryAt(uintptr_t address) const {
  auto it = entries_.upper_bound(address);
  if (it == entries_.begin() || address >= std::prev(it)->first + std::prev(it)->second.size) return entries_.end();
  return std::prev(it);
}

void CodeMap::AliasBuiltinCopy(uintptr_t copy, size_t length, uintptr_t original) {
  std::lock_guard<std::mutex> lock(mutex_);
  copy_start_ = copy;
  copy_length_ = length;
  copy_delta_ = original - copy;  // unsigned wrap-around: adding it back gives the original
}

CodeMap::Lookup CodeMap::Find(uintptr_t address, uint64_t captured_stamp) const {
  Lookup result;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = EntryAt(address);
  uintptr_t shift = 0;
  if (it == entries_.end() && copy_length_ != 0 && address - copy_start_ < copy_length_) {
    // Builtins never move: the original's entry names the copy (start stays in the copy).
    shift = copy_delta_;
    it = EntryAt(address + shift);
  }
  if (it == entries_.end()) {
    result.moved_since = last_move_stamp_ > captured_stamp;
    return result;
  }
  const Entry& e = it->second;
  result.found = true;
  result.start = it->first - shift;
  result.provable = e.stamp <= captured_stamp;
  result.kind = e.kind;
  result.name = strings_[e.name_id];
  result.script = strings_[e.script_id];
  result.line = e.line;
  result.column = e.column;
  result.lines = e.lines;
  return result;
}

size_t CodeMap::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace stallwatch
