// node.h defines NAPI_VERSION itself; the build defines it for N-API users. No N-API here.
#undef NAPI_VERSION
#include "node_environment.h"

#include <node.h>
#include <v8.h>

namespace stallwatch {

void* CurrentNodeEnvironment(v8::Isolate* isolate) {
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (context.IsEmpty()) return nullptr;
  return node::GetCurrentEnvironment(context);
}

void StopNodeEnvironment(void* environment) {
  if (environment != nullptr) node::Stop(static_cast<node::Environment*>(environment));
}

}  // namespace stallwatch
