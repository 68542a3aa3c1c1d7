// Starting stallwatch's own threads.
#pragma once

namespace stallwatch {

// Starts a detached thread with every signal blocked (so a process-directed signal is never
// delivered to it, and our capture signal can never interrupt our own machinery) and a name
// that shows in /proc and debuggers. Aborts nothing on failure: returns false.
bool StartDetachedThread(void (*main)(), const char* name);

}  // namespace stallwatch
