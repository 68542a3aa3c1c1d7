'use strict';
// A reporter module with a policy: a stalled worker is terminated by the hook; the main thread
// (which cannot be terminated) is aborted when STALLWATCH_TEST_ABORT is set. Every decision is
// appended to the file named by STALLWATCH_TEST_DECISIONS.
const fs = require('fs');

module.exports = (report) => {
  fs.appendFileSync(process.env.STALLWATCH_TEST_DECISIONS, `${JSON.stringify({ shipped: report.threadId })}\n`);
};

module.exports.onStall = async (report, actions) => {
  const record = (entry) => fs.appendFileSync(process.env.STALLWATCH_TEST_DECISIONS, `${JSON.stringify(entry)}\n`);
  if (report.threadId !== 0) {
    record({ threadId: report.threadId, outcome: actions.terminateWorker() });
    // A second request for the same stall is refused.
    record({ threadId: report.threadId, again: actions.terminateWorker() });
  } else if (process.env.STALLWATCH_TEST_ABORT) {
    record({ threadId: 0, outcome: actions.terminateWorker(), action: 'abort' });
    await actions.abort();
  } else {
    record({ threadId: 0, outcome: actions.terminateWorker() });
  }
};
