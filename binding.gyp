{
  "variables": {
    "have_libunwind%": "<!(node scripts/detect-libunwind.js)",
    # A prefix with include/libunwind.h and a position-independent lib/libunwind.a
    # (scripts/build-static-libunwind.sh) to link libunwind in, as the prebuilds do:
    # node-gyp rebuild --libunwind_static=DIR. Empty: libunwind.so.8 is dlopened at run time.
    "libunwind_static%": ""
  },
  "targets": [
    {
      "target_name": "stallwatch",
      "sources": [
        "native/addon.cc",
        "native/capture_stats.cc",
        "native/code_events.cc",
        "native/code_map.cc",
        "native/dwarf_lines.cc",
        "native/elf_symbols.cc",
        "native/embedded_builtins.cc",
        "native/exact_stack.cc",
        "native/jit_code_name.cc",
        "native/js_delivery.cc",
        "native/js_sample.cc",
        "native/json_writer.cc",
        "native/log_writer.cc",
        "native/loop_probe.cc",
        "native/native_unwind.cc",
        "native/node_environment.cc",
        "native/peer_copies.cc",
        "native/platform/darwin.cc",
        "native/platform/linux.cc",
        "native/registry.cc",
        "native/report.cc",
        "native/report_builder.cc",
        "native/report_format.cc",
        "native/report_js.cc",
        "native/reporter.cc",
        "native/signal_capture.cc",
        "native/signal_peers.cc",
        "native/slot_table.cc",
        "native/stack_merge.cc",
        "native/symbolize.cc",
        "native/thread_dump.cc",
        "native/thread_freeze.cc",
        "native/thread_record.cc",
        "native/thread_util.cc",
        "native/unwind_tail_cache.cc",
        "native/watchdog.cc",
        "native/worker_coverage.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "cflags_cc": ["-fvisibility=hidden"],
      "libraries": ["-ldl", "-lpthread"],
      "conditions": [
        ["have_libunwind=='true' and libunwind_static==''", { "defines": ["STALLWATCH_HAVE_LIBUNWIND=1"] }],
        ["libunwind_static!=''", {
          "defines": ["STALLWATCH_HAVE_LIBUNWIND=1", "STALLWATCH_LIBUNWIND_STATIC=1"],
          # Before the system include directories, so the headers match the archive.
          "include_dirs": ["<(libunwind_static)/include"],
          "libraries": ["<(libunwind_static)/lib/libunwind.a"],
          # --exclude-libs: libunwind's symbols stay local to stallwatch.node, so another
          # module's libunwind (or the process's C++ unwinder) never binds to ours, nor we to it.
          "ldflags": ["-Wl,--exclude-libs,ALL"]
        }],
        # Bind every symbol at load time: a function declared but not defined in stallwatch
        # (the link of a shared object accepts it) fails require() with its name, instead of
        # crashing the process the first time it is called.
        ["OS=='linux'", { "ldflags": ["-Wl,-z,now"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
