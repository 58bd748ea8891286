// The kernel's message dictionaries, loaded in Node (esbuild strips the types) so tests
// can compare what the kernel printed with what the dictionaries say.
import { build } from 'esbuild';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

let loaded;

/** @returns {Promise<{ en: Record<string,string>, ja: Record<string,string>, zh: Record<string,string> }>} */
export const dictionaries = async () => {
  if (loaded) return loaded;
  const result = await build({
    stdin: {
      contents: "export { en } from './en'; export { ja } from './ja'; export { zh } from './zh';",
      resolveDir: join(ROOT, 'kernel', 'i18n'),
      loader: 'ts',
    },
    bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'error',
  });
  const url = `data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`;
  loaded = await import(url);
  return loaded;
};

/** Fills {0}..{3} of a template that uses no width or format specs. */
export const fill = (template, ...args) => {
  if (/\{\d[,:]/.test(template)) throw new Error(`fill: template has format specs: ${template}`);
  return template.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
};
