// Where the layers below the console put their words. They never print: they hand a
// message key with its arguments (or a line already formatted in lib/format's buffer) to
// the text sink, and the console registers its writers as that sink when it starts
// (console/output.ts outputInit). Until then, text is dropped.
import type { MsgKey } from '../i18n/dictionary';
import type { Arg } from './format';

const drop = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {};
const dropFormatted = () => {};

let lineWriter = drop;
let inlineWriter = drop;
let formattedWriter = dropFormatted;

/** The console's writers: a whole line, the start of a line, the formatted buffer as a line. */
export const registerTextSink = (
  line: (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => void,
  inline: (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => void,
  formatted: () => void,
) => {
  lineWriter = line;
  inlineWriter = inline;
  formattedWriter = formatted;
};

/** A message as a whole line. */
export const emitLine = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  lineWriter(key, a, b, c, d);
};
/** A message that the next emit continues on the same line. */
export const emitInline = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  inlineWriter(key, a, b, c, d);
};
/** What lib/format's buffer holds, as a line. */
export const emitFormattedLine = () => {
  formattedWriter();
};
