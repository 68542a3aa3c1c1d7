// ESM entry of `stallwatch/register`: `node --import stallwatch/register app.mjs`, or
// `import { supervisor } from 'stallwatch/register'`. It loads the CommonJS module, so ESM and
// CommonJS users share one registration (see lib/register.ts).
import register from './dist/lib/register.js';

export const { supervisor, error } = register;
export default register;
