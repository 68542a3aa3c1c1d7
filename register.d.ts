export * from './dist/lib/register';
