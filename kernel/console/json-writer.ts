// Writes one JSON object on one console line (RFC 8259), piece by piece, through the
// verbatim 'caps.json.*' templates. Names are the kernel's own constants; string values
// are escaped (kernel/diag/json.ts), so CPUID text with quotes stays valid JSON.
import { Span } from '../lib/format';
import { say, sayInline } from './output';
import { jsonEscapeCodePoints, jsonEscapeString, piece0 } from '../diag/json';

const MAX_DEPTH = 8;
const hasMember = new Uint8Array(MAX_DEPTH);
let depth = 0;

const TRUE = 'true';
const FALSE = 'false';

export const jsonBegin = () => {
  depth = 0;
  hasMember[0] = 0;
  sayInline('caps.json.open');
};

/** Opens a nested object member "name":{ */
export const jsonObject = (name: string) => {
  sayInline(hasMember[depth] !== 0 ? 'caps.json.objectNext' : 'caps.json.object', name);
  hasMember[depth] = 1;
  if (depth < MAX_DEPTH - 1) depth++;
  hasMember[depth] = 0;
};

/** A string member "name":"value". */
export const jsonString = (name: string, value: string | Span) => {
  if (typeof value === 'string') jsonEscapeString(piece0, value);
  else jsonEscapeCodePoints(piece0, value.buf, value.start, value.len);
  sayInline(hasMember[depth] !== 0 ? 'caps.json.stringNext' : 'caps.json.string', name, piece0);
  hasMember[depth] = 1;
};

/** A number member. */
export const jsonNumber = (name: string, value: number) => {
  sayInline(hasMember[depth] !== 0 ? 'caps.json.valueNext' : 'caps.json.value', name, value);
  hasMember[depth] = 1;
};

/** A boolean member. */
export const jsonBool = (name: string, value: boolean) => {
  sayInline(hasMember[depth] !== 0 ? 'caps.json.valueNext' : 'caps.json.value', name, value ? TRUE : FALSE);
  hasMember[depth] = 1;
};

/** Closes the innermost object; closing the outermost one ends the line. */
export const jsonEnd = () => {
  if (depth === 0) {
    say('caps.json.end');
    return;
  }
  sayInline('caps.json.end');
  depth--;
};
