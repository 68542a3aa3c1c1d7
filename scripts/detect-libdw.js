#!/usr/bin/env node
// Prints true when the compiler finds elfutils' libdw headers (binding.gyp then compiles the
// DWARF source-line path; libdw.so.1 itself is loaded at run time, so the addon still loads
// where it is missing), else false with a note on stderr. Linux only: libdw reads ELF.
'use strict';
const { spawnSync } = require('child_process');
if (process.platform !== 'linux') {
  process.stdout.write('false');
  process.exit(0);
}
const compiler = process.env.CXX || 'c++';
const probe = spawnSync(compiler, ['-E', '-x', 'c++', '-'], {
  input: '#include <elfutils/libdwfl.h>\n#include <dwarf.h>\n',
  stdio: ['pipe', 'ignore', 'ignore'],
});
const found = probe.status === 0;
if (!found) {
  process.stderr.write(
    'stallwatch: libdw headers not found (apt-get install libdw-dev, dnf install elfutils-devel); ' +
      'building without native source lines: native frames will be named but have no file:line.\n',
  );
}
process.stdout.write(found ? 'true' : 'false');
