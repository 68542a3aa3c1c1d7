'use strict';
// A reporter module: ships each report by appending it to the file named in the environment,
// with the time it did so.
const fs = require('fs');
module.exports = function shipToFile(report) {
  fs.appendFileSync(process.env.SINK_FILE, `${JSON.stringify({ shippedAt: Date.now(), report })}\n`);
};
