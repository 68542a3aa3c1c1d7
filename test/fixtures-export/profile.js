'use strict';
// A hand-made StallProfile (lib/report.ts) of a 1-second stall sampled every 10 ms: an HTTP
// handler spinning in `spinFor` (80 samples, at two lines) or parsing JSON (20 samples, in V8's
// JSON parser), under node's HTTP parser, libuv and main. Frames innermost first, as the addon
// gives them; JS lines and columns 1-based.

const NODE = '/usr/bin/node';
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const APP = '/app/server.js';

const STARTED_AT = 1767225600123; // 2026-01-01T00:00:00.123Z
const INTERVAL_MS = 10;
const SAMPLES = 100;

/** Below the handler: node's HTTP machinery, V8's entry, libuv and main. Innermost first. */
function base() {
  return [
    { kind: 'js', name: 'emit', file: 'node:events', line: 517, column: 28, functionLine: 508, address: '0x3e8f2a0c4a10' },
    { kind: 'js', name: 'parserOnIncoming', file: 'node:_http_server', line: 1140, column: 12, functionLine: 1040, address: '0x3e8f2a0c5b20' },
    { kind: 'js', name: '', file: 'node:_http_common', functionLine: 76, address: '0x3e8f2a0c6c30' },
    { kind: 'v8', name: 'Builtins_JSEntryTrampoline', module: NODE, address: '0x1b3e4c0' },
    { kind: 'v8', name: '', address: '0x3e8f2a0c1d40' },
    { kind: 'native', name: 'node::Parser::OnStreamRead(long, uv_buf_t const&)', module: NODE, address: '0x10a8f31' },
    { kind: 'native', name: 'uv__read', module: NODE, file: 'src/unix/stream.c', line: 1143, address: '0x1d2c0a7' },
    { kind: 'native', name: 'uv_run', module: NODE, file: 'src/unix/core.c', line: 447, address: '0x1d1a3f2' },
    { kind: 'native', name: 'main', module: NODE, address: '0x9c5e10' },
    { kind: 'native', name: '__libc_start_call_main', module: LIBC, address: '0x7f3a1c029d90' },
  ];
}

const handlerAt = (line) => ({ kind: 'js', name: 'handler', file: APP, line, column: 3, functionLine: 10, address: '0x3e8f2a0d0010' });
const spinForAt = (line, column) => ({ kind: 'js', name: 'spinFor', file: APP, line, column, functionLine: 3, address: '0x3e8f2a0d1100' });
const readBody = { kind: 'js', name: 'readBody', file: APP, line: 21, column: 17, functionLine: 19, address: '0x3e8f2a0d2200' };
const jsonParse = { kind: 'js', name: 'JSON.parse', address: '0x3e8f2a0b0000' };
const builtinJsonParse = { kind: 'v8', name: 'Builtins_JsonParse', module: NODE, address: '0x1b9f000' };

/** Stacks in an order that is not the folded output's order. */
function stacks() {
  return {
    // JSON.parse, in an unsymbolized libc function (memmove) called by the string scanner.
    scan: {
      count: 5,
      frames: [
        { kind: 'native', name: '', module: LIBC, address: '0x7f3a1c0ffee0' },
        { kind: 'native', name: 'v8::internal::JsonParser<unsigned short>::ScanJsonString()', module: NODE, address: '0x12c4d10' },
        builtinJsonParse, jsonParse, readBody, handlerAt(14), ...base(),
      ],
    },
    spin6: { count: 20, frames: [spinForAt(6, 5), handlerAt(12), ...base()] },
    parse: {
      count: 15,
      frames: [
        { kind: 'native', name: 'v8::internal::JsonParser<unsigned short>::ParseJsonValue()', module: NODE, address: '0x12c3a80' },
        builtinJsonParse, jsonParse, readBody, handlerAt(14), ...base(),
      ],
    },
    spin5: { count: 60, frames: [spinForAt(5, 12), handlerAt(12), ...base()] },
    // A stack listed with no samples: it must not show up anywhere.
    idle: { count: 0, frames: [{ kind: 'native', name: 'epoll_wait', module: LIBC, address: '0x7f3a1c126e2e' }, ...base().slice(7)] },
  };
}

/** A fresh profile (tests may mutate it). */
function makeProfile() {
  const s = stacks();
  return {
    intervalMs: INTERVAL_MS,
    startedAt: STARTED_AT,
    endedAt: STARTED_AT + (SAMPLES - 1) * INTERVAL_MS,
    samples: SAMPLES,
    stacks: [s.scan, s.spin6, s.idle, s.parse, s.spin5],
  };
}

const BASE_FOLDED = [
  '__libc_start_call_main [libc.so.6]',
  'main [node]',
  'uv_run [node]',
  'uv__read [node]',
  'node::Parser::OnStreamRead(long, uv_buf_t const&) [node]',
  '0x3e8f2a0c1d40 [v8]',
  'Builtins_JSEntryTrampoline [v8]',
  '(anonymous) (node:_http_common, defined at line 76)',
  'parserOnIncoming (node:_http_server:1140)',
  'emit (node:events:517)',
].join(';');

/** toFolded(makeProfile()), written out by hand. */
const EXPECTED_FOLDED =
  `${BASE_FOLDED};handler (server.js:12);spinFor (server.js:5) 60\n` +
  `${BASE_FOLDED};handler (server.js:12);spinFor (server.js:6) 20\n` +
  `${BASE_FOLDED};handler (server.js:14);readBody (server.js:21);JSON.parse;Builtins_JsonParse [v8];` +
  'v8::internal::JsonParser<unsigned short>::ParseJsonValue() [node] 15\n' +
  `${BASE_FOLDED};handler (server.js:14);readBody (server.js:21);JSON.parse;Builtins_JsonParse [v8];` +
  'v8::internal::JsonParser<unsigned short>::ScanJsonString() [node];0x7f3a1c0ffee0 [libc.so.6] 5\n';

module.exports = { makeProfile, EXPECTED_FOLDED, STARTED_AT, INTERVAL_MS, SAMPLES, NODE, LIBC, APP };
