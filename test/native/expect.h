// The C++ unit tests' check and summary: a failed check prints what it expected and the test
// goes on; the test's exit status says whether any failed.
#pragma once

#include <cstdio>

namespace stallwatch_test {

inline int& Failures() {
  static int failures = 0;
  return failures;
}

inline void Expect(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    ++Failures();
  }
}

// For main(): prints "<name>: all passed" when nothing failed; the process exit status.
inline int Summary(const char* name) {
  if (Failures() == 0) printf("%s: all passed\n", name);
  return Failures() == 0 ? 0 : 1;
}

}  // namespace stallwatch_test
