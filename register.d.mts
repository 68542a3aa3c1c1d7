export * from './dist/lib/register.js';
import * as register from './dist/lib/register.js';
export default register;
