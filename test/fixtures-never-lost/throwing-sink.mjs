// A reporter module (ESM, default export) whose handler fails.
export default async function failingShipper() {
  throw new Error('collector unreachable');
}
