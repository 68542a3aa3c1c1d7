// Finding another copy of stallwatch through a descriptor it exports: a function with C linkage
// that returns a pointer to a versioned struct of the copy's own. Both introductions use it:
// the signal chain's (signal_peers.h) and the JIT code events' (peer_copies.h).
#pragma once

#include <dlfcn.h>

#include <cstdint>

namespace stallwatch {

// JS thread only (the loader's locks). Opens the module at `path` only if it is loaded already
// (never loads one), calls its export `symbol`, and returns the descriptor if it is a version 1
// or later that `belongs(descriptor, export_address)` accepts. dlsym also searches the module's
// dependencies, so `belongs` checks that the descriptor is the module's own. An accepted
// descriptor keeps the module's handle open: the caller holds pointers into it from then on.
template <typename Descriptor, typename Belongs>
const Descriptor* OpenPeerDescriptor(const char* path, const char* symbol, Belongs belongs) {
  void* library = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (library == nullptr) return nullptr;
  using Export = const Descriptor* (*)();
  auto exported = reinterpret_cast<Export>(dlsym(library, symbol));
  const Descriptor* descriptor = exported != nullptr ? exported() : nullptr;
  if (descriptor != nullptr && descriptor->version >= 1 &&
      belongs(*descriptor, reinterpret_cast<uintptr_t>(exported))) {
    return descriptor;
  }
  dlclose(library);
  return nullptr;
}

}  // namespace stallwatch
