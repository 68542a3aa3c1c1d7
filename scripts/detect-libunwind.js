#!/usr/bin/env node
// Prints true when the compiler finds libunwind's header (binding.gyp then compiles the
// libunwind path; the library itself is loaded at run time), else false with a note on stderr.
// Asking the preprocessor covers multiarch include paths (/usr/include/<triplet>/) and
// Homebrew alike.
'use strict';
const { spawnSync } = require('child_process');
const compiler = process.env.CXX || 'c++';
const probe = spawnSync(compiler, ['-E', '-x', 'c++', '-'], {
  input: '#include <libunwind.h>\n',
  stdio: ['pipe', 'ignore', 'ignore'],
});
const found = probe.status === 0;
if (!found) {
  process.stderr.write(
    'stallwatch: libunwind headers not found (apt-get install libunwind-dev); building with the ' +
      'frame-pointer fallback: native frames may skip functions built without frame pointers.\n',
  );
}
process.stdout.write(found ? 'true' : 'false');
