#!/usr/bin/env node
'use strict';
// The `stallwatch` command (npx stallwatch --help). The implementation is lib/cli.ts.
require('../dist/lib/cli.js').cli();
