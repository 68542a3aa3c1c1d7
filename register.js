'use strict';
// `stallwatch/register` for tools that resolve package subpaths without "exports" (TypeScript's
// node10 resolution, old bundlers). Node itself uses the "exports" map in package.json.
module.exports = require('./dist/lib/register.js');
