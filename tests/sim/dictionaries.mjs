// The kernel's message dictionaries, loaded in Node (esbuild strips the types) so tests
// can compare what the kernel printed with what the dictionaries say.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

let loaded;

const TOPICS = readdirSync(join(ROOT, 'kernel', 'i18n', 'topics')).filter((f) => f.endsWith('.ts') && f !== 'translation.ts');

/**
 * The three dictionaries (core plus every topic's part), `verbatim`: the keys whose text must stay as in English
 * (the topics' `<topic>Verbatim` lists), and `markers`: the machine strings, never translated (kernel/lib/markers.ts).
 * @returns {Promise<{ en: Record<string,string>, ja: Record<string,string>, zh: Record<string,string>, verbatim: string[], markers: Record<string,string> }>}
 */
export const dictionaries = async () => {
  if (loaded) return loaded;
  const topics = TOPICS.map((f) => `export * from './topics/${f.replace(/\.ts$/, '')}';`).join(' ');
  const result = await build({
    stdin: {
      contents: `export { en } from './en'; export { ja } from './ja'; export { zh } from './zh'; export * as markers from '../lib/markers'; ${topics}`,
      resolveDir: join(ROOT, 'kernel', 'i18n'),
      loader: 'ts',
    },
    bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'error',
  });
  const url = `data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`;
  const mod = await import(url);
  const verbatim = Object.entries(mod).filter(([name]) => name.endsWith('Verbatim')).flatMap(([, keys]) => keys);
  const merge = (core, suffix) => {
    const all = { ...core };
    for (const [name, part] of Object.entries(mod)) {
      if (!name.endsWith(suffix) || name === core) continue;
      for (const [key, value] of Object.entries(part)) {
        if (key in all) throw new Error(`dictionaries: key ${key} is defined twice (${name})`);
        all[key] = value;
      }
    }
    return all;
  };
  loaded = { en: merge(mod.en, 'En'), ja: merge(mod.ja, 'Ja'), zh: merge(mod.zh, 'Zh'), verbatim, markers: { ...mod.markers } };
  return loaded;
};

/** Fills {0}..{3} of a template that uses no width or format specs. */
export const fill = (template, ...args) => {
  if (/\{\d[,:]/.test(template)) throw new Error(`fill: template has format specs: ${template}`);
  return template.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
};
