#include "js_delivery.h"

#include "report_js.h"

namespace stallwatch {
namespace {

// The tsfn context keeps the record's memory alive until the tsfn itself is finalized.
struct ChannelContext {
  std::shared_ptr<ThreadRecord> record;
};

void CallListener(napi_env env, ThreadRecord& record, uint32_t id, const char* kind, napi_value payload) {
  auto it = record.callbacks.find(id);
  if (it == record.callbacks.end() || payload == nullptr) return;  // closed, or JS cannot run any more
  napi_value kind_value = nullptr;
  if (napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &kind_value) != napi_ok) return;
  napi_value fn = nullptr;
  if (napi_get_reference_value(env, it->second, &fn) != napi_ok || fn == nullptr) return;
  napi_value args[2] = {kind_value, payload};
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  napi_value result = nullptr;
  const napi_status status = napi_call_function(env, undefined, fn, 2, args, &result);
  if (status == napi_pending_exception) {
    // The JS layer catches listener errors itself; anything that still escapes is surfaced
    // like any uncaught exception rather than lost.
    napi_value error = nullptr;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
  // napi_cannot_run_js / napi_closing: the thread is shutting down; nothing to deliver to.
}

void CallJs(napi_env env, napi_value, void* context, void* data) {
  std::unique_ptr<Delivery> delivery(static_cast<Delivery*>(data));
  if (env == nullptr || context == nullptr) return;  // channel torn down
  ThreadRecord& record = *static_cast<ChannelContext*>(context)->record;
  napi_handle_scope scope = nullptr;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  switch (delivery->kind) {
    case Delivery::Kind::kBlocked:
      for (const auto& [id, suppressed] : delivery->targets) {
        CallListener(env, record, id, "blocked", ReportToJs(env, *delivery->report, suppressed));
      }
      break;
    case Delivery::Kind::kStarved:
      for (const auto& target : delivery->targets) {
        CallListener(env, record, target.first, "starved", StarvationToJs(env, *delivery->starvation));
      }
      break;
    case Delivery::Kind::kUnblocked:
      for (const auto& target : delivery->targets) {
        CallListener(env, record, target.first, "unblocked", UnblockedToJs(env, delivery->unblocked));
      }
      [[fallthrough]];
    case Delivery::Kind::kLoopRelease:
      if (delivery->releases_loop && record.tsfn_reffed && record.tsfn != nullptr) {
        napi_unref_threadsafe_function(env, record.tsfn);
        record.tsfn_reffed = false;
      }
      break;
  }
  napi_close_handle_scope(env, scope);
}

void FinalizeChannel(napi_env, void* finalize_data, void*) { delete static_cast<ChannelContext*>(finalize_data); }

}  // namespace

bool CreateDeliveryChannel(napi_env env, const std::shared_ptr<ThreadRecord>& record) {
  napi_value name = nullptr;
  napi_create_string_utf8(env, "stallwatch.delivery", NAPI_AUTO_LENGTH, &name);
  auto* context = new ChannelContext{record};
  napi_threadsafe_function tsfn = nullptr;
  const napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, context,
                                                             FinalizeChannel, context, CallJs, &tsfn);
  if (status != napi_ok) {
    delete context;
    return false;
  }
  napi_unref_threadsafe_function(env, tsfn);
  record->tsfn = tsfn;
  return true;
}

void CloseDeliveryChannel(ThreadRecord& record) {
  if (record.tsfn == nullptr) return;
  napi_release_threadsafe_function(record.tsfn, napi_tsfn_abort);
  record.tsfn = nullptr;
  record.tsfn_reffed = false;
}

void PostDelivery(ThreadRecord& record, std::unique_ptr<Delivery> delivery) {
  if (!record.alive || record.tsfn == nullptr) return;
  if (napi_call_threadsafe_function(record.tsfn, delivery.get(), napi_tsfn_nonblocking) == napi_ok) {
    delivery.release();
  }
}

void HoldLoopForDelivery(ThreadRecord& record) {
  if (record.tsfn_reffed || record.tsfn == nullptr) return;
  if (napi_ref_threadsafe_function(record.env, record.tsfn) == napi_ok) record.tsfn_reffed = true;
}

}  // namespace stallwatch
