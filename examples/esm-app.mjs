// ESM usage of the API: supervise() with a 'blocked' listener, formatReport() for the text form.
//
//   node examples/esm-app.mjs
//
// The stall: a regular expression with catastrophic backtracking (a "ReDoS") run on input that
// does not match. V8's regexp engine runs it to completion without ever returning to the loop.
import { supervise, formatReport } from 'stallwatch';

// log: false: this example prints the report itself, from the listener, once the loop runs again.
const watchdog = supervise({ thresholdMs: 200, log: false });

watchdog.on('blocked', (report) => {
  console.log(`blocked for ${Math.round(report.blockedMs)} ms in state "${report.state}"; innermost JS frame:`,
    report.frames.find((frame) => frame.kind === 'js')?.name ?? '(none)');
  console.log(formatReport(report));
});
watchdog.on('unblocked', ({ blockedMs }) => {
  console.log(`event loop running again after ${Math.round(blockedMs)} ms`);
  watchdog.close();
});

function isValidUsername(name) {
  return /^([a-z]+)+$/.test(name);
}

setTimeout(() => {
  // 23 letters and one character that cannot match: a second or two of backtracking.
  console.log('valid?', isValidUsername(`${'a'.repeat(23)}!`));
}, 50);
