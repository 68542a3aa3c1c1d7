# Test-only addon (never shipped): native code whose stack the capture tests know exactly.
# Built by `npm run build:test-addon` (the `pretest` script). `-g` and no stripping keep .symtab,
# the only place that names the hidden functions in stallwatch_test_addon.cc.
{
  "targets": [
    {
      "target_name": "stallwatch_test_addon",
      "sources": ["stallwatch_test_addon.cc"],
      "cflags": ["-g", "-fvisibility=hidden", "-fno-optimize-sibling-calls"],
      "cflags_cc": ["-g", "-fvisibility=hidden", "-fno-optimize-sibling-calls", "-std=c++17"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "GCC_GENERATE_DEBUGGING_SYMBOLS": "YES",
        "DEPLOYMENT_POSTPROCESSING": "NO",
        "OTHER_CFLAGS": ["-g", "-fno-optimize-sibling-calls"],
        "OTHER_CPLUSPLUSFLAGS": ["-g", "-fno-optimize-sibling-calls", "-std=c++17"]
      }
    }
  ]
}
