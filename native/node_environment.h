// The two calls stallwatch needs from Node's embedder API, kept in their own file: node.h
// defines NAPI_VERSION itself, which must not meet the N-API headers in one translation unit.
#pragma once

namespace v8 {
class Isolate;
}

namespace stallwatch {

// JS thread: the node::Environment of the isolate's current context, or nullptr.
void* CurrentNodeEnvironment(v8::Isolate* isolate);

// Any thread (what worker.terminate() does): marks the environment stopping, terminates its
// JS execution and stops its loop. The environment must be alive for the whole call.
void StopNodeEnvironment(void* environment);

}  // namespace stallwatch
