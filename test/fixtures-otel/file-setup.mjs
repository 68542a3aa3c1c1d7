// The ESM form of file-setup.js: `export default` an async setup function.
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const setup = require('./file-setup.js');

export default async function asyncSetup() {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return setup();
}
