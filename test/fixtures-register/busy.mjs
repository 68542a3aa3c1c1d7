// ESM twin of busy.js, for `node --import stallwatch/register`.
if (process.env.NODE_TEST_CONTEXT && !process.env.STALLWATCH_FIXTURE) process.exit(0);

function spinInNamedFunction(ms) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

setTimeout(() => {
  spinInNamedFunction(800);
  setTimeout(() => console.log('DONE'), 400); // see busy.js
}, 50);
